package main

import (
	"context"
	"io"

	"github.com/parity-eval/parity/eval"
)

func init() {
	register(&command{name: "backfill", summary: "evaluate every window in a range, in order, and replay the verdicts after it", run: cmdBackfill})
}

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newRunFlags("backfill", "parity backfill --config FILE --from TIME --to TIME [--features a,b]", stderr)
	var from, to string
	f.fs.StringVar(&from, "from", "", "first window start (RFC 3339 or date)")
	f.fs.StringVar(&to, "to", "", "end of the last window (exclusive)")
	if err := f.fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if f.fs.NArg() > 0 {
		// Go's flag package stops at the first argument: every flag after it would be ignored.
		return usageError(stderr, "parity backfill: unexpected argument %q", f.fs.Arg(0))
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
		return usageError(stderr, "parity backfill: %v", err)
	}
	a, err1 := eval.ParseTime(from)
	b, err2 := eval.ParseTime(to)
	if from == "" || to == "" || err1 != nil || err2 != nil || !a.Before(b) {
		return usageError(stderr, "parity backfill: --from and --to are required, as RFC 3339 times or dates, with from < to")
	}
	windows := eval.WindowsBetween(a, b, cfg.Window.D())
	if len(windows) == 0 {
		return usageError(stderr, "parity backfill: no whole %s window between %s and %s", cfg.Window.D(), from, to)
	}
	return evaluate(ctx, cfg, windows, o, f.exitOn, stdout, stderr)
}
