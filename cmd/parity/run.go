package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
)

func init() {
	register(&command{name: "run", summary: "evaluate one window (default: the last complete one) and write scores and verdicts", run: cmdRun})
}

// runFlags are shared by run and backfill.
type runFlags struct {
	config, features, exitOn, logLevel, now, shard string
	lockTTL                                        time.Duration
	fs                                             *flag.FlagSet
}

func newRunFlags(name, usageLine string, stderr io.Writer) *runFlags {
	f := &runFlags{fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	f.fs.SetOutput(stderr)
	f.fs.StringVar(&f.config, "config", "", "config file (YAML)")
	f.fs.StringVar(&f.features, "features", "", "comma-separated features to evaluate (default: all)")
	f.fs.StringVar(&f.exitOn, "exit-code-on", "", `"rollback": exit 3 when the run completed and a feature's verdict in force after it (latest.json, the newest window's) is rollback`)
	logLevelFlag(f.fs, &f.logLevel, "info")
	f.fs.StringVar(&f.now, "now", "", "evaluate as if the time were this (RFC 3339); for tests and replays")
	f.fs.DurationVar(&f.lockTTL, "lock-ttl", 10*time.Minute, "run lock lease, renewed every third of it; a killed run's lock is taken over once it expires")
	f.fs.StringVar(&f.shard, "shard", "", "`I/N`: evaluate a deterministic 1/N of the input and write partial aggregates for parity merge; env/N takes I from JOB_COMPLETION_INDEX (Kubernetes Indexed Job)")
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s\n\nFlags:\n", usageLine)
		f.fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s", exitHelp)
	}
	return f
}

func (f *runFlags) options(stderr io.Writer) (jobs.Options, error) {
	o := jobs.Options{Log: newLogger(stderr, f.logLevel), LockTTL: f.lockTTL}
	o.Progress = newProgress(stderr, o.Log, "") // progress.go
	if f.lockTTL <= 0 {
		return o, fmt.Errorf("--lock-ttl %v: must be positive", f.lockTTL)
	}
	if f.features != "" {
		o.Features = strings.Split(f.features, ",")
	}
	if f.now != "" {
		t, err := eval.ParseTime(f.now)
		if err != nil {
			return o, fmt.Errorf("--now: %w", err)
		}
		o.Now = func() time.Time { return t }
	}
	if f.shard != "" {
		shard := f.shard
		// "env/N": the index is the Kubernetes Indexed Job's completion
		// index (deploy/indexed-job.yaml), so the manifest needs no shell.
		if rest, ok := strings.CutPrefix(shard, "env/"); ok {
			idx, set := os.LookupEnv("JOB_COMPLETION_INDEX")
			if !set {
				return o, fmt.Errorf("--shard %q: JOB_COMPLETION_INDEX is not set (it is set in the pods of a Kubernetes Indexed Job)", f.shard)
			}
			shard = idx + "/" + rest
		}
		var i, n int
		if _, err := fmt.Sscanf(shard, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n {
			return o, fmt.Errorf("--shard %q: want I/N with 0 <= I < N, e.g. 0/4", f.shard)
		}
		o.ShardIndex, o.ShardCount = i, n
	}
	if f.exitOn != "" && f.exitOn != "rollback" {
		return o, fmt.Errorf(`--exit-code-on %q: the only value is "rollback"`, f.exitOn)
	}
	return o, nil
}

func (f *runFlags) checkFeatures(cfg *config.Config, o jobs.Options) error {
	for _, n := range o.Features {
		if cfg.Feature(n) == nil {
			return fmt.Errorf("--features: unknown feature %q", n)
		}
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f := newRunFlags("run", "parity run --config FILE [--window START/END | --at TIME | --job NAME] [--features a,b] [--shard I/N] [--exit-code-on rollback]", stderr)
	var window, at, job string
	f.fs.StringVar(&window, "window", "", "the window START/END to evaluate (aligned, e.g. 2026-11-21T00:00:00Z/2026-11-22T00:00:00Z)")
	f.fs.StringVar(&at, "at", "", "evaluate the window containing this time")
	f.fs.StringVar(&job, "job", "", "run this configured job once (its features, kind and windows)")
	if err := f.fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if f.fs.NArg() > 0 {
		return usageError(stderr, "parity run: unexpected argument %q", f.fs.Arg(0))
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
		return usageError(stderr, "parity run: %v", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	length := cfg.Window.D()
	var windows []eval.Window
	switch {
	case window != "" && at != "":
		return usageError(stderr, "parity run: give --window or --at, not both")
	case window != "":
		w, err := eval.ParseWindow(window, length)
		if err != nil {
			return usageError(stderr, "parity run: --window: %v", err)
		}
		windows = []eval.Window{w}
	case at != "":
		t, err := eval.ParseTime(at)
		if err != nil {
			return usageError(stderr, "parity run: --at: %v", err)
		}
		windows = []eval.Window{eval.WindowAt(t, length)}
	default:
		windows = []eval.Window{eval.LastComplete(now(), length)}
	}
	if job != "" {
		j := cfg.Job(job)
		if j == nil {
			return usageError(stderr, "parity run: --job: no job named %q in %s", job, cfg.Path)
		}
		if len(o.Features) == 0 {
			o.Features = j.Features
		}
		if window == "" && at == "" {
			// The job's kind picks the windows (schedule.go).
			return runJob(ctx, cfg, j, o, f.exitOn, stdout, stderr)
		}
	}
	if w := windows[0]; w.End.After(now()) {
		return usageError(stderr, "parity run: window %s has not ended yet at %s: evaluating an incomplete window could graduate on partial data", w, now().UTC().Format(time.RFC3339))
	}
	return evaluate(ctx, cfg, windows, o, f.exitOn, stdout, stderr)
}

// evaluate runs windows and prints the summary; shared by run, backfill and demo.
func evaluate(ctx context.Context, cfg *config.Config, windows []eval.Window, o jobs.Options, exitOn string, stdout, stderr io.Writer) int {
	applyMemoryLimit()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		return fail(stderr, err)
	}
	res, err := r.Evaluate(ctx, windows, o)
	if ne := (*jobs.NotEndedError)(nil); errors.As(err, &ne) {
		return usageError(stderr, "parity: %v", err) // as run's own check: the request, not the data, is wrong
	}
	if err != nil {
		return fail(stderr, err)
	}
	if o.ShardCount > 1 {
		fmt.Fprintln(stdout, shardWritten(o, len(windows), r.Out.URI()))
		return ExitOK
	}
	fmt.Fprintf(stdout, "evaluated %d window(s), %d rows used; outputs in %s\n", len(windows), res.Rows, r.Out.URI())
	return summarize(stdout, res.Verdicts, o, exitOn)
}

// shardWritten is what a shard run prints: it wrote no scores or
// verdicts, only partial aggregates that parity merge combines.
func shardWritten(o jobs.Options, windows int, out string) string {
	return fmt.Sprintf("shard %d/%d: partial aggregates for %d window(s) written to %s; parity merge combines the shards into scores and verdicts", o.ShardIndex, o.ShardCount, windows, out)
}

// summarize prints the verdicts (when the run wrote any) and returns the
// exit code: 3 for a rollback verdict with --exit-code-on rollback.
func summarize(stdout io.Writer, v *reports.Verdicts, o jobs.Options, exitOn string) int {
	if v == nil {
		return ExitOK
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	reports.WriteSummary(stdout, v, now)
	if exitOn == "rollback" {
		for _, f := range v.Features {
			if f.Verdict == eval.VerdictRollback {
				return ExitRollback
			}
		}
	}
	return ExitOK
}

func helpOrUsage(err error) int {
	if err == flag.ErrHelp {
		return ExitOK
	}
	return ExitUsage
}

// parseArgs parses args into fs and returns the positional arguments.
// Flags may come before, between or after them, as the synopses write
// them (parity cp SRC DST --prefix P): the flag package alone stops at
// the first positional argument and leaves the flags after it unparsed.
// "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// applyMemoryLimit sets jobs.DefaultMemoryLimit unless the operator set
// GOMEMLIMIT: run (with --job too), backfill, merge, schedule and demo
// call it.
func applyMemoryLimit() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(jobs.DefaultMemoryLimit)
	}
}
