package stats

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"
)

// quantileCIRanksBisect is quantileCIRanks as first written: both ranks
// by sort.Search over every index.
func quantileCIRanksBisect(n int64, q, level float64) (int64, int64) {
	a := (1 - level) / 2
	l := int64(sort.Search(int(n), func(i int) bool { return binomCDF(int64(i), n, q) > a }))
	u := int64(sort.Search(int(n), func(i int) bool { return binomSF(int64(i+1), n, q) <= a })) + 1
	return l, u
}

// TestQuantileCIRanksSearch holds the searches from the normal
// approximation's guess to plain bisection: small and large samples (to
// the guess's limit, and above it where bisection is used), extreme
// quantiles (where the guess is poor and an end is unbounded) and levels.
// Levels near 0 (a near ½) are where gonum's tails are least monotone,
// so they are drawn as often as any.
func TestQuantileCIRanksSearch(t *testing.T) {
	ns := []int64{0, 1, 2, 3, 5, 10, 19, 20, 50, 99, 100, 101, 1000, 4321, 100000, quantileCIGuessMax, quantileCIGuessMax + 1, 1 << 31}
	qs := []float64{1e-9, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1 - 1e-9}
	levels := []float64{0.5, 0.8, 0.9, 0.95, 0.99, 0.999, 1 - 1e-12}
	check := func(n int64, q, level float64) {
		t.Helper()
		gl, gu := quantileCIRanks(n, q, level)
		wl, wu := quantileCIRanksBisect(n, q, level)
		if gl != wl || gu != wu {
			t.Fatalf("quantileCIRanks(%d, %g, %g) = %d, %d; bisection %d, %d", n, q, level, gl, gu, wl, wu)
		}
	}
	for _, n := range ns {
		for _, q := range qs {
			for _, level := range levels {
				check(n, q, level)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 4000 {
		n := int64(rng.IntN(3000) + 1)
		if i%2 == 0 {
			n = rng.Int64N(quantileCIGuessMax) + 1
		}
		q, level := rng.Float64(), rng.Float64()
		if i%3 == 0 {
			q = 0.5
		}
		if i%4 < 2 {
			level *= 0.05
		}
		check(n, q, level)
	}
}

// TestSearchNear holds searchNear to sort.Search for every answer and
// guesses near, far, outside [0, n) and NaN.
func TestSearchNear(t *testing.T) {
	for n := 0; n <= 70; n++ {
		for ans := 0; ans <= n; ans++ {
			pred := func(i int) bool {
				if i < 0 || i >= n {
					t.Fatalf("n=%d: probe %d out of range", n, i)
				}
				return i >= ans
			}
			want := sort.Search(n, pred)
			for _, g := range []float64{math.NaN(), math.Inf(-1), math.Inf(1), -5, -0.5, 0, float64(ans) - 1.5, float64(ans) - 1, float64(ans), float64(ans) + 0.7, float64(ans) + 3, float64(n) - 1, float64(n), 1e300} {
				if got := searchNear(n, g, pred); got != want {
					t.Fatalf("searchNear(%d, %g) with answer %d = %d", n, g, want, got)
				}
			}
		}
	}
}

// BenchmarkQuantileCIRanks: the ranks alone for a latency sketch's count
// (the benchmark log's classes hold ~10^4-10^5 requests a day).
func BenchmarkQuantileCIRanks(b *testing.B) {
	for _, n := range []int64{2000, 50000} {
		b.Run("n="+strconv.FormatInt(n, 10), func(b *testing.B) {
			for b.Loop() {
				for _, q := range []float64{0.5, 0.95, 0.99} {
					quantileCIRanks(n, q, 0.95)
				}
			}
		})
	}
}
