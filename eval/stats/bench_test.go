package stats

import (
	"math/rand/v2"
	"testing"
)

// Performance goals (2-core CI box): every call below stays well under the
// engine's per-cell budget of ~10 ms for histogram-sized inputs
// (hundreds of buckets, millions of counts).

func benchHist(seed uint64, buckets int, maxCount int) Weighted {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float64, buckets)
	w := make([]float64, buckets)
	v := 0.001
	for i := range x {
		x[i] = v - 0.05
		v *= 1.05
		w[i] = float64(rng.IntN(maxCount) + 1)
	}
	return Weighted{X: x, W: w}
}

func benchRaw(seed uint64, n int) Weighted {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := make([]float64, n)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	return Unweighted(x)
}

func BenchmarkRateBelow(b *testing.B) {
	for b.Loop() {
		RateBelow(40, 1200, 0.05, 0.05, 0.8, 0.025)
	}
}

func BenchmarkRateBelowNTight(b *testing.B) {
	// planned close to bound: n ≈ 20 000 steps of the scan.
	for b.Loop() {
		RateBelowN(0.05, 0.04, 0.05, 0.8)
	}
}

func BenchmarkNonInferiority(b *testing.B) {
	t := Paired2x2{BothRight: 90000, LegacyOnly: 5200, AIOnly: 4800, BothWrong: 10000}
	for b.Loop() {
		NonInferiority(t, 0.01, 0.05, 0.8)
	}
}

func BenchmarkWilcoxonHistogram(b *testing.B) {
	d := benchHist(1, 400, 20000) // ~4M observations in 400 buckets
	for b.Loop() {
		WilcoxonSignedRank(d)
	}
}

func BenchmarkWilcoxonRaw10k(b *testing.B) {
	d := benchRaw(2, 10000)
	for b.Loop() {
		WilcoxonSignedRank(d)
	}
}

func BenchmarkMannWhitneyHistogram(b *testing.B) {
	a, c := benchHist(3, 400, 20000), benchHist(4, 400, 20000)
	for b.Loop() {
		MannWhitney(a, c)
	}
}

func BenchmarkMannWhitneyRaw10k(b *testing.B) {
	a, c := benchRaw(5, 10000), benchRaw(6, 10000)
	for b.Loop() {
		MannWhitney(a, c)
	}
}

func BenchmarkKS2Exact1000(b *testing.B) {
	a, c := benchRaw(7, 1000), benchRaw(8, 1000)
	for b.Loop() {
		KS2(a, c)
	}
}

func BenchmarkKS2ExactMax(b *testing.B) {
	a, c := benchRaw(9, 2500), benchRaw(10, 4000) // m·n = KSExactMaxProduct
	for b.Loop() {
		KS2(a, c)
	}
}

func BenchmarkKS2Histogram(b *testing.B) {
	a, c := benchHist(11, 400, 20000), benchHist(12, 400, 20000)
	for b.Loop() {
		KS2(a, c)
	}
}

func BenchmarkQuantileCIHistogram(b *testing.B) {
	s := benchHist(13, 400, 20000)
	for b.Loop() {
		QuantileCI(s, 0.99, 0.95)
	}
}

// BenchmarkQuantileCIClass: the latency quantiles' intervals of one
// class and window (~20k requests in 400 buckets).
func BenchmarkQuantileCIClass(b *testing.B) {
	s := benchHist(14, 400, 100)
	for b.Loop() {
		for _, q := range []float64{0.5, 0.95, 0.99} {
			QuantileCI(s, q, 0.95)
		}
	}
}

func BenchmarkSimulateGraduation(b *testing.B) {
	cfg := DefaultSimConfig()
	cfg.Reps = 200
	for b.Loop() {
		SimulateGraduation(cfg)
	}
}
