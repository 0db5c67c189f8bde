package main

import (
	"context"
	"fmt"
	"io"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
)

func init() {
	register(&command{name: "merge", summary: "combine the partial aggregates of `run --shard I/N` into scores and verdicts", run: cmdMerge})
}

func cmdMerge(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newRunFlags("merge", "parity merge --config FILE (--window START/END | --from TIME --to TIME) [--features a,b] [--exit-code-on rollback]", stderr)
	var window, from, to string
	f.fs.StringVar(&window, "window", "", "the window the shards evaluated")
	f.fs.StringVar(&from, "from", "", "first window start, for shards of a backfill")
	f.fs.StringVar(&to, "to", "", "end of the last window")
	if err := f.fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if f.fs.NArg() > 0 {
		return usageError(stderr, "parity merge: unexpected argument %q", f.fs.Arg(0))
	}
	// One way to name the windows: with both, one would be ignored.
	if window != "" && (from != "" || to != "") {
		return usageError(stderr, "parity merge: give --window, or --from and --to, not both")
	}
	if f.shard != "" {
		return usageError(stderr, "parity merge: --shard %q: merge combines every shard of a window; --shard is for run and backfill", f.shard)
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
		if err1 != nil || err2 != nil || !a.Before(b) {
			return usageError(stderr, "parity merge: --from %q --to %q: want RFC 3339 times or dates, with from < to", from, to)
		}
		windows = eval.WindowsBetween(a, b, cfg.Window.D())
		if len(windows) == 0 {
			return usageError(stderr, "parity merge: no whole %s window between %s and %s", cfg.Window.D(), from, to)
		}
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
	fmt.Fprintf(stdout, "merged shards of %d window(s) into %s\n", len(windows), r.Out.URI())
	return summarize(stdout, res.Verdicts, o, f.exitOn)
}
