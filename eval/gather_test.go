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
