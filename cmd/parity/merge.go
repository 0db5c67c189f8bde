package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
)

func init() {
	register(&command{name: "merge", summary: "combine the partial aggregates of `run --shard I/N` into scores and verdicts", run: cmdMerge})
}

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newRunFlags("merge", "parity merge --config FILE (--window START/END | --from TIME --to TIME) [--features a,b]", stderr)
	var window, from, to string
	f.fs.StringVar(&window, "window", "", "the window the shards evaluated")
	f.fs.StringVar(&from, "from", "", "first window start, for shards of a backfill")
	f.fs.StringVar(&to, "to", "", "end of the last window")
	if err := f.fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	cfg, code := loadConfig(f.config, stderr)
	if cfg == nil {
		return code
	}
	o, err := f.options(stderr)
	if err == nil {
		err = f.checkFeatures(cfg, o)
	}
	if err != nil {
		return usageError(stderr, "parity merge: %v", err)
	}
	var windows []eval.Window
	switch {
	case window != "":
		w, err := eval.ParseWindow(window, cfg.Window.D())
		if err != nil {
			return usageError(stderr, "parity merge: --window: %v", err)
		}
		windows = []eval.Window{w}
	case from != "" && to != "":
		a, err1 := eval.ParseTime(from)
		b, err2 := eval.ParseTime(to)
		if err1 != nil || err2 != nil {
			return usageError(stderr, "parity merge: --from/--to: want RFC 3339 times or dates")
		}
		windows = eval.WindowsBetween(a, b, cfg.Window.D())
	default:
		return usageError(stderr, "parity merge: give --window, or --from and --to")
	}
	applyMemoryLimit()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	res, err := r.Merge(ctx, windows, o)
	if err != nil {
		return fail(stderr, err)
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	fmt.Fprintf(stdout, "merged shards of %d window(s) into %s\n", len(windows), r.Out.URI())
	if res.Verdicts != nil {
		reports.WriteSummary(stdout, res.Verdicts, now)
	}
	return ExitOK
}
