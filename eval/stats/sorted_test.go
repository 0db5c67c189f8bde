package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSortedMatchesQuantile holds a Sorted sample's Quantile and
// QuantileCI to the functions that prepare the sample on each call, bit
// for bit, on clean histograms, unsorted and tied samples, samples with
// entries to drop, and empty ones.
func TestSortedMatchesQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	samples := []Weighted{
		{},
		{X: []float64{3}, W: []float64{1}},
		{X: []float64{1, math.NaN(), 2, math.Inf(1)}, W: []float64{2, 1, 3, 1}},
		{X: []float64{5, 1, 5, 2}, W: []float64{1, 2, 0.5, 4}},
		{X: []float64{4, 2, 9}},
		{X: []float64{1, 2}, W: []float64{0, 0}},
	}
	for range 30 {
		samples = append(samples, randWeighted(rng, 1+rng.IntN(300), 1+rng.IntN(1000), 0.01))
	}
	qs := []float64{0, 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 1, -0.1, 1.1, math.NaN()}
	levels := []float64{0.95, 0.9, 0.5, 0, 1, math.NaN()}
	same := func(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
	for i, s := range samples {
		sorted := s.Sorted()
		for _, q := range qs {
			if got, want := sorted.Quantile(q), Quantile(s, q); !same(got, want) {
				t.Fatalf("sample %d: Sorted.Quantile(%g) = %v, Quantile %v", i, q, got, want)
			}
			for _, level := range levels {
				got, want := sorted.QuantileCI(q, level), QuantileCI(s, q, level)
				if !same(got.Lo, want.Lo) || !same(got.Hi, want.Hi) || got.Level != want.Level && !math.IsNaN(level) || got.Method != want.Method {
					t.Fatalf("sample %d: Sorted.QuantileCI(%g, %g) = %+v, QuantileCI %+v", i, q, level, got, want)
				}
			}
		}
	}
}
