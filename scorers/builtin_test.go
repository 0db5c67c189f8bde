package scorers_test

import (
	"math"
	"math/rand"
	"strconv"
	"strings"
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
		// A third field: the first's columns read the other way round
		// and compared exactly (its own comparison, not f1's shared one).
		f3 := scorers.NewFieldAgreement(&config.Field{Name: "f3", Legacy: "a", AI: "l", Comparator: "exact"})
		f3.ColKind = datasets.KindString
		// Critical agreement of one, two and three fields, the last
		// also scored on a fresh Input (nothing shared from before).
		for _, tc := range []struct {
			fields []*scorers.FieldAgreement
			fresh  bool
		}{{[]*scorers.FieldAgreement{f1}, false}, {[]*scorers.FieldAgreement{f1, f2}, false}, {[]*scorers.FieldAgreement{f1, f2, f3}, false}, {[]*scorers.FieldAgreement{f3, f1, f2}, true}} {
			crit := &scorers.CriticalAgreement{Fields: tc.fields}
			cin := in
			if tc.fresh {
				cin = &scorers.Input{Rows: n, Batch: b}
			}
			out = scorers.NewOut(n)
			if err := crit.Score(cin, out); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				w := math.NaN()
				var ws []float64
				for _, f := range tc.fields {
					var wf float64
					switch f {
					case f1:
						wf = want(f1, l, a, i)
					case f2:
						wf = want(f2, l2, a2, i)
					default:
						wf = want(f3, a, l, i)
					}
					ws = append(ws, wf)
					switch {
					case math.IsNaN(wf):
					case math.IsNaN(w):
						w = wf
					default:
						w = math.Min(w, wf)
					}
				}
				if !same(out.Value[i], w) {
					t.Errorf("%s: row %d: critical agreement of %d fields %v, want %v (fields %v)", cmp, i, len(tc.fields), out.Value[i], w, ws)
				}
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
	allNull := []*string{nil, nil, nil, nil, nil, nil}                  // an empty Dict
	vers := []*string{s("v1"), nil, s("v2"), s("v1"), s("v1"), s("v2")} // no empty entry
	conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: []float64{0.9, 0.8, 0.7, 0.6, 0.5, 0}, Null: []bool{false, false, false, false, false, true}}
	for _, repeats := range []bool{true, false} {
		b := &datasets.Batch{Rows: 6, Cols: []*datasets.Column{strCol("id", ids, repeats), strCol("hash", hashes, repeats), strCol("none", allNull, repeats), strCol("ver", vers, repeats), conf}}
		for _, tc := range []struct {
			cols []string
			want []float64
		}{
			{[]string{"id", "hash", "conf"}, []float64{1, 0, 0, 0, 0, 0}},
			{[]string{"id"}, []float64{1, 0, 0, 1, 1, 1}},
			{[]string{"hash", "conf"}, []float64{1, 1, 1, 0, 0, 0}},
			{[]string{"none"}, []float64{0, 0, 0, 0, 0, 0}},
			{[]string{"ver"}, []float64{1, 0, 1, 1, 1, 1}},
			{[]string{"ver", "id"}, []float64{1, 0, 0, 1, 1, 1}},
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

// TestAuditCompleteExcusesErroredCalls: a row whose AI call errored has
// no confidence to log, and its record is still complete; a row without
// an error (false or unknown) still needs one. Both code paths (Score and
// the batch-wide RateCodes) agree.
func TestAuditCompleteExcusesErroredCalls(t *testing.T) {
	conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: make([]float64, 5), Null: []bool{true, true, true, false, true}}
	errs := &datasets.Column{Name: "ai_error", Kind: datasets.KindBool, Bool: []bool{true, false, true, false, true}, Null: []bool{false, false, true, false, false}}
	id := &datasets.Column{Name: "id", Kind: datasets.KindString, Dict: []string{"a", "b", "c", "d", ""}, Codes: []int32{0, 1, 2, 3, 4}}
	b := &datasets.Batch{Rows: 5, Cols: []*datasets.Column{conf, errs, id}}
	// Row 0 errored without confidence: complete. Row 1 did not error:
	// incomplete. Row 2's error flag is null: incomplete. Row 3 has its
	// confidence. Row 4 errored but has no id: incomplete.
	want := []float64{1, 0, 0, 1, 0}
	sc := &scorers.AuditComplete{Columns: []string{"id", "conf"}, NoneOnError: "conf", ErrorColumn: "ai_error"}
	in := &scorers.Input{Rows: b.Rows, Batch: b}
	out := &scorers.Out{}
	out.Reset(b.Rows)
	if err := sc.Score(in, out); err != nil {
		t.Fatal(err)
	}
	codes := sc.RateCodes(in, make([]uint8, b.Rows))
	for i, w := range want {
		if out.Value[i] != w || float64(codes[i]) != w {
			t.Errorf("row %d: complete=%v (rate code %d), want %v", i, out.Value[i], codes[i], w)
		}
	}
	if needs := sc.Needs(); needs[len(needs)-1].Column != "ai_error" || needs[len(needs)-1].Kind != datasets.KindBool {
		t.Errorf("the error column is not requested as a boolean: %+v", needs)
	}
	// Without the excuse, every row without a confidence is incomplete.
	plain := &scorers.AuditComplete{Columns: []string{"id", "conf"}}
	out.Reset(b.Rows)
	if err := plain.Score(in, out); err != nil {
		t.Fatal(err)
	}
	if out.Value[0] != 0 {
		t.Errorf("without NoneOnError, an errored row without confidence counted as complete")
	}
}

// TestRowScorersMatchDefinitions checks the per-row built-in scorers,
// whose loops are specialised (no null flags, memoised comparisons per
// dictionary entry), against their definitions row by row, on columns
// with and without null flags, ±Inf and NaN, labels from the log column
// and joined ones.
func TestRowScorersMatchDefinitions(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const n = 500
	floats := []float64{0, 1.5, -2, math.Inf(1), math.Inf(-1), math.NaN(), 1e300, 250}
	strs := []string{"ai", "AI", " ai", "legacy", "", "billing", "Billing", "12.5", "12.50"}
	pick := func(withNulls bool) (null []bool) {
		if !withNulls {
			return nil
		}
		null = make([]bool, n)
		for i := range null {
			null[i] = r.Intn(4) == 0
		}
		return null
	}
	floatCol := func(name string, withNulls bool) *datasets.Column {
		c := &datasets.Column{Name: name, Kind: datasets.KindFloat64, Float: make([]float64, n), Null: pick(withNulls)}
		for i := range c.Float {
			c.Float[i] = floats[r.Intn(len(floats))]
		}
		return c
	}
	strColumn := func(name string, withNulls bool) (*datasets.Column, []*string) {
		vals := make([]*string, n)
		null := pick(withNulls)
		for i := range vals {
			if null == nil || !null[i] {
				v := strs[r.Intn(len(strs))]
				vals[i] = &v
			}
		}
		c := strCol(name, vals, r.Intn(2) == 0)
		if !withNulls {
			c.Null = nil
		}
		return c, vals
	}
	for _, withNulls := range []bool{false, true} {
		errs := &datasets.Column{Name: "err", Kind: datasets.KindBool, Bool: make([]bool, n), Null: pick(withNulls)}
		for i := range errs.Bool {
			errs.Bool[i] = r.Intn(3) == 0
		}
		served, servedVals := strColumn("served", withNulls)
		legacy, legacyVals := strColumn("legacy", withNulls)
		ai, aiVals := strColumn("ai", withNulls)
		label, labelVals := strColumn("label", withNulls)
		b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{errs, served, legacy, ai, label, floatCol("lat_l", withNulls), floatCol("lat_a", withNulls), floatCol("conf", withNulls)}}
		// Joined labels for some rows, overriding the log column's.
		joined := make([]*string, n)
		for i := range joined {
			if r.Intn(5) == 0 {
				v := strs[r.Intn(len(strs))]
				joined[i] = &v
			}
		}
		isNull := func(c *datasets.Column, i int) bool { return c.Null != nil && c.Null[i] }
		finite := func(c *datasets.Column, i int) float64 {
			if isNull(c, i) || math.IsInf(c.Float[i], 0) {
				return math.NaN()
			}
			return c.Float[i]
		}
		check := func(name string, sc scorers.Scorer, in *scorers.Input, want func(i int) (v, l, a float64)) {
			t.Helper()
			out := scorers.NewOut(n)
			if err := sc.Score(in, out); err != nil {
				t.Fatal(err)
			}
			for i := range n {
				v, l, a := want(i)
				if !same(out.Value[i], v) || !same(out.Legacy[i], l) || !same(out.AI[i], a) {
					t.Errorf("nulls=%v %s row %d: got (%v, %v, %v), want (%v, %v, %v)", withNulls, name, i, out.Value[i], out.Legacy[i], out.AI[i], v, l, a)
				}
			}
		}
		nan := math.NaN()
		in := &scorers.Input{Rows: n, Batch: b}
		check("bool rate", &scorers.BoolRate{Metric: "e", Column: "err"}, in, func(i int) (float64, float64, float64) {
			if isNull(errs, i) {
				return nan, nan, nan
			}
			return b2f(errs.Bool[i]), nan, nan
		})
		check("value rate", &scorers.ValueRate{Metric: "s", Column: "served", Value: "ai"}, in, func(i int) (float64, float64, float64) {
			if servedVals[i] == nil {
				return nan, nan, nan
			}
			return b2f(strings.EqualFold(*servedVals[i], "ai")), nan, nan
		})
		check("per system", &scorers.PerSystemValue{Metric: "lat", LegacyCol: "lat_l", AICol: "lat_a"}, in, func(i int) (float64, float64, float64) {
			return nan, finite(b.Col("lat_l"), i), finite(b.Col("lat_a"), i)
		})
		check("numeric", &scorers.NumericValue{Metric: "c", Column: "conf"}, in, func(i int) (float64, float64, float64) {
			return finite(b.Col("conf"), i), nan, nan
		})
		for _, cmp := range []string{"exact", "case_insensitive", "numeric"} {
			fd := &config.Field{Name: "f", Legacy: "legacy", AI: "ai", Comparator: cmp}
			acc := &scorers.FieldAccuracy{FieldAgreement: scorers.NewFieldAgreement(fd), LabelCol: "label"}
			acc.ColKind = datasets.KindString
			c := acc.Comparator
			for _, join := range []bool{false, true} {
				in := &scorers.Input{Rows: n, Batch: b}
				if join {
					in.Labels = map[string][]*string{"label": joined}
				}
				check("accuracy "+cmp, acc, in, func(i int) (float64, float64, float64) {
					lab := labelVals[i]
					if join && joined[i] != nil {
						lab = joined[i]
					}
					if lab == nil {
						return nan, nan, nan
					}
					return nan, b2f(legacyVals[i] != nil && c.EqualStrings(*legacyVals[i], *lab)), b2f(aiVals[i] != nil && c.EqualStrings(*aiVals[i], *lab))
				})
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// TestToleranceIsDecimal: a tolerance written in decimal holds for every
// pair of decimal values that far apart, whatever their magnitude, though
// neither is exact in binary (1.01 - 1.00 is 0.010000000000000009); a
// difference just past it does not.
func TestToleranceIsDecimal(t *testing.T) {
	abs := scorers.Comparator{Kind: "numeric", Abs: 0.01}
	rel := scorers.Comparator{Kind: "numeric", Rel: 0.001}
	for _, base := range []float64{0, 0.29, 1, 1.005, 10, 123.45, 99999.99, 1e6 + 0.07, 1e9} {
		for _, step := range []float64{0.01, -0.01} {
			y, _ := strconv.ParseFloat(strconv.FormatFloat(base+step, 'f', 2, 64), 64)
			x, _ := strconv.ParseFloat(strconv.FormatFloat(base, 'f', 2, 64), 64)
			if !abs.EqualFloats(x, y) {
				t.Errorf("abs_tolerance 0.01: %v vs %v counted as different", x, y)
			}
			if z := x + 1.0001*step; base < 1e6 && abs.EqualFloats(x, z) {
				t.Errorf("abs_tolerance 0.01: %v vs %v (past it) counted as equal", x, z)
			}
		}
	}
	// 0.1% of 1000 is 1: 1000 vs 1001 agree, 1000 vs 1001.01 do not.
	if !rel.EqualFloats(1000, 1001) || !rel.EqualFloats(1.001, 1.000) || rel.EqualFloats(1000, 1001.01) {
		t.Error("rel_tolerance 0.001 not judged in decimal")
	}
	// Without a tolerance, numbers must be equal.
	a, b := 0.1, 0.2 // variables: a constant 0.1+0.2 is exactly 0.3
	if (scorers.Comparator{Kind: "numeric"}).EqualFloats(a+b, 0.3) {
		t.Error("no tolerance: 0.1+0.2 and 0.3 counted as equal")
	}
}
