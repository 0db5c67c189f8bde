package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/parity-eval/parity/config"
)

func init() {
	register(&command{name: "validate", summary: "check a config file without reading any data", run: cmdValidate})
}

func cmdValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (YAML)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity validate --config FILE\n\nPrints every problem as file:line: key: message and exits 2, or exits 0.\nWarnings (file:line: key: warning: message) do not change the exit code:\na schedule whose runs come too late for the verdicts' freshness, or one\ndue at a local time a daylight-saving change skips.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		// Go's flag package stops at the first argument: every flag after it would be ignored.
		return usageError(stderr, "parity validate: unexpected argument %q", fs.Arg(0))
	}
	// Text even off a terminal: validate's output is its list of
	// problems, for a person or an editor's file:line matcher; it runs
	// no job and writes no log (the other commands' errors are records).
	if *path == "" {
		fmt.Fprintln(stderr, "parity: --config is required")
		return ExitUsage
	}
	cfg, err := config.Load(*path)
	if err != nil {
		fmt.Fprintln(stderr, err) // config.Errors: one problem a line
		return ExitUsage
	}
	// Warnings: valid, but the schedules work against the verdicts
	// (stale before the next run replaces them, a run skipped by a
	// daylight-saving change). They do not change the exit code.
	for _, w := range cfg.ScheduleWarnings(time.Now()) {
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok (%d features, %d jobs, window %s, config sha256 %s)\n", cfg.Path, len(cfg.Features), len(cfg.Jobs), cfg.Window.D(), cfg.Hash[:12])
	return ExitOK
}
