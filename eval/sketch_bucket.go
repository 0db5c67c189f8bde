package eval

import "math"

// bucketFastPath returns bucketOf(x) for x > minMagnitude, bit for bit,
// without a logarithm, for all but about one value in 10^4: those, and
// values outside its table, get ok false and must use bucketOf. Once map
// increments were gone, math.Log was most of the cost of Sketch.Add.
// Hand-written: no library computes this bucketing.
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
// widens each edge by edgeMargin = 2^-30 ≈ 9.3e-10 relative, far more
// than those errors together, so a value that passes it is strictly
// inside bucket k's interval above. A value that fails it (within
// ~1e-9 relative of an edge, or outside the table) gets ok false.
// The candidate k only decides which edges are tested, so its accuracy
// affects speed, never the result.
func bucketFastPath(x float64) (k int32, ok bool) {
	b := math.Float64bits(x)
	e := int(b>>52) - 1023
	if e < edgeMinExp || e > edgeMaxExp {
		return 0, false
	}
	// x = 2^e · (m_t + h) with m_t = 1 + t/1024 from the mantissa's top
	// ten bits and 0 <= h < 1/1024 from the rest (exact conversions):
	// r(x) ≈ e·ln2/lg + ln(m_t)/lg + h/(m_t·lg), off by at most h²/2/lg
	// < 5e-5 buckets.
	t := b >> 42 & 1023
	h := float64(b&(1<<42-1)) * 0x1p-52
	step := &lnSteps[t]
	c := int(math.Ceil(float64(e)*bucketsPerOctave + step[0] + h*step[1]))
	if i := c - bucketEdgeK0; i >= 1 && i < len(bucketEdges) {
		if x > bucketEdges[i-1]*(1+edgeMargin) && x < bucketEdges[i]*(1-edgeMargin) {
			return int32(c), true
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
	// lnSteps[t] = {ln(1+t/1024)/lg, 1/((1+t/1024)·lg)}: the candidate's
	// table (16 KiB).
	lnSteps = func() (s [1024][2]float64) {
		for t := range s {
			m := 1 + float64(t)/1024
			s[t] = [2]float64{math.Log(m) / logGamma, 1 / (m * logGamma)}
		}
		return s
	}()
	// bucketEdges[i] = exp((bucketEdgeK0+i)·lg), the upper edge of bucket
	// bucketEdgeK0+i, for every bucket of the table's range and one
	// below (~6.5k edges, 52 KiB).
	bucketEdgeK0 = int(math.Floor(edgeMinExp*bucketsPerOctave)) - 2
	bucketEdges  = func() []float64 {
		k1 := int(math.Ceil((edgeMaxExp+1)*bucketsPerOctave)) + 2
		e := make([]float64, k1-bucketEdgeK0+1)
		for i := range e {
			e[i] = math.Exp(float64(bucketEdgeK0+i) * logGamma)
		}
		return e
	}()
)
