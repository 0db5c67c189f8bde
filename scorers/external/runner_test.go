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
		t.Fatalf("a broken external scorer must not fail the run: %v", err)
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

// duplicating writes every answer twice: each extra copy would be read
// as the next batch's answer (the QA's scorer: figures shifted onto
// other batches, classes and windows, exit 0).
const duplicating = `      - name: reply_dup
        type: external
        legacy: legacy_reply
        ai: ai_reply
        command: [%q, --legacy, legacy_reply, --ai, ai_reply, --twice, --no-echo]
`

// extraAtEnd answers every batch right, then writes one more answer after
// its input has ended, without echoing batch numbers: only the end of
// its answer stream shows it wrote answers it was not asked for, after
// every batch was credited; none of its figures may stand.
const extraAtEnd = `      - name: reply_end
        type: external
        legacy: legacy_reply
        ai: ai_reply
        command: [%q, --legacy, legacy_reply, --ai, ai_reply, --extra-at-end, --no-echo]
`

// A crashing external scorer, or one writing answers it was not asked
// for, is "error" for the window in every class of its feature, and
// every other figure — the other scorers of the same feature, another
// external scorer, other features, the verdicts of other features — is
// exactly what a run without it writes.
func TestRunnerBrokenScorerIsolated(t *testing.T) {
	data := t.TempDir()
	sum, err := synth.Generate(data, synth.Options{Seed: 5, Days: 2, Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	without, vWithout := run(t, data, sum, "")
	for _, tc := range []struct{ name, scorer, reason string }{
		{"reply_crash", crashing, "exit status 3"},
		{"reply_dup", duplicating, "wrote an answer batch it was not asked for"},
		{"reply_end", extraAtEnd, "not asked for"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			with, vWith := run(t, data, sum, fmt.Sprintf(tc.scorer, example(t)))
			var brokenRows, lengthRows int
			var others []reports.ScoreRow
			for _, r := range with {
				switch {
				case r.Metric == tc.name || strings.HasPrefix(r.Metric, tc.name+"."):
					brokenRows++
					if r.Metric != tc.name || r.Status != eval.StatusError || !r.Criterion {
						t.Errorf("%s %s: %s %q, want only an error criterion", r.InputClass, r.Metric, r.Status, r.Reason)
					}
					if !strings.Contains(r.Reason, fmt.Sprintf("external scorer %q", tc.name)) || !strings.Contains(r.Reason, tc.reason) {
						t.Errorf("reason %q does not name the scorer and say %q", r.Reason, tc.reason)
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
			if brokenRows == 0 || lengthRows == 0 {
				t.Fatalf("%d %s rows, %d reply_length rows", brokenRows, tc.name, lengthRows)
			}
			if !reflect.DeepEqual(others, without) {
				t.Errorf("other scores differ with %s (%d rows vs %d)", tc.name, len(others), len(without))
				for i := range min(len(others), len(without)) {
					if !reflect.DeepEqual(others[i], without[i]) {
						t.Errorf("first difference:\n with   %+v\n without %+v", others[i], without[i])
						break
					}
				}
			}
			// Verdicts: reply_draft's classes are error (never pass); the
			// other feature's verdict is untouched.
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
		})
	}
}
