package eval

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/parity-eval/parity/eval/stats"
)

// chooseThresholdFull is ChooseThreshold as first written: the full
// non-inferiority result of every tested table.
func chooseThresholdFull(bins map[int]Pair, noConf Pair, margin, alpha, power float64) ThresholdSearch {
	s := ThresholdSearch{Threshold: math.NaN(), Coverage: math.NaN()}
	s.N = noConf.N()
	for _, p := range bins {
		s.N += p.N()
	}
	var cum Pair
	for k := ThresholdBins - 1; k >= 0; k-- {
		if bins[k].N() == 0 {
			continue
		}
		cum = cum.Plus(bins[k])
		if cum.N() < thresholdMinRows {
			continue
		}
		r := stats.NonInferiority(cum.Table(), margin, alpha, power)
		s.Tested++
		if !(r.P < alpha) {
			break
		}
		s.Threshold = float64(k) / ThresholdBins
		s.Coverage = float64(cum.N()) / float64(s.N)
		s.Above = cum.Table()
		s.Result = r
	}
	return s
}

// TestChooseThresholdOneFullTest holds ChooseThreshold, which tests by
// p-value alone and computes the kept threshold's full result once, to
// the form that computed every tested table's: the same search, result
// and warnings, on random bins where the AI is at parity, better or
// worse, and at margins and levels where every test rejects or none.
func TestChooseThresholdOneFullTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	accepted := 0
	for i := range 3000 {
		bins := map[int]Pair{}
		aiWrong := []float64{0.01, 0.03, 0.1, 0.3}[rng.IntN(4)]
		for range rng.IntN(60) {
			k := rng.IntN(ThresholdBins)
			n := rng.Int64N(400)
			if rng.IntN(5) == 0 {
				n = 0
			}
			var p Pair
			for range n {
				p.Add(rng.Float64() < 0.9, rng.Float64() > aiWrong)
			}
			bins[k] = bins[k].Plus(p)
		}
		noConf := Pair{rng.Int64N(20), 0, 0, rng.Int64N(3)}
		margin, alpha := []float64{0.01, 0.03, 0.1, 0.5}[rng.IntN(4)], []float64{0.05, 0.2, 0.01}[rng.IntN(3)]
		if i%100 == 0 {
			margin = 0 // invalid: every test's P is NaN
		}
		got := ChooseThreshold(bins, noConf, margin, alpha, 0.8)
		want := chooseThresholdFull(bins, noConf, margin, alpha, 0.8)
		if !math.IsNaN(got.Threshold) {
			accepted++
		}
		if !reflect.DeepEqual(stripNaN(got), stripNaN(want)) {
			t.Fatalf("bins %v margin %g alpha %g:\n got %+v\nwant %+v", bins, margin, alpha, got, want)
		}
	}
	if accepted < 300 {
		t.Fatalf("only %d searches kept a threshold: the test lost its point", accepted)
	}
}

// stripNaN makes a search comparable with DeepEqual, which never finds
// NaN equal to NaN: each float64 as its bits.
func stripNaN(s ThresholdSearch) any {
	b := math.Float64bits
	r := s.Result
	return []any{b(s.Threshold), b(s.Coverage), s.Above, s.Tested, s.N,
		r.Test, b(r.Estimate), b(r.CI.Lo), b(r.CI.Hi), b(r.CI.Level), r.CI.Method, b(r.Statistic), b(r.P), r.N, r.NNeeded, r.Warnings}
}

// BenchmarkChooseThreshold: a class's threshold search over 100 bins of
// 200 labelled rows at parity (every test rejects down to the lowest
// bin), against the form that computed every test's full result.
func BenchmarkChooseThreshold(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	bins := map[int]Pair{}
	for k := range ThresholdBins {
		var p Pair
		for range 200 {
			p.Add(rng.Float64() < 0.9, rng.Float64() < 0.9)
		}
		bins[k] = p
	}
	b.Run("p-values", func(b *testing.B) {
		for b.Loop() {
			ChooseThreshold(bins, Pair{}, 0.03, 0.05, 0.8)
		}
	})
	b.Run("full", func(b *testing.B) {
		for b.Loop() {
			chooseThresholdFull(bins, Pair{}, 0.03, 0.05, 0.8)
		}
	})
}
