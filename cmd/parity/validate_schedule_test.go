package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// staleConfig is the QA report's setup: a 24h window, the default 24h
// freshness and a daily run at 00:30 UTC with 5m of jitter. Each day's
// verdicts expired at 00:00, before the run that replaces them.
const staleConfig = `version: 1
source:
  logs: logs
output: out
window: 24h
features:
  - name: routing
    fields:
      - name: category
        critical: true
jobs:
  - name: daily
    kind: evaluate
    schedule: "TZ=UTC 30 0 * * *"
    jitter: 5m
`

func writeStaleConfig(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestValidateWarnsStaleSchedule: parity validate accepts the config
// (exit 0, the ok line) and warns, at the schedule's line, by how much the
// verdicts go stale and which freshness covers the schedule; a config
// whose freshness covers it draws no warning.
func TestValidateWarnsStaleSchedule(t *testing.T) {
	p := writeStaleConfig(t, staleConfig)
	code, stdout, stderr := run(t, "validate", "--config", p)
	if code != ExitOK || !strings.Contains(stdout, ": ok (") {
		t.Fatalf("validate: exit %d, want 0 and the ok line\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	want := p + ":14: jobs[0].schedule: warning: verdicts of feature \"routing\" go stale every window before this schedule replaces them, for up to 35m plus the run's own time"
	if !strings.HasPrefix(stderr, want) || !strings.Contains(stderr, "set features[0].policy.freshness to at least 26h") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("validate: stderr\n%s\nwant one line starting\n%s\nand suggesting freshness 26h", stderr, want)
	}

	p = writeStaleConfig(t, strings.Replace(staleConfig, "        critical: true\n", "        critical: true\n    policy: {freshness: 26h}\n", 1))
	if code, stdout, stderr := run(t, "validate", "--config", p); code != ExitOK || stderr != "" || !strings.Contains(stdout, ": ok (") {
		t.Errorf("freshness 26h: exit %d, stderr %q, stdout %q; want 0, no warning", code, stderr, stdout)
	}

	// A TZ= schedule due in a daylight-saving gap.
	p = writeStaleConfig(t, strings.Replace(strings.Replace(staleConfig, `"TZ=UTC 30 0 * * *"`, `"TZ=Europe/Berlin 30 2 * * *"`, 1), "        critical: true\n", "        critical: true\n    policy: {freshness: 2d}\n", 1))
	code, _, stderr = run(t, "validate", "--config", p)
	if code != ExitOK || !strings.Contains(stderr, `jobs[0].schedule: warning: "TZ=Europe/Berlin 30 2 * * *" is due between 02:00–03:00 local time, which does not exist in Europe/Berlin on `) {
		t.Errorf("DST gap: exit %d, stderr %s", code, stderr)
	}
}

// TestScheduleStartupWarnsStaleSchedule: the daemon logs the same warning
// at start-up (a WARN record with file, line and key), before anything
// else can stop it.
func TestScheduleStartupWarnsStaleSchedule(t *testing.T) {
	p := writeStaleConfig(t, staleConfig)
	// No job of that name: the daemon stops with a usage error after
	// loading the config, without scheduling anything.
	code, _, stderr := run(t, "schedule", "--config", p, "--listen", "", "--jobs", "nope")
	if code != ExitUsage {
		t.Fatalf("schedule --jobs nope: exit %d, want %d\n%s", code, ExitUsage, stderr)
	}
	var rec string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "go stale every window") {
			rec = l
		}
	}
	for _, s := range []string{`"level":"WARN"`, `"msg":"verdicts of feature \"routing\" go stale`, `"line":14`, `"key":"jobs[0].schedule"`, "26h"} {
		if !strings.Contains(rec, s) {
			t.Errorf("schedule start-up: no warning record with %s in\n%s", s, stderr)
		}
	}
}
