package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestNonInferiorityP holds NonInferiorityP to NonInferiority's P, bit
// for bit, on random tables (zero and tiny cells included) and on the
// invalid margins, levels and tables for which both give NaN.
func TestNonInferiorityP(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cell := func() int64 {
		switch rng.IntN(4) {
		case 0:
			return 0
		case 1:
			return rng.Int64N(5)
		default:
			return rng.Int64N(100000)
		}
	}
	margins := []float64{0.01, 0.03, 0.5, 0, -0.1, 1, math.NaN()}
	alphas := []float64{0.05, 0.025, 0.4999, 0, 0.5, math.NaN()}
	for i := range 20000 {
		tb := Paired2x2{cell(), cell(), cell(), cell()}
		if i%50 == 0 {
			tb.AIOnly = -1
		}
		margin, alpha := margins[rng.IntN(len(margins))], alphas[rng.IntN(len(alphas))]
		if i%2 == 0 {
			margin, alpha = rng.Float64()*0.2, rng.Float64()*0.5
		}
		got, want := NonInferiorityP(tb, margin, alpha), NonInferiority(tb, margin, alpha, 0.8).P
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("NonInferiorityP(%+v, %g, %g) = %v, NonInferiority's P %v", tb, margin, alpha, got, want)
		}
	}
}
