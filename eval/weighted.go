package eval

// Sketches as weighted samples (Sketch.Weighted): bucket representatives
// from a table.

import "sync"

// representativeSpan: bucket indexes in [-representativeSpan,
// representativeSpan] have their representative in a table, which covers
// magnitudes from minMagnitude (index -2083) to ~1.3e9, every latency,
// cost, confidence and score the evaluation meets. Sketch.Weighted runs
// for every numeric metric of every class and window, and math.Pow per
// bucket was a third of it.
const representativeSpan = 2100

// representatives is representative(i) for i in [-span, span] at
// i+span, each computed by representative itself, so a lookup is
// bit-identical to it (TestRepresentativeTable). Built once, on first
// use, for the windows evaluated in parallel to share.
var representatives = sync.OnceValue(func() []float64 {
	t := make([]float64, 2*representativeSpan+1)
	for j := range t {
		t[j] = representative(int32(j - representativeSpan))
	}
	return t
})

// representativeOf is representative(i), from the table when i is in
// its span.
func representativeOf(t []float64, i int32) float64 {
	if j := uint(int(i) + representativeSpan); j < uint(len(t)) {
		return t[j]
	}
	return representative(i)
}

// occupied is the number of buckets with a count, what sorted would
// return without building it.
func (b *buckets) occupied() int {
	n := len(b.far)
	for _, c := range b.counts {
		if c != 0 {
			n++
		}
	}
	return n
}
