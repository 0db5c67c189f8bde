package main

import (
	"runtime/debug"
	"testing"
)

// TestFormatVersion: a build from a modified tree does not claim the
// clean commit.
func TestFormatVersion(t *testing.T) {
	rev := debug.BuildSetting{Key: "vcs.revision", Value: "1a122d1e4f2a9c0b7d6e5f4a3b2c1d0e9f8a7b6c"}
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{nil, "dev"},
		{[]debug.BuildSetting{rev}, "dev (1a122d1e4f2a)"},
		{[]debug.BuildSetting{rev, {Key: "vcs.modified", Value: "false"}}, "dev (1a122d1e4f2a)"},
		{[]debug.BuildSetting{rev, {Key: "vcs.modified", Value: "true"}}, "dev (1a122d1e4f2a+dirty)"},
		{[]debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, rev}, "dev (1a122d1e4f2a+dirty)"},
	} {
		if got := formatVersion("dev", c.settings); got != c.want {
			t.Errorf("formatVersion(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}
