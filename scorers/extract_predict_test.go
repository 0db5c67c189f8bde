package scorers_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestExtractJSONPathsPredictedValues covers flatScanner's comparison of
// a string value with the path's few values at its first bytes: values
// sharing a first byte, a value that is another's prefix or extends it,
// values of every length around the words compared at once (and
// longer, compared as strings), at a document's end where fewer
// than eight or sixteen bytes follow, the empty string, a number or
// boolean whose text is a few value, values Lookup decoded from escapes
// (whose bytes would also match an invalid document's), a value followed
// by invalid JSON, and duplicate keys.
func TestExtractJSONPathsPredictedValues(t *testing.T) {
	docs := []string{
		`{"currency":"EUR","vendor":"Acme"}`,
		`{"currency":"EURO","vendor":"Acme GmbH"}`,
		`{"currency":"EU","vendor":"Acm"}`,
		`{"currency":"EUR","vendor":"Acme"}`,
		`{"currency":"","vendor":""}`,
		`{"currency":"\"","vendor":"x"}`,
		`{"currency":"","vendor":""}`,
		`{"currency":"a"b","vendor":"Acme"}`,
		`{"currency":"a\"b","vendor":"a\\b"}`,
		`{"currency":"a"b","vendor":"a\b"}`,
		`{"vendor":"a\b","currency":"a"b"}`,
		`{"currency":"a"b","vendor":"Acme"}`,
		`{"currency":"a\"b","vendor":"a\\b"}`,
		`{"currency":"a"b","vendor":"Acme"}`,
		`{"currency":"a\u0041","vendor":"é"}`,
		`{"currency":"aA","vendor":"é"}`,
		`{"currency":1,"vendor":true}`,
		`{"currency":"1","vendor":"true"}`,
		`{"currency":"EUR","vendor":"Acme"`,
		`{"currency":"EUR"x,"vendor":"Acme"}`,
		`{"currency":"EUR","currency":"USD"}`,
		`{"currency":"USD","currency":"EUR","vendor":"Acme","vendor":"Globex"}`,
		`{"currency":"EUR"`,
		`{"currency":"EUR`,
		`{"currency":"`,
		`{"currency":"EUR"} `,
		`{"currency" : "EUR" , "vendor" : "Acme" }`,
	}
	paths := parsePaths(t, "$.currency", "$.vendor", "$.currency")
	checkExtract(t, paths, docs)
	// Lengths, each in a batch of its own: a batch's values outgrow its
	// few values after 16.
	for n := range 45 {
		v := strings.Repeat("v", n)
		w := strings.Repeat("w", n) + "x"
		docs := []string{
			fmt.Sprintf(`{"vendor":"%s","currency":"%s"}`, v, v),
			fmt.Sprintf(`{"currency":"%s","vendor":"%s"}`, v, v),
			fmt.Sprintf(`{"currency":"%s","vendor":"%s"}`, w, w),
			fmt.Sprintf(`{"currency":"%sv","vendor":"%s"}`, v, v[:max(n-1, 0)]),
			fmt.Sprintf(`{"vendor":"%s","currency":"%s`, v, v),
			fmt.Sprintf(`{"vendor":"%s","currency":"%s}`, v, v),
			fmt.Sprintf(`{"vendor":"%s","currency":"%s"}`, w, v),
			fmt.Sprintf(`{"vendor":"%s","currency":"%s"`, v, w),
		}
		checkExtract(t, paths, docs)
	}
}

// TestExtractJSONPathsPredictedPastFew covers a path that outgrows its
// few values while the scanner compares with them: the documents after
// must be read as any other.
func TestExtractJSONPathsPredictedPastFew(t *testing.T) {
	var docs []string
	for i := range 40 {
		docs = append(docs, fmt.Sprintf(`{"currency":"C%d","vendor":"V%d"}`, i%(i/10+12), i%3))
	}
	checkExtract(t, parsePaths(t, "$.currency", "$.vendor"), docs)
}
