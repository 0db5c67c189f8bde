package stats

import (
	"math/rand/v2"
	"testing"
)

// TestPairSpaceNext holds next (the (k+1)-th pair value from the k-th,
// as median uses it) to kth at every rank of small samples and at random
// ranks of histogram-sized ones, ties and single values included.
func TestPairSpaceNext(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	cases := []struct {
		name  string
		a, b  Weighted
		every bool
	}{
		{"one-value", Weighted{X: []float64{2.5}, W: []float64{3}}, Weighted{X: []float64{1}, W: []float64{2}}, true},
		{"all-equal", Weighted{X: []float64{2.5}, W: []float64{40}}, Weighted{X: []float64{2.5, 2.5}, W: []float64{3, 4}}, true},
		{"small", randWeighted(rng, 7, 3, 0.5), randWeighted(rng, 5, 3, 0.5), true},
		{"ties", randWeighted(rng, 30, 5, 0.5), randWeighted(rng, 20, 5, 0.5), true},
		{"fine", randWeighted(rng, 40, 3, 1e-6), randWeighted(rng, 30, 3, 1e-6), true},
		{"histogram", randWeighted(rng, 400, 50, 1e-3), randWeighted(rng, 300, 50, 1e-3), false},
	}
	for _, c := range cases {
		sa, _ := c.a.prepare()
		sb, _ := c.b.prepare()
		for _, sp := range []struct {
			name string
			p    *pairSpace
		}{{"walsh", newWalsh(sa)}, {"diffs", newDiffs(sa, sb)}} {
			var ks []int64
			if c.every {
				for k := int64(2); k <= sp.p.total; k++ {
					ks = append(ks, k)
				}
			} else {
				ks = []int64{2, sp.p.total / 2, sp.p.total/2 + 1, sp.p.total}
				for range 20 {
					ks = append(ks, 2+rng.Int64N(sp.p.total-1))
				}
			}
			for _, k := range ks {
				want := sp.p.kth(k)
				if got := sp.p.next(sp.p.kth(k-1), k); got != want {
					t.Fatalf("%s/%s: next(kth(%d), %d) = %g, kth(%d) = %g", c.name, sp.name, k-1, k, got, k, want)
				}
			}
		}
	}
}
