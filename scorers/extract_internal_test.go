package scorers

import (
	"fmt"
	"math"
	"math/rand"
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
			// Followed by a document's bytes.
			checkNumberAt(t, s+after+`,"currency":"EUR","vendor":"Acme"}`)
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
	f.Fuzz(func(t *testing.T, doc string) {
		checkNumberAt(t, doc)
		checkNumberAt(t, doc+`,"currency":"EUR"}`) // room for words
	})
}

// templateDocs are documents of several layouts (the same keys with
// other whitespace, duplicate, reordered, extra or missing keys, a gap
// too long for a template, trailing bytes, truncation) filled with
// values of every kind a scan reads or refuses (escapes, nesting,
// invalid numbers and literals), for TestScanTemplateMatchesScan.
func templateDocs() []string {
	layouts := []string{
		`{"amount":%s,"currency":%s,"vendor":%s}`,
		`{"amount":%s,"currency":%s,"vendor":%s}`,
		`{ "amount" : %s , "currency" : %s , "vendor" : %s } `,
		`{"amount":%s,"amount":%s,"currency":%s}`,
		`{"currency":%s,"amount":%s,"vendor":%s}`,
		`{"amount":%s,"currency":%s,"vendor":%s,"extra":%s}`,
		`{"amount":%s,"currency":%s}`,
		`{"amount":%s,"currency":%s,"vendor":%s}x`,
		`{"amount":%s,"currency":%s,"vendor":%s`,
		`{"a_key_far_too_long_for_a_template_gap":%s,"amount":%s}`,
		`{"am":%s,"currency":%s,"vendor":%s}`,
		`{"amount":%s,"currency":%s,"vendor":%s,}`,
		"{\"amount\":%s,\n\"currency\":%s,\"vendor\":%s}",
		`{"amount":%s,"currency":`, // ends where a template's value starts
		`{"amount":%s,"currency": `,
	}
	values := []string{`1`, `-2.5`, `1234.56`, `123456789012.25`, `1e5`, `01`, `1.`, `"EUR"`, `"Acme GmbH"`, `""`, `"x"`,
		`null`, `true`, `false`, `tru`, `"a\"b"`, `"é"`, `{"n":1}`, `[1]`, `"Wayne Enterprises"`}
	r := rand.New(rand.NewSource(3))
	var docs []string
	for range 400 {
		l := layouts[r.Intn(len(layouts))]
		args := make([]any, strings.Count(l, "%s"))
		for a := range args {
			args[a] = values[r.Intn(len(values))]
		}
		docs = append(docs, fmt.Sprintf(l, args...))
	}
	return docs
}

// TestScanTemplateMatchesScan holds flatScanner's reading of a document
// by the last sure document's template (scanTemplate, through scan) to
// a fresh scanner's reading of it, which has no template: sure and every
// value, for each document after each other one. It also checks that
// the template was taken for a share of the pairs, and gave scan's
// answer itself when it was.
func TestScanTemplateMatchesScan(t *testing.T) {
	docs := templateDocs()
	newScanner := func() *flatScanner {
		sc := &flatScanner{}
		for _, k := range []string{"amount", "currency", "vendor", "extra"} {
			sc.want(k)
		}
		sc.vals = make([]span, len(sc.keys))
		sc.pred = make([]*pathValues, len(sc.keys))
		return sc
	}
	sc := newScanner()
	taken, sureTaken := 0, 0
	for a, prev := range docs {
		for _, doc := range docs[max(a-40, 0) : a+1] {
			sc.scan(prev)
			fresh := newScanner()
			want := fresh.scan(doc)
			if len(sc.tmpl) > 0 {
				// The template alone, as scan tries it first.
				for k := range sc.vals {
					sc.vals[k] = span{to: -1, num: noNumber}
				}
				if sure, ok := sc.scanTemplate(doc); ok {
					taken++
					if sure {
						sureTaken++
					}
					checkSpans(t, prev, doc, sure, want, sc.vals, fresh.vals)
				}
			}
			got := sc.scan(doc)
			checkSpans(t, prev, doc, got, want, sc.vals, fresh.vals)
		}
	}
	if taken < 1000 || sureTaken < 150 {
		t.Errorf("template taken for %d pairs (%d sure): too few to test it", taken, sureTaken)
	}
}

func checkSpans(t *testing.T, prev, doc string, got, want bool, gotVals, wantVals []span) {
	t.Helper()
	if got != want {
		t.Fatalf("%q after %q: sure %v, a fresh scan %v", doc, prev, got, want)
	}
	if !got {
		return
	}
	for k := range gotVals {
		g, w := gotVals[k], wantVals[k]
		if g.from != w.from && (g.to >= 0 || w.to >= 0) || g.to != w.to || g.few != w.few || math.Float64bits(g.num) != math.Float64bits(w.num) {
			t.Fatalf("%q after %q: key %d %+v, a fresh scan %+v", doc, prev, k, g, w)
		}
	}
}

// TestGapTextAt holds gapText.at to strings.HasPrefix for gaps of 1 to
// 33 bytes, at every position of documents holding them, one byte off,
// or cut short, with 0 to 9 bytes after.
func TestGapTextAt(t *testing.T) {
	for n := 1; n <= 33; n++ {
		s := strings.Repeat(`{"abcdefghij":`, 3)[:n]
		g := newGapText(s)
		if (g.n == 0) != (n > 32) {
			t.Fatalf("gap of %d bytes: n %d", n, g.n)
		}
		var bodies []string
		for b := range n {
			bodies = append(bodies, s[:b]+"X"+s[b+1:], s[:b])
		}
		for _, body := range append(bodies, s, s+"x") {
			for after := range 10 {
				for before := range 10 {
					doc := strings.Repeat(" ", before) + body + strings.Repeat("}", after)
					for i := range len(doc) + 1 {
						want := n <= 32 && strings.HasPrefix(doc[i:], s)
						if got := g.at(doc, i); got != want {
							t.Fatalf("%q at %d of %q: %v, want %v", s, i, doc, got, want)
						}
					}
				}
			}
		}
	}
}
