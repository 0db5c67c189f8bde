package stats

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
)

// Weighted is a sample given as values X with integer repeat counts W, as
// produced by the engine's log-bucket histograms (value = bucket
// representative, count = observations). W == nil means every count is 1.
// Equal values are ties. Every function here treats a Weighted sample
// exactly as the expanded sample with X[i] repeated W[i] times.
type Weighted struct {
	X []float64
	W []float64
}

// Unweighted wraps raw observations.
func Unweighted(x []float64) Weighted { return Weighted{X: x} }

// wsample is a cleaned sample: distinct finite values in ascending order
// with positive integer counts.
type wsample struct {
	x []float64
	w []int64
	n int64
}

// prepare sorts, merges equal values and drops what cannot be used,
// reporting each problem as a warning rather than failing.
func (s Weighted) prepare() (wsample, []string) {
	if ws, ok := s.prepareClean(); ok {
		return ws, nil
	}
	return s.prepareGeneral()
}

// prepareGeneral is prepare for any sample.
func (s Weighted) prepareGeneral() (wsample, []string) {
	var warns []string
	if s.W != nil && len(s.W) != len(s.X) {
		warns = append(warns, "len(W) != len(X): weights ignored")
		s.W = nil
	}
	type pt struct {
		x float64
		w int64
	}
	pts := make([]pt, 0, len(s.X))
	var dropped, rounded int
	for i, x := range s.X {
		w := 1.0
		if s.W != nil {
			w = s.W[i]
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(w) || w < 0 {
			dropped++
			continue
		}
		if w != math.Trunc(w) {
			rounded++
			w = math.Round(w)
		}
		if w == 0 {
			continue
		}
		pts = append(pts, pt{x, int64(w)})
	}
	if dropped > 0 {
		warns = append(warns, strconv.Itoa(dropped)+" entries dropped (non-finite value or invalid weight)")
	}
	if rounded > 0 {
		warns = append(warns, strconv.Itoa(rounded)+" non-integer weights rounded to counts")
	}
	// Histograms arrive in value order, so the sort is mostly a check.
	if byX := func(a, b pt) int { return cmp.Compare(a.x, b.x) }; !slices.IsSortedFunc(pts, byX) {
		slices.SortFunc(pts, byX)
	}
	out := wsample{x: make([]float64, 0, len(pts)), w: make([]int64, 0, len(pts))}
	for _, p := range pts {
		if k := len(out.x); k > 0 && out.x[k-1] == p.x {
			out.w[k-1] += p.w
		} else {
			out.x = append(out.x, p.x)
			out.w = append(out.w, p.w)
		}
		out.n += p.w
	}
	return out, warns
}

// prepareClean is prepare for what the engine's histograms give: finite
// values strictly ascending, positive integer counts. Such a sample is
// already clean, so its values are used as they are (read, never
// written) and only the counts are converted, one pass and one
// allocation instead of prepare's copy, sort check and merge; prepare
// gives the same sample for it (TestPrepareClean). ok is false, having
// built nothing, for any other sample.
func (s Weighted) prepareClean() (ws wsample, ok bool) {
	if s.W == nil || len(s.W) != len(s.X) {
		return wsample{}, false
	}
	w := make([]int64, len(s.X))
	var n int64
	prev := math.Inf(-1)
	for i, x := range s.X {
		c := s.W[i]
		// !(c >= 1) is also true for NaN; x > prev fails for NaN and
		// -Inf, and +Inf is checked on the last value below.
		if !(x > prev) || !(c >= 1) || c != math.Trunc(c) || c > 1<<62 {
			return wsample{}, false
		}
		prev = x
		w[i] = int64(c)
		n += w[i]
	}
	if math.IsInf(prev, 1) {
		return wsample{}, false
	}
	return wsample{x: s.X, w: w, n: n}, true
}

// at returns the value of 0-based rank r in the expanded sample.
func (s wsample) at(r int64) float64 {
	var cum int64
	for i, w := range s.w {
		cum += w
		if r < cum {
			return s.x[i]
		}
	}
	return s.x[len(s.x)-1]
}

// hasTies reports whether any value occurs more than once.
func (s wsample) hasTies() bool {
	for _, w := range s.w {
		if w > 1 {
			return true
		}
	}
	return false
}

// pairSpace is the multiset of pairwise values f(x_i, y_j) of two weighted
// samples — Walsh averages (x_i + x_j)/2 over i <= j for one sample, or
// differences y_j − x_i for two — without materializing it. For fixed i,
// f is non-decreasing in j (floating-point rounding is monotone), so the
// weighted count of values <= t is one binary search per row.
type pairSpace struct {
	x, y   []float64
	wx, wy []int64
	cumY   []int64 // cumY[j] = Σ_{l<j} wy[l]
	walsh  bool
	total  int64
	// Scratch of kth and selectIn, kept for the next selection: an
	// estimate and its interval select three or four times from one
	// pair space.
	scratch []int
	items   []weightedValue
	// kth's pivot stream, reseeded for each selection rather than
	// allocated again.
	pcg *rand.PCG
	rng *rand.Rand
}

func newWalsh(s wsample) *pairSpace {
	p := &pairSpace{x: s.x, y: s.x, wx: s.w, wy: s.w, walsh: true}
	p.init()
	// n(n+1)/2 Walsh averages for n expanded observations.
	p.total = s.n * (s.n + 1) / 2
	return p
}

func newDiffs(a, b wsample) *pairSpace {
	p := &pairSpace{x: a.x, y: b.x, wx: a.w, wy: b.w}
	p.init()
	p.total = a.n * b.n
	return p
}

func (p *pairSpace) init() {
	p.cumY = make([]int64, len(p.y)+1)
	for j, w := range p.wy {
		p.cumY[j+1] = p.cumY[j] + w
	}
}

func (p *pairSpace) f(i, j int) float64 {
	if p.walsh {
		return (p.x[i] + p.y[j]) / 2
	}
	return p.y[j] - p.x[i]
}

func (p *pairSpace) jmin(i int) int {
	if p.walsh {
		return i
	}
	return 0
}

// ends fills e[i] with the first j >= jmin(i) having f(i, j) > t, for every
// row, by a two-pointer sweep: for Walsh averages the end is non-increasing
// in i (clamped at i), for differences y_j − x_i it is non-decreasing, so
// one pass costs O(m).
func (p *pairSpace) ends(t float64, e []int) {
	ny := len(p.y)
	if p.walsh {
		k := ny
		for i := range p.x {
			for k > i && p.f(i, k-1) > t {
				k--
			}
			e[i] = max(k, i)
		}
		return
	}
	k := 0
	for i := range p.x {
		for k < ny && p.f(i, k) <= t {
			k++
		}
		e[i] = k
	}
}

// rowWeight is the expanded count of pairs (i, j) for j in [jmin(i), e).
func (p *pairSpace) rowWeight(i, e int) int64 {
	if !p.walsh {
		return p.wx[i] * p.cumY[e]
	}
	if e <= i {
		return 0
	}
	w := p.wx[i]
	// Within one distinct value, w copies give w(w+1)/2 Walsh pairs (i <= j).
	return w*(w+1)/2 + w*(p.cumY[e]-p.cumY[i+1])
}

// count returns the expanded and distinct numbers of pair values <= t and
// leaves the per-row ends in e.
func (p *pairSpace) count(t float64, e []int) (weighted int64, distinct int64) {
	p.ends(t, e)
	for i := range p.x {
		weighted += p.rowWeight(i, e[i])
		distinct += int64(e[i] - p.jmin(i))
	}
	return weighted, distinct
}

func (p *pairSpace) bounds() (lo, hi float64) {
	if p.walsh {
		return p.f(0, 0), p.f(len(p.x)-1, len(p.x)-1)
	}
	return p.f(len(p.x)-1, 0), p.f(0, len(p.y)-1)
}

// kth returns the k-th smallest (1-based) pair value.
//
// Method: randomized selection in the implicit sorted matrix, after
// Monahan (1984, ACM TOMS 10:265, Algorithm 616, "Fast computation of the
// Hodges–Lehmann location estimator"): keep a bracket of pairs known to
// contain the answer, as each row's index range [eLo, eHi); pick a pivot
// uniformly among the distinct pairs in the bracket, count the pairs <=
// pivot in O(m), and keep the side holding rank k. Once few distinct
// pairs remain they are enumerated and sorted. Expected O(m log m) time
// and O(m) memory for m distinct values, however large the counts, so
// histogram input is never expanded. The pivot stream has a fixed seed,
// so results are deterministic.
func (p *pairSpace) kth(k int64) float64 {
	m := len(p.x)
	_, hi := p.bounds()
	if len(p.scratch) < 3*m {
		p.scratch = make([]int, 3*m)
	}
	eLo, eHi, eMid := p.scratch[:m:m], p.scratch[m:2*m:2*m], p.scratch[2*m:3*m]
	for i := range eLo {
		eLo[i] = p.jmin(i)
	}
	loW, loD := int64(0), int64(0)
	_, hiD := p.count(hi, eHi)
	limit := int64(m + 1024)
	if p.pcg == nil {
		p.pcg = rand.NewPCG(0, 0)
		p.rng = rand.New(p.pcg)
	}
	p.pcg.Seed(0x9e3779b97f4a7c15, uint64(k))
	rng := p.rng
	for {
		if hiD-loD <= limit {
			return p.selectIn(eLo, eHi, k-loW, rng)
		}
		// Pivot: the r-th distinct pair in the bracket, row by row.
		r := rng.Int64N(hiD - loD)
		var v float64
		for i := range m {
			if n := int64(eHi[i] - eLo[i]); r < n {
				v = p.f(i, eLo[i]+int(r))
				break
			} else {
				r -= n
			}
		}
		if v >= hi {
			// Pivot ties with the top of the bracket: either the answer is
			// hi, or every pair equal to hi can be dropped.
			below := math.Nextafter(hi, math.Inf(-1))
			w, d := p.count(below, eMid)
			if w < k {
				return hi
			}
			hi, hiD = below, d
			eHi, eMid = eMid, eHi
			continue
		}
		w, d := p.count(v, eMid)
		if w >= k {
			hi, hiD = v, d
			eHi, eMid = eMid, eHi
		} else {
			loW, loD = w, d
			eLo, eMid = eMid, eLo
		}
	}
}

// selectIn enumerates the pairs between the row ends eLo and eHi and
// returns the value at which their cumulative expanded count, in value
// order, reaches k.
func (p *pairSpace) selectIn(eLo, eHi []int, k int64, rng *rand.Rand) float64 {
	n := 0
	for i := range eLo {
		n += max(eHi[i]-eLo[i], 0)
	}
	if cap(p.items) < n {
		p.items = make([]weightedValue, 0, n)
	}
	items := p.items[:0]
	for i := range p.x {
		for j := eLo[i]; j < eHi[i]; j++ {
			var w int64
			switch {
			case !p.walsh:
				w = p.wx[i] * p.wy[j]
			case j == i:
				w = p.wx[i] * (p.wx[i] + 1) / 2
			default:
				w = p.wx[i] * p.wy[j]
			}
			items = append(items, weightedValue{p.f(i, j), w})
		}
	}
	return selectWeighted(items, k, rng)
}

// weightedValue is a value and its expanded count.
type weightedValue struct {
	v float64
	w int64
}

// selectWeighted returns the value at which the cumulative count of
// items, in value order, reaches k (1 <= k <= the items' total count),
// reordering items. Values must not be NaN.
//
// Hand-written (no library selects by weight): quickselect with a
// three-way partition around a random pivot, expected O(len(items)).
// Sorting the items first gave the same value, but the sort was most of
// a Hodges-Lehmann estimate's time, and that estimate runs for every
// numeric metric of every class of every window (TestPairSpaceKth and
// TestSelectWeighted hold it to sorting). The value found does not
// depend on the pivots, so the results are deterministic.
func selectWeighted(items []weightedValue, k int64, rng *rand.Rand) float64 {
	for len(items) > 0 {
		pivot := items[rng.IntN(len(items))].v
		// items[:lt] < pivot, items[lt:i] == pivot, items[gt:] > pivot.
		lt, i, gt := 0, 0, len(items)
		var below, equal int64
		for i < gt {
			switch it := items[i]; {
			case it.v < pivot:
				items[lt], items[i] = it, items[lt]
				below += it.w
				lt++
				i++
			case it.v > pivot:
				gt--
				items[i], items[gt] = items[gt], it
			default:
				equal += it.w
				i++
			}
		}
		switch {
		case k <= below:
			items = items[:lt]
		case k <= below+equal:
			return pivot
		default:
			k -= below + equal
			items = items[gt:]
		}
	}
	return math.NaN() // unreachable when 1 <= k <= total
}

// median of the pair values: the middle one, or the mean of the two middle
// ones when the count is even (numpy.median convention).
func (p *pairSpace) median() float64 {
	if p.total%2 == 1 {
		return p.kth((p.total + 1) / 2)
	}
	lo := p.kth(p.total / 2)
	return (lo + p.next(lo, p.total/2+1)) / 2
}

// next returns the k-th smallest pair value given v, the (k−1)-th: v
// again when more than k−1 pairs are <= v, else the smallest pair value
// above v, the least of each row's first value past v. One count instead
// of a second selection (TestPairSpaceNext holds it to kth).
func (p *pairSpace) next(v float64, k int64) float64 {
	m := len(p.x)
	if len(p.scratch) < m {
		p.scratch = make([]int, 3*m)
	}
	e := p.scratch[:m]
	if w, _ := p.count(v, e); w >= k {
		return v
	}
	out := math.Inf(1)
	for i, j := range e {
		if j < len(p.y) {
			out = min(out, p.f(i, j))
		}
	}
	return out
}

// prepareTwo prepares both samples of a two-sample test, carrying their
// warnings into r and setting r.N; ok is false (with a warning) when
// either sample is empty and there is no test.
func prepareTwo(a, b Weighted, r *Result) (sa, sb wsample, ok bool) {
	sa, wa := a.prepare()
	sb, wb := b.prepare()
	for _, w := range wa {
		r.warn("a: %s", w)
	}
	for _, w := range wb {
		r.warn("b: %s", w)
	}
	r.N = sa.n + sb.n
	if sa.n == 0 || sb.n == 0 {
		r.warn("empty sample (n_a=%d, n_b=%d): no test", sa.n, sb.n)
		return sa, sb, false
	}
	return sa, sb, true
}
