package eval

import (
	"math"
	"sync"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// accSet resolves each group's accumulator for one scorer in one batch:
// row i belongs to groups[gi[i]], and accs (len(groups), all nil on
// entry) caches the accumulators. An accumulator is created only when a
// row contributes to it, so a metric with no valid rows stays absent.
type accSet struct {
	name   string
	gi     []int32
	groups []*Group
	accs   []*Acc
}

// of returns the accumulator of row i's group.
func (s *accSet) of(i int) *Acc { return s.group(s.gi[i]) }

// group returns the accumulator of group g.
func (s *accSet) group(g int32) *Acc {
	a := s.accs[g]
	if a == nil {
		a = s.groups[g].acc(s.name)
		s.accs[g] = a
	}
	return a
}

// addCounts adds per-group (rows, successes) tallies to the groups'
// accumulators, creating one only for a group with rows.
func (s *accSet) addCounts(nk [][2]int64) {
	for g, c := range nk {
		if c[0] > 0 {
			a := s.group(int32(g))
			a.N += c[0]
			a.K += c[1]
		}
	}
}

// accumulate folds one scorer's per-row output into the groups, with one
// loop per output kind so the kind is not re-decided per row.
func accumulate(s scorers.Scorer, o *scorers.Out, gi []int32, groups []*Group, accs []*Acc) {
	as := &accSet{name: s.Name(), gi: gi, groups: groups, accs: accs}
	switch s.Kind() {
	case scorers.Agreement, scorers.Rate:
		accumulateCounts(as, o)
	case scorers.PairedCorrect:
		accumulatePairedCorrect(as, o)
	case scorers.Score:
		thr, hasThr := 0.0, false
		if t, ok := s.(scorers.Thresholded); ok {
			thr, _ = t.Threshold()
			hasThr = true
		}
		accumulateScores(as, o, thr, hasThr)
	case scorers.PairedScore:
		accumulatePairedScores(as, o)
	case scorers.PerSystem:
		accumulatePerSystem(as, o)
	case scorers.Category:
		accumulateCategories(as, o)
	case scorers.Classification:
		accumulateClassification(as, o)
	}
}

// The numeric loops below run once per row of every scorer. They tally
// counts per group in local arrays, added to the accumulators once per
// batch (and only for groups with a valid row, so absent metrics stay
// absent), count without branching on the value (agreement, correctness
// and pass/fail are data-dependent and mispredict), and keep each
// group's sketches at hand instead of going through its Acc per row.
// Values reach each sketch in row order, as before, so sums are
// bit-identical.

// b2i is 1 for true: compiled to a flag read, not a branch.
func b2i(b bool) int64 {
	var n int64
	if b {
		n = 1
	}
	return n
}

func accumulateCounts(as *accSet, o *scorers.Out) {
	nk := make([][2]int64, len(as.groups)) // n, k per group
	value := o.Value[:len(as.gi)]
	for i, g := range as.gi {
		v := value[i]
		if math.IsNaN(v) {
			continue
		}
		c := &nk[g]
		c[0]++
		c[1] += b2i(v != 0)
	}
	as.addCounts(nk)
}

// rateTally folds built-in count scorers' outcome codes
// (scorers.RateCoder) into the groups: one byte per row read and one
// count incremented, where accumulateCounts reads a float, branches on
// NaN and increments two. One per worker, reused from batch to batch.
type rateTally struct {
	buf []uint8    // the codes of a scorer that writes its own
	tab [][4]int64 // per group, rows of each code
	// The shared codes (a field's agreement, returned again by critical
	// agreement on that one field) tab was last counted from, in the
	// current batch: counted once for both.
	last  *uint8
	lastN int
}

// batch starts a feature's batch: codes shared in an earlier one are
// gone (their memory may be reused).
func (t *rateTally) batch(n int) {
	t.last, t.lastN = nil, 0
	if cap(t.buf) < n {
		t.buf = make([]uint8, n)
	}
	t.buf = t.buf[:n]
}

// fold adds codes, one per row of as.gi (from a RateCoder given t.buf),
// to the groups: rows with code 0 or 1 are counted, code 1 as a success.
func (t *rateTally) fold(as *accSet, codes []uint8) {
	n := len(as.gi)
	if n == 0 {
		return
	}
	codes = codes[:n]
	p := &codes[0]
	if p != t.last || n != t.lastN {
		t.tab = countCodes(t.tab, len(as.groups), as.gi[:n], codes)
		t.last, t.lastN = nil, 0
		if p != &t.buf[0] {
			t.last, t.lastN = p, n
		}
	}
	for g, c := range t.tab {
		if rows := c[0] + c[1]; rows > 0 {
			a := as.group(int32(g))
			a.N += rows
			a.K += c[1]
		}
	}
}

// countCodes counts codes, one per row of gi, per group (of ng) and code
// (&3) into tab's first ng entries, reusing tab's memory (4·ng used).
func countCodes(tab [][4]int64, ng int, gi []int32, codes []uint8) [][4]int64 {
	// Four tables, row i in table i mod 4: most rows of a group have the
	// same code, and consecutive increments of one count wait on each
	// other through memory; added up below.
	if cap(tab) < 4*ng {
		tab = make([][4]int64, 4*ng)
	}
	tab = tab[:4*ng]
	clear(tab)
	t0, t1, t2, t3 := tab[:ng], tab[ng:2*ng], tab[2*ng:3*ng], tab[3*ng:]
	n := len(gi)
	codes = codes[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		g, c := gi[i:i+4:i+4], codes[i:i+4:i+4]
		t0[g[0]][c[0]&3]++
		t1[g[1]][c[1]&3]++
		t2[g[2]][c[2]&3]++
		t3[g[3]][c[3]&3]++
	}
	for ; i < n; i++ {
		t0[gi[i]][codes[i]&3]++
	}
	for g := range t0 {
		for c := range 4 {
			t0[g][c] += t1[g][c] + t2[g][c] + t3[g][c]
		}
	}
	return t0
}

// rateCoder returns a built-in scorer's count codes, for a count kind
// only: FieldAccuracy (paired correct) embeds FieldAgreement and so has
// its RateCodes too.
func rateCoder(s scorers.Scorer) (scorers.RateCoder, bool) {
	if k := s.Kind(); k != scorers.Agreement && k != scorers.Rate {
		return nil, false
	}
	rc, ok := s.(scorers.RateCoder)
	return rc, ok
}

// accumulateRateCodes is accumulate for a built-in count scorer's codes.
func accumulateRateCodes(t *rateTally, name string, codes []uint8, gi []int32, groups []*Group, accs []*Acc) {
	t.fold(&accSet{name: name, gi: gi, groups: groups, accs: accs}, codes)
}

func accumulatePairedCorrect(as *accSet, o *scorers.Out) {
	// Per group: both wrong, AI only, legacy only, both right (index
	// 2·legacy + AI), then the same four for rows without both values,
	// which are not used. Those rows are counted rather than skipped:
	// accuracy is NaN on every unlabelled row, and labels come for a
	// sample of requests, so a branch on it mispredicted. The counts are
	// kept in four copies, row i in copy i mod 4, so that consecutive
	// rows of a group do not wait on each other's increment (a single
	// table without the branch was slower than with it). On 40% labelled
	// rows -43% (paired_correct/labelled in BenchmarkAccumulate), on
	// every row labelled +28%; parity-bench's log labels 40%.
	ng := len(as.groups)
	tab4 := make([][8]int64, 4*ng)
	legacy, ai := o.Legacy[:len(as.gi)], o.AI[:len(as.gi)]
	for i, g := range as.gi {
		l, x := legacy[i], ai[i]
		// b2i(NaN != NaN) is 1; | rather than ||, which is a branch.
		tab4[(i&3)*ng+int(g)][4*(b2i(l != l)|b2i(x != x))+2*b2i(l != 0)+b2i(x != 0)]++
	}
	for g := range ng {
		var t [4]int64
		for c := range 4 {
			t[0] += tab4[c*ng+g][0]
			t[1] += tab4[c*ng+g][1]
			t[2] += tab4[c*ng+g][2]
			t[3] += tab4[c*ng+g][3]
		}
		if t != [4]int64{} {
			a := as.group(int32(g))
			a.BothWrong += t[0]
			a.AIOnly += t[1]
			a.LegacyOnly += t[2]
			a.BothRight += t[3]
		}
	}
}

func accumulateScores(as *accSet, o *scorers.Out, thr float64, hasThr bool) {
	value := o.Value[:len(as.gi)]
	foldBuffer(as, value, func(a *Acc) **Sketch { return &a.Value })
	if !hasThr {
		return
	}
	nk := make([][2]int64, len(as.groups)) // rows, passing rows per group
	for i, g := range as.gi {
		v := value[i]
		if math.IsNaN(v) {
			continue
		}
		c := &nk[g]
		c[0]++
		c[1] += b2i(v >= thr)
	}
	as.addCounts(nk)
}

func accumulatePairedScores(as *accSet, o *scorers.Out) {
	n := len(as.gi)
	legacy, ai := o.Legacy[:n], o.AI[:n]
	// A pair's three sketches are made together, at its first row with
	// both values.
	made := func(a *Acc) {
		if a.Legacy == nil {
			a.Legacy, a.AI, a.Diff = NewSketch(), NewSketch(), NewSketch()
		}
	}
	// Each sketch skips the rows whose other value is NaN.
	foldSketches(as, legacy, ai, func(a *Acc) *Sketch { made(a); return a.Legacy })
	foldSketches(as, ai, legacy, func(a *Acc) *Sketch { made(a); return a.AI })
	fb := getFloatBuf(n)
	defer floatPool.Put(fb)
	col := (*fb)[:n]
	// The difference is NaN without a pair, and also for a pair of equal
	// infinities, which Add counts: then the batch's differences are
	// added one by one.
	infDiff := false
	for i, x := range ai {
		col[i] = x - legacy[i]
		infDiff = infDiff || math.IsNaN(col[i]) && !math.IsNaN(x) && !math.IsNaN(legacy[i])
	}
	if !infDiff {
		foldSketches(as, col, nil, func(a *Acc) *Sketch { made(a); return a.Diff })
		return
	}
	for i, g := range as.gi {
		if l, x := legacy[i], ai[i]; !math.IsNaN(l) && !math.IsNaN(x) {
			as.group(g).Diff.Add(x - l)
		}
	}
}

func accumulatePerSystem(as *accSet, o *scorers.Out) {
	legacy, ai := o.Legacy[:len(as.gi)], o.AI[:len(as.gi)]
	foldBuffer(as, legacy, func(a *Acc) **Sketch { return a.systemSlot(0) })
	foldBuffer(as, ai, func(a *Acc) **Sketch { return a.systemSlot(1) })
}

// foldPerSystemColumns is accumulate for parity's own PerSystemValue
// (latency, cost), read from the batch's columns: each system's values
// of the feature's rows (rows, the feature's row indexes in b, nil for
// every row), non-finite and null ones as NaN, folded into each group's
// sketch. Scoring it through Out had copied each column twice (the
// gather, then Score's copy into Out) before the fold read it; its
// columns are not gathered unless another scorer reads them
// (featurePlan.direct). TestDirectPerSystemMatchesScore holds it to
// Score and accumulate.
func foldPerSystemColumns(s *scorers.PerSystemValue, b *datasets.Batch, rows []int32, gi []int32, groups []*Group, accs []*Acc) {
	as := &accSet{name: s.Name(), gi: gi, groups: groups, accs: accs}
	for system, name := range [2]string{s.LegacyCol, s.AICol} {
		if c := b.Col(name); c != nil { // absent: every value NaN, nothing to fold
			foldBlocks(as, func(a *Acc) **Sketch { return a.systemSlot(system) }, &foldSource{c: c, rows: rows})
		}
	}
}

// foldBlock is how many rows foldBlocks takes at a time: a block's
// copy (8 KiB) and bucket indexes stay in L1 from one pass to the next,
// where a batch-long copy and bucket buffer (~1.2 MiB for a 128Ki-row
// batch) were written out to L2 and read back.
const foldBlock = 1024

// foldSource is where foldBlocks reads its values: a batch's float
// column c through the feature's row indexes (rows, nil for every row),
// null and non-finite values as NaN, or a scorer's output xs (NaN: not
// applicable). Not a function value: a block buffer handed to one
// escaped to the heap.
type foldSource struct {
	c    *datasets.Column
	rows []int32
	xs   []float64
}

// block returns the values of rows lo up to lo+len(buf), copied into
// buf from a column or a slice of xs, and how many of them are not in
// (minMagnitude, +Inf).
func (src *foldSource) block(buf []float64, lo int) ([]float64, int) {
	if src.c == nil {
		x := src.xs[lo : lo+len(buf)]
		return x, otherValues(x)
	}
	var rs []int32
	if src.rows != nil {
		rs = src.rows[lo : lo+len(buf)]
	}
	return buf, gatherFinite(buf, src.c, rs, lo)
}

// foldBlocks folds a column of values (src), one per row of as.gi, into
// the groups' sketches held at slot(acc), NaN values skipped, as
// foldSketches does: a block of rows at a time (src.block), applied to
// the sketches in row order, so every Sum receives its values one by
// one in the order it always did. Each block by the cheapest loop that
// applies: one value repeated (bench/gen's legacy cost) is neither
// bucketed nor compared per row (foldConstant); mostly positive finite
// values (latencies, costs, confidences) are bucketed in the fold's own
// loop, with one test per value for the rest (foldPositive); any other
// block is bucketed (bucketIndexes), then folded (foldValues). For
// foldPerSystemColumns, reading the values straight from the batch's
// column in foldPositive's loop, without the copy into a block buffer,
// measured slower (its loads and the sketches' updates queue in one
// loop).
//
// The sketches are looked up once per call, not per row: a group
// without one yet gets a fresh sketch, attached to its accumulator
// (created then) only if a value reached it, so a metric with no valid
// rows stays absent as before; until then the sketch is exactly the one
// the first valid row would have created.
func foldBlocks(as *accSet, slot func(*Acc) **Sketch, src *foldSource) {
	ng := len(as.groups)
	sp := getSketchBuf(2 * ng)
	defer sketchPool.Put(sp)
	sks, fresh := (*sp)[:ng], (*sp)[ng:] // fresh[g]: sks[g] is not attached yet
	for g := range sks {
		a := as.accs[g]
		if a == nil {
			a = as.groups[g].Metrics[as.name] // nil: not created before
		}
		if a != nil {
			sks[g] = *slot(a)
		}
		if sks[g] == nil {
			sks[g] = freshPool.Get().(*Sketch)
			fresh[g] = sks[g]
		}
	}
	foldRun(sks, as.gi, src)
	for g, s := range fresh {
		switch {
		case s == nil:
		case s.Count > 0:
			*slot(as.group(int32(g))) = s
		default:
			// No value reached it, so it is still as NewSketch made it
			// (every loop counts each value it adds): kept for the next
			// group without one, rather than made again per batch for
			// a column with no value (an absent optional one).
			freshPool.Put(s)
		}
	}
	clear(*sp) // pooled clean
}

// foldRun is foldBlocks' loop: the values of src, one per row of gi,
// added to sketch sks[gi[i]] a block at a time in row order.
func foldRun(sks []*Sketch, gi []int32, src *foldSource) {
	var (
		buf [foldBlock]float64
		ks  [foldBlock]int32
		cnt [foldBlock]int32 // foldConstant's per-group counts (ng <= foldBlock there)
	)
	ng, n := len(sks), len(gi)
	for lo := 0; lo < n; lo += foldBlock {
		hi := min(lo+foldBlock, n)
		gb := gi[lo:hi]
		x, other := src.block(buf[:hi-lo], lo)
		switch {
		case ng <= foldBlock && constant(x):
			foldConstant(sks, gb, x[0], cnt[:ng])
		case other <= len(x)/maxOther:
			foldPositive(sks, gb, x)
		default:
			k := ks[:len(x)]
			bucketIndexes(k, x)
			foldValues(sks, gb, x, k)
		}
	}
}

// maxOther: foldPositive takes a block with up to one value in maxOther
// outside (minMagnitude, +Inf) (the confidence of an AI answer that
// errored is 0 in bench/gen's log, 2% of rows); more, and its test
// mispredicts too often.
const maxOther = 16

// foldBuffer is foldBlocks for values already in a buffer, xs[i] for
// row i (NaN: skipped): a scorer's output.
func foldBuffer(as *accSet, xs []float64, slot func(*Acc) **Sketch) {
	foldBlocks(as, slot, &foldSource{xs: xs[:len(as.gi)]})
}

// otherValues counts the values of xs not in (minMagnitude, +Inf),
// without a branch per value (NaN, for rows a scorer does not apply to,
// can be as frequent as not).
func otherValues(xs []float64) int {
	pl, ps := posLo, posSpan
	n := 0
	for _, x := range xs {
		n += int(b2i(math.Float64bits(x)-pl >= ps))
	}
	return n
}

// constant reports whether xs holds one value, not NaN, bit for bit
// (not only ==: 0 and -0 add differently to a sum). The first, middle
// and last values are compared first, so a varying block costs three
// compares.
func constant(xs []float64) bool {
	n := len(xs)
	if n == 0 || xs[0] != xs[0] {
		return false
	}
	b0 := math.Float64bits(xs[0])
	if math.Float64bits(xs[n/2]) != b0 || math.Float64bits(xs[n-1]) != b0 {
		return false
	}
	var diff uint64
	for _, x := range xs {
		diff |= math.Float64bits(x) ^ b0
	}
	return diff == 0
}

// posLo and posSpan: a float64 x is in (minMagnitude, +Inf) if and only
// if bits(x)-posLo < posSpan as unsigned integers (positive floats
// order as their bit patterns), one compare for both bounds; negative
// values and NaN fall outside.
var (
	posLo   = math.Float64bits(minMagnitude) + 1
	posSpan = math.Float64bits(math.Inf(1)) - posLo
)

// gatherFinite sets dst[i] to float column c's value at row rs[i] (row
// lo+i when rs is nil), NaN where that is null or not finite, as
// PerSystemValue's Score copies a gathered column, and returns how many
// of the values it set are not in (minMagnitude, +Inf), for
// foldBlocks' choice of loop.
func gatherFinite(dst []float64, c *datasets.Column, rs []int32, lo int) (other int) {
	nan := math.NaN()
	pl, ps := posLo, posSpan
	if rs == nil {
		src := c.Float[lo : lo+len(dst)]
		if c.Null == nil {
			for i, x := range src {
				if math.Float64bits(x)-pl >= ps { // rare in a latency or cost
					other++
					if x-x != 0 { // NaN and ±Inf
						x = nan
					}
				}
				dst[i] = x
			}
			return other
		}
		null := c.Null[lo : lo+len(dst)]
		for i, x := range src {
			if null[i] || math.Float64bits(x)-pl >= ps {
				other++
				if null[i] || x-x != 0 {
					x = nan
				}
			}
			dst[i] = x
		}
		return other
	}
	rs = rs[:len(dst)]
	src := c.Float
	if c.Null == nil {
		for i, j := range rs {
			x := src[j]
			if math.Float64bits(x)-pl >= ps {
				other++
				if x-x != 0 {
					x = nan
				}
			}
			dst[i] = x
		}
		return other
	}
	null := c.Null[:len(src)]
	for i, j := range rs {
		x := src[j]
		if null[j] || math.Float64bits(x)-pl >= ps {
			other++
			if null[j] || x-x != 0 {
				x = nan
			}
		}
		dst[i] = x
	}
	return other
}

// foldConstant folds a block whose every value is x (not NaN): only the
// sums are added row by row, in row order; each group's count, minimum,
// maximum and bucket are applied once for its rows
// (Sketch.addRepeated), which gives the same sketch as adding x that
// many times. cnt (one per group) is scratch.
func foldConstant(sks []*Sketch, gi []int32, x float64, cnt []int32) {
	clear(cnt)
	for _, g := range gi {
		sks[g].Sum += x
		cnt[g]++
	}
	k := bucketIndex(math.Abs(x))
	for g, c := range cnt {
		if c > 0 {
			sks[g].addRepeated(x, k, int64(c))
		}
	}
}

// foldPositive is foldValues for values mostly in (minMagnitude,
// +Inf), each value's bucket found in the same loop (bucketIndexes'
// bits table, inlined by hand): one test per value for the others,
// which are added by Sketch.Add (the same result as foldValues gives
// them) or skipped if NaN, instead of a NaN test, a zero test and a
// choice of side by sign; no bucket buffer written and read back.
func foldPositive(sks []*Sketch, gi []int32, xs []float64) {
	xs = xs[:len(gi)]
	tab := bitsTable
	pl, ps := posLo, posSpan
	for i, g := range gi {
		x := xs[i]
		b := math.Float64bits(x)
		if b-pl >= ps {
			if x == x {
				sks[g].Add(x)
			}
			continue
		}
		var k int32
		if j := uint(b>>bitsShift) - bitsBase; j < uint(len(tab)) {
			e := tab[j]
			q := b >> bitsQ & (1<<(bitsShift-bitsQ) - 1)
			if lo, hi := e>>16&(1<<24-1), e>>40; q-lo > hi-lo {
				k = int32(int16(e)) + int32(b2i(q > hi))
			} else {
				k = bucketOf(x)
			}
		} else {
			k = bucketOf(x)
		}
		s := sks[g]
		s.Count++
		s.Sum += x
		if x < s.Min {
			s.Min = x
		}
		if x > s.Max {
			s.Max = x
		}
		if p := &s.side[0]; uint(int(k)-int(p.lo)) < uint(len(p.counts)) {
			p.counts[int(k)-int(p.lo)]++
		} else {
			s.addFar(x, k)
		}
	}
}

// foldValues is Sketch.addBucketed of xs[i] (bucket ks[i]) into
// sks[gi[i]] for every row whose value is not NaN, in row order,
// written out rather than called (not inlined, and the calls cost as
// much as the updates).
func foldValues(sks []*Sketch, gi []int32, xs []float64, ks []int32) {
	xs, ks = xs[:len(gi)], ks[:len(gi)]
	for i, g := range gi {
		x := xs[i]
		if x != x {
			continue
		}
		s := sks[g]
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
			continue
		}
		k := ks[i]
		if b := &s.side[math.Float64bits(x)>>63]; uint(int(k)-int(b.lo)) < uint(len(b.counts)) {
			b.counts[int(k)-int(b.lo)]++
		} else {
			s.addFar(x, k)
		}
	}
}

// foldSketches adds xs[i] to the sketch of row i's group, sketch(acc),
// for every row where xs[i] is not NaN, nor guard[i] if guard is not
// nil: the paired scores' fold (a pair's three sketches are made
// together, which foldBlocks' fresh sketches do not do). A kind's
// sketches are folded one column at a time, each in row order, so every
// sketch sees its values in the order it always did (sums are
// bit-identical): the rows the guard rules out are masked to NaN, the
// bucket indexes of the whole column found (bucketIndexes), the sketch
// of every group with a value made, then foldValues applies the rows.
func foldSketches(as *accSet, xs, guard []float64, sketch func(*Acc) *Sketch) {
	n := len(as.gi)
	xs = xs[:n]
	if guard != nil {
		fb := getFloatBuf(n)
		defer floatPool.Put(fb)
		masked := (*fb)[:n]
		nan := math.NaN()
		for i, x := range xs {
			if g := guard[i]; g != g {
				x = nan
			}
			masked[i] = x
		}
		xs = masked
	}
	kb := getBucketBuf(n)
	defer bucketPool.Put(kb)
	ks := (*kb)[:n]
	bucketIndexes(ks, xs)
	sp := getSketchBuf(len(as.groups))
	defer sketchPool.Put(sp)
	sks := *sp
	for i, g := range as.gi {
		if x := xs[i]; sks[g] == nil && x == x {
			sks[g] = sketch(as.group(g))
		}
	}
	foldValues(sks, as.gi, xs, ks)
	clear(sks) // pooled clean
}

// Per-batch scratch of the folds, recycled: bucket indexes, paired
// differences, each group's sketch (all nil between uses), and
// foldBlocks' fresh sketches that no value reached.
var (
	bucketPool = sync.Pool{New: func() any { return new([]int32) }}
	floatPool  = sync.Pool{New: func() any { return new([]float64) }}
	sketchPool = sync.Pool{New: func() any { return new([]*Sketch) }}
	freshPool  = sync.Pool{New: func() any { return NewSketch() }} // empty sketches
)

func getBucketBuf(n int) *[]int32 { return poolBuf[int32](&bucketPool, n) }

func getFloatBuf(n int) *[]float64 { return poolBuf[float64](&floatPool, n) }

func getSketchBuf(n int) *[]*Sketch { return poolBuf[*Sketch](&sketchPool, n) }

func poolBuf[T any](p *sync.Pool, n int) *[]T {
	b := p.Get().(*[]T)
	if cap(*b) < n {
		*b = make([]T, n)
	}
	*b = (*b)[:n]
	return b
}

// systemSlot is where the sketch of one system's values (0 legacy, 1
// AI) is held.
func (a *Acc) systemSlot(system int) **Sketch {
	if system == 1 {
		return &a.AI
	}
	return &a.Legacy
}
