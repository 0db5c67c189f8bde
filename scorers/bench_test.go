package scorers_test

import (
	"fmt"
	"math/rand"
	"strconv"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/jsonpath"
	"github.com/parity-eval/parity/scorers/scorertest"
)

// benchConfig has one feature of each built-in shape: a labelled
// categorical field (agreement, accuracy, quality, output categories) and
// JSON fields with numeric, exact and case-insensitive comparators, plus
// every optional per-request column (errors, latency, cost, confidence,
// model version, served_by) at its default name.
const benchConfig = `version: 1
source: {logs: unused}
output: unused
window: 24h
features:
  - name: routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {max_p95_latency_ms: 2000}
  - name: invoice
    fields:
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
      - {name: currency, legacy_json: legacy_output, ai_json: ai_output, path: $.currency, label: "-"}
      - {name: vendor, legacy_json: legacy_output, ai_json: ai_output, path: $.vendor, comparator: case_insensitive, label: "-"}
`

// benchRows is n log rows of both features' columns, each request
// distinct (unique ids, hashes and JSON documents), as a real row group
// of a shadow log is.
func benchRows(n int) []scorertest.Row {
	r := rand.New(rand.NewSource(1))
	cats := []string{"billing", "technical", "account", "sales", "fraud"}
	rows := make([]scorertest.Row, n)
	for i := range rows {
		l := cats[r.Intn(len(cats))]
		a := l
		if r.Float64() < 0.05 {
			a = cats[r.Intn(len(cats))]
		}
		amount := float64(r.Intn(500000)) / 100
		row := scorertest.Row{
			"request_id": "req-" + strconv.Itoa(i), "input_hash": strconv.FormatUint(r.Uint64(), 16),
			"legacy_category": l, "ai_category": a,
			"legacy_output": fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"Acme"}`, amount),
			"ai_output":     fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"ACME"}`, amount+float64(r.Intn(2))),
			"ai_confidence": r.Float64(), "ai_model_version": "v1",
			"legacy_latency_ms": 40 * (1 + r.Float64()), "ai_latency_ms": 600 * (1 + r.Float64()),
			"legacy_cost": 0.0002, "ai_cost": 0.002 * r.Float64(),
			"legacy_error": r.Float64() < 0.01, "ai_error": r.Float64() < 0.02,
			"served_by": "legacy", "ts": time.Unix(int64(i), 0),
		}
		if r.Float64() < 0.4 {
			row["label_category"] = cats[r.Intn(len(cats))]
		}
		rows[i] = row
	}
	return rows
}

// BenchmarkBuiltins measures each built-in scorer on one 64Ki-row batch
// of its feature (rows/s is b.N*rows/elapsed): the per-row cost eval
// pays once per scorer per row. JSON fields are benchmarked on the
// columns ExtractJSONPaths derives, as eval feeds them.
func BenchmarkBuiltins(b *testing.B) {
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig))
	if err != nil {
		b.Fatal(err)
	}
	const n = 64 << 10
	rows := benchRows(n)
	for _, f := range cfg.Features {
		ss := scorers.Builtins(&f, &cfg.Columns)
		var needs []scorers.Need
		for _, s := range ss {
			needs = append(needs, s.Needs()...)
		}
		// JSON-derived columns are not in the rows: build the source
		// columns and derive them as eval does.
		var plain []scorers.Need
		for _, nd := range needs {
			if !containsHash(nd.Column) {
				plain = append(plain, nd)
			}
		}
		plain = append(plain, scorers.Need{Column: "legacy_output", Kind: datasets.KindString, Optional: true}, scorers.Need{Column: "ai_output", Kind: datasets.KindString, Optional: true})
		in, err := scorertest.Input(plain, rows)
		if err != nil {
			b.Fatal(err)
		}
		var paths []string
		for _, fd := range f.Fields {
			if fd.Path != "" {
				paths = append(paths, fd.Path)
			}
		}
		if len(paths) > 0 {
			// Every JSON field of the benchmark reads these two columns.
			for _, src := range []string{"legacy_output", "ai_output"} {
				in.Batch.Cols = append(in.Batch.Cols, scorers.ExtractJSONPaths(in.Batch.Col(src), parsePaths(b, paths...))...)
			}
		}
		out := scorers.NewOut(n)
		for _, s := range ss {
			b.Run(f.Name+"/"+s.Name(), func(b *testing.B) {
				for b.Loop() {
					out.Reset(n)
					// A new Input per batch, as eval makes: nothing
					// memoised for the batch carries over.
					in := &scorers.Input{Rows: in.Rows, Batch: in.Batch, Labels: in.Labels}
					if err := s.Score(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}

// BenchmarkFeatureBatch is one batch of each feature through all its
// built-in scorers in eval's order, as eval.Workers.Batch runs them: a
// new Input, the JSON fields derived from both documents (in a worker's
// recycled JSONFields, which the Input carries), then each
// scorer after Out.ResetBuiltin, and Untouched after it. It
// measures what the per-scorer benchmarks cannot: work the scorers of
// one batch share (parsed numbers, agreement computed once).
func BenchmarkFeatureBatch(b *testing.B) {
	cfg, err := config.Parse("bench.yaml", []byte(benchConfig))
	if err != nil {
		b.Fatal(err)
	}
	const n = 32 << 10 // about a feature's share of a 128Ki-row row group
	rows := benchRows(n)
	for _, f := range cfg.Features {
		ss := scorers.Builtins(&f, &cfg.Columns)
		var plain []scorers.Need
		for _, s := range ss {
			for _, nd := range s.Needs() {
				if !containsHash(nd.Column) {
					plain = append(plain, nd)
				}
			}
		}
		plain = append(plain, scorers.Need{Column: "legacy_output", Kind: datasets.KindString, Optional: true}, scorers.Need{Column: "ai_output", Kind: datasets.KindString, Optional: true})
		base, err := scorertest.Input(plain, rows)
		if err != nil {
			b.Fatal(err)
		}
		var paths []jsonpath.Path
		for _, fd := range f.Fields {
			if fd.Path != "" {
				paths = append(paths, parsePaths(b, fd.Path)...)
			}
		}
		out := scorers.NewOut(n)
		var jf scorers.JSONFields
		b.Run(f.Name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				batch := &datasets.Batch{Rows: n, Cols: base.Batch.Cols}
				jf.Reset()
				if len(paths) > 0 {
					for _, src := range []string{"legacy_output", "ai_output"} {
						batch.Cols = append(batch.Cols, jf.Extract(base.Batch.Col(src), paths)...)
					}
				}
				in := &scorers.Input{Rows: n, Batch: batch, Labels: base.Labels, JSON: &jf}
				for _, s := range ss {
					out.ResetBuiltin(s, n)
					if err := s.Score(in, out); err != nil {
						b.Fatal(err)
					}
					out.Untouched(s.Kind())
				}
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func containsHash(s string) bool {
	for i := range s {
		if s[i] == '#' {
			return true
		}
	}
	return false
}

// BenchmarkExtractJSON derives one field of 64Ki distinct flat JSON
// documents (the common shape, on the flat fast path) and of nested
// ones (every document through jsonpath's decoder).
func BenchmarkExtractJSON(b *testing.B) {
	const n = 64 << 10
	for _, shape := range []struct{ name, doc, path string }{
		{"flat", `{"amount":%d.25,"currency":"EUR","vendor":"Acme"}`, "$.amount"},
		{"nested", `{"total":{"amount":%d.25},"currency":"EUR"}`, "$.total.amount"},
	} {
		rows := make([]scorertest.Row, n)
		for i := range rows {
			rows[i] = scorertest.Row{"doc": fmt.Sprintf(shape.doc, i)}
		}
		in, err := scorertest.Input([]scorers.Need{{Column: "doc", Kind: datasets.KindString}}, rows)
		if err != nil {
			b.Fatal(err)
		}
		paths := parsePaths(b, shape.path)
		b.Run(shape.name, func(b *testing.B) {
			for b.Loop() {
				scorers.ExtractJSONPaths(in.Batch.Col("doc"), paths)
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkExtractJSONPaths derives the benchmark log's three invoice
// fields (an amount distinct per document, a currency and a vendor out
// of a few) from 64Ki distinct flat documents: eval's work per JSON
// source column of a row group, in fresh buffers (ExtractJSONPaths) and
// in a worker's recycled ones (JSONFields).
func BenchmarkExtractJSONPaths(b *testing.B) {
	const n = 64 << 10
	r := rand.New(rand.NewSource(1))
	currencies := []string{"EUR", "USD", "GBP", "CHF"}
	vendors := []string{"Acme GmbH", "Globex", "Initech", "Umbrella", "Stark Industries", "Wayne Enterprises"}
	rows := make([]scorertest.Row, n)
	for i := range rows {
		rows[i] = scorertest.Row{"doc": fmt.Sprintf(`{"amount":%.2f,"currency":%q,"vendor":%q}`,
			float64(r.Intn(500000))/100, currencies[r.Intn(len(currencies))], vendors[r.Intn(len(vendors))])}
	}
	in, err := scorertest.Input([]scorers.Need{{Column: "doc", Kind: datasets.KindString}}, rows)
	if err != nil {
		b.Fatal(err)
	}
	paths := parsePaths(b, "$.amount", "$.currency", "$.vendor")
	b.Run("fresh", func(b *testing.B) {
		for b.Loop() {
			scorers.ExtractJSONPaths(in.Batch.Col("doc"), paths)
		}
		b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("recycled", func(b *testing.B) {
		var jf scorers.JSONFields
		b.ReportAllocs()
		for b.Loop() {
			jf.Reset()
			jf.Extract(in.Batch.Col("doc"), paths)
		}
		b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
	})
}

func parsePaths(tb testing.TB, srcs ...string) []jsonpath.Path {
	tb.Helper()
	var out []jsonpath.Path
	for _, s := range srcs {
		p, err := jsonpath.Parse(s)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

// extractDocs are documents on and off the flat fast path; for each,
// ExtractJSONPaths must give exactly what jsonpath's Lookup gives.
var extractDocs = []string{
	`{"amount":12.50,"currency":"EUR"}`, ` { "amount" : -0 , "x" : true } `, `{"amount":1e5}`, `{"amount":1E+5}`,
	`{"amount":-1.5e-3}`, `{"amount":"12.50"}`, `{"amount":null}`, `{"amount":true}`, `{"amount":false}`,
	`{"currency":"EUR"}`, `{}`, `{ }`, `{"amount":1,"amount":2}`, `{"amount":1,"amount":null}`,
	`{"amount":01}`, `{"amount":1.}`, `{"amount":-}`, `{"amount":.5}`, `{"amount":1,}`, `{"amount":1} trailing`,
	`{"amount":1}{"amount":2}`, `{"amount":{"v":1}}`, `{"amount":[1,2]}`, `{"a":{"amount":1},"amount":3}`,
	`{"amount":"a\"b"}`, `{"am\u006funt":5}`, `{"amount":"é"}`, "{\"amount\":\"tab\there\"}", `{"amount":"x\/y"}`,
	`[1,2]`, `"amount"`, `12`, ``, `not json`, `{"amount":tru}`, `{"amount":truex}`, `{"amount":nul}`,
	`{"amount" 1}`, `{amount:1}`, `{"amount":1`, `{"amount":"unterminated}`, "\n{\"amount\":7}\n", `{"Amount":1}`,
	`{"currency":"EUR","amount":2,"currency":"USD"}`, `{"currency":null,"amount":3}`, `{"amount":4,"currency":"CHF",}`,
}

// extractPaths mixes flat paths scanned together, a repeated one, ones
// that go through the decoder and a path no document has.
var extractPaths = []string{"$.amount", "$.currency", "$['amount']", "$.a.amount", "$.amount", "$.none"}

func TestExtractJSONPathsMatchesLookup(t *testing.T) {
	checkExtract(t, parsePaths(t, extractPaths...), extractDocs)
}

// TestExtractJSONPathsManyValues covers a path whose values outgrow a
// small dictionary part-way through a batch (the values seen so far
// move to one entry per document), with documents lacking it and
// documents off the fast path in between.
func TestExtractJSONPathsManyValues(t *testing.T) {
	var docs []string
	for i := range 60 {
		switch i % 4 {
		case 0:
			docs = append(docs, fmt.Sprintf(`{"currency":"C%d"}`, i%7))
		case 1:
			docs = append(docs, fmt.Sprintf(`{"amount":%d,"currency":"C%d"}`, i, i%7))
		case 2:
			docs = append(docs, fmt.Sprintf(`{"amount":"\u0041%d","nested":{"x":1},"currency":"C%d"}`, i, i%7))
		default:
			docs = append(docs, fmt.Sprintf(`{"amount":%d.5}`, i%3))
		}
	}
	checkExtract(t, parsePaths(t, "$.amount", "$.currency"), docs)
}

// checkExtract compares ExtractJSONPaths over docs with Lookup of each
// doc, on a column shaped as eval may hand it over: rows use their
// documents in another order and more than once, one row is null, one
// dictionary entry is used by no row (a gathered column keeps the whole
// row group's dictionary) and each document is in the dictionary twice
// (PLAIN-decoded documents are not deduplicated).
func checkExtract(t *testing.T, paths []jsonpath.Path, docs []string) {
	t.Helper()
	dict := append(append([]string{`{"amount":"unused"}`}, docs...), docs...)
	src := &datasets.Column{Name: "doc", Kind: datasets.KindString, Dict: dict, DictRepeats: true}
	var want []string // document of each row; "" with null
	for i := len(docs) - 1; i >= 0; i-- {
		src.Codes = append(src.Codes, int32(1+i), int32(1+len(docs)+i), int32(1+i))
		want = append(want, docs[i], docs[i], docs[i])
	}
	src.Codes = append(src.Codes, 0)
	src.Null = make([]bool, len(src.Codes))
	src.Null[len(src.Codes)-1] = true
	want = append(want, "")
	got := scorers.ExtractJSONPaths(src, paths)
	if len(got) != len(paths) {
		t.Fatalf("%d columns for %d paths", len(got), len(paths))
	}
	for p, path := range paths {
		col := got[p]
		if name := "doc#" + path.String(); col.Name != name || col.Kind != datasets.KindString || col.Len() != len(src.Codes) {
			t.Fatalf("column %d: %q, kind %v, %d rows; want %q, string, %d rows", p, col.Name, col.Kind, col.Len(), name, len(src.Codes))
		}
		for i := range src.Codes {
			if src.IsNull(i) {
				if !col.IsNull(i) {
					t.Errorf("%s: row %d of a null document is not null", path, i)
				}
				continue
			}
			doc := want[i]
			v, ok := path.Lookup(doc)
			if col.IsNull(i) != !ok || (ok && col.Str(i) != v) {
				t.Errorf("%s of %q: ExtractJSONPaths gives %q (null %v), Lookup %q (ok %v)", path, doc, col.Str(i), col.IsNull(i), v, ok)
			}
			if col.IsNull(i) && col.Codes[i] != 0 {
				t.Errorf("%s of %q: null row has code %d, want 0", path, doc, col.Codes[i])
			}
		}
		if !col.DictRepeats {
			seen := map[string]bool{}
			for _, d := range col.Dict {
				if seen[d] {
					t.Errorf("%s: %q twice in a Dict without DictRepeats", path, d)
				}
				seen[d] = true
			}
		}
	}
}

// FuzzExtractJSON checks ExtractJSONPaths against Lookup on arbitrary
// documents and keys, so the fast path can never disagree with the
// decoder.
// Two fuzzed documents are read one after the other and between
// ordinary ones, so a document's keys are also tried at the positions
// of the previous document's keys (flatScanner's layout), and each is
// read by the template of the one before it (scanTemplate).
func FuzzExtractJSON(f *testing.F) {
	for i, d := range extractDocs {
		f.Add(d, extractDocs[(i*7+3)%len(extractDocs)], []string{"amount", "currency", "a", "", "x y"}[i%5])
	}
	f.Fuzz(func(t *testing.T, doc1, doc2, key string) {
		srcs := []string{"$.amount", "$.currency", "$['amount']"}
		if _, err := jsonpath.Parse("$." + key); err == nil {
			srcs = append(srcs, "$."+key)
		}
		checkExtract(t, parsePaths(t, srcs...), []string{doc1, `{"amount":1,"currency":"EUR"}`, doc2, doc1})
	})
}

// TestExtractJSONPathsLayouts covers documents whose keys sit where the
// previous document had other keys, or a key's prefix, or the same key
// followed by more bytes, or the same bytes as an escaped key; and
// string values of every length around the eight bytes read at once,
// with a stop byte (quote, backslash, control, non-ASCII) at each
// position, inside a document and at its end.
func TestExtractJSONPathsLayouts(t *testing.T) {
	docs := []string{
		`{"amount":1,"currency":"EUR","vendor":"Acme"}`,
		`{"amount":2,"currency":"USD","vendor":"Globex"}`,
		`{"currency":"GBP","amount":3,"vendor":"Initech"}`,
		`{"amountx":4,"currency":"CHF"}`,
		`{"amoun":5,"currenc":"X"}`,
		`{"amount":6,"currency":"EUR","vendor":"Acme","extra":1}`,
		`{"am\u006funt":7,"currency":"EUR"}`,
		`{"amount":8}`,
		`{"amount":9,"currency":"EUR","vendor":"Acme","amount":10}`,
		`{"":11,"amount":12}`,
		`{"amount":13,"currency":"EUR","vendor":"Acme"`,
		`{"amount":14,"currency":"EUR","vendor":"Acme"}`,
	}
	for n := range 20 {
		base := "abcdefghijklmnopqrstuvwxyz"[:n]
		docs = append(docs, fmt.Sprintf(`{"currency":"%s","amount":%d}`, base, n))
		for pos := 0; pos <= n; pos++ {
			for _, stop := range []string{`"`, `\`, "\t", "\x01", "é", "\x7f", " "} {
				docs = append(docs, fmt.Sprintf(`{"currency":"%s%s%s","amount":%d}`, base[:pos], stop, base[pos:], n))
				docs = append(docs, fmt.Sprintf(`{"%s%s%s":"%s","amount":%d}`, base[:pos], stop, base[pos:], base, n))
				// The last value, where fewer than eight bytes follow.
				docs = append(docs, fmt.Sprintf(`{"amount":%d,"currency":"%s%s%s"}`, n, base[:pos], stop, base[pos:]))
			}
		}
	}
	checkExtract(t, parsePaths(t, "$.amount", "$.currency", "$.vendor", "$.abcdefghij", "$.abc"), docs)
}
