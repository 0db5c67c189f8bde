package scorers_test

import (
	"math"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// strCol is a string column of vals (nil: a null row): with repeats, a
// dictionary entry per row, as a PLAIN-decoded or JSON-derived column
// has; else one per distinct value, as a dictionary page has.
func strCol(name string, vals []*string, repeats bool) *datasets.Column {
	c := &datasets.Column{Name: name, Kind: datasets.KindString, Null: make([]bool, len(vals)), DictRepeats: repeats}
	index := map[string]int32{}
	for i, v := range vals {
		if v == nil {
			c.Null[i] = true
			c.Codes = append(c.Codes, 0)
			continue
		}
		code, ok := index[*v]
		if !ok || repeats {
			code = int32(len(c.Dict))
			c.Dict = append(c.Dict, *v)
			index[*v] = code
		}
		c.Codes = append(c.Codes, code)
	}
	return c
}

// TestAgreementMatchesComparator checks FieldAgreement and
// CriticalAgreement, whose loops are specialised per column shape,
// against their definition row by row: Comparator.EqualStrings of the two
// values, 0 when one side is null, nothing when both are; critical rows
// agree when every field with something to compare does.
func TestAgreementMatchesComparator(t *testing.T) {
	s := func(v string) *string { return &v }
	// Every pair of these appears in some row, for each field.
	vals := []*string{nil, s("12.5"), s(" 12.50 "), s("12.51"), s("abc"), s(""), s("NaN"), s("1e400"), s("Acme"), s(" ACME")}
	var l, a []*string
	for _, x := range vals {
		for _, y := range vals {
			l, a = append(l, x), append(a, y)
		}
	}
	n := len(l)
	// A second field's values: the same pairs in another row order.
	l2, a2 := make([]*string, n), make([]*string, n)
	for i := range l {
		l2[i], a2[i] = l[(i*7+3)%n], a[(i*7+3)%n]
	}
	for _, repeats := range []bool{true, false} {
		b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{strCol("l", l, repeats), strCol("a", a, repeats), strCol("l2", l2, repeats), strCol("a2", a2, repeats)}}
		checkAgreement(t, b, l, a, l2, a2)
	}
}

func checkAgreement(t *testing.T, b *datasets.Batch, l, a, l2, a2 []*string) {
	t.Helper()
	n := b.Rows
	in := &scorers.Input{Rows: n, Batch: b}
	for _, cmp := range []string{"numeric", "exact", "case_insensitive"} {
		f1 := scorers.NewFieldAgreement(&config.Field{Name: "f1", Legacy: "l", AI: "a", Comparator: cmp, AbsTolerance: 0.01})
		f2 := scorers.NewFieldAgreement(&config.Field{Name: "f2", Legacy: "l2", AI: "a2", Comparator: "numeric"})
		if cmp == "numeric" && f1.ColKind != datasets.KindFloat64 {
			// A plain numeric field is read as float64; the string
			// columns here are what a JSON numeric field reads.
			f1.ColKind = datasets.KindString
		}
		want := func(f *scorers.FieldAgreement, lv, av []*string, i int) float64 {
			switch {
			case lv[i] == nil && av[i] == nil:
				return math.NaN()
			case lv[i] == nil || av[i] == nil:
				return 0
			case f.Comparator.EqualStrings(*lv[i], *av[i]):
				return 1
			}
			return 0
		}
		out := scorers.NewOut(n)
		if err := f1.Score(in, out); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			if w := want(f1, l, a, i); !same(out.Value[i], w) {
				t.Errorf("%s: row %d (%v, %v): agreement %v, want %v", cmp, i, deref(l[i]), deref(a[i]), out.Value[i], w)
			}
		}
		crit := &scorers.CriticalAgreement{Fields: []*scorers.FieldAgreement{f1, f2}}
		out = scorers.NewOut(n)
		if err := crit.Score(in, out); err != nil {
			t.Fatal(err)
		}
		for i := range n {
			w1, w2 := want(f1, l, a, i), want(f2, l2, a2, i)
			w := math.NaN()
			switch {
			case math.IsNaN(w1):
				w = w2
			case math.IsNaN(w2):
				w = w1
			default:
				w = math.Min(w1, w2)
			}
			if !same(out.Value[i], w) {
				t.Errorf("%s: row %d: critical agreement %v, want %v (fields %v, %v)", cmp, i, out.Value[i], w, w1, w2)
			}
		}
	}
}

func same(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// TestAuditComplete checks the column-at-a-time completeness scorer
// against its definition row by row: a row is complete when every column
// is present, non-null and, for strings, non-empty.
func TestAuditComplete(t *testing.T) {
	s := func(v string) *string { return &v }
	ids := []*string{s("r1"), nil, s(""), s("r4"), s("r5"), s("r6")}
	hashes := []*string{s("h1"), s("h2"), s("h3"), s(""), nil, s("h6")}
	allNull := []*string{nil, nil, nil, nil, nil, nil} // an empty Dict
	conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0}, Null: []bool{false, false, false, false, false, true}}
	for _, repeats := range []bool{true, false} {
		b := &datasets.Batch{Rows: 6, Cols: []*datasets.Column{strCol("id", ids, repeats), strCol("hash", hashes, repeats), strCol("none", allNull, repeats), conf}}
		for _, tc := range []struct {
			cols []string
			want []float64
		}{
			{[]string{"id", "hash", "conf"}, []float64{1, 0, 0, 0, 0, 0}},
			{[]string{"id"}, []float64{1, 0, 0, 1, 1, 1}},
			{[]string{"hash", "conf"}, []float64{1, 1, 1, 0, 0, 0}},
			{[]string{"none"}, []float64{0, 0, 0, 0, 0, 0}},
			{[]string{"id", "missing"}, []float64{0, 0, 0, 0, 0, 0}},
		} {
			out := &scorers.Out{}
			out.Reset(b.Rows)
			sc := &scorers.AuditComplete{Columns: tc.cols}
			if err := sc.Score(&scorers.Input{Rows: b.Rows, Batch: b}, out); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				if out.Value[i] != w {
					t.Errorf("repeats=%v columns %v row %d: complete=%v, want %v", repeats, tc.cols, i, out.Value[i], w)
				}
			}
		}
	}
}
