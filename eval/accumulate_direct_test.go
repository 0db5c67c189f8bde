package eval

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// TestDirectPerSystemMatchesScore holds foldPerSystemColumns to its
// simple form: PerSystemValue's Score on the gathered rows, then
// accumulate. Columns with and without null flags, absent, with NaN and
// ±Inf; every row, or a subset of the batch's rows.
func TestDirectPerSystemMatchesScore(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	s := &scorers.PerSystemValue{Metric: "latency_ms", LegacyCol: "l", AICol: "a"}
	for trial := range 200 {
		rows := []int{0, 1, 9, 200, 3000}[r.IntN(5)]
		b := &datasets.Batch{Rows: rows}
		for _, name := range []string{"l", "a"} {
			if r.IntN(6) == 0 {
				continue // absent
			}
			c := &datasets.Column{Name: name, Kind: datasets.KindFloat64, Float: make([]float64, rows)}
			for i := range c.Float {
				c.Float[i] = accValue(r, false)
			}
			if r.IntN(2) == 0 {
				c.Null = make([]bool, rows)
				for i := range c.Null {
					c.Null[i] = r.IntN(4) == 0
				}
			}
			b.Cols = append(b.Cols, c)
		}
		var idx []int32 // nil: every row
		n := rows
		if r.IntN(3) > 0 {
			idx = []int32{}
			for i := range rows {
				if r.IntN(3) > 0 {
					idx = append(idx, int32(i))
				}
			}
			n = len(idx)
		}
		ng := 1 + r.IntN(5)
		gi, got, want := randomGroups(r, n, ng)
		foldPerSystemColumns(s, b, idx, gi, got, make([]*Acc, ng))

		sub := b
		if idx != nil {
			var gb gatherBufs
			sub = &datasets.Batch{Rows: n, Cols: gb.gather(b.Cols, idx)}
		}
		o := scorers.NewOut(n)
		if err := s.Score(&scorers.Input{Rows: n, Batch: sub}, o); err != nil {
			t.Fatal(err)
		}
		accumulate(s, o, gi, want, make([]*Acc, ng))
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d, group %d:\n got %+v\nwant %+v", trial, g, got[g].Metrics[s.Metric], want[g].Metrics[s.Metric])
			}
		}
	}
}

// TestGatherFinite checks gatherFinite against its definition on values
// of every shape, with and without null flags and row indexes.
func TestGatherFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	const rows = 500
	c := &datasets.Column{Kind: datasets.KindFloat64, Float: make([]float64, rows), Null: make([]bool, rows)}
	for i := range rows {
		c.Float[i] = accValue(r, false)
		c.Null[i] = r.IntN(5) == 0
	}
	var idx []int32
	for i := range rows {
		if r.IntN(2) == 0 {
			idx = append(idx, int32(i))
		}
	}
	for _, nulls := range []bool{false, true} {
		col := *c
		if !nulls {
			col.Null = nil
		}
		for _, rs := range [][]int32{nil, idx} {
			n := rows
			if rs != nil {
				n = len(rs)
			}
			dst := make([]float64, n)
			gatherFinite(dst, &col, rs)
			for i, x := range dst {
				j := i
				if rs != nil {
					j = int(rs[i])
				}
				want := col.Float[j]
				if col.IsNull(j) || math.IsInf(want, 0) {
					want = math.NaN()
				}
				if math.Float64bits(x) != math.Float64bits(want) && !(math.IsNaN(x) && math.IsNaN(want)) {
					t.Fatalf("nulls %v, rows %v: dst[%d] = %v, want %v", nulls, rs != nil, i, x, want)
				}
			}
		}
	}
}

// TestDirectOverBoundMatchesRateCodes holds overBoundCodes, read from
// the batch's column through row indexes, to OverBound's RateCodes on
// the gathered rows (and so, by TestRateCodesMatchScore, to its Score):
// NaN, ±Inf, values at the bound, null flags or none, an absent column.
func TestDirectOverBoundMatchesRateCodes(t *testing.T) {
	r := rand.New(rand.NewPCG(49, 50))
	for trial := range 300 {
		rows := []int{0, 1, 9, 200, 3000}[r.IntN(5)]
		bound := []float64{0, 1, 2000, -1e300}[r.IntN(4)]
		s := &scorers.OverBound{Metric: "m", Column: "x", Bound: bound}
		b := &datasets.Batch{Rows: rows}
		if r.IntN(8) > 0 {
			c := &datasets.Column{Name: "x", Kind: datasets.KindFloat64, Float: make([]float64, rows)}
			for i := range c.Float {
				c.Float[i] = accValue(r, false)
				if r.IntN(10) == 0 {
					c.Float[i] = bound
				}
			}
			if r.IntN(2) == 0 {
				c.Null = make([]bool, rows)
				for i := range c.Null {
					c.Null[i] = r.IntN(4) == 0
				}
			}
			b.Cols = append(b.Cols, c)
		}
		var idx []int32
		n := rows
		if r.IntN(2) == 0 {
			idx = []int32{}
			for i := range rows {
				if r.IntN(3) > 0 {
					idx = append(idx, int32(i))
				}
			}
			n = len(idx)
		}
		got := overBoundCodes(make([]uint8, n), b.Col("x"), idx, bound)
		sub := b
		if idx != nil {
			var gb gatherBufs
			sub = &datasets.Batch{Rows: n, Cols: gb.gather(b.Cols, idx)}
		}
		want := s.RateCodes(&scorers.Input{Rows: n, Batch: sub}, make([]uint8, n))
		for i := range n {
			if got[i]&3 != want[i]&3 && !(got[i]&2 != 0 && want[i]&2 != 0) {
				t.Fatalf("trial %d, row %d: code %d, want %d", trial, i, got[i], want[i])
			}
		}
	}
}

// TestDirectCategoryMatchesScore holds the direct count of a
// CategoryValue's column (countCategoryCodes with the column's codes,
// null flags and dictionary, as scoreFeature does) to its Score and
// accumulate: nulls over arbitrary codes, "" and repeated dictionary
// values, few and many keys and groups.
func TestDirectCategoryMatchesScore(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	s := &scorers.CategoryValue{Metric: "output.category", Column: "c"}
	for trial := range 300 {
		n := []int{1, 9, 200, 3000}[r.IntN(4)]
		nk := 1 + r.IntN(8)
		if trial%5 == 0 {
			nk = 1 + r.IntN(3000) // the slot and row-by-row paths
		}
		dict := make([]string, nk)
		for k := range dict {
			switch {
			case r.IntN(8) == 0:
				dict[k] = ""
			case k > 0 && r.IntN(4) == 0:
				dict[k] = dict[r.IntN(k)]
			default:
				dict[k] = "v" + string(rune('a'+r.IntN(20)))
			}
		}
		c := &datasets.Column{Name: "c", Kind: datasets.KindString, Dict: dict, Codes: make([]int32, n)}
		for i := range c.Codes {
			c.Codes[i] = int32(r.IntN(nk))
		}
		if r.IntN(2) == 0 {
			c.Null = make([]bool, n)
			for i := range c.Null {
				if c.Null[i] = r.IntN(4) == 0; c.Null[i] && r.IntN(2) == 0 {
					c.Codes[i] = -7 // a null row's code is not read
				}
			}
		}
		ng := 1 + r.IntN(6)
		if trial%7 == 0 {
			ng = 300
		}
		gi, got, want := randomGroups(r, n, ng)
		countCategoryCodes(&accSet{name: s.Name(), gi: gi, groups: got, accs: make([]*Acc, ng)}, c.Codes, c.Null, c.Dict)
		o := scorers.NewOut(n)
		if err := s.Score(&scorers.Input{Rows: n, Batch: &datasets.Batch{Rows: n, Cols: []*datasets.Column{c}}}, o); err != nil {
			t.Fatal(err)
		}
		accumulate(s, o, gi, want, make([]*Acc, ng))
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d, group %d:\n got %+v\nwant %+v", trial, g, got[g].Metrics[s.Metric], want[g].Metrics[s.Metric])
			}
		}
	}
}

// randomGroups assigns n rows to ng groups at random and makes two sets
// of ng empty groups: one for the path under test, one for the reference.
func randomGroups(r *rand.Rand, n, ng int) (gi []int32, got, want []*Group) {
	gi = make([]int32, n)
	for i := range gi {
		gi[i] = int32(r.IntN(ng))
	}
	got, want = make([]*Group, ng), make([]*Group, ng)
	for g := range got {
		got[g], want[g] = &Group{Metrics: map[string]*Acc{}}, &Group{Metrics: map[string]*Acc{}}
	}
	return gi, got, want
}
