package eval

import "math"

// bucketFastPath returns bucketOf(x) for x > minMagnitude, bit for bit,
// without a logarithm, for all but about one value in 10^4: those, and
// values outside its table, get ok false and must use bucketOf. Once map
// increments were gone, math.Log was most of the cost of Sketch.Add.
// Hand-written: no library computes this bucketing. Small enough to be
// inlined into the accumulate loops, and all in integers up to the edge
// test (a float candidate and its ceil made a chain twice as long).
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
// edge, or outside the table) gets ok false. The candidate k only
// decides which bounds are tested, so its accuracy (fixed point, and
// the logarithm's series cut after its first term) affects speed, never
// the result.
func bucketFastPath(x float64) (k int32, ok bool) {
	b := math.Float64bits(x)
	// x = 2^e · (m_t + h) with m_t = 1 + t/1024 from the mantissa's top
	// ten bits and 0 <= h < 1/1024 from the rest: r(x) ≈ e·ln2/lg +
	// ln(m_t)/lg + h/(m_t·lg), off by at most h²/2/lg < 5e-5 buckets,
	// here in fixed point with candFrac fraction bits, offset so that
	// its integer part is the candidate's index in edgeBounds.
	e := uint(b>>52) - (1023 + edgeMinExp) // a negative x's sign makes it large
	if e >= uint(len(candExp)) {
		return 0, false
	}
	st := candSteps[b>>42&1023]
	r := candExp[e] + int64(int32(st)) + int64((b&(1<<42-1)>>20)*(st>>32)>>32)
	if i := uint(r >> candFrac); i < uint(len(edgeBounds)) {
		if p := &edgeBounds[i]; x > p[0] && x < p[1] {
			return int32(int(i) + bucketEdgeK0), true
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
	// candFrac is the candidate's fraction bits: ln(m_t)/lg < 70 fits an
	// int32 with 24 of them.
	candFrac = 24
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
	// candExp[e-edgeMinExp] = (e·ln2/lg + 1 - bucketEdgeK0)·2^candFrac:
	// an exponent's part of the candidate, with the index's offset and
	// the +1 that turns the floor into a ceiling (ceil(r) = floor(r)+1
	// but for integers, which only the edge test decides).
	candExp = func() (c [edgeMaxExp - edgeMinExp + 1]int64) {
		for i := range c {
			c[i] = int64(math.Round((float64(i+edgeMinExp)*bucketsPerOctave + 1 - float64(bucketEdgeK0)) * (1 << candFrac)))
		}
		return c
	}()
	// candSteps[t] holds, for m_t = 1+t/1024, ln(m_t)/lg·2^candFrac (the
	// mantissa's part, an int32 in the low half) and 1/(m_t·lg)·2^candFrac
	// (in the high half: the slope by which the top 22 of the remaining
	// 42 bits, the product shifted by 32, add the rest). One word, not a
	// pair the compiler moved through the stack.
	candSteps = func() (s [1024]uint64) {
		for t := range s {
			m := 1 + float64(t)/1024
			l := int32(math.Round(math.Log(m) / logGamma * (1 << candFrac)))
			slope := uint32(math.Round(1 / (m * logGamma) * (1 << candFrac)))
			s[t] = uint64(uint32(l)) | uint64(slope)<<32
		}
		return s
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
	// Locals: the globals would be reloaded after every store to k.
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
	bounds, k0 := edgeBounds, bucketEdgeK0
	for i, x := range xs {
		a := math.Abs(x)
		// bucketFastPath, inlined by hand (the compiler does not).
		b := math.Float64bits(a)
		if e := uint(b>>52) - (1023 + edgeMinExp); e < uint(len(candExp)) {
			st := candSteps[b>>42&1023]
			r := candExp[e] + int64(int32(st)) + int64((b&(1<<42-1)>>20)*(st>>32)>>32)
			if j := uint(r >> candFrac); j < uint(len(bounds)) {
				if p := &bounds[j]; a > p[0] && a < p[1] {
					k[i] = int32(int(j) + k0)
					continue
				}
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
