package contrib_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
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

// runnerConfig evaluates ticket_routing with the how-to's hierarchy
// scorer, and reply_draft — a feature with scorers only, no decision
// fields — with a declarative token_f1 scorer (the demo's snippet).
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
    scorers:
      - name: category_tree
        type: hierarchy
        legacy: legacy_category
        ai: ai_category
        threshold: 0.5
        min_pass_rate: 0.9
        params: {parents: "billing=money, fraud=money, technical=support, account=support"}
  - name: reply_draft
    scorers:
      - name: reply_f1
        type: token_f1
        legacy: legacy_reply
        ai: ai_reply
        threshold: 0.5
        min_pass_rate: 0.8
`

// A custom Go scorer and a declarative one, configured in YAML, flow
// through a real run: their metrics are in the scores Parquet, their
// criteria in the verdicts, and the review report shows them.
func TestRunnerWithCustomScorers(t *testing.T) {
	data := t.TempDir()
	sum, err := synth.Generate(data, synth.Options{Seed: 3, Days: 3, Scale: 0.3})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	cfgPath := filepath.Join(t.TempDir(), "parity.yaml")
	yml := fmt.Sprintf(runnerConfig, filepath.Join(data, "logs"), filepath.Join(data, "labels"), out)
	if err := os.WriteFile(cfgPath, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
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
	res, err := r.Evaluate(ctx, windows, jobs.Options{Now: func() time.Time { return now }, Workers: 2, Report: true})
	if err != nil {
		t.Fatal(err)
	}

	// Scores: every window has the scorers' metrics, judged.
	passed := map[string]int64{} // reply_f1 passing rows per class, all windows
	for _, w := range windows {
		raw, err := os.ReadFile(filepath.Join(out, "scores", "window="+w.Key(), "scores.parquet"))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := reports.DecodeScores(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]reports.ScoreRow{}
		for _, r := range rows {
			got[r.Feature+"/"+r.InputClass+"/"+r.Metric] = r
		}
		for _, key := range []string{"ticket_routing/email/category_tree.mean", "ticket_routing/email/category_tree.pass_rate", "reply_draft/complaint/reply_f1.pass_rate", "reply_draft/complaint/reply_f1.mean"} {
			r, ok := got[key]
			if !ok {
				t.Fatalf("window %s: scores lack %s", w.Key(), key)
			}
			if r.Value == nil || r.N == 0 || r.Status == eval.StatusError {
				t.Errorf("window %s %s: %+v", w.Key(), key, r)
			}
		}
		if s := got["ticket_routing/email/category_tree.pass_rate"]; !s.Criterion || s.Threshold == nil || *s.Threshold != 0.9 {
			t.Errorf("category_tree.pass_rate is not a criterion: %+v", s)
		}
		// complaint replies overlap little with legacy's: the criterion fails.
		if s := got["reply_draft/complaint/reply_f1.pass_rate"]; s.Status != eval.StatusFail {
			t.Errorf("window %s: complaint reply_f1.pass_rate %s (value %v, n %d), want fail", w.Key(), s.Status, *s.Value, s.N)
		}
		for k, r := range got {
			if strings.HasPrefix(k, "reply_draft/") && strings.HasSuffix(k, "/reply_f1.pass_rate") {
				passed[r.InputClass] += int64(math.Round(*r.Value * float64(r.N)))
			}
		}
	}
	// The declarative token F1 agrees with the generator's own measure:
	// the rows it passes at 0.5 are the rows the generator drew as
	// agreeing (F1 >= 0.5). Rows where a side errored score 0 here and
	// are outside the generator's count, so neither adds passes.
	var rd *synth.FeatureTruth
	for i := range sum.Features {
		if sum.Features[i].Name == "reply_draft" {
			rd = &sum.Features[i]
		}
	}
	for _, c := range rd.Classes {
		var agree int64
		for _, p := range c.Phases {
			agree += int64(p.Observed.Agree)
		}
		if passed[c.Name] != agree {
			t.Errorf("reply_draft %s: token_f1 passes %d rows, the generator drew %d with F1 >= 0.5", c.Name, passed[c.Name], agree)
		}
	}

	// Verdicts: the criteria are part of each class's evidence.
	raw, err := os.ReadFile(filepath.Join(out, jobs.KeyLatest))
	if err != nil {
		t.Fatal(err)
	}
	v, err := reports.DecodeVerdicts(raw)
	if err != nil {
		t.Fatal(err)
	}
	tr := v.Features["ticket_routing"].Classes["email"]
	if m, ok := tr.Metrics["category_tree.pass_rate"]; !ok || m.Status == "" || m.Value == nil {
		t.Errorf("verdicts: ticket_routing/email lacks category_tree.pass_rate: %+v", tr.Metrics)
	}
	rdv := v.Features["reply_draft"]
	if c := rdv.Classes["complaint"]; c == nil || c.Status != eval.StatusFail {
		t.Errorf("verdicts: reply_draft complaint %+v, want fail", c)
	}
	if res.Verdicts == nil || res.Verdicts.Features["reply_draft"] == nil {
		t.Errorf("run result lacks reply_draft verdict")
	}

	// Report: the review report names the scorer's metric.
	html, err := os.ReadFile(filepath.Join(out, "reports", "ticket_routing", windows[len(windows)-1].Key()+".html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "category_tree") {
		t.Errorf("the ticket_routing report does not mention category_tree")
	}
	if testing.Verbose() {
		b, _ := json.MarshalIndent(rdv.Classes, "", " ")
		t.Logf("reply_draft classes: %s", b)
	}
}
