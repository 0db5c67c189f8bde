package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func init() {
	register(&command{name: "validate", summary: "check a config file without reading any data", run: cmdValidate})
}

func cmdValidate(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "config file (YAML)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity validate --config FILE\n\nPrints every problem as file:line: key: message and exits 2, or exits 0.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	fmt.Fprintf(stdout, "%s: ok (%d features, %d jobs, window %s, config sha256 %s)\n", cfg.Path, len(cfg.Features), len(cfg.Jobs), cfg.Window.D(), cfg.Hash[:12])
	return ExitOK
}
