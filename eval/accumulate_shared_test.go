package eval

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parity-eval/parity/scorers"
)

// sharedConfig is three features with parity's own latency and cost
// scorers, for TestSharedFoldsMatchPerFeature.
const sharedConfig = `version: 1
source: {logs: unused}
output: unused
window: 6h
features:
  - name: ticket_routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {max_p95_latency_ms: 900}
  - name: refund_approval
    fields:
      - {name: decision, legacy: legacy_category, ai: ai_category, label: "-", critical: true}
  - name: invoice_extraction
    fields:
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
`

// TestSharedFoldsMatchPerFeature holds the batch-level per-system folds
// (sharedFolds) to their simple form, PerSystemValue's Score on each
// feature's gathered rows and accumulate, over batches of three
// features in uneven shares with rows of an unconfigured feature, rows
// outside every window and duplicate request ids (all dropped), a
// feature without the cost scorer, one whose latency scorer reads other
// columns (a shape of its own), a batch missing a feature and a batch of
// one feature, several batches on one worker.
func TestSharedFoldsMatchPerFeature(t *testing.T) {
	build := func(simple bool) *Engine {
		e := engineFor(t, sharedConfig)
		for _, p := range e.order {
			for k := 0; k < len(p.scorers); k++ {
				s, ok := p.scorers[k].(*scorers.PerSystemValue)
				if !ok {
					continue
				}
				switch {
				case p.cfg.Name == "refund_approval" && s.Metric == "cost":
					// A feature without that scorer.
					p.scorers, p.direct = slices.Delete(p.scorers, k, k+1), slices.Delete(p.direct, k, k+1)
					p.builtin--
					k--
					continue
				case p.cfg.Name == "invoice_extraction" && s.Metric == "latency_ms":
					// The same metric from other columns.
					p.scorers[k] = &scorers.PerSystemValue{Metric: s.Metric, LegacyCol: s.AICol, AICol: s.LegacyCol}
				}
				if simple {
					p.direct[k] = 0 // through Score and accumulate
					for _, n := range p.scorers[k].Needs() {
						p.cols[n.Column] = true
					}
				}
			}
		}
		e.planShapes()
		return e
	}
	shared, simple := build(false), build(true)
	if len(shared.shapes) != 3 || len(simple.shapes) != 0 {
		t.Fatalf("shapes: %d shared, %d simple; want 3 and 0", len(shared.shapes), len(simple.shapes))
	}
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	feats := []string{"ticket_routing", "refund_approval", "invoice_extraction", "unconfigured"}
	r := rand.New(rand.NewPCG(17, 18))
	wsShared, wsSimple := shared.NewWorkers(1, []string{"f"}), simple.NewWorkers(1, []string{"f"})
	var sharedBatches int
	for trial, n := range []int{3000, 5000, 700, 4000, 2500, 1} {
		b := testBatch(t, shared, uint64(100+trial), n)
		feat, ts, rid := b.Col("feature"), b.Col("ts"), b.Col("request_id")
		feat.Dict = feats
		ids := make([]string, n)
		for i := range n {
			switch {
			case trial == 4: // one feature only
				feat.Codes[i] = 0
			case trial == 2: // no refund_approval rows
				feat.Codes[i] = []int32{0, 0, 2, 3}[r.IntN(4)]
			default: // uneven shares
				feat.Codes[i] = []int32{0, 0, 0, 1, 1, 2, 3}[r.IntN(7)]
			}
			if r.IntN(15) == 0 {
				ts.Int[i] = day - 1 - r.Int64N(int64(time.Hour)) // before every window
			}
			ids[i] = "r" + strconv.Itoa(i)
			if i > 0 && r.IntN(12) == 0 {
				ids[i] = ids[r.IntN(i)]
			}
		}
		rid.Dict, rid.Codes, rid.DictRepeats, rid.NoEmpty = ids, make([]int32, n), true, true
		for i := range rid.Codes {
			rid.Codes[i] = int32(i)
		}
		if err := wsShared.Batch(0, b); err != nil {
			t.Fatal(err)
		}
		if wsShared.ws[0].shared.any {
			sharedBatches++
		}
		if err := wsSimple.Batch(0, b); err != nil {
			t.Fatal(err)
		}
	}
	if sharedBatches != 4 {
		t.Fatalf("%d batches folded per batch, want 4 (not the one-feature ones)", sharedBatches)
	}
	aggs := func(ws *Workers) []byte {
		a := ws.Result()
		return groupsJSON(t, a, a.Dropped)
	}
	got, want := aggs(wsShared), aggs(wsSimple)
	if !slices.Equal(got, want) {
		t.Fatalf("aggregates differ from the per-feature Score form:\n%s\nwant\n%s", got, want)
	}
	a := wsShared.Result()
	for _, d := range []string{"other_feature", "outside_window", "duplicate_request_id"} {
		if a.Dropped[d] == 0 {
			t.Errorf("no row dropped as %s: the fixture proves less than it says", d)
		}
	}
	var withCost, withLatency int
	for k, g := range a.Groups {
		if g.Metrics["cost"] != nil {
			withCost++
			if k.Feature == "refund_approval" {
				t.Errorf("%v has a cost metric", k)
			}
		}
		if g.Metrics["latency_ms"] != nil {
			withLatency++
		}
	}
	if withCost == 0 || withLatency == 0 {
		t.Fatalf("groups with cost %d, with latency %d", withCost, withLatency)
	}
}
