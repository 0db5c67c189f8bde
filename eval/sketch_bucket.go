package eval

import "math"

// bucketFastPath returns bucketOf(x) for x > minMagnitude, bit for bit,
// without a logarithm, for all but about one value in 10^6: those, and
// values outside its table, get ok false and must use bucketOf. Once map
// increments were gone, math.Log was most of the cost of Sketch.Add.
// Hand-written: no library computes this bucketing. One table load and
// integer compares (an estimate of the bucket from the logarithm's
// series, then a float test against its edges, took a quarter longer
// per value in bucketIndexes: BenchmarkBucketOf/batch).
//
// Why it is exactly bucketOf. Let lg be the float64 logGamma and
// r(x) = ln(x)/lg in exact arithmetic. bucketOf(x) = ceil(c(x)) with
// c(x) = fl(math.Log(x)/lg). math.Log is within 1 ulp of ln (math/log.go,
// and log_amd64.s implements the same algorithm), so for x in
// [2^-30, 2^64), |ln x| < 44.4 and |math.Log(x) - ln x| < 44.4·2^-52 <
// 1e-14; dividing by lg (≈ 0.00995) and rounding the quotient
// (|r| < 4460) keeps |c(x) - r(x)| < 1.5e-12. Hence whenever
//
//	k-1 + 1.5e-12 < r(x) < k - 1.5e-12,
//
// which holds when exp((k-1)·lg)·(1+2e-14) < x < exp(k·lg)·(1-2e-14),
// c(x) lies strictly inside (k-1, k) and bucketOf(x) = k. bucketEdges
// holds exp(k·lg) to within 1e-14 relative (math.Exp is within 1 ulp;
// rounding k·lg adds < 3.6e-15 to the exponent), and the test below
// compares x with each edge widened by edgeMargin = 2^-30 ≈ 9.3e-10
// relative (edgeBounds holds fl(edge·(1±edgeMargin)), the products the
// test would otherwise compute per value), far more than those errors
// together, so a value that passes it is strictly inside bucket k's
// interval above. A value that fails it (within ~1e-9 relative of an
// edge, or outside the table) gets ok false. The test is made on bit
// patterns (bitsTable), which order as the positive floats do.
func bucketFastPath(x float64) (k int32, ok bool) {
	b := math.Float64bits(x)
	// A negative x's sign bit puts j beyond the table.
	if j := uint(b>>bitsShift) - bitsBase; j < uint(len(bitsTable)) {
		e := bitsTable[j]
		q := b >> bitsQ & (1<<(bitsShift-bitsQ) - 1)
		if lo, hi := e>>16&(1<<24-1), e>>40; q-lo > hi-lo {
			return int32(int16(e)) + int32(b2i(q > hi)), true
		}
	}
	return 0, false
}

const (
	// The table covers x in [2^edgeMinExp, 2^(edgeMaxExp+1)): every
	// magnitude above minMagnitude (> 2^-30) up to 1.8e19.
	edgeMinExp = -30
	edgeMaxExp = 63
	edgeMargin = 0x1p-30
)

var (
	bucketsPerOctave = math.Ln2 / logGamma
	nanBucket        = bucketOf(math.NaN())
	// bucketEdges[i] = exp((bucketEdgeK0+i)·lg), the upper edge of bucket
	// bucketEdgeK0+i, for every bucket of the table's range and one
	// below (~6.5k edges).
	bucketEdgeK0 = int(math.Floor(edgeMinExp*bucketsPerOctave)) - 2
	bucketEdges  = func() []float64 {
		k1 := int(math.Ceil((edgeMaxExp+1)*bucketsPerOctave)) + 2
		e := make([]float64, k1-bucketEdgeK0+1)
		for i := range e {
			e[i] = math.Exp(float64(bucketEdgeK0+i) * logGamma)
		}
		return e
	}()
	// edgeBounds[i] = {bucketEdges[i-1]·(1+edgeMargin),
	// bucketEdges[i]·(1-edgeMargin)}: the values strictly between are
	// in bucket bucketEdgeK0+i (104 KiB, of which a run touches the
	// lines of its values' buckets). Entry 0 admits nothing.
	edgeBounds = func() [][2]float64 {
		p := make([][2]float64, len(bucketEdges))
		p[0] = [2]float64{math.Inf(1), 0}
		for i := 1; i < len(p); i++ {
			p[i] = [2]float64{bucketEdges[i-1] * (1 + edgeMargin), bucketEdges[i] * (1 - edgeMargin)}
		}
		return p
	}()
)

// bucketIndex is bucketOf(a) for a = |x| above minMagnitude or NaN (0,
// never read, for the rest), by the fast path where it can.
func bucketIndex(a float64) int32 {
	if a <= minMagnitude {
		return 0
	}
	if k, ok := bucketFastPath(a); ok {
		return k
	}
	return bucketOf(a)
}

// bucketIndexes sets k[i] to bucketOf(|xs[i]|) for every xs[i] of
// magnitude above minMagnitude or NaN (the others' k[i] is left
// unspecified),
// for a batch's column before its values are added to sketches
// (Sketch.addBucketed). One loop with nothing carried from one value to
// the next, so the processor overlaps the values' table lookups; inside
// Sketch.Add they queued behind the sketch's own updates.
func bucketIndexes(k []int32, xs []float64) {
	k = k[:len(xs)]
	if n := len(xs); n > 2 && xs[0] == xs[n/2] && xs[0] == xs[n-1] {
		// Probably a constant column (a fixed cost per call): each run
		// of one magnitude is looked up once. Checking every value for
		// a repeat cost a tenth more on columns without.
		prevA, prevK := math.NaN(), int32(0)
		for i, x := range xs {
			if a := math.Abs(x); a != prevA {
				prevA, prevK = a, bucketIndex(a)
			}
			k[i] = prevK
		}
		return
	}
	tab := bitsTable
	for i, x := range xs {
		a := math.Abs(x)
		// The bits table, inlined by hand.
		b := math.Float64bits(a)
		if j := uint(b>>bitsShift) - bitsBase; j < uint(len(tab)) {
			e := tab[j]
			q := b >> bitsQ & (1<<(bitsShift-bitsQ) - 1)
			// Outside [lo, hi], as one unsigned compare (no branch on
			// the side, which is random).
			if lo, hi := e>>16&(1<<24-1), e>>40; q-lo > hi-lo {
				k[i] = int32(int16(e)) + int32(b2i(q > hi))
				continue
			}
		}
		switch {
		case a > minMagnitude: // +Inf too, where Add puts it
			k[i] = bucketOf(a)
		case a != a:
			// NaN: skipped by every caller but in the difference of two
			// infinities, which Add counts at bucketOf(NaN).
			k[i] = nanBucket
		}
	}
}

// The bucket table by bit pattern: for x in [2^edgeMinExp, 2^(edgeMaxExp+1)),
// entry (bits(x)>>bitsShift) - bitsBase covers 2^bitsShift consecutive
// bit patterns (1/bitsSub of an octave, narrower than a bucket, so at
// most one uncertain zone between two buckets meets it). Positive floats
// order as their bit patterns do, so the edge test is on integers: the
// entry's zone, from the top of bucket k's certain values to the bottom
// of bucket k+1's (edgeBounds, whose values are proven to be in their
// bucket, see bucketFastPath), is [lo, hi] in units of 2^bitsQ patterns
// from the entry's start, rounded outwards; a value's q (its offset in
// those units) below lo is in bucket k, above hi in k+1, and only in
// [lo, hi] (about one value in 10^6) goes to bucketOf. One load and two
// compares per value, without a branch on which bucket (values fall on
// both sides of an edge at random). Hand-written, as bucketFastPath.
const (
	bitsSub   = 128 // entries per octave: 7 mantissa bits
	bitsShift = 52 - 7
	bitsQ     = 22 // q's unit: 2^22 patterns, 2^-30 of an octave
	bitsBase  = (1023 + edgeMinExp) * bitsSub
)

// bitsTable entries pack k (int16, bits 0-15), lo (bits 16-39) and hi
// (bits 40-63).
var bitsTable = func() []uint64 {
	t := make([]uint64, (edgeMaxExp-edgeMinExp+1)*bitsSub)
	bits := math.Float64bits
	i := 1 // edgeBounds[0] admits nothing
	for j := range t {
		start := uint64(bitsBase+j) << bitsShift
		end := start + 1<<bitsShift
		// The first zone not wholly below the entry: between buckets
		// i and i+1, patterns [zlo, zhi].
		for bits(edgeBounds[i+1][0]) < start {
			i++
		}
		zlo, zhi := bits(edgeBounds[i][1]), bits(edgeBounds[i+1][0])
		if bits(edgeBounds[i][0]) >= start || bits(edgeBounds[i+1][1]) < end {
			// Another zone meets the entry: cannot happen while a
			// bucket is wider than an entry (TestBitsTable).
			panic("eval: bucket narrower than a bits table entry")
		}
		unit := func(p uint64) uint64 { // offset of p from start, in q units, clamped
			if p < start {
				return 0
			}
			return min((p-start)>>bitsQ, 1<<24-1)
		}
		// q < lo needs every pattern of q below zlo: (q+1)·2^bitsQ <=
		// zlo-start, so lo = floor((zlo-start)/2^bitsQ); q > hi needs
		// q·2^bitsQ > zhi-start, so hi = floor((zhi-start)/2^bitsQ).
		lo, hi := unit(zlo), unit(zhi)
		k := bucketEdgeK0 + i
		t[j] = uint64(uint16(int16(k))) | lo<<16 | hi<<40
	}
	return t
}()
