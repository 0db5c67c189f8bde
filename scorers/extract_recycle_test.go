package scorers_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// jsonNumberTexts are amounts on and off the numbers the flat scan parses
// itself: plain decimals up to and past 15 digits, -0, exponents, huge
// and tiny values, and texts that are not JSON numbers (the document is
// then read by the decoder, or the value is a string parsed on use).
var jsonNumberTexts = []string{
	"0", "-0", "-0.0", "0.5", "12.50", "4999.99", "-1234.56", "2.675", "1.005", "999999999999999",
	"99999999999999.9", "9999999999999999", "0.000000000000001", "123456789012345678901234567890",
	"1e5", "1E+5", "-1.5e-3", "1e400", "-1e-400", "1e308", "4.9e-324", "01", "1.", "-", ".5", "1e", "1e+",
	`"12.50"`, `" 12.5 "`, `"1_000"`, `"\u0031"`, `"-0"`, "null", "true", `{"v":1}`, "[1]",
}

// randomDoc is a document for the recycling tests: mostly the flat
// invoice shape, with every kind of value at $.amount, keys in other
// orders, missing, duplicated or escaped, whitespace, nesting and
// invalid documents.
func randomDoc(r *rand.Rand, currencies []string) string {
	amount := jsonNumberTexts[r.Intn(len(jsonNumberTexts))]
	if r.Intn(2) == 0 {
		amount = fmt.Sprintf("%d.%02d", r.Intn(5000), r.Intn(100))
	}
	cur := currencies[r.Intn(len(currencies))]
	switch r.Intn(12) {
	case 0:
		return fmt.Sprintf(`{"currency":%q,"amount":%s}`, cur, amount)
	case 1:
		return fmt.Sprintf(` { "amount" : %s , "currency" : %q } `, amount, cur)
	case 2:
		return fmt.Sprintf(`{"amount":%s,"amount":%d,"currency":%q}`, amount, r.Intn(100), cur)
	case 3:
		return fmt.Sprintf(`{"currency":%q}`, cur)
	case 4:
		return fmt.Sprintf(`{"am\u006funt":%s,"currency":"\u0045UR"}`, amount)
	case 5:
		return fmt.Sprintf(`{"amount":%s,"nested":{"currency":"X"},"currency":%q}`, amount, cur)
	case 6:
		return fmt.Sprintf(`{"amount":%s,"currency":%q`, amount, cur) // invalid
	case 7:
		return fmt.Sprintf(`{"amount":%s,"currency":null,"vendor":"Acme"}`, amount)
	}
	return fmt.Sprintf(`{"amount":%s,"currency":%q,"vendor":"Acme GmbH"}`, amount, cur)
}

// TestJSONFieldsRecycledMatchesFresh holds JSONFields, one value used
// for many batches as a scan worker uses it, to ExtractJSONPaths (fresh
// buffers, held to Lookup by the other tests): every derived column of
// every batch must be the same, Dict entries no row uses included, after
// both sources of a batch were derived (the second must not overwrite
// the first). Batches vary the source's dictionary size (buffers grown
// and reused shorter), its unused entries, repeats and nulls, the paths
// (flat, nested, missing), and the values (a path with few values, one
// outgrowing them, numbers and non-numbers). Numeric agreement read
// through Input.JSON (the numbers parsed during the scan) must give the
// codes of parsing each value on use.
func TestJSONFieldsRecycledMatchesFresh(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	pathSets := [][]string{
		{"$.amount", "$.currency", "$.vendor"},
		{"$.amount"},
		{"$.currency", "$.amount", "$.nested.currency", "$['amount']", "$.none"},
	}
	agree := scorers.NewFieldAgreement(&config.Field{Name: "amount", Legacy: "legacy#$.amount", AI: "ai#$.amount", Comparator: "numeric", AbsTolerance: 0.01})
	var jf scorers.JSONFields
	for batch := range 80 {
		paths := parsePaths(t, pathSets[batch%len(pathSets)]...)
		currencies := []string{"EUR", "USD", "GBP"}
		if batch%4 == 1 {
			for i := range 30 {
				currencies = append(currencies, fmt.Sprintf("C%d", i)) // outgrows the few values
			}
		}
		rows := 1 + r.Intn(300)
		srcs := make([]*datasets.Column, 2)
		for s, name := range []string{"legacy", "ai"} {
			dict := make([]string, 1+r.Intn(2*rows))
			for e := range dict {
				dict[e] = randomDoc(r, currencies)
			}
			c := &datasets.Column{Name: name, Kind: datasets.KindString, Dict: dict, DictRepeats: true, Codes: make([]int32, rows)}
			for i := range c.Codes {
				c.Codes[i] = int32(r.Intn(len(dict)))
				if r.Intn(10) == 0 {
					if c.Null == nil {
						c.Null = make([]bool, rows)
					}
					c.Null[i] = true
					c.Codes[i] = 0
				}
			}
			srcs[s] = c
		}
		jf.Reset()
		var got, want []*datasets.Column
		for _, src := range srcs {
			got = append(got, jf.Extract(src, paths)...)
		}
		for _, src := range srcs {
			want = append(want, scorers.ExtractJSONPaths(src, paths)...)
		}
		for k := range want {
			g, w := got[k], want[k]
			if g.Name != w.Name || g.Kind != w.Kind || g.DictRepeats != w.DictRepeats || !slices.Equal(g.Dict, w.Dict) ||
				!slices.Equal(g.Codes, w.Codes) || !slices.Equal(g.Null, w.Null) {
				t.Fatalf("batch %d: column %q recycled differs from fresh:\n got %+v\nwant %+v", batch, w.Name, *g, *w)
			}
		}
		if paths[0].String() != "$.amount" {
			continue
		}
		// The amount columns are named legacy#$.amount and ai#$.amount.
		gotIn := &scorers.Input{Rows: rows, Batch: &datasets.Batch{Rows: rows, Cols: got}, JSON: &jf}
		wantIn := &scorers.Input{Rows: rows, Batch: &datasets.Batch{Rows: rows, Cols: want}}
		if g, w := agree.RateCodes(gotIn, nil), agree.RateCodes(wantIn, nil); !slices.Equal(g, w) {
			t.Fatalf("batch %d: numeric agreement with the scan's numbers %v, parsed on use %v", batch, g, w)
		}
	}
}
