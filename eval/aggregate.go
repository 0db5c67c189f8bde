package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Acc is the mergeable aggregate of one metric in one group (feature ×
// class × window). Exactly the fields of its kind are used. Every field
// merges exactly (sums of counts, bucket-wise sums), so sharded runs give
// the same aggregates as one run.
type Acc struct {
	// Count: K successes (agreements, errors, passes) of N.
	K int64 `json:"k,omitempty"`
	N int64 `json:"n,omitempty"`
	// Paired 2×2 of correctness.
	BothRight  int64 `json:"both_right,omitempty"`
	LegacyOnly int64 `json:"legacy_only,omitempty"`
	AIOnly     int64 `json:"ai_only,omitempty"`
	BothWrong  int64 `json:"both_wrong,omitempty"`
	// Distributions.
	Legacy *Sketch `json:"legacy,omitempty"`
	AI     *Sketch `json:"ai,omitempty"`
	Value  *Sketch `json:"value,omitempty"`
	Diff   *Sketch `json:"diff,omitempty"`
	// Categories.
	Cats map[string]int64 `json:"cats,omitempty"`
	// Classification quality (confusion, per-category pairs, confidence bins).
	Quality *QualityAcc `json:"quality,omitempty"`
	// Invalid counts NaN/Inf values skipped.
	Invalid int64 `json:"invalid,omitempty"`
	// Errors counts batches the scorer failed on, with the first error:
	// the metric is then "error" for the window, never "pass".
	Errors int64  `json:"errors,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Merge adds o into a.
func (a *Acc) Merge(o *Acc) {
	a.K += o.K
	a.N += o.N
	a.BothRight += o.BothRight
	a.LegacyOnly += o.LegacyOnly
	a.AIOnly += o.AIOnly
	a.BothWrong += o.BothWrong
	a.Invalid += o.Invalid
	if o.Errors > 0 && a.Error == "" {
		a.Error = o.Error
	}
	a.Errors += o.Errors
	a.Legacy = mergeSketch(a.Legacy, o.Legacy)
	a.AI = mergeSketch(a.AI, o.AI)
	a.Value = mergeSketch(a.Value, o.Value)
	a.Diff = mergeSketch(a.Diff, o.Diff)
	if len(o.Cats) > 0 && a.Cats == nil {
		a.Cats = map[string]int64{}
	}
	for k, v := range o.Cats {
		a.Cats[k] += v
	}
	a.Quality = mergeQuality(a.Quality, o.Quality)
}

func mergeSketch(a, b *Sketch) *Sketch {
	if b == nil || b.Count == 0 {
		return a
	}
	if a == nil {
		a = NewSketch()
	}
	a.Merge(b)
	return a
}

// sketchGamma sets the sketch's relative accuracy: every value is
// represented within ±0.5% (alpha = (gamma-1)/(gamma+1)).
const sketchGamma = 1.01

var logGamma = math.Log(sketchGamma)

// Sketch is a log-bucketed histogram in the manner of DDSketch (Masson,
// Rim & Lee, VLDB 2019): quantiles within 0.5% relative error, exact
// count, sum, min and max, and exact merges. Written by hand because the
// available Go DDSketch packages pull in protobuf machinery and do not
// expose buckets, which the rank tests need as weighted samples.
//
// Its JSON form is {"count", "sum", "min", "max", "zero", "pos", "neg"}
// with the buckets as objects keyed by bucket index (sketchJSON), as
// partial aggregates store it.
type Sketch struct {
	Count int64
	Sum   float64
	Min   float64
	Max   float64
	Zero  int64
	// side[0] and side[1] count the values above minMagnitude and below
	// -minMagnitude (indexed by the sign bit) by bucketOf(|x|).
	side [2]buckets
}

// NewSketch returns an empty sketch.
func NewSketch() *Sketch { return &Sketch{Min: math.Inf(1), Max: math.Inf(-1)} }

// minMagnitude: values closer to zero than this are counted as zero.
const minMagnitude = 1e-9

// bucketOf is the index of x's bucket (x > 0): the definition, which
// bucketFastPath computes identically and faster for most values.
func bucketOf(x float64) int32 { return int32(math.Ceil(math.Log(x) / logGamma)) }

// representative is the value a bucket stands for (its relative midpoint).
func representative(i int32) float64 {
	return 2 * math.Pow(sketchGamma, float64(i)) / (sketchGamma + 1)
}

// Add adds one value; NaN and ±Inf must be filtered by the caller. The
// accumulate loops add a batch's column at once instead (foldSketches),
// with the same result.
func (s *Sketch) Add(x float64) { s.addBucketed(x, bucketIndex(math.Abs(x))) }

// addBucketed is Add for a value whose bucket k = bucketOf(|x|) is known
// (k is not read when |x| <= minMagnitude). foldValues and foldPositive
// (the loops foldSketches and foldBlocks end in) have copies of it
// written out.
func (s *Sketch) addBucketed(x float64, k int32) {
	s.Count++
	s.Sum += x
	if x < s.Min {
		s.Min = x
	}
	if x > s.Max {
		s.Max = x
	}
	if math.Abs(x) <= minMagnitude {
		s.Zero++
		return
	}
	// Indexed by the sign bit rather than branching on the sign:
	// signed values (differences) come in random order.
	b := &s.side[math.Float64bits(x)>>63]
	if j := uint(int(k) - int(b.lo)); j < uint(len(b.counts)) {
		b.counts[j]++
		return
	}
	s.addFar(x, k)
}

// addRepeated is n calls of addBucketed(x, k) (x not NaN) but for
// Sum, which the caller adds one value at a time: sums keep their row
// order. Count, Min, Max, Zero and the bucket counts do not depend on
// the order, but a bucket outside the dense span is added as
// addBucketed would, one value at a time until the span covers it
// (addFar reads Count), so the sketch is the same in every field.
// TestAddRepeated holds it to addBucketed.
func (s *Sketch) addRepeated(x float64, k int32, n int64) {
	if x < s.Min {
		s.Min = x
	}
	if x > s.Max {
		s.Max = x
	}
	if math.Abs(x) <= minMagnitude {
		s.Count += n
		s.Zero += n
		return
	}
	b := &s.side[math.Float64bits(x)>>63]
	for ; n > 0; n-- {
		if j := uint(int(k) - int(b.lo)); j < uint(len(b.counts)) {
			s.Count += n
			b.counts[j] += n
			return
		}
		s.Count++
		s.addFar(x, k)
	}
}

// addFar is addBucketed's rare case, a bucket outside the dense span.
func (s *Sketch) addFar(x float64, k int32) {
	s.side[math.Float64bits(x)>>63].add(k, 1, denseBudget(s.Count))
}

// Merge adds o into s.
func (s *Sketch) Merge(o *Sketch) {
	if o.Count == 0 {
		return
	}
	s.Count += o.Count
	s.Sum += o.Sum
	s.Min = math.Min(s.Min, o.Min)
	s.Max = math.Max(s.Max, o.Max)
	s.Zero += o.Zero
	s.side[0].merge(&o.side[0], s.Count)
	s.side[1].merge(&o.side[1], s.Count)
}

// Mean is the exact mean.
func (s *Sketch) Mean() float64 {
	if s == nil || s.Count == 0 {
		return math.NaN()
	}
	return s.Sum / float64(s.Count)
}

// Weighted returns the sketch as sorted (value, count) pairs: bucket
// representatives clamped to [Min, Max], so ties are values that share a
// bucket. The rank tests and quantiles work on this.
func (s *Sketch) Weighted() (x, w []float64) {
	if s == nil || s.Count == 0 {
		return nil, nil
	}
	neg, pos := &s.side[1], &s.side[0]
	n := neg.occupied() + pos.occupied()
	if s.Zero > 0 {
		n++
	}
	// One allocation for both slices: callers only read them.
	buf := make([]float64, 2*n)
	x, w = buf[:0:n], buf[n:n]
	rep := representatives()
	// A value clamped to [Min, Max]: math.Min and math.Max, not
	// comparisons, for their handling of signed zeros.
	clamp := func(v float64) float64 { return math.Min(math.Max(v, s.Min), s.Max) }
	if len(neg.far) == 0 {
		// The usual case, read straight from the dense span, most
		// negative (highest index) first.
		for j := len(neg.counts) - 1; j >= 0; j-- {
			if c := neg.counts[j]; c != 0 {
				x = append(x, clamp(-representativeOf(rep, neg.lo+int32(j))))
				w = append(w, float64(c))
			}
		}
	} else {
		negK, negN := neg.sorted()
		for i := len(negK) - 1; i >= 0; i-- {
			x = append(x, clamp(-representativeOf(rep, negK[i])))
			w = append(w, float64(negN[i]))
		}
	}
	if s.Zero > 0 {
		x = append(x, clamp(0))
		w = append(w, float64(s.Zero))
	}
	if len(pos.far) == 0 {
		for j, c := range pos.counts {
			if c != 0 {
				x = append(x, clamp(representativeOf(rep, pos.lo+int32(j))))
				w = append(w, float64(c))
			}
		}
	} else {
		posK, posN := pos.sorted()
		for i, k := range posK {
			x = append(x, clamp(representativeOf(rep, k)))
			w = append(w, float64(posN[i]))
		}
	}
	return x, w
}

// Quantile returns the q-quantile (lower, by rank ceil(q·n)), within the
// sketch's relative accuracy; exact at q=0 and q=1.
func (s *Sketch) Quantile(q float64) float64 {
	if s == nil || s.Count == 0 {
		return math.NaN()
	}
	if q <= 0 {
		return s.Min
	}
	if q >= 1 {
		return s.Max
	}
	x, w := s.Weighted()
	rank := math.Ceil(q * float64(s.Count))
	cum := 0.0
	for i := range x {
		cum += w[i]
		if cum >= rank {
			return x[i]
		}
	}
	return s.Max
}

// maxDenseBuckets bounds the span of bucket indexes counted densely
// (32 KiB of counts): a factor of 1.01^4096 ≈ 5e17 between the smallest
// and largest magnitude, wider than any latency, cost or score. A value
// further out (1e-9 next to 1e300 would need ~71k buckets) is counted in
// the far map instead, so memory stays bounded whatever the data.
const maxDenseBuckets = 4096

// denseBudget is the widest dense span for a sketch of count values:
// the span also grows with the values seen, so a few values far apart
// (1e-8 and 1e8) take a map entry each, not thousands of empty counts.
func denseBudget(count int64) int {
	return int(min(maxDenseBuckets, 256+4*count))
}

// buckets counts values by bucket index. A map increment per value cost
// more than the rest of Sketch.Add, so the counts live in a slice
// covering indexes [lo, lo+len(counts)) that grows in either direction;
// far holds the indexes the slice may not reach (beyond denseBudget). A
// bucket with a zero count in counts is absent. Invariant: no index in
// far lies in the dense span (widen moves the ones it covers).
type buckets struct {
	lo     int32
	counts []int64
	far    map[int32]int64
}

// add adds n to bucket k, widening the dense span up to budget buckets.
func (b *buckets) add(k int32, n int64, budget int) {
	if j := uint(int(k) - int(b.lo)); j < uint(len(b.counts)) {
		b.counts[j] += n
		return
	}
	if !b.widen(k, budget) {
		if b.far == nil {
			b.far = map[int32]int64{}
		}
		b.far[k] += n
		return
	}
	b.counts[int(k)-int(b.lo)] += n
}

// widen makes the dense span cover k, with as much slack again in the
// direction it grew (amortising copies), within budget buckets, and
// moves the far buckets it now covers into it. It reports false,
// changing nothing, when k is out of reach.
func (b *buckets) widen(k int32, budget int) bool {
	// In int: lo never goes below math.MinInt32, and indexes past
	// math.MaxInt32 in the slack are never occupied.
	var lo, hi int // new span [lo, hi)
	if len(b.counts) == 0 {
		const initial = 16
		lo = max(int(k)-initial/2, math.MinInt32)
		hi = lo + initial
	} else {
		lo, hi = int(b.lo), int(b.lo)+len(b.counts)
		span := max(hi, int(k)+1) - min(lo, int(k))
		if span > budget {
			return false
		}
		slack := min(max(span, 16), budget-span)
		if int(k) < lo {
			lo = max(int(k)-slack, math.MinInt32)
		} else {
			hi = int(k) + 1 + slack
		}
	}
	counts := make([]int64, hi-lo)
	if len(b.counts) > 0 {
		copy(counts[int(b.lo)-lo:], b.counts)
	}
	b.lo, b.counts = int32(lo), counts
	for k, n := range b.far {
		if j := int(k) - lo; j >= 0 && j < len(counts) {
			counts[j] += n
			delete(b.far, k)
		}
	}
	return true
}

// merge adds o's buckets, for a sketch of count values after the merge.
func (b *buckets) merge(o *buckets, count int64) {
	budget := denseBudget(count)
	// Widen for both ends of o's occupied span first, so a merge copies
	// the dense counts at most twice.
	first, last := -1, -1
	for j, n := range o.counts {
		if n != 0 {
			if first < 0 {
				first = j
			}
			last = j
		}
	}
	if first >= 0 {
		b.add(o.lo+int32(first), o.counts[first], budget)
		if last != first {
			b.add(o.lo+int32(last), o.counts[last], budget)
		}
		for j := first + 1; j < last; j++ {
			if n := o.counts[j]; n != 0 {
				b.add(o.lo+int32(j), n, budget)
			}
		}
	}
	for k, n := range o.far {
		b.add(k, n, budget)
	}
}

// sorted returns the occupied bucket indexes in increasing order and
// their counts.
func (b *buckets) sorted() (ks []int32, ns []int64) {
	farKs := make([]int32, 0, len(b.far))
	for k := range b.far {
		farKs = append(farKs, k)
	}
	slices.Sort(farKs)
	// Far indexes lie outside the dense span: those below it come first.
	below, _ := slices.BinarySearch(farKs, b.lo)
	for _, k := range farKs[:below] {
		ks, ns = append(ks, k), append(ns, b.far[k])
	}
	for j, n := range b.counts {
		if n != 0 {
			ks, ns = append(ks, b.lo+int32(j)), append(ns, n)
		}
	}
	for _, k := range farKs[below:] {
		ks, ns = append(ks, k), append(ns, b.far[k])
	}
	return ks, ns
}

// asMap is the buckets as stored in JSON: nil when empty, as the old
// map fields were omitted.
func (b *buckets) asMap() map[int32]int64 {
	ks, ns := b.sorted()
	if len(ks) == 0 {
		return nil
	}
	m := make(map[int32]int64, len(ks))
	for i, k := range ks {
		m[k] = ns[i]
	}
	return m
}

// bucketsOf is the buckets of a sketch of count values read from JSON.
func bucketsOf(m map[int32]int64, count int64) buckets {
	var b buckets
	budget := denseBudget(count)
	for k, n := range m {
		b.add(k, n, budget)
	}
	return b
}

// sketchJSON is Sketch's stored form. The buckets are encoded as
// map[int32]int64 by encoding/json, exactly as when Sketch held maps
// (keys in decimal, sorted as strings), so partial aggregates written
// before and after the dense buckets are byte-identical and interchange.
type sketchJSON struct {
	Count int64           `json:"count"`
	Sum   float64         `json:"sum"`
	Min   float64         `json:"min"`
	Max   float64         `json:"max"`
	Zero  int64           `json:"zero,omitempty"`
	Pos   map[int32]int64 `json:"pos,omitempty"`
	Neg   map[int32]int64 `json:"neg,omitempty"`
}

// MarshalJSON implements json.Marshaler. It writes the bytes encoding/json
// writes for sketchJSON (a differential test holds it to that), by hand:
// building two maps per sketch for encoding/json to stringify and sort
// their keys was most of the cost of writing a window's aggregates.
func (s Sketch) MarshalJSON() ([]byte, error) {
	return s.appendJSON(make([]byte, 0, 96+16*(len(s.side[0].counts)+len(s.side[1].counts))))
}

// appendJSON appends s's MarshalJSON encoding to b.
func (s *Sketch) appendJSON(b []byte) ([]byte, error) {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, s.Count, 10)
	var err error
	for _, f := range [3]struct {
		name string
		v    float64
	}{{`,"sum":`, s.Sum}, {`,"min":`, s.Min}, {`,"max":`, s.Max}} {
		b = append(b, f.name...)
		if b, err = appendJSONFloat(b, f.v); err != nil {
			return nil, err
		}
	}
	if s.Zero != 0 {
		b = append(b, `,"zero":`...)
		b = strconv.AppendInt(b, s.Zero, 10)
	}
	b = s.side[0].appendJSON(b, `,"pos":`)
	b = s.side[1].appendJSON(b, `,"neg":`)
	return append(b, '}'), nil
}

// appendJSON appends name and the buckets as encoding/json writes a
// map[int32]int64: keys in decimal, sorted as strings. Nothing when empty
// (omitempty).
func (b *buckets) appendJSON(dst []byte, name string) []byte {
	ks, ns := b.sorted()
	if len(ks) == 0 {
		return dst
	}
	type entry struct {
		k string
		n int64
	}
	es := make([]entry, len(ks))
	for i, k := range ks {
		es[i] = entry{strconv.Itoa(int(k)), ns[i]}
	}
	slices.SortFunc(es, func(x, y entry) int { return strings.Compare(x.k, y.k) })
	dst = append(dst, name...)
	dst = append(dst, '{')
	for i, e := range es {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, e.k...)
		dst = append(dst, `":`...)
		dst = strconv.AppendInt(dst, e.n, 10)
	}
	return append(dst, '}')
}

// appendJSONFloat appends x as encoding/json writes a float64 (shortest
// form; exponent form below 1e-6 and from 1e21, with a one-digit negative
// exponent written without its leading zero), and fails as it does on
// NaN and ±Inf.
func appendJSONFloat(b []byte, x float64) ([]byte, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil, &json.UnsupportedValueError{Value: reflect.ValueOf(x), Str: strconv.FormatFloat(x, 'g', -1, 64)}
	}
	f := byte('f')
	if a := math.Abs(x); a != 0 && (a < 1e-6 || a >= 1e21) {
		f = 'e'
	}
	b = strconv.AppendFloat(b, x, f, -1, 64)
	if f == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}

// UnmarshalJSON implements json.Unmarshaler. As for a plain struct,
// fields absent from the JSON keep their values and buckets are added
// to the existing ones.
func (s *Sketch) UnmarshalJSON(data []byte) error {
	j := sketchJSON{s.Count, s.Sum, s.Min, s.Max, s.Zero, s.side[0].asMap(), s.side[1].asMap()}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*s = Sketch{Count: j.Count, Sum: j.Sum, Min: j.Min, Max: j.Max, Zero: j.Zero, side: [2]buckets{bucketsOf(j.Pos, j.Count), bucketsOf(j.Neg, j.Count)}}
	return nil
}
