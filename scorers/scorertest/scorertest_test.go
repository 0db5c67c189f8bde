package scorertest_test

import (
	"strings"
	"testing"

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
