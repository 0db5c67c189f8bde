package eval

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/parity-eval/parity/datasets"
)

// gatherSimple is the plain form gatherBufs.gather must match: one fresh
// column, every slice copied element by element.
func gatherSimple(c *datasets.Column, idx []int32) *datasets.Column {
	out := &datasets.Column{Name: c.Name, Kind: c.Kind, Dict: c.Dict, DictRepeats: c.DictRepeats}
	pick := func(n int, f func(i, j int)) {
		for i, j := range idx {
			f(i, int(j))
		}
	}
	if c.Null != nil {
		out.Null = make([]bool, len(idx))
		pick(len(idx), func(i, j int) { out.Null[i] = c.Null[j] })
	}
	switch c.Kind {
	case datasets.KindString:
		out.Codes = make([]int32, len(idx))
		pick(len(idx), func(i, j int) { out.Codes[i] = c.Codes[j] })
	case datasets.KindFloat64:
		out.Float = make([]float64, len(idx))
		pick(len(idx), func(i, j int) { out.Float[i] = c.Float[j] })
	case datasets.KindInt64, datasets.KindTimestamp:
		out.Int = make([]int64, len(idx))
		pick(len(idx), func(i, j int) { out.Int[i] = c.Int[j] })
	case datasets.KindBool:
		out.Bool = make([]bool, len(idx))
		pick(len(idx), func(i, j int) { out.Bool[i] = c.Bool[j] })
	}
	return out
}

// gatherBatch is a row group of rows rows: string, float, int, timestamp
// and bool columns, some with nulls, and the rows of nfeat features
// spread over it at random (as a shadow log interleaves features).
func gatherBatch(r *rand.Rand, rows, nfeat int) ([]*datasets.Column, [][]int32) {
	dict := []string{"a", "b", "c", "d"}
	var cols []*datasets.Column
	add := func(c *datasets.Column, nulls bool) {
		if nulls {
			c.Null = make([]bool, rows)
			for i := range c.Null {
				c.Null[i] = r.IntN(5) == 0
			}
		}
		cols = append(cols, c)
	}
	for k := range 5 {
		c := &datasets.Column{Name: "s", Kind: datasets.KindString, Dict: dict, Codes: make([]int32, rows)}
		for i := range c.Codes {
			c.Codes[i] = r.Int32N(int32(len(dict)))
		}
		add(c, k == 2)
	}
	for k := range 2 {
		c := &datasets.Column{Name: "f", Kind: datasets.KindFloat64, Float: make([]float64, rows)}
		for i := range c.Float {
			c.Float[i] = r.Float64()
		}
		add(c, k == 1)
	}
	for _, kind := range []datasets.Kind{datasets.KindInt64, datasets.KindTimestamp} {
		c := &datasets.Column{Name: "i", Kind: kind, Int: make([]int64, rows)}
		for i := range c.Int {
			c.Int[i] = r.Int64()
		}
		add(c, false)
	}
	c := &datasets.Column{Name: "b", Kind: datasets.KindBool, Bool: make([]bool, rows)}
	for i := range c.Bool {
		c.Bool[i] = r.IntN(2) == 0
	}
	add(c, true)
	idx := make([][]int32, nfeat)
	for i := range rows {
		f := r.IntN(nfeat)
		idx[f] = append(idx[f], int32(i))
	}
	return cols, idx
}

// TestGatherMatchesSimple holds gatherBufs.gather, with its buffers
// recycled across features and batches of different sizes, to the plain
// copy.
func TestGatherMatchesSimple(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var g gatherBufs
	for _, rows := range []int{0, 1, 7, 8, 9, 33, 1000, 4096, 100, 5000} {
		for _, nfeat := range []int{1, 3} {
			cols, idx := gatherBatch(r, rows, nfeat)
			for _, ix := range idx {
				if len(ix) == 0 {
					continue // scoreFeature gathers no feature without rows
				}
				got := g.gather(cols, ix)
				for k, c := range cols {
					want := gatherSimple(c, ix)
					if !sameColumn(got[k], want) {
						t.Fatalf("rows %d, features %d: column %d (%v) gathered differently", rows, nfeat, k, c.Kind)
					}
				}
			}
		}
	}
}

func sameColumn(a, b *datasets.Column) bool {
	return a.Name == b.Name && a.Kind == b.Kind && slices.Equal(a.Dict, b.Dict) && a.DictRepeats == b.DictRepeats &&
		(a.Null == nil) == (b.Null == nil) && slices.Equal(a.Null, b.Null) &&
		slices.Equal(a.Codes, b.Codes) && slices.Equal(a.Float, b.Float) &&
		slices.Equal(a.Int, b.Int) && slices.Equal(a.Bool, b.Bool)
}

// BenchmarkGather gathers every column of a 128Ki-row row group (the
// bench log's row group size) for each of three interleaved features.
func BenchmarkGather(b *testing.B) {
	const rows = 128 << 10
	cols, idx := gatherBatch(rand.New(rand.NewPCG(1, 2)), rows, 3)
	var g gatherBufs
	b.ReportAllocs()
	for b.Loop() {
		for _, ix := range idx {
			g.gather(cols, ix)
		}
	}
	b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
}

// present is row i's presence as a PresenceOnly reader sees it: neither
// null nor empty.
func present(c *datasets.Column, i int) bool {
	return !c.IsNull(i) && c.Dict[c.Codes[i]] != ""
}

// TestGatherPresenceMatchesSimple holds gatherPresence to the plain copy:
// every column not read for presence alone gathered as gatherSimple
// does, a presence-only one with each row's presence (strings) or null
// flags (other kinds) the same, over the forms a string column read for
// presence takes (NoEmpty, PresenceDict codes with and without an empty
// row, nulls, a small Dict holding "", a large Dict not marked), for
// random rows and for contiguous ranges (resliced, not copied), with
// buffers recycled across batches whose columns are reused and changed
// (the per-batch memo is forgotten by batch).
func TestGatherPresenceMatchesSimple(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var g gatherBufs
	for round, rows := range []int{1, 2, 9, 1000, 4096, 33, 5000} {
		cols, _ := gatherBatch(r, rows, 1)
		str := func(name string, dict []string, null, noEmpty bool, code func(i int) int32) {
			c := &datasets.Column{Name: name, Kind: datasets.KindString, Dict: dict, Codes: make([]int32, rows), NoEmpty: noEmpty}
			for i := range c.Codes {
				c.Codes[i] = code(i)
			}
			if null {
				c.Null = make([]bool, rows)
				c.Null[r.IntN(rows)] = true
			}
			cols = append(cols, c)
		}
		many := make([]string, 40)
		for i := range many {
			many[i] = "id" + string(rune('a'+i))
		}
		one := func(int) int32 { return 1 }
		str("p-noempty", []string{"x", "y"}, false, true, func(i int) int32 { return int32(i % 2) })
		str("p-ones", datasets.PresenceDict[:], false, false, one)
		str("p-onezero", datasets.PresenceDict[:], false, false, func(i int) int32 { return int32(b2i(i != rows/2)) })
		str("p-null", datasets.PresenceDict[:], true, false, one)
		str("p-dictempty", []string{"a", "", "b"}, false, false, func(i int) int32 { return int32(2 * (i % 2)) })
		str("p-dictempty-hit", []string{"a", "", "b"}, false, false, func(i int) int32 { return int32(i % 3) })
		str("p-twoempty", []string{"", "a", ""}, false, false, one)
		str("p-large", many, false, false, func(i int) int32 { return int32(i % len(many)) })
		presence := map[string]bool{"f": true, "b": true}
		for _, c := range cols {
			if len(c.Name) > 2 && c.Name[:2] == "p-" {
				presence[c.Name] = true
			}
		}
		for pass := range 2 {
			g.batch()
			if pass == 1 {
				// The next batch reuses the columns with other values.
				for _, c := range cols {
					if c.Name == "p-ones" {
						c.Codes[rows-1] = 0
					}
				}
			}
			var idxs [][]int32
			for _, lo := range []int{0, rows / 3} {
				for _, n := range []int{1, rows - lo} {
					if n < 1 || lo+n > rows {
						continue
					}
					ix := make([]int32, n)
					for i := range ix {
						ix[i] = int32(lo + i)
					}
					idxs = append(idxs, ix)
				}
			}
			var ix []int32
			for i := range rows {
				if r.IntN(3) > 0 {
					ix = append(ix, int32(i))
				}
			}
			if len(ix) > 0 {
				idxs = append(idxs, ix)
			}
			for _, ix := range idxs {
				got := g.gatherPresence(cols, ix, presence)
				for k, c := range cols {
					want := gatherSimple(c, ix)
					o := got[k]
					switch {
					case !presence[c.Name]:
						if !sameColumn(o, want) {
							t.Fatalf("round %d: column %d (%v) gathered differently", round, k, c.Kind)
						}
					case c.Kind == datasets.KindString:
						if o.Len() != len(ix) {
							t.Fatalf("round %d: %s: %d rows, want %d", round, c.Name, o.Len(), len(ix))
						}
						for i := range ix {
							if present(o, i) != present(want, i) {
								t.Fatalf("round %d pass %d: %s row %d: present %v, want %v", round, pass, c.Name, i, present(o, i), present(want, i))
							}
						}
						if o.NoEmpty && slices.Contains(o.Dict, "") {
							t.Fatalf("round %d: %s: NoEmpty with an empty Dict entry", round, c.Name)
						}
					default:
						for i := range ix {
							if o.IsNull(i) != want.IsNull(i) {
								t.Fatalf("round %d: %s row %d: null %v, want %v", round, c.Name, i, o.IsNull(i), want.IsNull(i))
							}
						}
					}
				}
			}
		}
	}
}

// TestGatherContiguousShares checks that a contiguous range of rows is
// resliced, not copied, and that a non-contiguous one is copied.
func TestGatherContiguousShares(t *testing.T) {
	cols, _ := gatherBatch(rand.New(rand.NewPCG(5, 6)), 100, 1)
	var g gatherBufs
	got := g.gather(cols, []int32{10, 11, 12})
	if &got[0].Codes[0] != &cols[0].Codes[10] || len(got[0].Codes) != 3 || cap(got[0].Codes) != 3 {
		t.Errorf("contiguous rows copied, or resliced with room to grow into the batch")
	}
	got = g.gather(cols, []int32{10, 12, 13})
	if &got[0].Codes[0] == &cols[0].Codes[10] {
		t.Errorf("rows with a gap shared")
	}
}
