package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRateAboveP holds RateAboveP to RateAbove's P, bit for bit, on
// random counts (zero, all and tiny ones included) and on the invalid
// bounds, levels and counts for which both give NaN.
func TestRateAboveP(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	bounds := []float64{0.05, 0.5, 0.999, 0, 1, -0.1, math.NaN()}
	alphas := []float64{0.05, 0.025, 0.4999, 0, 0.5, math.NaN()}
	for i := range 20000 {
		n := rng.Int64N(100000)
		if i%3 == 0 {
			n = rng.Int64N(10)
		}
		k := int64(0)
		if n > 0 {
			k = rng.Int64N(n + 1)
		}
		switch i % 40 {
		case 0:
			k = n
		case 1:
			k = -1
		case 2:
			k = n + 1
		case 3:
			n = -n - 1
		}
		bound, alpha := bounds[rng.IntN(len(bounds))], alphas[rng.IntN(len(alphas))]
		if i%2 == 0 {
			bound, alpha = rng.Float64(), rng.Float64()*0.5
		}
		got, want := RateAboveP(k, n, bound, alpha), RateAbove(k, n, bound, alpha).P
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("RateAboveP(%d, %d, %g, %g) = %v, RateAbove's P %v", k, n, bound, alpha, got, want)
		}
	}
}
