package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Temporary files left in the output by a run killed mid-write (planted
// here, over an hour old) are removed by the next run that writes into
// their folders, each with a log line naming it; a fresh one, which may
// be another process's write in progress, stays.
func TestRunSweepsStaleTempFiles(t *testing.T) {
	bin, _ := schedSetup(t)
	cfg, out := schedConfig(t, fmt.Sprintf(schedHourly, 0))
	now := time.Now()
	plant := func(rel string, age time.Duration) string {
		t.Helper()
		p := filepath.Join(out, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"partial`), 0o640); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := []string{
		plant("verdicts/.parity-tmp-1f2e3d4c5b6a7980", 3*time.Hour),
		plant("scores/window=2026-10-01T02-00-00Z/.parity-tmp-0a1b2c3d4e5f6071", 26*time.Hour),
	}
	fresh := plant("verdicts/.parity-tmp-8091a2b3c4d5e6f7", time.Minute)

	cmd := exec.Command(bin, "run", "--config", cfg, "--at", "2026-10-01T02:00:00Z", "--now", "2026-10-05T12:00:00Z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s: stale temp file not removed (stat: %v)", p, err)
		}
		if !strings.Contains(stderr.String(), p) {
			t.Errorf("no log line names the removed %s", p)
		}
	}
	if !strings.Contains(stderr.String(), "removed a temporary file left by a writer killed mid-write") {
		t.Errorf("no log line says why temporary files were removed:\n%s", stderr.String())
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("fresh temp file (maybe a live write) removed: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "verdicts", "latest.json")); err != nil {
		t.Errorf("the run did not write its outputs: %v", err)
	}
}
