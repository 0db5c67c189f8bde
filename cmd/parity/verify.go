package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports/html"
)

func init() {
	register(&command{name: "verify", summary: "recompute a review report from the inputs it names and say whether every figure matches", run: cmdVerify})
}

const (
	dataOpen  = `<script type="application/json" id="parity-data">`
	dataClose = `</script>`
)

// extractData returns the JSON embedded in a report.
func extractData(page []byte) (*html.Data, error) {
	i := bytes.Index(page, []byte(dataOpen))
	if i < 0 {
		return nil, errors.New("no embedded report data (script#parity-data): not a parity report, or one from before schema version 1")
	}
	rest := page[i+len(dataOpen):]
	j := bytes.Index(rest, []byte(dataClose))
	if j < 0 {
		return nil, errors.New("embedded report data is not terminated: the file is truncated")
	}
	return html.Decode(rest[:j])
}

func cmdVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "config file to recompute with (default: the config text embedded in the report, reading the input locations it names)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity verify REPORT.html [--config FILE]\n\nRe-reads the input objects named in the report, recomputes every window of its history into\na temporary folder, and compares every figure. Exit 0 when all match, 1 when any figure or\ninput object differs (each is named), 2 on usage errors.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	// Accept the report before or after the flags.
	var path string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		path, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if fs.NArg() > 0 || path == "" {
		fs.Usage()
		return ExitUsage
	}
	page, err := os.ReadFile(path)
	if err != nil {
		return fail(stderr, err)
	}
	d, err := extractData(page)
	if err != nil {
		return fail(stderr, fmt.Errorf("%s: %w", path, err))
	}
	var diffs []html.Diff
	var cfg *config.Config
	if *cfgPath != "" {
		var code int
		if cfg, code = loadConfig(*cfgPath, stderr); cfg == nil {
			return code
		}
		if cfg.Hash != d.Lineage.ConfigHash {
			diffs = append(diffs, html.Diff{Name: "config " + *cfgPath, Report: "sha256 " + d.Lineage.ConfigHash, Recomputed: "sha256 " + cfg.Hash})
		}
	} else {
		cfg, err = config.Parse(d.Lineage.ConfigPath, []byte(d.Lineage.Config))
		if err != nil {
			return fail(stderr, fmt.Errorf("config embedded in %s: %w", path, err))
		}
		// Relative locations were resolved against the config's folder
		// when the report was made; the report records the result.
		cfg.Source.Logs, cfg.Source.Labels = d.Lineage.Logs, d.Lineage.Labels
	}
	if cfg.Feature(d.Feature) == nil {
		return fail(stderr, fmt.Errorf("the config has no feature %q", d.Feature))
	}
	tmp, err := os.MkdirTemp("", "parity-verify-*")
	if err != nil {
		return fail(stderr, err)
	}
	defer os.RemoveAll(tmp)
	cfg.Output = tmp
	windows := reportHistoryWindows(d, cfg.Window.D())
	last := windows[len(windows)-1].End
	fmt.Fprintf(stdout, "verify %s: %s, %d window(s) %s to %s; recomputing %d window(s) of history from %d input object(s)\n",
		path, d.Feature, len(d.Windows), d.From.Format("2006-01-02"), d.To.Format("2006-01-02"), len(windows), len(d.Lineage.Inputs))
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	o := jobs.Options{Features: []string{d.Feature}, Now: func() time.Time { return last.Add(time.Hour) }, Log: newLogger(stderr, *logLevel)}
	if _, err := r.Evaluate(ctx, windows, o); err != nil {
		return fail(stderr, fmt.Errorf("recompute: %w", err))
	}
	rd, err := html.Build(ctx, cfg, r.Out, d.Feature, d.From, d.To, html.Options{Now: d.GeneratedAt, Version: d.Lineage.ParityVersion})
	if err != nil {
		return fail(stderr, fmt.Errorf("recompute: %w", err))
	}
	cmp := html.Compare(d, rd)
	diffs = append(diffs, cmp.Diffs...)
	const show = 200
	for i, df := range diffs {
		if i == show {
			fmt.Fprintf(stdout, "... and %d more\n", len(diffs)-show)
			break
		}
		fmt.Fprintf(stdout, "DIFFERS %s\n", df)
	}
	if len(cmp.NotReread) > 0 {
		fmt.Fprintf(stdout, "note: %d input object(s) of the report hold no row of the recomputed windows and were not re-read\n", len(cmp.NotReread))
	}
	if len(diffs) > 0 {
		fmt.Fprintf(stdout, "verify: FAILED: %d of %d figures and input objects differ\n", len(diffs), cmp.Figures)
		return ExitFailure
	}
	fmt.Fprintf(stdout, "verify: OK: all %d figures match and every input object is unchanged\n", cmp.Figures)
	return ExitOK
}

// reportHistoryWindows are the stored windows the report's figures depend on:
// every window of its history (the drift baseline and the streaks), as
// recorded, or a contiguous run when an older report lacks the list.
func reportHistoryWindows(d *html.Data, length time.Duration) []eval.Window {
	var ws []eval.Window
	for _, s := range d.Lineage.History {
		ws = append(ws, eval.Window{Start: s.UTC(), End: s.UTC().Add(length)})
	}
	if len(ws) == 0 {
		ws = eval.WindowsBetween(d.Lineage.EvaluatedFrom.Start, d.Windows[len(d.Windows)-1].Window.End, length)
	}
	return ws
}
