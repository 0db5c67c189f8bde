package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// TestMetricJSONMatchesEncodingJSON: the hand-written Metric.MarshalJSON
// writes exactly the bytes encoding/json writes for metricJSON (the
// former implementation) on random metrics: NaN, ±Inf, -0 and exponent-
// form figures, empty and set optional fields, nil and empty warnings,
// and strings encoding/json escapes (quotes, backslashes, HTML
// characters, control bytes, non-ASCII, invalid UTF-8, U+2028).
func TestMetricJSONMatchesEncodingJSON(t *testing.T) {
	ref := func(m *Metric) ([]byte, error) {
		return json.Marshal(metricJSON{m.Name, Float(m.Value), Float(m.CILow), Float(m.CIHigh), Float(m.CILevel), m.CIMethod, m.Test, Float(m.Statistic), Float(m.P), Float(m.PAdjusted), m.N, m.NNeeded, Float(m.Threshold), m.Status, m.Criterion, m.Reason, m.Warnings, m.viol, m.alpha})
	}
	r := rand.New(rand.NewPCG(11, 12))
	strs := []string{"", "agreement.category", "p<0.05 & n>30", `say "hi"\n`, "a\\b", "tab\there", "\x01\x1f", "é ü 日本", "\xff\xfe bad", "line\u2028sep", "del\x7f", "quality.category.ai.confusion.account.(none)\x00x"}
	figs := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1, -1, 0.95, 1e-7, 3.2e21, 5e-324, 123456.789, 1e-6, 1e21}
	str := func() string { return strs[r.IntN(len(strs))] }
	fig := func() float64 {
		if r.IntN(3) == 0 {
			return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
		}
		return figs[r.IntN(len(figs))]
	}
	for trial := range 3000 {
		m := &Metric{Name: str(), Value: fig(), CILow: fig(), CIHigh: fig(), CILevel: fig(), Statistic: fig(), P: fig(), PAdjusted: fig(), Threshold: fig(),
			N: r.Int64N(1e6) - 10, Status: str(), Criterion: r.IntN(2) == 0, viol: r.IntN(2) == 0}
		if r.IntN(2) == 0 {
			m.CIMethod, m.Test, m.Reason = str(), str(), str()
		}
		if r.IntN(2) == 0 {
			m.NNeeded = r.Int64N(5000)
		}
		switch r.IntN(3) {
		case 0:
			m.Warnings = []string{}
		case 1:
			m.Warnings = []string{str(), str()}
		}
		if r.IntN(2) == 0 {
			m.alpha = []float64{0.05, 0.0125, 1e-9}[r.IntN(3)]
		}
		want, werr := ref(m)
		got, gerr := m.MarshalJSON()
		if (werr != nil) != (gerr != nil) || !bytes.Equal(got, want) {
			t.Fatalf("trial %d:\n got %s (%v)\nwant %s (%v)", trial, got, gerr, want, werr)
		}
	}
	// alpha is a plain float64: encoding/json refuses NaN, and so must this.
	bad := &Metric{Name: "x", alpha: math.NaN()}
	if _, err := bad.MarshalJSON(); err == nil {
		t.Error("NaN alpha: no error")
	}
}
