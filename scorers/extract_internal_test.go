package scorers

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

// TestScanPredictsFewValues checks that the comparison at a string's
// first bytes is taken (span.few) for values of one word, two words and
// longer ones, and not for a value outside the path's few, so the
// differential tests cover both ways of reading a string.
func TestScanPredictsFewValues(t *testing.T) {
	p, err := jsonpath.Parse("$.vendor")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"Acme", "Acme GmbH", "Wayne Enterprises", "", strings.Repeat("x", 40)} {
		doc := `{"vendor":"` + v + `"}`
		src := &datasets.Column{Kind: datasets.KindString, Dict: []string{doc, doc, `{"vendor":"Other"}`}, Codes: []int32{0, 1, 2}}
		sc := &flatScanner{}
		sc.want("vendor")
		sc.vals = make([]span, 1)
		pv := &pathValues{remap: make([]uint8, len(src.Dict))}
		sc.pred = []*pathValues{pv}
		done := []bool{true, false, false}
		if !sc.scan(doc) || sc.vals[0].few != 0 {
			t.Fatalf("%q: first document: sure false or predicted (%+v)", v, sc.vals[0])
		}
		pv.set(0, doc[sc.vals[0].from:sc.vals[0].to], true, done)
		if !sc.scan(doc) || sc.vals[0].few != 1 {
			t.Errorf("%q: second document not predicted: %+v", v, sc.vals[0])
		}
		if !sc.scan(src.Dict[2]) || sc.vals[0].few != 0 {
			t.Errorf("%q: other value predicted: %+v", v, sc.vals[0])
		}
		got := ExtractJSONPaths(src, []jsonpath.Path{p})[0]
		for i := range src.Codes {
			if want, _ := p.Lookup(src.Dict[i]); got.Str(i) != want {
				t.Errorf("%q: row %d: %q, want %q", v, i, got.Str(i), want)
			}
		}
	}
}

// TestQuotedTextAt holds quotedText.at to quotedAt for strings of every
// length around its words (one, several, too many), at every position
// of documents that hold them, a string differing in one byte, or a
// prefix, with 0 to 9 bytes after the quote, so also near a document's
// end, where fewer bytes than its words remain.
func TestQuotedTextAt(t *testing.T) {
	for n := range 45 {
		s := strings.Repeat("abcdefghij", 5)[:n]
		q := newQuotedText(s)
		var others []string
		for b := range n {
			others = append(others, s[:b]+"X"+s[b+1:], s[:b]+`"`)
		}
		for _, body := range append(others, s, s+"x") {
			for after := range 10 {
				for before := range 10 {
					doc := strings.Repeat(" ", before) + body + `"` + strings.Repeat("}", after)
					for i := range len(doc) + 1 {
						if got, want := q.at(doc, i), quotedAt(doc, i, s); got != want {
							t.Fatalf("%q at %d of %q: %v, quotedAt %v", s, i, doc, got, want)
						}
					}
				}
			}
		}
	}
}

// jsonNumber is the JSON number grammar, for numberAt's end, and
// jsonNumberTaken what a reading of it takes before checking that a
// point or an exponent has digits.
var (
	jsonNumber      = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`)
	jsonNumberTaken = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][+-]?[0-9]*)?`)
)

// TestNumberAt holds numberAt to the JSON number grammar (where a number
// ends, -1 when none starts) and its value, when it gives one, to
// parseNumber's bit for bit: numbers at the edge (-0, exponents, 15 and
// 16 digits, huge, tiny, leading zeros) followed by what may follow a
// value in a document, or by nothing.
func TestNumberAt(t *testing.T) {
	texts := append([]string{"-0.0", "0.5", "1e400", "-1e-400", "1E+5", "1e-5", "1e", "1e+", "-e1", "0e0", "0.0e1",
		"4.9e-324", "123456789012345678901234567890", "18446744073709551616", "99999999999999999999.5",
		"0.100000000000000", "-999999999999999", "1234567890123456", "5e-0", "0123"}, numberTexts...)
	for _, s := range texts {
		for _, after := range []string{"", ",", "}", " ", "x", ".", "e"} {
			checkNumberAt(t, s+after)
		}
	}
}

func checkNumberAt(t *testing.T, doc string) {
	t.Helper()
	if doc == "" || (doc[0] != '-' && (doc[0] < '0' || doc[0] > '9')) {
		return // scan calls numberAt only at '-' or a digit
	}
	end, x, ok := numberAt(doc, 0)
	wantEnd := -1
	// A point or exponent is part of the number wherever it stands: one
	// without digits after makes the document invalid (-1), as no JSON
	// value may go on with it.
	if m := jsonNumberTaken.FindString(doc); m != "" && jsonNumber.FindString(m) == m {
		wantEnd = len(m)
	}
	if end != wantEnd {
		t.Fatalf("numberAt(%q) ends at %d, the grammar at %d", doc, end, wantEnd)
	}
	if !ok {
		return
	}
	want, wok := parseNumber(doc[:end])
	if !wok || math.Float64bits(x) != math.Float64bits(want) {
		t.Errorf("numberAt(%q) = %v, parseNumber %v (ok %v)", doc, x, want, wok)
	}
}

// FuzzNumberAt checks numberAt against the grammar and parseNumber on
// arbitrary text.
func FuzzNumberAt(f *testing.F) {
	for _, s := range numberTexts {
		f.Add(s + ",")
	}
	f.Fuzz(func(t *testing.T, doc string) { checkNumberAt(t, doc) })
}
