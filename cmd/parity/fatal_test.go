package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/storage"
)

// records decodes every line of stderr as a JSON record, failing the
// test on a line that is not one: off a terminal, a collector parsing
// stderr as JSON lines must lose nothing parity wrote.
func records(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for l := range strings.Lines(stderr) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Errorf("stderr line is not a JSON record: %q", l)
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

// errorText is the messages of stderr's records that end a command (the
// ones with an exit_code), a line each: the text a terminal shows.
func errorText(t *testing.T, stderr string) string {
	t.Helper()
	var msgs []string
	for _, rec := range records(t, stderr) {
		if _, ok := rec["exit_code"]; ok {
			msg, _ := rec["msg"].(string)
			msgs = append(msgs, msg)
		}
	}
	return strings.Join(msgs, "\n")
}

// runBinary runs the built parity with stderr a pipe, as cron and
// Kubernetes do, and returns the exit code and stderr.
func runBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestErrorsAreJSONRecords: off a terminal, the line saying why parity
// stops is a JSON record at level ERROR like the logs before it, with
// the same text as on a terminal, the exit code and the error's fields;
// validate's problem list and the flag package's usage stay text.
func TestErrorsAreJSONRecords(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
	window := []string{"--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z"}

	// want checks the last record: the one that ends the command.
	want := func(name, stderr string, code int, prefix string, fields map[string]any) {
		t.Helper()
		recs := records(t, stderr)
		if len(recs) == 0 {
			t.Fatalf("%s: no record on stderr: %q", name, stderr)
		}
		last := recs[len(recs)-1]
		if msg, _ := last["msg"].(string); last["level"] != "ERROR" || !strings.HasPrefix(msg, prefix) || last["exit_code"] != float64(code) {
			t.Errorf("%s: last record %v, want level ERROR, msg %q..., exit_code %d", name, last, prefix, code)
		}
		for k, v := range fields {
			if last[k] != v {
				t.Errorf("%s: %s = %v, want %v in %v", name, k, last[k], v, last)
			}
		}
	}

	// A usage error found after the flags parsed.
	code, stderr := runBinary(t, append([]string{"run", "--config", b.cfg, "--window", "yesterday"}, window[2:]...)...)
	if code != ExitUsage {
		t.Fatalf("bad --window: exit %d: %s", code, stderr)
	}
	want("bad --window", stderr, ExitUsage, "parity run: --window: ", nil)

	// A runtime failure: a file that is not Parquet (TestMissingColumn
	// has one after INFO records).
	if err := os.WriteFile(b.file("part-1.parquet"), []byte("not parquet"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr = runBinary(t, append([]string{"run", "--config", b.cfg}, window...)...)
	if code != ExitFailure {
		t.Fatalf("not Parquet: exit %d, want %d: %s", code, ExitFailure, stderr)
	}
	want("not Parquet", stderr, ExitFailure, "parity: dataset logs: dt=2026-10-01/part-1.parquet: ", nil)
	os.Remove(b.file("part-1.parquet"))

	// Another run holds the lock: routine for a scheduler, so flagged.
	held, _ := json.Marshal(storage.LockInfo{Owner: "other-run", Host: "h", PID: 1, Acquired: time.Now(), Expires: time.Now().Add(time.Hour), Token: "t"})
	lock := filepath.Join(b.dir, "out", "locks", "evaluate.lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lock, held, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stderr = runBinary(t, append([]string{"run", "--config", b.cfg}, window...)...)
	if code != ExitFailure {
		t.Fatalf("lock held: exit %d, want %d: %s", code, ExitFailure, stderr)
	}
	want("lock held", stderr, ExitFailure, "parity: another run holds the run lock: ", map[string]any{"locked": true})
	if !strings.Contains(errorText(t, stderr), `held by "other-run" (host h, pid 1)`) {
		t.Errorf("lock held: the error does not name the holder: %s", stderr)
	}
	os.Remove(lock)

	// A config error: a record per problem, its text what validate
	// prints (quotes and all), with the problem's file, line and key.
	bad := strings.Replace(badConfig, "window: 24h\n", "window: 24h\nstats:\n  adjust: bonferroni\n", 1)
	bad = strings.Replace(bad, "max_p95_latency_ms: 1000", "max_p95_latency_ms: -1", 1)
	if err := os.WriteFile(b.cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	code, text := runBinary(t, "validate", "--config", b.cfg)
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if code != ExitUsage || len(lines) != 2 || !strings.Contains(lines[0], `"bonferroni"`) {
		t.Fatalf("validate: exit %d, want %d and a text line per problem: %s", code, ExitUsage, text)
	}
	code, stderr = runBinary(t, append([]string{"run", "--config", b.cfg}, window...)...)
	recs := records(t, stderr)
	if code != ExitUsage || len(recs) != len(lines) {
		t.Fatalf("bad config: exit %d, want %d and a record per problem: %s", code, ExitUsage, stderr)
	}
	for i, rec := range recs {
		key, _ := rec["key"].(string)
		line, _ := rec["line"].(float64)
		if rec["msg"] != lines[i] || rec["file"] != b.cfg || key == "" ||
			!strings.HasPrefix(lines[i], fmt.Sprintf("%s:%d: %s: ", b.cfg, int(line), key)) ||
			rec["level"] != "ERROR" || rec["exit_code"] != float64(ExitUsage) {
			t.Errorf("bad config: record %v for %q", rec, lines[i])
		}
	}
	if recs[0]["key"] != "stats.adjust" || recs[1]["key"] != "features[0].criteria.max_p95_latency_ms" {
		t.Errorf("bad config: records %v", recs)
	}

	// The flag package's error and usage stay text, as --help does.
	code, stderr = runBinary(t, "run", "--no-such-flag")
	if code != ExitUsage || !strings.HasPrefix(stderr, "flag provided but not defined: -no-such-flag\nUsage: parity run") {
		t.Errorf("unknown flag: exit %d: %s", code, stderr)
	}
}
