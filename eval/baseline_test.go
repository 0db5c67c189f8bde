package eval

import (
	"encoding/json"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"
)

// TestBaselineTestGolden checks eval.BaselineTest (absolute drop) against
// statsmodels' test_proportions_2indep(method="agresti-caffo",
// compare="diff") in both directions, to 1e-9.
func TestBaselineTestGolden(t *testing.T) {
	data, err := os.ReadFile(qualityGolden)
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Baseline []struct {
			KW, NW, KB, NB int64
			D, Z           float64
			PPass          float64 `json:"p_pass"`
			PFail          float64 `json:"p_fail"`
		} `json:"baseline"`
	}
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Baseline) < 5 {
		t.Fatalf("%d baseline cases", len(g.Baseline))
	}
	for _, c := range g.Baseline {
		z, pp, pf := BaselineTest(c.KW, c.NW, c.KB, c.NB, 1, c.D)
		closeTo(t, "z", z, c.Z)
		closeTo(t, "p_pass", pp, c.PPass)
		closeTo(t, "p_fail", pf, c.PFail)
	}
}

func baselineGroup(k, n int64, paired [4]int64) *Group {
	return &Group{Rows: n, Metrics: map[string]*Acc{
		"agreement.critical": {K: k, N: n},
		"accuracy.category":  {BothRight: paired[0], LegacyOnly: paired[1], AIOnly: paired[2], BothWrong: paired[3]},
	}}
}

// TestBaselineCriteria judges agreement and accuracy against their own
// baseline: a stable window passes, a clear drop beyond the bound fails,
// a small window is insufficient, and a relative bound scales with the
// baseline value.
func TestBaselineCriteria(t *testing.T) {
	f := &config.Feature{Name: "f", Criteria: config.Criteria{Baseline: []config.BaselineCriterion{
		{Metric: "agreement.critical", MaxDrop: 0.02},
		{Metric: "accuracy.category.ai", MaxRelativeDrop: 0.1},
	}}}
	base := baselineGroup(9700, 10000, [4]int64{8500, 300, 400, 800})
	run := func(g *Group) map[string]*Metric {
		out := map[string]*Metric{}
		baselineCriteria(f, "c", Window{}, g, base, 0.05, 0.8, func(m *Metric) { out[m.Name] = m })
		cr := &ClassResult{N: g.Rows}
		for _, m := range out {
			m.alpha = 0.05
			cr.Metrics = append(cr.Metrics, m)
		}
		judgeClass(cr)
		return out
	}
	// Stable: 97% agreement on 3000 rows, AI accuracy 89% vs 89% base.
	st := run(baselineGroup(2910, 3000, [4]int64{2550, 90, 120, 240}))
	if m := st["baseline.agreement.critical"]; !(m.CILow < m.Value && m.Value < m.CIHigh && m.CILow > -0.02) {
		t.Errorf("stable agreement interval [%g, %g] around %g, want above -0.02", m.CILow, m.CIHigh, m.Value)
	}
	if m := st["baseline.agreement.critical"]; m.Status != StatusPass || math.Abs(m.Value) > 0.005 {
		t.Errorf("stable agreement: %s %+.4f (p=%g), want pass", m.Status, m.Value, m.P)
	}
	if m := st["baseline.accuracy.category.ai"]; m.Status != StatusPass {
		t.Errorf("stable accuracy: %s %+.4f (p=%g), want pass", m.Status, m.Value, m.P)
	}
	// Drop: agreement 92% (5 points), AI accuracy 70% (-21% relative).
	dr := run(baselineGroup(2760, 3000, [4]int64{2000, 600, 100, 300}))
	for _, name := range []string{"baseline.agreement.critical", "baseline.accuracy.category.ai"} {
		if m := dr[name]; m.Status != StatusFail || !m.viol || !strings.Contains(m.Reason, "baseline") {
			t.Errorf("drop: %s %s %+.4f (p=%g), want a significant fail", name, m.Status, m.Value, m.P)
		}
	}
	// Small window at the baseline's level: not enough to judge.
	sm := run(baselineGroup(48, 50, [4]int64{40, 2, 3, 5}))
	if m := sm["baseline.agreement.critical"]; m.Status != StatusInsufficient || m.NNeeded <= 50 {
		t.Errorf("small window: %s n_needed %d, want insufficient_data with n_needed > 50", m.Status, m.NNeeded)
	}
	// No rows in the window: insufficient, never pass.
	if m := run(&Group{Metrics: map[string]*Acc{}})["baseline.agreement.critical"]; m.Status != StatusInsufficient {
		t.Errorf("empty window: %s, want insufficient_data", m.Status)
	}
}

// TestQualityConfigValidation: criteria.baseline and drift_columns
// errors name the line and key.
func TestQualityConfigValidation(t *testing.T) {
	bad := `version: 1
source: {logs: logs}
output: out
features:
  - name: f
    fields: [{name: category, critical: true}]
    drift_columns: [input_tokens, "lang:category", "x:bogus"]
    criteria:
      baseline:
        - {metric: agreement.critical, max_drop: 0.02, max_relative_drop: 0.1}
        - {max_drop: 0.02}
        - {metric: accuracy.category.ai, max_relative_drop: 1.5}
`
	_, err := config.Parse("q.yaml", []byte(bad))
	if err == nil {
		t.Fatal("want validation errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"q.yaml:7: features[0].drift_columns[2]",
		"features[0].criteria.baseline[0]: give exactly one",
		"features[0].criteria.baseline[1].metric: required",
		"features[0].criteria.baseline[2]: give exactly one",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "drift_columns[0]") || strings.Contains(msg, "drift_columns[1]") {
		t.Errorf("valid drift columns rejected:\n%s", msg)
	}
}
