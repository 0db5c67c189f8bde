package eval

import (
	"encoding/json"
	"math"
	"math/rand"
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// catForm returns the Cat form of a coded output: the string per row
// that the coded form stands for.
func catForm(o *scorers.Out, n int) *scorers.Out {
	s := &scorers.Out{Value: o.Value, Legacy: o.Legacy, AI: o.AI, Cat: make([]string, n)}
	for i := range s.Cat {
		s.Cat[i] = o.Category(i)
	}
	return s
}

// accumulateBoth folds one output into fresh groups twice, in the coded
// form and in the Cat form, and returns both groups' metrics.
func accumulateBoth(t *testing.T, s scorers.Scorer, o *scorers.Out, gi []int32, ng int) (coded, cat []*Group) {
	t.Helper()
	run := func(o *scorers.Out) []*Group {
		groups := make([]*Group, ng)
		for i := range groups {
			groups[i] = &Group{Metrics: map[string]*Acc{}}
		}
		accumulate(s, o, gi, groups, make([]*Acc, ng))
		return groups
	}
	str := catForm(o, len(gi))
	return run(o), run(str)
}

// sameGroups compares two accumulations exactly: Go values (nil versus
// empty maps included) and their JSON, which is what partial aggregates
// and shards write.
func sameGroups(t *testing.T, what string, coded, cat []*Group) {
	t.Helper()
	for g := range coded {
		if !reflect.DeepEqual(coded[g].Metrics, cat[g].Metrics) {
			a, _ := json.Marshal(coded[g].Metrics)
			b, _ := json.Marshal(cat[g].Metrics)
			t.Fatalf("%s: group %d differs\ncoded: %s\ncat:   %s", what, g, a, b)
		}
		a, _ := json.Marshal(coded[g].Metrics)
		b, _ := json.Marshal(cat[g].Metrics)
		if string(a) != string(b) {
			t.Fatalf("%s: group %d JSON differs\ncoded: %s\ncat:   %s", what, g, a, b)
		}
	}
}

type kindOnly struct {
	name string
	kind scorers.Kind
}

func (k kindOnly) Name() string                             { return k.name }
func (k kindOnly) Kind() scorers.Kind                       { return k.kind }
func (k kindOnly) Needs() []scorers.Need                    { return nil }
func (k kindOnly) Score(*scorers.Input, *scorers.Out) error { return nil }

// TestCodedFormParity: on random outputs, the coded form accumulates to
// exactly what the Cat form does, for Category and Classification, with
// empty keys, repeated keys, invalid classification keys, NaN
// correctness, confidences outside [0, 1] and exactly 1, unused groups,
// and enough groups × keys to take the dense counts and the row-by-row
// fallback.
func TestCodedFormParity(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	cats := []string{"billing", "technical", "fraud", "", scorers.NoAnswer, "Billing"}
	for iter := 0; iter < 300; iter++ {
		n := 1 + r.Intn(3000)
		ng := 1 + r.Intn(12)
		if iter%10 == 0 {
			ng = 200 // many groups: the fallback
		}
		nk := 1 + r.Intn(40)
		if iter%7 == 0 {
			nk = 2000 + r.Intn(3000) // many keys: the fallback
		}
		if iter%11 == 0 {
			// Fewer keys than rows but too many (group, key) cells: the
			// fallback in the middle of a batch.
			n, ng, nk = 2000+r.Intn(1000), 200, 1000
		}
		gi := make([]int32, n)
		for i := range gi {
			gi[i] = int32(r.Intn(ng))
		}
		for _, kind := range []scorers.Kind{scorers.Category, scorers.Classification} {
			keys := make([]string, nk)
			for k := range keys {
				switch {
				case r.Intn(10) == 0:
					keys[k] = ""
				case kind == scorers.Category && k > 0 && r.Intn(5) == 0:
					keys[k] = keys[r.Intn(k)] // a value under two codes
				case kind == scorers.Category:
					keys[k] = cats[r.Intn(len(cats))] + strconv.Itoa(r.Intn(nk))
				case r.Intn(20) == 0:
					keys[k] = "not\x00a key"
				default:
					keys[k] = scorers.ClassificationKey(cats[r.Intn(len(cats))], cats[r.Intn(len(cats))], cats[r.Intn(len(cats))]+strconv.Itoa(r.Intn(3)))
				}
			}
			o := &scorers.Out{}
			o.Reset(n)
			code := o.UseCodes(n, keys)
			for i := range code {
				if r.Intn(4) > 0 {
					code[i] = int32(r.Intn(nk))
				}
				bit := func() float64 {
					if r.Intn(30) == 0 {
						return math.NaN()
					}
					return float64(r.Intn(2))
				}
				o.Legacy[i], o.AI[i] = bit(), bit()
				switch r.Intn(8) {
				case 0:
					o.Value[i] = math.NaN()
				case 1:
					o.Value[i] = 1
				case 2:
					o.Value[i] = 1.5
				case 3:
					o.Value[i] = -0.1
				default:
					o.Value[i] = r.Float64()
				}
			}
			s := kindOnly{"m", kind}
			coded, cat := accumulateBoth(t, s, o, gi, ng)
			sameGroups(t, kind.String()+" iteration "+strconv.Itoa(iter), coded, cat)
			if o.Keys != nil {
				t.Fatal("accumulate must consume the coded form")
			}
		}
	}
}

// A code beyond Keys (a scorer bug) is an invalid value of its group, not
// a crash.
func TestCodedFormOutOfRange(t *testing.T) {
	key := scorers.ClassificationKey("a", "a", "b")
	// One key or two: counted per key or (keys for about every row) row
	// by row.
	for _, keys := range [][]string{{key}, {key, ""}} {
		for _, kind := range []scorers.Kind{scorers.Category, scorers.Classification} {
			o := &scorers.Out{}
			o.Reset(3)
			code := o.UseCodes(3, keys)
			code[0], code[1], code[2] = 0, 5, -1
			o.Legacy[0], o.AI[0] = 1, 0
			groups := []*Group{{Metrics: map[string]*Acc{}}}
			accumulate(kindOnly{"m", kind}, o, []int32{0, 0, 0}, groups, make([]*Acc, 1))
			a := groups[0].Metrics["m"]
			if a == nil || a.Invalid != 1 {
				t.Fatalf("%s: acc %+v, want one invalid value", kind, a)
			}
			if kind == scorers.Category && a.Cats[scorers.ClassificationKey("a", "a", "b")] != 1 {
				t.Errorf("category counts %v", a.Cats)
			}
			if kind == scorers.Classification && (a.Quality == nil || a.Quality.PerLabel["a"] != (Pair{0, 1, 0, 0})) {
				t.Errorf("quality %+v", a.Quality)
			}
		}
	}
}

// TestBuiltinCodedScorersParity: the built-in Category and Classification
// scorers (coded) accumulate to exactly what their outputs' Cat form
// does, on random dictionary-encoded columns with nulls, case variants
// (case_insensitive and exact fields), labels inline or joined, and
// prediction columns of another kind.
func TestBuiltinCodedScorersParity(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	vals := []string{"billing", "Billing", " billing ", "fraud", "FRAUD", "(none)", "", "σ", "ς", "Σ"}
	for iter := 0; iter < 60; iter++ {
		comparator := []string{"exact", "case_insensitive"}[iter%2]
		cfg, err := config.Parse("t.yaml", []byte(`version: 1
source: {logs: unused}
output: unused
window: 24h
features:
  - name: f
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true, comparator: `+comparator+`}
    drift_columns: ["lang:category"]
`))
		if err != nil {
			t.Fatal(err)
		}
		n := 1 + r.Intn(2000)
		nv := 1 + r.Intn(len(vals))
		pick := func(i int) *string {
			if r.Intn(8) == 0 {
				return nil
			}
			return &vals[r.Intn(nv)]
		}
		in, gi, ng := randomCategoryInput(r, n, pick, iter%3 == 0, iter%5 == 0)
		var checked int
		for _, s := range scorers.Builtins(cfg.Feature("f"), &cfg.Columns) {
			if k := s.Kind(); k != scorers.Category && k != scorers.Classification {
				continue
			}
			o := &scorers.Out{}
			o.Reset(n)
			if err := s.Score(in, o); err != nil {
				t.Fatal(err)
			}
			if err := o.CheckCategories(s.Kind(), n); err != nil {
				t.Fatalf("%s: %v", s.Name(), err)
			}
			if o.Keys == nil {
				t.Fatalf("%s: built-in scorer did not use the coded form", s.Name())
			}
			coded, cat := accumulateBoth(t, s, o, gi, ng)
			sameGroups(t, s.Name()+" iteration "+strconv.Itoa(iter), coded, cat)
			checked++
		}
		if checked != 4 {
			t.Fatalf("%d category/classification scorers, want 4", checked)
		}
	}
}

// randomCategoryInput is a batch of the feature's columns drawn by pick
// (nil: null), with labels joined from a labels dataset when joined and
// the legacy prediction decoded as a number column when numeric.
func randomCategoryInput(r *rand.Rand, n int, pick func(int) *string, joined, numeric bool) (*scorers.Input, []int32, int) {
	conf := &datasets.Column{Name: "ai_confidence", Kind: datasets.KindFloat64, Float: make([]float64, n), Null: make([]bool, n)}
	for i := range conf.Float {
		conf.Float[i] = r.Float64()
		switch r.Intn(10) {
		case 0:
			conf.Null[i] = true
		case 1:
			conf.Float[i] = math.Inf(1)
		}
	}
	b := &datasets.Batch{Rows: n, Cols: []*datasets.Column{
		dictCol("ai_category", n, pick), conf,
		dictCol("ai_model_version", n, pick), dictCol("lang", n, pick),
	}}
	if numeric {
		c := &datasets.Column{Name: "legacy_category", Kind: datasets.KindFloat64, Float: make([]float64, n), Null: make([]bool, n)}
		for i := range c.Float {
			c.Float[i] = float64(r.Intn(3))
			c.Null[i] = r.Intn(9) == 0
		}
		b.Cols = append(b.Cols, c)
	} else {
		b.Cols = append(b.Cols, dictCol("legacy_category", n, pick))
	}
	in := &scorers.Input{Rows: n, Batch: b}
	if joined {
		lab := make([]*string, n)
		for i := range lab {
			if r.Intn(2) == 0 {
				lab[i] = pick(i)
			}
		}
		in.Labels = map[string][]*string{"label_category": lab}
	}
	// Inline labels too: with a joined dataset, rows it does not label
	// fall back to the log column.
	b.Cols = append(b.Cols, dictCol("label_category", n, pick))
	ng := 1 + r.Intn(6)
	gi := make([]int32, n)
	for i := range gi {
		gi[i] = int32(r.Intn(ng))
	}
	return in, gi, ng
}

// TestCategoryKeysDoNotPinBatchBytes: category keys that point into a
// batch's string bytes (values extracted from a JSON document, PLAIN page
// strings) are copied when they become aggregate map keys, in the coded
// form (dense and row-by-row) and the Cat form; a key sharing the batch's
// bytes would keep the whole page alive for the rest of the run.
func TestCategoryKeysDoNotPinBatchBytes(t *testing.T) {
	page := `{"currency":"USD"}{"currency":"EUR"}{"currency":"GBP"}`
	lo := uintptr(unsafe.Pointer(unsafe.StringData(page)))
	hi := lo + uintptr(len(page))
	keys := []string{page[13:16], page[31:34], page[49:52]} // USD, EUR, GBP
	for _, k := range keys {
		if p := uintptr(unsafe.Pointer(unsafe.StringData(k))); p < lo || p >= hi {
			t.Fatalf("test setup: key %q is not inside the page", k)
		}
	}
	const rows = 64
	gi := make([]int32, rows)
	coded := &scorers.Out{Code: make([]int32, rows), Keys: keys}
	str := &scorers.Out{Cat: make([]string, rows)}
	for i := range gi {
		gi[i] = int32(i % 2)
		coded.Code[i] = int32(i % len(keys))
		str.Cat[i] = keys[i%len(keys)]
	}
	s := kindOnly{"cat", scorers.Category}
	for _, tc := range []struct {
		name string
		out  func() *scorers.Out
		ng   int
	}{
		{"coded", func() *scorers.Out { o := *coded; return &o }, 2},
		{"coded row by row", func() *scorers.Out { o := *coded; return &o }, maxDenseCells(rows) + 1},
		{"cat", func() *scorers.Out { return str }, 2},
	} {
		groups := make([]*Group, tc.ng)
		for i := range groups {
			groups[i] = &Group{Metrics: map[string]*Acc{}}
		}
		g := gi
		if tc.ng > 2 { // enough groups that keys × groups exceed the dense limit
			g = make([]int32, rows)
			for i := range g {
				g[i] = int32(i % tc.ng)
			}
		}
		accumulate(s, tc.out(), g, groups, make([]*Acc, tc.ng))
		n := 0
		for _, gr := range groups {
			a := gr.Metrics["cat"]
			if a == nil {
				continue
			}
			for k, c := range a.Cats {
				n += int(c)
				if p := uintptr(unsafe.Pointer(unsafe.StringData(k))); p >= lo && p < hi {
					t.Errorf("%s: key %q still points into the batch's bytes (%x in %x..%x)", tc.name, k, p, lo, hi)
				}
			}
		}
		if n != rows {
			t.Errorf("%s: counted %d rows, want %d", tc.name, n, rows)
		}
	}
}
