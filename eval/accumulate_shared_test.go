package eval

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// sharedConfig is three features with parity's own latency, cost and
// count scorers, two latency bounds of their own and one feature without
// one, for TestSharedFoldsMatchPerFeature and
// TestSharedRatesMatchPerFeature.
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
    criteria: {max_p95_latency_ms: 1500}
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
	r := rand.New(rand.NewPCG(17, 18))
	wsShared, wsSimple := shared.NewWorkers(1, []string{"f"}), simple.NewWorkers(1, []string{"f"})
	var sharedBatches int
	for trial, n := range []int{3000, 5000, 700, 4000, 2500, 1} {
		b := mixedBatch(t, shared, r, trial, n)
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
	sameResults(t, wsShared, wsSimple, "the per-feature Score form")
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

// mixedBatch is batch trial of n rows for the shared-fold tests: three
// features in uneven shares plus an unconfigured one (trial 2: no
// refund_approval rows; trial 4: ticket_routing only; trial 6: no
// invoice_extraction rows), rows before every
// window and duplicate request ids.
func mixedBatch(t *testing.T, e *Engine, r *rand.Rand, trial, n int) *datasets.Batch {
	t.Helper()
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	feats := []string{"ticket_routing", "refund_approval", "invoice_extraction", "unconfigured"}
	b := testBatch(t, e, uint64(100+trial), n)
	feat, ts, rid := b.Col("feature"), b.Col("ts"), b.Col("request_id")
	feat.Dict = feats
	ids := make([]string, n)
	for i := range n {
		switch {
		case trial == 4: // one feature only
			feat.Codes[i] = 0
		case trial == 2: // no refund_approval rows
			feat.Codes[i] = []int32{0, 0, 2, 3}[r.IntN(4)]
		case trial == 6: // no invoice_extraction rows
			feat.Codes[i] = []int32{0, 1, 1, 3}[r.IntN(4)]
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
	return b
}

// TestSharedRatesMatchPerFeature holds the batch-level count scorers
// (sharedFolds.rates: error rates, AI share, audit completeness, the
// latency bound, the model version's category counts, the confidence's
// sketch, each computed once over the batch's rows, and their columns
// then not gathered) to the per-feature form (RateCodes on each
// feature's gathered rows, the bound's codes through its row indexes),
// over the batches of TestSharedFoldsMatchPerFeature: features in
// uneven shares, dropped rows, nulls and NaN, different bounds, a
// feature without a bound, one without the AI share (a batch in which
// only one feature has it, which keeps its own) and one without the
// model version's counts and the confidence.
func TestSharedRatesMatchPerFeature(t *testing.T) {
	build := func(simple bool) *Engine {
		e := engineFor(t, sharedConfig)
		for f, ms := range map[string][]string{"refund_approval": {"ai_share"}, "invoice_extraction": {"model_version", "confidence"}} {
			for _, m := range ms {
				p := e.plans[f]
				k := slices.IndexFunc(p.scorers, func(s scorers.Scorer) bool { return s.Name() == m })
				p.scorers, p.direct = slices.Delete(p.scorers, k, k+1), slices.Delete(p.direct, k, k+1)
				p.builtin--
			}
		}
		e.planShapes()
		if simple {
			for _, p := range e.order {
				for k := range p.rshape {
					p.rshape[k] = -1
				}
				p.rateOnly = nil
			}
		}
		return e
	}
	shared, simple := build(false), build(true)
	if n := len(shared.rshapes); n != 9 {
		t.Fatalf("%d shared scorers, want 9 (2 error rates, AI share, audit, bound, model version, 2 categories, confidence)", n)
	}
	for _, c := range []string{"legacy_error", "ai_error", "served_by", "input_hash", "ai_model_version"} {
		if _, ok := shared.plans["ticket_routing"].rateOnly[c]; !ok {
			t.Errorf("column %q is not read by count scorers alone", c)
		}
	}
	// The confidence is also read by ticket_routing's labelled quality.
	if _, ok := shared.plans["refund_approval"].rateOnly["ai_confidence"]; !ok {
		t.Errorf("refund_approval's confidence is gathered")
	}
	for _, c := range []string{"ai_category", "legacy_category", "label_category"} {
		if _, ok := shared.plans["ticket_routing"].rateOnly[c]; ok {
			t.Errorf("column %q, read by other scorers, would not be gathered", c)
		}
	}
	r := rand.New(rand.NewPCG(19, 20))
	wsShared, wsSimple := shared.NewWorkers(1, []string{"f"}), simple.NewWorkers(1, []string{"f"})
	var sharedBatches, skipped int
	for trial, n := range []int{3000, 5000, 700, 4000, 2500, 1, 2000} {
		b := mixedBatch(t, shared, r, trial, n)
		served := b.Col("served_by")
		served.Dict = []string{"legacy", "ai", "AI"}
		for i := range served.Codes {
			served.Codes[i] = int32(r.IntN(3))
		}
		// NaN latencies (no code, as nulls), and a class with no AI
		// error logged (its groups get no error_rate.ai).
		lat, aiErr, class := b.Col("ai_latency_ms"), b.Col("ai_error"), b.Col("input_class")
		for i := range lat.Float {
			if r.IntN(10) == 0 {
				lat.Float[i] = math.NaN()
			}
			if class.Str(i) == "web" {
				aiErr.Null[i] = true
			}
		}
		if trial%2 == 1 {
			lat.Null = nil // no null flags
		}
		if err := wsShared.Batch(0, b); err != nil {
			t.Fatal(err)
		}
		st := &wsShared.ws[0].shared
		if st.any && slices.Contains(st.ron, true) {
			sharedBatches++
			if st.skips(shared.plans["ticket_routing"], "legacy_error") {
				skipped++
			}
			// Only ticket_routing has the AI share here: its own.
			if trial == 6 && st.skips(shared.plans["ticket_routing"], "served_by") {
				t.Errorf("served_by not gathered for the AI share of one feature")
			}
		}
		if err := wsSimple.Batch(0, b); err != nil {
			t.Fatal(err)
		}
	}
	if sharedBatches != 5 || skipped != 5 {
		t.Fatalf("%d batches counted per batch, %d with a gather skipped; want 5 and 5 (not the one-feature ones)", sharedBatches, skipped)
	}
	sameResults(t, wsShared, wsSimple, "the per-feature form")
	seen := map[string]map[string]bool{}
	for k, g := range wsShared.Result().Groups {
		for m, a := range g.Metrics {
			if seen[m] == nil {
				seen[m] = map[string]bool{}
			}
			seen[m][k.Feature] = true
			seen[m][k.Class] = true
			if a.K > 0 {
				seen[m]["k>0"] = true
			}
		}
	}
	for _, m := range []string{"error_rate.legacy", "error_rate.ai", "ai_share", "audit.complete", "latency_ms.ai.over_bound"} {
		if !seen[m]["k>0"] || !seen[m]["ticket_routing"] {
			t.Errorf("metric %s: %v, want successes and ticket_routing among them", m, seen[m])
		}
	}
	if !seen["error_rate.legacy"]["web"] || seen["error_rate.ai"]["web"] {
		t.Errorf("error rates of class web: legacy %v, AI %v; want only legacy", seen["error_rate.legacy"], seen["error_rate.ai"])
	}
	for _, m := range []string{"model_version", "confidence"} {
		if !seen[m]["refund_approval"] || !seen[m]["ticket_routing"] || seen[m]["invoice_extraction"] {
			t.Errorf("%s in %v, want refund_approval and ticket_routing only", m, seen[m])
		}
	}
	if !seen["output.decision"]["refund_approval"] {
		t.Errorf("category counts missing: output.decision %v", seen["output.decision"])
	}
	if seen["ai_share"]["refund_approval"] || seen["latency_ms.ai.over_bound"]["invoice_extraction"] {
		t.Errorf("a feature without the scorer has its metric: %v, %v", seen["ai_share"], seen["latency_ms.ai.over_bound"])
	}
}

// sameResults fails unless two workers' aggregates and drop counts are
// identical (as JSON, groups in key order).
func sameResults(t *testing.T, got, want *Workers, form string) {
	t.Helper()
	aggs := func(ws *Workers) []byte {
		a := ws.Result()
		return groupsJSON(t, a, a.Dropped)
	}
	if g, w := aggs(got), aggs(want); !slices.Equal(g, w) {
		t.Fatalf("aggregates differ from %s:\n%s\nwant\n%s", form, g, w)
	}
}

// TestSharedSinkKeepsItsSketches: rows of the features without a shared
// NumericValue (invoice_extraction here, its confidence removed) go to
// the sink group's sketch, made once, not into fresh sketches dropped
// after every batch (127 made in 15 batches before). sync.Pool may drop
// its pooled sketches at a collection, so a few may still be made.
func TestSharedSinkKeepsItsSketches(t *testing.T) {
	var made atomic.Int64
	old := freshPool.New
	freshPool.New = func() any { made.Add(1); return NewSketch() }
	defer func() { freshPool.New = old }()
	e := engineFor(t, sharedConfig)
	p := e.plans["invoice_extraction"]
	k := slices.IndexFunc(p.scorers, func(s scorers.Scorer) bool { return s.Name() == "confidence" })
	p.scorers, p.direct = slices.Delete(p.scorers, k, k+1), slices.Delete(p.direct, k, k+1)
	p.builtin--
	e.planShapes()
	r := rand.New(rand.NewPCG(1, 2))
	ws := e.NewWorkers(1, []string{"f"})
	for trial := range 20 {
		if err := ws.Batch(0, mixedBatch(t, e, r, 5+trial%2, 3000)); err != nil {
			t.Fatal(err)
		}
		if trial == 4 { // groups and sink set up
			made.Store(0)
		}
	}
	if n := made.Load(); n > 15 {
		t.Errorf("%d fresh sketches made in 15 batches of the same groups; want only the few sync.Pool may drop", n)
	}
}
