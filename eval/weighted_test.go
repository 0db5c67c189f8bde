package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRepresentativeTable holds every table entry, and the indexes just
// outside the table, to representative's own math.Pow form, bit for bit.
func TestRepresentativeTable(t *testing.T) {
	rep := representatives()
	for i := int32(-representativeSpan - 3); i <= representativeSpan+3; i++ {
		if got, want := representativeOf(rep, i), representative(i); !sameBits(got, want) {
			t.Fatalf("representativeOf(%d) = %v, representative %v", i, got, want)
		}
	}
	for _, i := range []int32{math.MinInt32, -100000, 71000, math.MaxInt32} {
		if got, want := representativeOf(rep, i), representative(i); !sameBits(got, want) {
			t.Fatalf("representativeOf(%d) = %v, representative %v", i, got, want)
		}
	}
	// The span covers every magnitude counted in a bucket down to
	// minMagnitude.
	if k := bucketOf(math.Nextafter(minMagnitude, 2)); k < -representativeSpan {
		t.Fatalf("bucket of minMagnitude %d outside the table", k)
	}
}

// TestWeightedFarBuckets holds Weighted to the reference sketch when
// both sides have far buckets (outside the dense span and the table)
// and when only the dense span is used.
func TestWeightedFarBuckets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, far := range []bool{false, true} {
		s, r := NewSketch(), newRefSketch()
		for range 5000 {
			v := math.Exp(rng.NormFloat64() * 3)
			if rng.IntN(3) == 0 {
				v = -v
			}
			if rng.IntN(20) == 0 {
				v = 0
			}
			if far && rng.IntN(50) == 0 {
				v *= 1e200
			}
			s.Add(v)
			r.Add(v)
		}
		if far && len(s.side[0].far) == 0 && len(s.side[1].far) == 0 {
			t.Fatal("no far buckets: the test lost its point")
		}
		checkSame(t, "far buckets", s, r)
	}
}

func BenchmarkSketchWeighted(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := NewSketch()
	for range 100000 {
		s.Add(200 * math.Exp(rng.NormFloat64()))
	}
	for b.Loop() {
		s.Weighted()
	}
}
