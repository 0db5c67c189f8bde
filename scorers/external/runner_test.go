package external_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"

	_ "github.com/parity-eval/parity/storage/file" // local folders
)

const runnerConfig = `version: 1
source:
  logs: %s
  labels: %s
output: %s
window: 24h
features:
  - name: ticket_routing
    fields:
      - name: category
        legacy: legacy_category
        ai: ai_category
        label: label_category
        critical: true
  - name: reply_draft
    scorers:
      - name: reply_f1
        type: token_f1
        legacy: legacy_reply
        ai: ai_reply
        threshold: 0.5
        min_pass_rate: 0.8
      - name: reply_length
        type: external
        legacy: legacy_reply
        ai: ai_reply
        command: [%q, --legacy, legacy_reply, --ai, ai_reply]
%s`

const crashing = `      - name: reply_crash
        type: external
        legacy: legacy_reply
        ai: ai_reply
        threshold: 0.1
        min_pass_rate: 0.1
        command: [%q, --legacy, legacy_reply, --ai, ai_reply, --crash-after, "0"]
`

// run evaluates the synthetic data in data with the config, returning
// every score row (run id and config hash blanked) and the verdicts.
func run(t *testing.T, data string, sum synth.Summary, extra string) ([]reports.ScoreRow, *reports.Verdicts) {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	yml := fmt.Sprintf(runnerConfig, filepath.Join(data, "logs"), filepath.Join(data, "labels"), out, example(t), extra)
	path := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	windows := eval.WindowsBetween(sum.Start, sum.End, 24*time.Hour)
	now := sum.End.Add(time.Hour)
	res, err := r.Evaluate(ctx, windows, jobs.Options{Now: func() time.Time { return now }, Workers: 2})
	if err != nil {
		t.Fatalf("a crashing external scorer must not fail the run: %v", err)
	}
	var all []reports.ScoreRow
	for _, w := range windows {
		raw, err := os.ReadFile(filepath.Join(out, "scores", "window="+w.Key(), "scores.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := reports.DecodeScores(raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			r.RunID, r.ConfigHash = "", ""
			all = append(all, r)
		}
	}
	return all, res.Verdicts
}

// A crashing external scorer is "error" for the window in every class
// of its feature, and every other figure — the other scorers of the
// same feature, another external scorer, other features, the verdicts
// of other features — is exactly what a run without it writes.
func TestRunnerCrashIsolated(t *testing.T) {
	data := t.TempDir()
	sum, err := synth.Generate(data, synth.Options{Seed: 5, Days: 2, Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	with, vWith := run(t, data, sum, fmt.Sprintf(crashing, example(t)))
	without, vWithout := run(t, data, sum, "")

	var crashRows, lengthRows int
	var others []reports.ScoreRow
	for _, r := range with {
		switch {
		case strings.HasPrefix(r.Metric, "reply_crash"):
			crashRows++
			if r.Metric != "reply_crash" || r.Status != eval.StatusError || !r.Criterion {
				t.Errorf("%s %s: %s %q, want only an error criterion", r.InputClass, r.Metric, r.Status, r.Reason)
			}
			if !strings.Contains(r.Reason, `external scorer "reply_crash"`) || !strings.Contains(r.Reason, "exit status 3") {
				t.Errorf("reason %q does not name the scorer and its exit", r.Reason)
			}
			continue
		case strings.HasPrefix(r.Metric, "reply_length."):
			lengthRows++
			if r.Status == eval.StatusError || r.Value == nil {
				t.Errorf("healthy external scorer hit: %+v", r)
			}
		}
		others = append(others, r)
	}
	if crashRows == 0 || lengthRows == 0 {
		t.Fatalf("%d reply_crash rows, %d reply_length rows", crashRows, lengthRows)
	}
	if !reflect.DeepEqual(others, without) {
		t.Errorf("other scores differ with the crashing scorer (%d rows vs %d)", len(others), len(without))
		for i := range min(len(others), len(without)) {
			if !reflect.DeepEqual(others[i], without[i]) {
				t.Errorf("first difference:\n with   %+v\n without %+v", others[i], without[i])
				break
			}
		}
	}
	// Verdicts: reply_draft's classes are error (never pass); the other
	// feature's verdict is untouched.
	for c, cd := range vWith.Features["reply_draft"].Classes {
		if cd.Status != eval.StatusError {
			t.Errorf("reply_draft %s: %s, want error", c, cd.Status)
		}
	}
	a, _ := json.Marshal(vWith.Features["ticket_routing"])
	b, _ := json.Marshal(vWithout.Features["ticket_routing"])
	if string(a) != string(b) {
		t.Errorf("ticket_routing verdict changed:\n%s\n%s", a, b)
	}
}
