package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/storage"
)

func runMain(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestVerdictsCheck: `parity verdicts --config FILE --check` exits 4 once
// a verdict is past valid_until, 0 while fresh.
func TestVerdictsCheck(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	doc := writeLatest(t, out, eval.VerdictGraduate)
	cfg := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfg, []byte("version: 1\nsource:\n  logs: logs\noutput: out\nfeatures:\n  - name: refunds\n    fields:\n      - name: decision\n        critical: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fresh := doc.ValidUntil.Add(-time.Hour).Format(time.RFC3339)
	stale := doc.ValidUntil.Add(time.Second).Format(time.RFC3339)

	code, stdout, stderr := runMain("verdicts", "--config", cfg, "--check", "--now", fresh)
	if code != ExitOK || !strings.Contains(stdout, "refunds: GRADUATE") {
		t.Fatalf("fresh --check: exit %d\n%s\n%s", code, stdout, stderr)
	}
	code, stdout, stderr = runMain("verdicts", "--config", cfg, "--check", "--now", stale)
	if code != ExitStale || !strings.Contains(stderr, "refunds, tickets") || !strings.Contains(stdout, "STALE") {
		t.Fatalf("stale --check: exit %d, want %d\n%s\n%s", code, ExitStale, stdout, stderr)
	}
	// Without --check staleness is printed, not an exit code.
	if code, stdout, _ = runMain("verdicts", "--output", out, "--now", stale); code != ExitOK || !strings.Contains(stdout, "STALE") {
		t.Fatalf("stale without --check: exit %d\n%s", code, stdout)
	}
	// --json is the stored document.
	code, stdout, _ = runMain("verdicts", "--output", out, "--json")
	if _, err := reports.DecodeVerdicts([]byte(stdout)); code != ExitOK || err != nil {
		t.Fatalf("--json: exit %d, %v", code, err)
	}
	// Nothing written yet: exit 1 with a message naming the location.
	empty := t.TempDir()
	if code, _, stderr = runMain("verdicts", "--output", empty, "--check"); code != ExitFailure || !strings.Contains(stderr, empty) {
		t.Fatalf("no verdicts: exit %d %s", code, stderr)
	}
	if code, _, _ = runMain("verdicts", "--check"); code != ExitUsage {
		t.Fatalf("no location: exit %d, want %d", code, ExitUsage)
	}
}

func TestVerdictsAudit(t *testing.T) {
	out := t.TempDir()
	doc := writeLatest(t, out, eval.VerdictRollback)
	st, err := storage.Open(context.Background(), out, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.Write(context.Background(), st, doc.Window.Key(), doc.Run.ID, audit.Entries(doc, doc.GeneratedAt)); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runMain("verdicts", "--output", out, "--audit", "--feature", "refunds")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 1 {
		t.Fatalf("%d lines, want refunds' one entry:\n%s", len(lines), stdout)
	}
	var e audit.Entry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil || e.Feature != "refunds" || e.Verdict != eval.VerdictRollback {
		t.Fatalf("entry %+v (%v)", e, err)
	}
	// A feature with no entry (a typo) is a usage error naming those with
	// entries, not an empty answer.
	code, stdout, stderr = runMain("verdicts", "--output", out, "--audit", "--feature", "refund")
	if code != ExitUsage || stdout != "" || !strings.Contains(stderr, `--feature \"refund\": no audit entry`) || !strings.Contains(stderr, "refunds") {
		t.Errorf("unknown feature: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
}
