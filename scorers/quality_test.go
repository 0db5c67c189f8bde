package scorers

import (
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

func strCol(name string, vals ...string) *datasets.Column {
	c := &datasets.Column{Name: name, Kind: datasets.KindString, Null: make([]bool, len(vals))}
	idx := map[string]int32{}
	for i, v := range vals {
		if v == "<null>" {
			c.Null[i] = true
			c.Codes = append(c.Codes, 0)
			continue
		}
		code, ok := idx[v]
		if !ok {
			code = int32(len(c.Dict))
			c.Dict = append(c.Dict, v)
			idx[v] = code
		}
		c.Codes = append(c.Codes, code)
	}
	if len(c.Dict) == 0 {
		c.Dict = []string{""}
	}
	return c
}

// TestFieldQuality: labelled rows get the key, correctness and
// confidence; unlabelled rows stay empty; a null prediction is
// NoAnswer and wrong; case_insensitive fields fold case.
func TestFieldQuality(t *testing.T) {
	fd := &config.Field{Name: "category", Legacy: "l", AI: "a", Label: "label_category", Comparator: "case_insensitive"}
	s := QualityScorers(&config.Feature{Fields: []config.Field{*fd}, DriftColumns: []string{"tokens", "lang:category"}}, &config.Columns{AIConfidence: "conf"})
	if len(s) != 3 || s[0].Kind() != Classification || s[0].Name() != "quality.category" || s[1].Kind() != Score || s[2].Kind() != Category || s[2].Name() != "input.lang" {
		t.Fatalf("scorers %v", s)
	}
	conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: []float64{0.9, 0.4, math.NaN(), 0.7}, Null: []bool{false, false, false, true}}
	b := &datasets.Batch{Rows: 4, Cols: []*datasets.Column{
		strCol("l", "Billing", "sales", "fraud", "x"),
		strCol("a", "billing", "<null>", "Fraud", "x"),
		strCol("label_category", "billing", "SALES", "fraud", "<null>"),
		conf,
	}}
	out := NewOut(4)
	if err := s[0].Score(&Input{Rows: 4, Batch: b}, out); err != nil {
		t.Fatal(err)
	}
	want := []string{ClassificationKey("billing", "billing", "billing"), ClassificationKey("sales", "sales", NoAnswer), ClassificationKey("fraud", "fraud", "fraud"), ""}
	for i, w := range want {
		if out.Category(i) != w {
			t.Errorf("row %d: key %q, want %q", i, out.Category(i), w)
		}
	}
	if out.Legacy[1] != 1 || out.AI[1] != 0 || out.AI[0] != 1 || out.Value[0] != 0.9 || !math.IsNaN(out.Value[2]) || !math.IsNaN(out.AI[3]) {
		t.Errorf("legacy %v ai %v conf %v", out.Legacy, out.AI, out.Value)
	}
	l, lp, ap, ok := SplitClassificationKey(out.Category(1))
	if !ok || l != "sales" || lp != "sales" || ap != NoAnswer {
		t.Errorf("split %q %q %q %v", l, lp, ap, ok)
	}
	if IsClassificationField(&config.Field{Label: "-", Comparator: "exact"}) || IsClassificationField(&config.Field{Label: "x", Comparator: "numeric"}) {
		t.Error("unlabelled or numeric fields are not classification fields")
	}
	if d := ParseDriftColumn("n:numeric"); d.Column != "n" || d.Categorical {
		t.Errorf("%+v", d)
	}
}

// refQualityScore is FieldQuality.Score as it was written before the
// coded form: a ClassificationKey string per labelled row, each value
// normalized per row. The coded Score must stand for exactly this.
func refQualityScore(s *FieldQuality, in *Input, out *Out) {
	l, a, conf := in.Col(s.LegacyCol), in.Col(s.AICol), in.Col(s.ConfCol)
	pred := func(c *datasets.Column, i int) string {
		if c == nil || c.IsNull(i) {
			return NoAnswer
		}
		return s.norm(cellString(c, i))
	}
	for i := 0; i < in.Rows; i++ {
		lab, ok := in.Label(s.LabelCol, i)
		if !ok {
			continue
		}
		lp, ap := pred(l, i), pred(a, i)
		out.Cat[i] = ClassificationKey(s.norm(lab), lp, ap)
		out.Legacy[i] = b2f(lp != NoAnswer && s.Comparator.EqualStrings(lp, s.norm(lab)))
		out.AI[i] = b2f(ap != NoAnswer && s.Comparator.EqualStrings(ap, s.norm(lab)))
		if conf != nil && !conf.IsNull(i) && !math.IsNaN(conf.Float[i]) && !math.IsInf(conf.Float[i], 0) {
			out.Value[i] = conf.Float[i]
		}
	}
}

// TestFieldQualityCodedMatchesPerRow: on random batches (case and space
// variants under both comparators, "(none)" as a value, nulls, labels
// inline or joined, a prediction column absent or decoded as numbers,
// dictionaries too large for the dense table) the coded output stands
// for exactly the per-row keys, correctness and confidence of the
// per-row implementation, with one key per distinct triple.
func TestFieldQualityCodedMatchesPerRow(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	base := []string{"billing", "Billing", " billing", "FRAUD", "fraud", "(none)", "(NONE)", "", "σ", "ς", "Σ", "K", "\u212a"}
	for iter := 0; iter < 200; iter++ {
		vals := base
		if iter%9 == 0 { // high cardinality: no dense table
			vals = nil
			for j := 0; j < 300; j++ {
				vals = append(vals, base[j%len(base)]+strconv.Itoa(j%60))
			}
		}
		n := 1 + r.Intn(1500)
		draw := func() []string {
			out := make([]string, n)
			for i := range out {
				out[i] = vals[r.Intn(len(vals))]
				if r.Intn(8) == 0 {
					out[i] = "<null>"
				}
			}
			return out
		}
		fd := config.Field{Name: "category", Legacy: "l", AI: "a", Label: "lab", Comparator: []string{"exact", "case_insensitive"}[iter%2]}
		s := QualityScorers(&config.Feature{Fields: []config.Field{fd}}, &config.Columns{AIConfidence: "conf"})[0].(*FieldQuality)
		conf := &datasets.Column{Name: "conf", Kind: datasets.KindFloat64, Float: make([]float64, n), Null: make([]bool, n)}
		for i := range conf.Float {
			conf.Float[i] = r.Float64()
			switch r.Intn(12) {
			case 0:
				conf.Null[i] = true
			case 1:
				conf.Float[i] = math.NaN()
			case 2:
				conf.Float[i] = math.Inf(-1)
			}
		}
		b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{strCol("lab", draw()...), conf}}
		switch iter % 4 {
		case 1: // AI column absent: every prediction is NoAnswer
			b.Cols = append(b.Cols, strCol("l", draw()...))
		case 2: // legacy decoded as numbers
			c := &datasets.Column{Name: "l", Kind: datasets.KindFloat64, Float: make([]float64, n)}
			for i := range c.Float {
				c.Float[i] = float64(r.Intn(4)) / 2
			}
			b.Cols = append(b.Cols, c, strCol("a", draw()...))
		default:
			b.Cols = append(b.Cols, strCol("l", draw()...), strCol("a", draw()...))
		}
		in := &Input{Rows: n, Batch: b}
		if iter%3 == 0 {
			joined := make([]*string, n)
			for i := range joined {
				if r.Intn(2) == 0 {
					v := vals[r.Intn(len(vals))]
					joined[i] = &v
				}
			}
			in.Labels = map[string][]*string{"lab": joined}
		}
		got, want := NewOut(n), NewOut(n)
		if err := s.Score(in, got); err != nil {
			t.Fatal(err)
		}
		refQualityScore(s, in, want)
		if got.Keys == nil {
			t.Fatal("FieldQuality did not use the coded form")
		}
		if err := got.CheckCategories(Classification, n); err != nil {
			t.Fatal(err)
		}
		distinct := map[string]bool{}
		for _, k := range got.Keys {
			if distinct[k] {
				t.Fatalf("iteration %d: key %q twice in Keys", iter, k)
			}
			distinct[k] = true
		}
		same := func(x, y float64) bool { return x == y || math.IsNaN(x) && math.IsNaN(y) }
		for i := 0; i < n; i++ {
			if got.Category(i) != want.Cat[i] || !same(got.Legacy[i], want.Legacy[i]) || !same(got.AI[i], want.AI[i]) || !same(got.Value[i], want.Value[i]) {
				t.Fatalf("iteration %d row %d: coded (%q, %v, %v, %v), per-row (%q, %v, %v, %v)", iter, i,
					got.Category(i), got.Legacy[i], got.AI[i], got.Value[i], want.Cat[i], want.Legacy[i], want.AI[i], want.Value[i])
			}
		}
	}
}

// TestCategoryValueCoded: the column's dictionary is the keys, nulls
// have no category, and an empty value is none as in the Cat form.
func TestCategoryValueCoded(t *testing.T) {
	s := &CategoryValue{Metric: "model_version", Column: "v"}
	c := strCol("v", "v1", "<null>", "", "v2", "v1")
	out := NewOut(5)
	if err := s.Score(&Input{Rows: 5, Batch: &datasets.Batch{Rows: 5, Cols: []*datasets.Column{c}}}, out); err != nil {
		t.Fatal(err)
	}
	for i, w := range []string{"v1", "", "", "v2", "v1"} {
		if out.Category(i) != w {
			t.Errorf("row %d: %q, want %q", i, out.Category(i), w)
		}
	}
	if out.Code[1] != -1 || &out.Keys[0] != &c.Dict[0] {
		t.Errorf("codes %v keys %v: want -1 for null and the column's dictionary as keys", out.Code, out.Keys)
	}
	if err := out.CheckCategories(Category, 5); err != nil {
		t.Error(err)
	}
}

// CheckCategories catches what eval cannot count as meant.
func TestCheckCategories(t *testing.T) {
	out := NewOut(2)
	code := out.UseCodes(2, []string{"a"})
	code[0] = 1
	if err := out.CheckCategories(Category, 2); err == nil || !strings.Contains(err.Error(), "beyond the 1 keys") {
		t.Errorf("out of range: %v", err)
	}
	code[0] = 0
	out.Cat[1] = "b"
	if err := out.CheckCategories(Category, 2); err == nil || !strings.Contains(err.Error(), "one form per batch") {
		t.Errorf("both forms: %v", err)
	}
	out.Reset(2)
	out.Cat[0] = "a\x00b"
	if err := out.CheckCategories(Classification, 2); err == nil || !strings.Contains(err.Error(), "not a ClassificationKey") {
		t.Errorf("bad key: %v", err)
	}
	if err := out.CheckCategories(Category, 2); err != nil {
		t.Errorf("any string is a category: %v", err)
	}
	if out.Keys != nil {
		t.Error("Reset must return to the Cat form")
	}
}
