package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
)

//go:embed demo.yaml
var demoConfig []byte

func init() {
	register(&command{name: "demo", summary: "generate a synthetic shadow log and evaluate it end to end (no cloud account)", run: cmdDemo})
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "demo-data", "folder for the generated data and config")
	seed := fs.Int64("seed", 1, "random seed (the data are deterministic for a seed)")
	scale := fs.Float64("scale", 1, "rows multiplier (1 = about 300k rows)")
	logLevel := new(string)
	logLevelFlag(fs, logLevel, "warn")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity demo [--dir demo-data] [--seed 1] [--scale 1]\n\nWrites DIR/logs, DIR/labels, DIR/recon and DIR/parity.yaml, then evaluates every\ndaily window into DIR/../demo-out and prints the verdicts.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		// Go's flag package stops at the first argument: every flag after it would be ignored.
		return usageError(stderr, "parity demo: unexpected argument %q", fs.Arg(0))
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		return fail(stderr, err)
	}
	opts := synth.Options{Seed: *seed, Scale: *scale}
	sum, err := synth.Generate(*dir, opts)
	if err != nil {
		return fail(stderr, fmt.Errorf("generate demo data: %w", err))
	}
	fmt.Fprintf(stdout, "generated %d log rows and %d labels in %d files under %s (%s to %s)\n", sum.LogRows, sum.LabelRows, sum.Files, *dir, sum.Start.Format("2006-01-02"), sum.End.Format("2006-01-02"))
	cfgPath := filepath.Join(*dir, "parity.yaml")
	if err := os.WriteFile(cfgPath, demoConfig, 0o640); err != nil {
		return fail(stderr, err)
	}
	cfg, code := loadConfig(cfgPath, stderr)
	if cfg == nil {
		return code
	}
	// Evaluate as of one hour after the last day: every window complete.
	end := sum.End
	now := end.Add(time.Hour)
	windows := eval.WindowsBetween(sum.Start, end, cfg.Window.D())
	o := jobs.Options{Log: newLogger(stderr, *logLevel), Now: func() time.Time { return now }}
	// Reconcile the dual-write stores first, so the evaluation's
	// decommission checklist sees the reconciliation history.
	if code := demoReconcile(ctx, cfg, now, stdout, stderr, *logLevel); code != ExitOK {
		return code
	}
	code = evaluate(ctx, cfg, windows, o, "", stdout, stderr)
	if code != ExitOK {
		return code
	}
	fmt.Fprintf(stdout, "\nconfig:   %s\nverdicts: %s\nscores:   %s\n", cfgPath, filepath.Join(cfg.Output, jobs.KeyLatest), filepath.Join(cfg.Output, "scores/"))
	if err := demoReports(ctx, cfg, now, stdout); err != nil { // one review report per feature
		return fail(stderr, err)
	}
	// The freshness contract, shown on the real clock: the demo's data end
	// on a fixed date, so at any later real time its verdicts are stale.
	if data, err := os.ReadFile(filepath.Join(cfg.Output, jobs.KeyLatest)); err == nil {
		if v, err := reports.DecodeVerdicts(data); err == nil {
			real := time.Now().UTC()
			if stale := v.Stale(real); len(stale) > 0 {
				fmt.Fprintf(stdout, "\nAt the real time %s these verdicts are STALE (valid until %s): a router treats %s as legacy only, and `parity verdicts --check` exits %d.\n",
					real.Format(time.RFC3339), v.ValidUntil.Format(time.RFC3339), strings.Join(stale, ", "), ExitStale)
			}
		}
	}
	return ExitOK
}
