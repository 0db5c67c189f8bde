package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPrepareClean holds prepare's fast path to the general one: where
// it accepts a sample it must give the same values (bit for bit), counts
// and total, and it must refuse every sample the general path would
// change (unsorted, repeated, non-finite or signed-zero values, zero,
// negative, fractional, NaN or huge counts, mismatched lengths).
func TestPrepareClean(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	specials := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-300, -1e300}
	counts := []float64{0, -1, 0.5, 2.5, math.NaN(), math.Inf(1), 1 << 62, 1<<62 + 1<<20, 1e19}
	accepted := 0
	for iter := range 20000 {
		m := rng.IntN(8)
		x, w := make([]float64, m), make([]float64, m)
		v := rng.NormFloat64()
		for i := range x {
			v += math.Abs(rng.NormFloat64())
			x[i] = v
			w[i] = float64(rng.IntN(5) + 1)
		}
		// Spoil some samples in one or two places.
		for range rng.IntN(3) {
			if m == 0 {
				break
			}
			i := rng.IntN(m)
			switch rng.IntN(4) {
			case 0:
				x[i] = specials[rng.IntN(len(specials))]
			case 1:
				w[i] = counts[rng.IntN(len(counts))]
			case 2:
				x[i] = x[rng.IntN(m)]
			case 3:
				x[i] = -x[i]
			}
		}
		s := Weighted{X: x, W: w}
		switch iter % 10 {
		case 0:
			s.W = nil
		case 1:
			s.W = w[:m/2]
		}
		got, ok := s.prepareClean()
		want, warns := s.prepareGeneral()
		if !ok {
			continue
		}
		accepted++
		if len(warns) > 0 || got.n != want.n || !slices.Equal(got.w, want.w) || len(got.x) != len(want.x) {
			t.Fatalf("%v %v: clean %+v, general %+v %v", s.X, s.W, got, want, warns)
		}
		for i := range got.x {
			if math.Float64bits(got.x[i]) != math.Float64bits(want.x[i]) {
				t.Fatalf("%v %v: clean %+v, general %+v", s.X, s.W, got, want)
			}
		}
	}
	if accepted < 5000 {
		t.Fatalf("only %d samples took the fast path", accepted)
	}
}
