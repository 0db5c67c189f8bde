package eval

import (
	"github.com/parity-eval/parity/datasets"
)

// gatherBufs recycles one worker's gathered columns. A feature's gathered
// columns live only while that feature's scorers run on one batch (scorers
// must not keep an Input's slices after Score returns, docs/scorers.md), so
// the next feature and the next batch reuse the same slices. Gathering had
// been a quarter of the scan's allocation, and allocation is GC work.
type gatherBufs struct {
	codes  [][]int32
	floats [][]float64
	ints   [][]int64
	bools  [][]bool
	used   [4]int // slices of each list handed out by this gather

	// The copies of one gather, queued by element type so that two
	// columns of a type are copied per pass.
	pcodes  copyQueue[int32]
	pfloats copyQueue[float64]
	pints   copyQueue[int64]
	pbools  copyQueue[bool]

	// present memoises, for the batch being scored, which presence-only
	// string columns hold a non-empty value in every row (allPresent):
	// every feature is handed ones, not a copy of its rows' codes.
	present []presentMemo
	ones    []int32 // PresenceDict's "present" code, never written after filling
}

type presentMemo struct {
	c  *datasets.Column
	ok bool
}

// batch forgets the previous batch's columns; Workers.Batch calls it
// before gathering the features of a new batch.
func (g *gatherBufs) batch() {
	clear(g.present)
	g.present = g.present[:0]
}

// take returns a slice of n from list, reusing the next free one.
func take[T any](list *[][]T, used *int, n int) []T {
	if *used == len(*list) {
		*list = append(*list, nil)
	}
	s := (*list)[*used]
	if cap(s) < n {
		s = make([]T, n)
		(*list)[*used] = s
	}
	*used++
	return s[:n]
}

// gather returns the rows idx of each column, in the recycled buffers:
// they stay valid until the next gather, which overwrites them.
func (g *gatherBufs) gather(cols []*datasets.Column, idx []int32) []*datasets.Column {
	return g.gatherPresence(cols, idx, nil)
}

// gatherPresence is gather, except for a column named in presence
// (every reader of it asks only whether each value is null or empty,
// scorers.Need.PresenceOnly). One whose values are not strings gets its
// null flags alone, no values: the timestamp, which the audit reads for
// presence, had been copied per feature only for that. A string column
// with a non-empty value in every row of the batch (the request id, a
// hash whose presence the footer proved) becomes the decoder's form of
// such a column, PresenceDict codes, here all "present" from a buffer
// filled once per worker, instead of a copy of its codes per feature.
//
// Rows that are one contiguous range of the batch (a row group of one
// feature with rows dropped at either end) are not copied at all: each
// column is resliced.
func (g *gatherBufs) gatherPresence(cols []*datasets.Column, idx []int32, presence map[string]bool) []*datasets.Column {
	g.used = [4]int{}
	out := make([]*datasets.Column, len(cols))
	if n := len(idx); n > 0 && int(idx[n-1]-idx[0]) == n-1 {
		// idx is increasing, so it is the range [idx[0], idx[0]+n).
		for i, c := range cols {
			out[i] = slice(c, int(idx[0]), n)
		}
		return out
	}
	for i, c := range cols {
		if presence[c.Name] {
			if c.Kind != datasets.KindString {
				o := &datasets.Column{Name: c.Name, Kind: c.Kind}
				if c.Null != nil {
					o.Null = g.pbools.add(take(&g.bools, &g.used[3], len(idx)), c.Null)
				}
				out[i] = o
				continue
			}
			if g.allPresent(c) {
				out[i] = &datasets.Column{Name: c.Name, Kind: c.Kind, Dict: datasets.PresenceDict[:], Codes: g.onesOf(len(idx))}
				continue
			}
		}
		out[i] = g.queue(c, idx)
	}
	g.pcodes.run(idx)
	g.pfloats.run(idx)
	g.pints.run(idx)
	g.pbools.run(idx)
	return out
}

// allPresent reports whether string column c holds a non-empty value in
// every row of the batch, memoised per batch (its features share it).
func (g *gatherBufs) allPresent(c *datasets.Column) bool {
	for _, m := range g.present {
		if m.c == c {
			return m.ok
		}
	}
	ok := everyPresent(c)
	g.present = append(g.present, presentMemo{c, ok})
	return ok
}

// everyPresent reports whether string column c has no null and no empty
// value: the decoder saw none (NoEmpty), or a small Dict's one empty
// entry (PresenceDict's code 0) is no row's code. A large Dict not known
// to be free of "" answers false, and the column is copied as before.
func everyPresent(c *datasets.Column) bool {
	if c.Null != nil {
		return false
	}
	if c.NoEmpty {
		return true
	}
	if len(c.Dict) > 16 {
		return false
	}
	empty := int32(-1)
	for k, s := range c.Dict {
		if s == "" {
			if empty >= 0 {
				return false // two empty entries (DictRepeats): not worth a second scan
			}
			empty = int32(k)
		}
	}
	if empty < 0 {
		return true
	}
	// One pass with no early exit, so the compiler keeps it branch-free.
	var hit int64
	for _, code := range c.Codes {
		hit |= b2i(code == empty)
	}
	return hit == 0
}

// onesOf returns n codes of 1 ("present" in PresenceDict). The buffer is
// only grown and refilled, never handed out for writing, so it is filled
// once per worker rather than per batch.
func (g *gatherBufs) onesOf(n int) []int32 {
	if len(g.ones) < n {
		g.ones = make([]int32, max(n, 2*len(g.ones)))
		for i := range g.ones {
			g.ones[i] = 1
		}
	}
	return g.ones[:n:n]
}

// slice returns rows [lo, lo+n) of c, sharing its slices.
func slice(c *datasets.Column, lo, n int) *datasets.Column {
	out := *c
	hi := lo + n
	if c.Null != nil {
		out.Null = c.Null[lo:hi:hi]
	}
	switch c.Kind {
	case datasets.KindString:
		out.Codes = c.Codes[lo:hi:hi]
	case datasets.KindFloat64:
		out.Float = c.Float[lo:hi:hi]
	case datasets.KindInt64, datasets.KindTimestamp:
		out.Int = c.Int[lo:hi:hi]
	case datasets.KindBool:
		out.Bool = c.Bool[lo:hi:hi]
	}
	return &out
}

// queue returns c's gathered column with its buffers taken and its copies
// queued, not yet made.
func (g *gatherBufs) queue(c *datasets.Column, idx []int32) *datasets.Column {
	out := &datasets.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict, DictRepeats: c.DictRepeats, NoEmpty: c.NoEmpty}
	if c.Null != nil {
		out.Null = g.pbools.add(take(&g.bools, &g.used[3], len(idx)), c.Null)
	}
	switch c.Kind {
	case datasets.KindString:
		out.Codes = g.pcodes.add(take(&g.codes, &g.used[0], len(idx)), c.Codes)
	case datasets.KindFloat64:
		out.Float = g.pfloats.add(take(&g.floats, &g.used[1], len(idx)), c.Float)
	case datasets.KindInt64, datasets.KindTimestamp:
		out.Int = g.pints.add(take(&g.ints, &g.used[2], len(idx)), c.Int)
	case datasets.KindBool:
		out.Bool = g.pbools.add(take(&g.bools, &g.used[3], len(idx)), c.Bool)
	}
	return out
}

// copyQueue holds copies of one element type to make, dst[k] from src[k].
type copyQueue[T any] struct{ dst, src [][]T }

func (p *copyQueue[T]) add(dst, src []T) []T {
	p.dst, p.src = append(p.dst, dst), append(p.src, src)
	return dst
}

// run makes the copies two columns per pass: a pass is bound by its
// loads and stores, and a pair shares each row's index load (a quarter
// faster than one column at a time).
func (p *copyQueue[T]) run(idx []int32) {
	k := 0
	for ; k+2 <= len(p.dst); k += 2 {
		gatherInto2(p.dst[k], p.dst[k+1], p.src[k], p.src[k+1], idx)
	}
	if k < len(p.dst) {
		gatherInto(p.dst[k], p.src[k], idx)
	}
	clear(p.dst) // drop the batch's columns for the GC
	clear(p.src)
	p.dst, p.src = p.dst[:0], p.src[:0]
}

// gatherInto2 is gatherInto for two columns at once.
func gatherInto2[T any](d0, d1, s0, s1 []T, idx []int32) {
	d0, d1 = d0[:len(idx)], d1[:len(idx)]
	i := 0
	for ; i+4 <= len(idx); i += 4 {
		s := idx[i : i+4 : i+4]
		a, b := d0[i:i+4:i+4], d1[i:i+4:i+4]
		a[0], b[0] = s0[s[0]], s1[s[0]]
		a[1], b[1] = s0[s[1]], s1[s[1]]
		a[2], b[2] = s0[s[2]], s1[s[2]]
		a[3], b[3] = s0[s[3]], s1[s[3]]
	}
	for ; i < len(idx); i++ {
		d0[i], d1[i] = s0[idx[i]], s1[idx[i]]
	}
}

// gatherInto sets dst[i] = src[idx[i]] for every i, dst being of
// len(idx). Hand-unrolled by eight, with dst and idx resliced to each
// block's fixed length so the compiler drops their bounds checks and
// only src's remain: the plain loop was about a third slower on a row
// group, and it runs per column per feature (TestGatherMatchesSimple
// holds it to the plain copy).
func gatherInto[T any](dst, src []T, idx []int32) []T {
	dst = dst[:len(idx)]
	i := 0
	for ; i+8 <= len(idx); i += 8 {
		s := idx[i : i+8 : i+8]
		d := dst[i : i+8 : i+8]
		d[0] = src[s[0]]
		d[1] = src[s[1]]
		d[2] = src[s[2]]
		d[3] = src[s[3]]
		d[4] = src[s[4]]
		d[5] = src[s[5]]
		d[6] = src[s[6]]
		d[7] = src[s[7]]
	}
	for ; i < len(idx); i++ {
		dst[i] = src[idx[i]]
	}
	return dst
}
