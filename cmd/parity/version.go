package main

import (
	"runtime/debug"

	"github.com/parity-eval/parity/jobs"
)

// version is parity's version plus the VCS commit when built from a checkout.
func version() string {
	v := jobs.Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += " (" + s.Value[:12] + ")"
			}
		}
	}
	return v
}
