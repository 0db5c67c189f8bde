package stats

import (
	"math"
	"sort"
)

// Adjustment names a multiple-testing correction.
type Adjustment int

const (
	// Holm is Holm's step-down procedure (Holm 1979, Scand J Stat 6:65):
	// controls the family-wise error rate under any dependence.
	Holm Adjustment = iota
	// BH is Benjamini–Hochberg step-up (Benjamini & Hochberg 1995, JRSS B
	// 57:289): controls the false discovery rate for independent or
	// positively dependent tests.
	BH
	// Bonferroni multiplies each p-value by the number of tests.
	Bonferroni
)

func (a Adjustment) String() string {
	switch a {
	case Holm:
		return "holm"
	case BH:
		return "benjamini-hochberg"
	case Bonferroni:
		return "bonferroni"
	}
	return "unknown"
}

// Adjust returns adjusted p-values in the input order, capped at 1 — the
// same values as statsmodels multipletests(method="holm" | "fdr_bh" |
// "bonferroni"). NaN entries pass through unchanged and are not counted in
// the number of tests m.
func Adjust(p []float64, method Adjustment) []float64 {
	out := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		out[i] = v
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	m := len(idx)
	if m == 0 {
		return out
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	mf := float64(m)
	switch method {
	case Holm:
		// adj_(i) = max_{j<=i} min(1, (m−j+1)·p_(j))
		run := 0.0
		for r, i := range idx {
			run = math.Max(run, math.Min(1, (mf-float64(r))*p[i]))
			out[i] = run
		}
	case BH:
		// adj_(i) = min_{j>=i} min(1, m/j·p_(j))
		run := 1.0
		for r := m - 1; r >= 0; r-- {
			i := idx[r]
			run = math.Min(run, mf/float64(r+1)*p[i])
			out[i] = math.Min(1, run)
		}
	case Bonferroni:
		for _, i := range idx {
			out[i] = math.Min(1, mf*p[i])
		}
	default:
		for _, i := range idx {
			out[i] = math.NaN()
		}
	}
	return out
}
