package scorertest_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/scorertest"
)

// Indented definitions (as in a Go raw string) are dedented into the
// scorers list of a minimal config.
func TestConfigIndentation(t *testing.T) {
	got := scorertest.Config(`
		name: s
		type: regex
		ai: a
		params:
		  pattern: x`)
	want := "      - name: s\n        type: regex\n        ai: a\n        params:\n          pattern: x\n"
	if !strings.HasSuffix(got, want) {
		t.Fatalf("config:\n%s\nwant suffix:\n%s", got, want)
	}
	if _, err := scorertest.Load("name: s\ntype: regex\nai: a\nparams: {pattern: x}"); err != nil {
		t.Fatal(err)
	}
}

// Rows become dictionary-encoded, typed columns, with nulls for nil and
// missing keys; a value of the wrong Go type is an error naming the row.
func TestInput(t *testing.T) {
	needs := []scorers.Need{{Column: "s", Kind: datasets.KindString}, {Column: "x", Kind: datasets.KindFloat64}, {Column: "opt", Kind: datasets.KindString, Optional: true}}
	in, err := scorertest.Input(needs, []scorertest.Row{{"s": "a", "x": 1}, {"s": "b"}, {"s": "a", "x": 2.5}, {"x": nil}})
	if err != nil {
		t.Fatal(err)
	}
	s, x := in.Col("s"), in.Col("x")
	if len(s.Dict) != 3 || s.Str(0) != "a" || s.Str(2) != "a" || s.Codes[0] != s.Codes[2] || !s.IsNull(3) {
		t.Errorf("string column %+v", s)
	}
	if x.Float[0] != 1 || !x.IsNull(1) || x.Float[2] != 2.5 || !x.IsNull(3) {
		t.Errorf("float column %+v", x)
	}
	if in.Col("opt") != nil {
		t.Error("an optional column no row has must be absent")
	}
	_, err = scorertest.Input(needs, []scorertest.Row{{"s": "a"}, {"s": 3}})
	if err == nil || !strings.Contains(err.Error(), `row 1 column "s": int value 3 for a string column`) {
		t.Errorf("err = %v", err)
	}
}

// lengthClass is a toy Category scorer: the length class of a string
// column's values, written in the Cat form or (coded) as codes into the
// column's dictionary mapped to the length classes.
type lengthClass struct {
	name, col string
	coded     bool
	badCode   bool // write a code beyond Keys
}

func (s *lengthClass) Name() string       { return s.name }
func (s *lengthClass) Kind() scorers.Kind { return scorers.Category }
func (s *lengthClass) Needs() []scorers.Need {
	return []scorers.Need{{Column: s.col, Kind: datasets.KindString}}
}

func class(v string) string {
	if v == "" {
		return "" // no category
	}
	if len(v) > 3 {
		return "long"
	}
	return "short"
}

func (s *lengthClass) Score(in *scorers.Input, out *scorers.Out) error {
	c := in.Col(s.col)
	if !s.coded {
		for i := 0; i < in.Rows; i++ {
			if !c.IsNull(i) {
				out.Cat[i] = class(c.Str(i))
			}
		}
		return nil
	}
	keys := make([]string, len(c.Dict)) // a key per dictionary entry: repeats are fine
	for j, v := range c.Dict {
		keys[j] = class(v)
	}
	code := out.UseCodes(in.Rows, keys)
	for i := range code {
		if !c.IsNull(i) {
			code[i] = c.Codes[i]
		}
	}
	if s.badCode {
		code[0] = int32(len(keys))
	}
	return nil
}

func init() {
	for _, coded := range []bool{false, true} {
		scorers.Register(fmt.Sprintf("test_length_class_%v", coded), func(def config.ScorerDef, _ *config.Feature) (scorers.Scorer, error) {
			return &lengthClass{name: def.Name, col: def.AI, coded: coded}, nil
		})
	}
}

// Both forms of category output: the kit reads each row's category from
// either, the evaluation's counts are the same, and coded output eval
// could not count as meant fails Score.
func TestCategoryForms(t *testing.T) {
	rows := []scorertest.Row{
		{"input_class": "a", "v": "abcd"}, {"input_class": "a", "v": "ab"}, {"input_class": "b", "v": "abcde"},
		{"input_class": "a", "v": nil}, {"input_class": "a", "v": ""}, {"input_class": "b", "v": "x"}, {"input_class": "a", "v": "ab"},
	}
	want := []string{"long", "short", "long", "", "", "short", "short"}
	var cats []map[string]int64
	for _, coded := range []bool{false, true} {
		kit := scorertest.Parse(t, fmt.Sprintf("name: len\ntype: test_length_class_%v\nai: v", coded))
		out := kit.Score(t, rows)
		if (out.Keys != nil) != coded {
			t.Errorf("coded=%v: Keys %v", coded, out.Keys)
		}
		for i, w := range want {
			if out.Category(i) != w {
				t.Errorf("coded=%v row %d: %q, want %q", coded, i, out.Category(i), w)
			}
		}
		kit.BatchRows = 3
		res := kit.Evaluate(t, rows)
		cats = append(cats, res.Acc("a", "len").Cats, res.Acc("b", "len").Cats)
	}
	if !reflect.DeepEqual(cats[0], map[string]int64{"long": 1, "short": 2}) || !reflect.DeepEqual(cats[1], map[string]int64{"long": 1, "short": 1}) {
		t.Errorf("Cat form counts %v", cats[:2])
	}
	if !reflect.DeepEqual(cats[:2], cats[2:]) {
		t.Errorf("coded counts %v, Cat form %v", cats[2:], cats[:2])
	}
	_, err := scorertest.TryScore(&lengthClass{name: "bad", col: "v", coded: true, badCode: true}, rows)
	if err == nil || !strings.Contains(err.Error(), `scorer "bad": coded output: row 0 has code 5, beyond the 5 keys`) {
		t.Errorf("err = %v", err)
	}
}
