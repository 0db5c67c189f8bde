package eval

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"
)

func sketchOf(xs ...float64) *Sketch {
	s := NewSketch()
	for _, x := range xs {
		s.Add(x)
	}
	return s
}

// TestInputDrift: a numeric column shifted up is flagged by KS and PSI
// with the share beyond the baseline's max; an unchanged one is not; a
// categorical column reports the share of unseen categories.
func TestInputDrift(t *testing.T) {
	f := &config.Feature{Name: "f", DriftColumns: []string{"tokens", "lang:category"}}
	var base, same, moved []float64
	for i := 0; i < 1000; i++ {
		x := 100 + float64(i%200)
		base = append(base, x)
		same = append(same, x+0.5)
		moved = append(moved, 1.6*x)
	}
	bg := &Group{Metrics: map[string]*Acc{"input.tokens": {Value: sketchOf(base...)}, "input.lang": {Cats: map[string]int64{"en": 90, "es": 10}}}}
	run := func(xs []float64, cats map[string]int64) map[string]*Metric {
		g := &Group{Metrics: map[string]*Acc{"input.tokens": {Value: sketchOf(xs...)}, "input.lang": {Cats: cats}}}
		out := map[string]*Metric{}
		inputDrift(f, "c", Window{}, g, bg, 0.05, func(m *Metric) { out[m.Name] = m })
		return out
	}
	st := run(same, map[string]int64{"en": 45, "es": 5})
	if m := st["drift.input.tokens.ks"]; m == nil || m.P < 0.05 {
		t.Errorf("unchanged input flagged by KS: %+v", m)
	}
	if m := st["drift.input.tokens.psi"]; m.Value >= 0.1 {
		t.Errorf("unchanged input PSI %g", m.Value)
	}
	if m := st["drift.input.lang.out_of_range"]; m.Value != 0 || m.N != 50 {
		t.Errorf("unseen share %g of %d, want 0 of 50", m.Value, m.N)
	}
	mv := run(moved, map[string]int64{"en": 40, "es": 5, "fr": 5})
	if m := mv["drift.input.tokens.ks"]; m.P > 1e-6 {
		t.Errorf("moved input KS p=%g", m.P)
	}
	if m := mv["drift.input.tokens.psi"]; m.Value < 0.25 {
		t.Errorf("moved input PSI %g, want a major shift", m.Value)
	}
	// 1.6x of 100..299: values above 299 are 187..299 of the 200 → 56.5%.
	if m := mv["drift.input.tokens.out_of_range"]; math.Abs(m.Value-0.565) > 0.01 {
		t.Errorf("out of range %g, want ~0.565", m.Value)
	}
	if m := mv["drift.input.lang.out_of_range"]; math.Abs(m.Value-0.1) > 1e-12 {
		t.Errorf("unseen share %g, want 0.1", m.Value)
	}
}

// TestJudgeBeyondAccuracy: a significantly worse category fails a class
// that otherwise passed and is named; input drift and calibration drift
// become alerts.
func TestJudgeBeyondAccuracy(t *testing.T) {
	cfg := &config.Config{Stats: config.Stats{Alpha: 0.05, Power: 0.8}}
	f := &config.Feature{Name: "f", Fields: []config.Field{{Name: "category", Label: "label_category", Comparator: "exact", Critical: true}}, Criteria: config.Criteria{QualityMargin: 0.03}}
	q := &QualityAcc{PerLabel: map[string]Pair{"fraud": {50, 60, 2, 10}, "billing": {900, 10, 12, 30}}}
	g := &Group{Rows: 1000, Metrics: map[string]*Acc{"quality.category": {Quality: q}}}
	var ms []*Metric
	qualityMetrics(f, "category", "email", Window{}, q, 0.05, 0.8, func(m *Metric) { ms = append(ms, m) })
	psi := newMetric("f", "email", Window{}, "drift.input.tokens.psi")
	psi.Value, psi.N = 0.4, 500
	ks := newMetric("f", "email", Window{}, "drift.input.tokens.ks")
	ks.P = 1e-9
	ece := newMetric("f", "email", Window{}, "drift.calibration.ece")
	ece.Value = 0.08
	cr := &ClassResult{Class: "email", Status: StatusPass, N: 1000, Reasons: []string{"every criterion passed"}, Metrics: append(ms, psi, ks, ece)}
	fw := &FeatureWindow{Feature: "f", Classes: []*ClassResult{cr}}
	judgeBeyondAccuracy(cfg, f, fw, map[string]*Group{"email": g}, nil)
	if cr.Status != StatusFail {
		t.Errorf("class status %s, want fail", cr.Status)
	}
	reasons := strings.Join(cr.Reasons, "\n")
	if !strings.Contains(reasons, `fail: AI recall on "fraud"`) || strings.Contains(reasons, "every criterion passed") || strings.Contains(reasons, `"billing"`) {
		t.Errorf("reasons:\n%s", reasons)
	}
	var alerts []string
	for _, a := range fw.Alerts {
		alerts = append(alerts, a.Severity+" "+a.Message)
	}
	all := strings.Join(alerts, "\n")
	for _, want := range []string{`warning category "fraud"`, "warning input tokens moved", "warning AI confidence calibration worse"} {
		if !strings.Contains(all, want) {
			t.Errorf("alerts lack %q:\n%s", want, all)
		}
	}
}

// TestOptFloatJSON: absent, null and a number survive the verdicts
// document's encoding.
func TestOptFloatJSON(t *testing.T) {
	type doc struct {
		T OptFloat `json:"t,omitzero"`
	}
	for _, c := range []struct {
		in   doc
		want string
	}{{doc{}, `{}`}, {doc{Opt(Float(math.NaN()))}, `{"t":null}`}, {doc{Opt(0.42)}, `{"t":0.42}`}} {
		b, err := json.Marshal(c.in)
		if err != nil || string(b) != c.want {
			t.Errorf("%+v -> %s (%v), want %s", c.in, b, err, c.want)
		}
		var back doc
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back.T.Set != c.in.T.Set || back.T.Set && !(back.T.V == c.in.T.V || math.IsNaN(back.T.V) && math.IsNaN(c.in.T.V)) {
			t.Errorf("round trip %+v -> %+v", c.in, back)
		}
	}
}

// TestQualityMetricsCap: a field with more than maxCategoryMetrics
// categories gets averages and recall gaps but no per-category cells.
func TestQualityMetricsCap(t *testing.T) {
	q := &QualityAcc{Legacy: map[string]int64{}, AI: map[string]int64{}, PerLabel: map[string]Pair{}}
	for i := 0; i < maxCategoryMetrics+1; i++ {
		c := string(rune('A'+i/26)) + string(rune('a'+i%26))
		q.Legacy[ConfusionKey(c, c)] = 3
		q.AI[ConfusionKey(c, c)] = 3
		q.PerLabel[c] = Pair{3, 0, 0, 0}
	}
	f := &config.Feature{Name: "f", Criteria: config.Criteria{QualityMargin: 0.03}}
	names := map[string]bool{}
	qualityMetrics(f, "x", "c", Window{}, q, 0.05, 0.8, func(m *Metric) { names[m.Name] = true })
	if !names["quality.x.ai.macro_f1"] || names["quality.x.ai.recall.Aa"] || names["quality.x.ai.confusion.Aa.Aa"] || !names["quality.x.recall_gap.Aa"] {
		t.Errorf("metrics: macro %v, per-category %v, confusion %v, gap %v", names["quality.x.ai.macro_f1"], names["quality.x.ai.recall.Aa"], names["quality.x.ai.confusion.Aa.Aa"], names["quality.x.recall_gap.Aa"])
	}
}
