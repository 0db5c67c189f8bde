package eval

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
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
		idx, n := someRows(r, rows, 3)
		ng := 1 + r.IntN(5)
		gi, got, want := randomGroups(r, n, ng)
		foldPerSystemColumns(s, b, idx, gi, got, make([]*Acc, ng))

		wantByScore(t, s, rowsOf(b, idx), gi, want)
		for g := range got {
			if !sameMetrics(got[g].Metrics, want[g].Metrics) {
				t.Fatalf("trial %d, group %d:\n got %+v\nwant %+v", trial, g, got[g].Metrics[s.Metric], want[g].Metrics[s.Metric])
			}
		}
	}
}

// TestGatherFinite checks gatherFinite against its definition on values
// of every shape, with and without null flags and row indexes, for
// blocks at any offset, and its count of the values it set outside
// (minMagnitude, +Inf).
func TestGatherFinite(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	const rows = 500
	c := &datasets.Column{Kind: datasets.KindFloat64, Float: make([]float64, rows), Null: make([]bool, rows)}
	positive := &datasets.Column{Kind: datasets.KindFloat64, Float: make([]float64, rows), Null: make([]bool, rows)}
	for i := range rows {
		c.Float[i] = accValue(r, false)
		c.Null[i] = r.IntN(5) == 0
		positive.Float[i] = 1e-3 * float64(i+1)
	}
	positive.Float[rows/2] = math.Nextafter(minMagnitude, 1)
	positive.Null[rows-1] = true
	var idx []int32
	for i := range rows {
		if r.IntN(2) == 0 {
			idx = append(idx, int32(i))
		}
	}
	for _, src := range []*datasets.Column{c, positive} {
		for _, nulls := range []bool{false, true} {
			col := *src
			if !nulls {
				col.Null = nil
			}
			for _, rs := range [][]int32{nil, idx} {
				n := rows
				if rs != nil {
					n = len(rs)
				}
				for _, block := range [][2]int{{0, n}, {0, 1}, {17, 1}, {n - 3, 3}, {n / 3, n / 2}} {
					lo, m := block[0], block[1]
					var sub []int32
					if rs != nil {
						sub = rs[lo : lo+m]
					}
					dst := make([]float64, m)
					gotOther := gatherFinite(dst, &col, sub, lo)
					wantOther := 0
					for i, x := range dst {
						j := lo + i
						if rs != nil {
							j = int(rs[lo+i])
						}
						want := col.Float[j]
						if col.IsNull(j) || math.IsInf(want, 0) {
							want = math.NaN()
						}
						if !(want > minMagnitude) { // NaN too
							wantOther++
						}
						if math.Float64bits(x) != math.Float64bits(want) && !(math.IsNaN(x) && math.IsNaN(want)) {
							t.Fatalf("nulls %v, rows %v, block %v: dst[%d] = %v, want %v", nulls, rs != nil, block, i, x, want)
						}
					}
					if gotOther != wantOther {
						t.Fatalf("nulls %v, rows %v, block %v: %d values not in (minMagnitude, +Inf), want %d", nulls, rs != nil, block, gotOther, wantOther)
					}
				}
			}
		}
	}
}

// TestFoldColumnPaths holds foldPerSystemColumns to Score and
// accumulate on columns shaped for each of foldBlocks' loops and the
// switches between them within a block (shapedValues), with and
// without nulls; batches of more than one block, every
// row or a subset, several batches into the same groups (sketches that
// already exist, spans that widen), groups whose every value is NaN
// (their metric must stay absent) and more groups than a block has rows.
func TestFoldColumnPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(45, 46))
	s := &scorers.PerSystemValue{Metric: "cost", LegacyCol: "l", AICol: "a"}
	for trial := range 120 {
		ng := 1 + r.IntN(7)
		if trial%40 == 0 {
			ng = foldBlock + 100
		}
		got, want := make([]*Group, ng), make([]*Group, ng)
		for g := range got {
			got[g], want[g] = &Group{Metrics: map[string]*Acc{}}, &Group{Metrics: map[string]*Acc{}}
		}
		nanGroup := int32(r.IntN(ng + 1)) // ng: none
		for batch := range 3 {
			rows := []int{1, 1023, 1024, 1025, 2500}[r.IntN(5)]
			b := &datasets.Batch{Rows: rows}
			for _, name := range []string{"l", "a"} {
				c := &datasets.Column{Name: name, Kind: datasets.KindFloat64, Float: shapedValues(r, rows)}
				if r.IntN(4) == 0 {
					c.Null = make([]bool, rows)
					for i := range c.Null {
						c.Null[i] = r.IntN(50) == 0
					}
				}
				b.Cols = append(b.Cols, c)
			}
			idx, n := someRows(r, rows, 4)
			gi := make([]int32, n)
			for i := range gi {
				gi[i] = int32(r.IntN(ng))
				if gi[i] == nanGroup {
					j := i
					if idx != nil {
						j = int(idx[i])
					}
					for _, c := range b.Cols {
						c.Float[j] = math.NaN()
					}
				}
			}
			foldPerSystemColumns(s, b, idx, gi, got, make([]*Acc, ng))
			wantByScore(t, s, rowsOf(b, idx), gi, want)
			for g := range got {
				if !sameMetrics(got[g].Metrics, want[g].Metrics) {
					t.Fatalf("trial %d, batch %d, group %d:\n got %+v\nwant %+v", trial, batch, g, got[g].Metrics[s.Metric], want[g].Metrics[s.Metric])
				}
			}
			if int(nanGroup) < ng && len(got[nanGroup].Metrics) != 0 {
				t.Fatalf("trial %d: a group without a valid value has %v", trial, got[nanGroup].Metrics)
			}
		}
	}
}

// shapedValues returns n values of one of the shapes foldBlocks has a
// loop for, or that switch between them within a block: a constant
// (bench/gen's legacy cost; also zero, negative, near zero, ±Inf or
// NaN), runs of one value broken anywhere, positive latencies now and
// then interrupted by other values (negative, zero, near zero, NaN,
// ±Inf, beyond the bucket table, on bucket edges), positive values over
// a wide range, or anything (accValue).
func shapedValues(r *rand.Rand, n int) []float64 {
	odd := func() float64 {
		switch r.IntN(8) {
		case 0:
			return math.NaN()
		case 1:
			return 0
		case 2:
			return []float64{minMagnitude, math.Nextafter(minMagnitude, 1), 5e-324, 1e-20}[r.IntN(4)]
		case 3:
			return []float64{math.Inf(1), math.Inf(-1)}[r.IntN(2)]
		case 4:
			return []float64{1e300, math.MaxFloat64, 0x1p64, math.Nextafter(0x1p64, 0)}[r.IntN(4)]
		case 5:
			e := bucketEdges[r.IntN(len(bucketEdges))]
			return math.Nextafter(e, float64(r.IntN(3)-1)*math.Inf(1))
		case 6:
			return -0.0002
		}
		return math.Copysign(0, -1)
	}
	shapes := []func(n int) []float64{
		func(n int) []float64 { // constant
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = 0.0002
			}
			return xs
		},
		func(n int) []float64 { // constant zero, negative or tiny
			v := []float64{0, -3, minMagnitude / 2, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN()}[r.IntN(7)]
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = v
			}
			return xs
		},
		func(n int) []float64 { // runs of one value, broken anywhere
			xs := make([]float64, n)
			v := 0.5
			for i := range xs {
				if r.IntN(300) == 0 {
					v = []float64{0.5, 2, odd()}[r.IntN(3)]
				}
				xs[i] = v
				if r.IntN(500) == 0 {
					xs[i] = odd()
				}
			}
			return xs
		},
		func(n int) []float64 { // positive, now and then another value
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = 40 * math.Exp(0.5*r.NormFloat64())
				if r.IntN(400) == 0 {
					xs[i] = odd()
				}
			}
			return xs
		},
		func(n int) []float64 { // positive over a wide range
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = math.Exp(10 * r.NormFloat64())
			}
			return xs
		},
		func(n int) []float64 { // anything
			xs := make([]float64, n)
			for i := range xs {
				xs[i] = accValue(r, false)
			}
			return xs
		},
	}
	return shapes[r.IntN(len(shapes))](n)
}

// TestAddRepeated holds Sketch.addRepeated to as many calls of
// addBucketed, Sum aside: in and beyond the dense span (where each
// value is added on its own until the span reaches it), zero, negative.
func TestAddRepeated(t *testing.T) {
	r := rand.New(rand.NewPCG(47, 48))
	for trial := range 500 {
		a := NewSketch()
		for range r.IntN(3) * r.IntN(200) {
			a.Add(math.Exp(20 * r.NormFloat64()))
		}
		if r.IntN(3) == 0 {
			a.Add(1e-8)
			a.Add(1e300) // a far bucket
		}
		b := a.copyForTest()
		x := []float64{0, -1e-10, 0.0002, -7, 1e250, 1e-8, 1e300, math.Exp(20 * r.NormFloat64())}[r.IntN(8)]
		k := bucketIndex(math.Abs(x))
		n := int64(1 + r.IntN(3000))
		sum := a.Sum
		a.addRepeated(x, k, n)
		for range n {
			b.addBucketed(x, k)
		}
		b.Sum = sum
		if !sameSketch(a, b) {
			t.Fatalf("trial %d: x %v × %d:\n got %+v\nwant %+v", trial, x, n, a, b)
		}
	}
}

// copyForTest is a deep copy of s.
func (s *Sketch) copyForTest() *Sketch {
	c := *s
	for i := range c.side {
		c.side[i].counts = slices.Clone(s.side[i].counts)
		c.side[i].far = maps.Clone(s.side[i].far)
	}
	return &c
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
		idx, n := someRows(r, rows, 3)
		got := overBoundCodes(make([]uint8, n), b.Col("x"), idx, bound)
		want := s.RateCodes(&scorers.Input{Rows: n, Batch: rowsOf(b, idx)}, make([]uint8, n))
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
		wantByScore(t, s, &datasets.Batch{Rows: n, Cols: []*datasets.Column{c}}, gi, want)
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

// rowsOf is b's rows idx (every row when idx is nil), gathered as
// scoreFeature gathers a feature's rows for its scorers.
func rowsOf(b *datasets.Batch, idx []int32) *datasets.Batch {
	if idx == nil {
		return b
	}
	var gb gatherBufs
	return &datasets.Batch{Rows: len(idx), Cols: gb.gather(b.Cols, idx)}
}

// wantByScore folds s's Score of every row of in into the groups want
// (row i in want[gi[i]]): the simple form each direct fold is held to.
func wantByScore(t *testing.T, s scorers.Scorer, in *datasets.Batch, gi []int32, want []*Group) {
	t.Helper()
	o := scorers.NewOut(in.Rows)
	if err := s.Score(&scorers.Input{Rows: in.Rows, Batch: in}, o); err != nil {
		t.Fatal(err)
	}
	accumulate(s, o, gi, want, make([]*Acc, len(want)))
}

// someRows picks a feature's rows out of a batch of rows: every row
// (idx nil) half the time, else each row but one in every keepOutOf on
// average, in order. n is how many were picked.
func someRows(r *rand.Rand, rows, keepOutOf int) (idx []int32, n int) {
	if r.IntN(2) == 0 {
		return nil, rows
	}
	idx = []int32{}
	for i := range rows {
		if r.IntN(keepOutOf) > 0 {
			idx = append(idx, int32(i))
		}
	}
	return idx, len(idx)
}
