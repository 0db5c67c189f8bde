package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bucketOfFast is Sketch.Add's way to the bucket.
func bucketOfFast(x float64) int32 {
	if k, ok := bucketFastPath(x); ok {
		return k
	}
	return bucketOf(x)
}

func checkBucket(t *testing.T, x float64) {
	t.Helper()
	if x <= minMagnitude || math.IsInf(x, 0) || math.IsNaN(x) {
		return
	}
	if got, want := bucketOfFast(x), bucketOf(x); got != want {
		t.Fatalf("bucketOfFast(%v [%#x]) = %d, bucketOf = %d", x, math.Float64bits(x), got, want)
	}
}

// TestBucketOfFastAtEdges compares bucketOfFast with bucketOf where they
// could disagree: at and around every bucket edge of the table (a few
// ulps either side, and either side of the fast path's margin), at
// every candidate-table step of every exponent, and at the ends of the
// table's range.
func TestBucketOfFastAtEdges(t *testing.T) {
	for i, e := range bucketEdges {
		// The float64 where bucketOf actually steps is within a few ulps
		// of the computed edge; walk across it.
		x := e
		for range 8 {
			x = math.Nextafter(x, 0)
		}
		for range 17 {
			checkBucket(t, x)
			x = math.Nextafter(x, math.Inf(1))
		}
		for _, m := range []float64{1 - edgeMargin, 1 + edgeMargin, 1 - 2*edgeMargin, 1 + 2*edgeMargin, 1 - 1e-12, 1 + 1e-12} {
			y := e * m
			checkBucket(t, math.Nextafter(y, 0))
			checkBucket(t, y)
			checkBucket(t, math.Nextafter(y, math.Inf(1)))
		}
		if i > 0 {
			checkBucket(t, math.Sqrt(e*bucketEdges[i-1])) // mid-bucket
		}
	}
	for e := edgeMinExp - 1; e <= edgeMaxExp+1; e++ {
		for step := range 1024 {
			x := math.Ldexp(1+float64(step)/1024, e)
			checkBucket(t, x)
			checkBucket(t, math.Nextafter(x, 0))
			checkBucket(t, math.Nextafter(x, math.Inf(1)))
		}
	}
	for _, x := range []float64{math.Nextafter(minMagnitude, 1), 0x1p-30, 0x1p64, math.Nextafter(0x1p64, 0), 1, math.Nextafter(1, 0), math.Nextafter(1, 2), 1e300, math.MaxFloat64} {
		checkBucket(t, x)
	}
}

// TestBucketOfFastRandom compares bucketOfFast with bucketOf on random
// magnitudes across the whole range and on random bit patterns, and
// checks the fast path serves nearly every value (else the speed-up is
// lost without any result changing).
func TestBucketOfFastRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n = 1 << 20
	inRange, fast := 0, 0
	for range n {
		x := math.Exp(r.Float64()*70 - 25) // 1.4e-11 .. 3.5e19
		checkBucket(t, x)
		if x > minMagnitude && x < 0x1p64 {
			inRange++
			if k, ok := bucketFastPath(x); ok {
				fast++
				if k != bucketOf(x) {
					t.Fatalf("fast path %v: %d, bucketOf %d", x, k, bucketOf(x))
				}
			}
		}
		checkBucket(t, math.Float64frombits(r.Uint64()>>1))
	}
	if fast < inRange-inRange/1000 {
		t.Errorf("fast path served %d of %d values in its range", fast, inRange)
	}
}

// TestBucketIndexesMatchesBucketOf holds bucketIndexes, which has its
// own copy of the fast path, to bucketOf on the values where the fast
// path could go wrong (around every edge and table step, as above), on
// random magnitudes and bit patterns of both signs, and on the values
// it must leave to bucketOf or to no bucket (tiny, zero, NaN, ±Inf,
// beyond the table), alone and in runs.
func TestBucketIndexesMatchesBucketOf(t *testing.T) {
	var xs []float64
	for _, e := range bucketEdges {
		x := e
		for range 8 {
			x = math.Nextafter(x, 0)
		}
		for range 17 {
			xs = append(xs, x)
			x = math.Nextafter(x, math.Inf(1))
		}
		for _, m := range []float64{1 - edgeMargin, 1 + edgeMargin, 1 - 1e-12, 1 + 1e-12} {
			xs = append(xs, math.Nextafter(e*m, 0), e*m, math.Nextafter(e*m, math.Inf(1)))
		}
	}
	for e := edgeMinExp - 1; e <= edgeMaxExp+1; e++ {
		for step := range 1024 {
			x := math.Ldexp(1+float64(step)/1024, e)
			xs = append(xs, x, math.Nextafter(x, 0), math.Nextafter(x, math.Inf(1)))
		}
	}
	r := rand.New(rand.NewPCG(23, 24))
	for range 1 << 18 {
		xs = append(xs, math.Exp(r.Float64()*70-25), math.Float64frombits(r.Uint64()))
	}
	xs = append(xs, 0, minMagnitude, math.Nextafter(minMagnitude, 1), math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, 5e-324, 0x1p64)
	// Runs of one magnitude (the previous value's bucket is reused).
	xs = append(xs, 42, 42, -42, 0, 0, 42, 1e-10, 1e-10, 7, 7, math.NaN(), math.NaN(), 7, 1e300, 1e300, 0, math.Copysign(0, -1), 3)
	for i := range len(xs) {
		xs = append(xs, -xs[i])
	}
	checkBucketIndexes(t, xs)
	// Columns that look constant (same first, middle and last value)
	// take the path that looks each run up once.
	for _, c := range []float64{42, -42, 0, 1e-10, 0.0002, math.Inf(1), 1e300, math.MaxFloat64} {
		col := make([]float64, 101)
		for i := range col {
			switch r.IntN(4) {
			case 0:
				col[i] = xs[r.IntN(len(xs))]
			case 1:
				col[i] = -c
			default:
				col[i] = c
			}
		}
		col[0], col[50], col[100] = c, c, c
		checkBucketIndexes(t, col)
	}
}

func checkBucketIndexes(t *testing.T, xs []float64) {
	t.Helper()
	k := make([]int32, len(xs))
	bucketIndexes(k, xs)
	for i, x := range xs {
		a := math.Abs(x)
		switch {
		case a > minMagnitude:
			if want := bucketOf(a); k[i] != want {
				t.Fatalf("bucketIndexes: %v [%#x] in %d, bucketOf %d", x, math.Float64bits(x), k[i], want)
			}
		case math.IsNaN(a):
			if k[i] != bucketOf(a) {
				t.Fatalf("bucketIndexes: NaN in %d, bucketOf %d", k[i], bucketOf(a))
			}
		}
	}
}

// TestBitsTable checks bucketFastPath against bucketOf at the ends of
// every bitsTable entry and at the first and last bit pattern of the q
// units around each entry's uncertain zone (lo-1, lo, hi, hi+1), where
// the table's rounding of the zone to whole units decides, and that the
// zone is a small share of the entry (else values go to bucketOf).
func TestBitsTable(t *testing.T) {
	var zone uint64
	for j, e := range bitsTable {
		start := uint64(bitsBase+j) << bitsShift
		lo, hi := e>>16&(1<<24-1), e>>40
		if lo > hi {
			t.Fatalf("entry %d: lo %d > hi %d", j, lo, hi)
		}
		if hi < 1<<23 {
			zone += hi - lo + 1
		}
		pats := []uint64{start, start + 1<<bitsShift - 1}
		for _, q := range []uint64{lo - 1, lo, hi, hi + 1} {
			if q < 1<<23 {
				pats = append(pats, start+q<<bitsQ, start+(q+1)<<bitsQ-1)
			}
		}
		for _, p := range pats {
			checkBucket(t, math.Float64frombits(p))
		}
	}
	if share := float64(zone) / float64(len(bitsTable)<<23); share > 1e-5 {
		t.Errorf("uncertain zones are %.2g of the table's values", share)
	}
}
