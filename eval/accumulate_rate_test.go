package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parity-eval/parity/scorers"
)

// TestRateCodesMatchFloats folds random outcome codes through rateTally
// and the same outcomes as floats (0, 1, NaN) through accumulate, over
// batches where a scorer's codes are shared (the same slice folded again,
// as critical agreement on one field and that field's agreement are) or
// written into the tally's own buffer, and requires the same
// accumulators: shared codes counted once must not be reused for another
// scorer's, nor across batches.
func TestRateCodesMatchFloats(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	var tally rateTally
	for trial := range 200 {
		ng := 1 + r.IntN(6)
		got, want := make([]*Group, ng), make([]*Group, ng)
		for g := range got {
			got[g], want[g] = &Group{Metrics: map[string]*Acc{}}, &Group{Metrics: map[string]*Acc{}}
		}
		for range 3 {
			n := []int{1, 7, 100, 3000}[r.IntN(4)]
			gi := make([]int32, n)
			for i := range gi {
				gi[i] = int32(r.IntN(ng))
			}
			tally.batch(n)
			var shared []uint8
			for k := range 5 {
				name := string(rune('a' + k))
				fill := func(codes []uint8) {
					for i := range codes {
						codes[i] = uint8(r.IntN(4))
						if k == 3 {
							codes[i] = 2 * codes[i] & 2 // no valid row in some groups
						}
					}
				}
				var codes []uint8
				switch r.IntN(3) {
				case 0: // the previous shared codes again (unchanged), if any
					codes = shared
				case 1: // new shared codes
					shared = make([]uint8, n)
					fill(shared)
					codes = shared
				}
				if codes == nil {
					// The tally's own buffer, written afresh.
					codes = tally.buf
					fill(codes)
				}
				o := scorers.NewOut(n)
				for i, c := range codes {
					o.Value[i] = [4]float64{0, 1, math.NaN(), math.NaN()}[c]
				}
				accumulateRateCodes(&tally, name, codes, gi, got, make([]*Acc, ng))
				accumulate(benchScorer{kind: scorers.Rate, name: name}, o, gi, want, make([]*Acc, ng))
			}
		}
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d, group %d:\n got %+v\nwant %+v", trial, g, got[g].Metrics, want[g].Metrics)
			}
		}
	}
}
