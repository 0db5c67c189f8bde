package main

import (
	"strings"
	"testing"
)

// TestUnknownLogLevelIsUsageError: --log-level verbose used to be
// accepted and logged at info; every command with the flag refuses it.
func TestUnknownLogLevelIsUsageError(t *testing.T) {
	for _, cmd := range []string{"run", "backfill", "merge", "schedule", "serve", "verify", "demo", "reconcile"} {
		code, _, errs := run(t, cmd, "--log-level", "verbose")
		if code != ExitUsage || !strings.Contains(errs, `invalid value "verbose" for flag -log-level: want debug, info, warn or error`) {
			t.Errorf("%s --log-level verbose: exit %d: %s", cmd, code, errs)
		}
	}
}
