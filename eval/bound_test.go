package eval

import (
	"fmt"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
)

// TestDivergenceExactlyAtTheBound: 100 divergent of 1000 under
// min_agreement 0.9 is exactly the 10% bound, which the rule ("rollback
// when divergence > bound") does not exceed. In binary 1 − 0.9 is
// 0.09999999999999998, so the estimate used to be "beyond" the bound and
// the class failed (a rollback with rollback_after: 1), while the same
// evidence at 0.95, 0.85 or 0.7 was insufficient_data: the verdict
// depended on how a subtraction rounded.
func TestDivergenceExactlyAtTheBound(t *testing.T) {
	for _, min := range []string{"0.9", "0.8", "0.95", "0.85", "0.7", "0.99", "0.6"} {
		var mf float64
		fmt.Sscan(min, &mf)
		n := int64(1000)
		div := int64(float64(n)*(1-mf) + 0.5) // exactly at the bound
		cfg, err := config.Parse("parity.yaml", []byte(fmt.Sprintf(`version: 1
source: {logs: logs}
output: out
window: 24h
features:
  - name: f
    fields: [{name: category, legacy: l, ai: a, critical: true, label: "-"}]
    criteria: {min_agreement: %s, critical_agreement: 0.5}
`, min)))
		if err != nil {
			t.Fatal(err)
		}
		w := Window{Start: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 10, 2, 0, 0, 0, 0, time.UTC)}
		aggs := NewAggregates()
		aggs.Groups[GroupKey{Feature: "f", Class: "c", Window: w.Start.Unix()}] = &Group{Rows: n, Metrics: map[string]*Acc{
			"agreement.critical": {K: n - div, N: n},
		}}
		fw := Evaluate(cfg, nil, w, aggs, nil)
		var m *Metric
		for _, x := range fw[0].Classes[0].Metrics {
			if x.Name == "divergence.critical" {
				m = x
			}
		}
		if m == nil {
			t.Fatalf("min_agreement %s: no divergence.critical metric", min)
		}
		if m.Status == StatusFail || m.Status == StatusPass {
			t.Errorf("min_agreement %s: %d of %d divergent (exactly the bound %g) is %s (%s), want insufficient_data", min, div, n, m.Threshold, m.Status, m.Reason)
		}
		// One more divergent row is beyond the bound: with this much data
		// the class fails.
		aggs.Groups[GroupKey{Feature: "f", Class: "c", Window: w.Start.Unix()}].Metrics["agreement.critical"].K--
		fw = Evaluate(cfg, nil, w, aggs, nil)
		for _, x := range fw[0].Classes[0].Metrics {
			if x.Name == "divergence.critical" && x.Status != StatusFail && x.Status != StatusInsufficient {
				t.Errorf("min_agreement %s: %d of %d divergent is %s, want fail or insufficient_data", min, div+1, n, x.Status)
			}
		}
	}
}
