package main

import (
	"runtime/debug"

	"github.com/parity-eval/parity/jobs"
)

// version is parity's version plus the VCS commit when built from a
// checkout, marked "+dirty" when the tree had uncommitted changes.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return jobs.Version
	}
	return formatVersion(jobs.Version, bi.Settings)
}

// formatVersion appends the commit of the build settings to v, e.g.
// "dev (1a122d1e4f2a)", or "dev (1a122d1e4f2a+dirty)" when vcs.modified
// says the tree differed from that commit: the commit alone would claim
// the clean tree.
func formatVersion(v string, settings []debug.BuildSetting) string {
	var rev string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if len(rev) < 12 {
		return v
	}
	rev = rev[:12]
	if dirty {
		rev += "+dirty"
	}
	return v + " (" + rev + ")"
}
