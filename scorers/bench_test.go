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
// columns ExtractJSON derives, as eval feeds them.
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
		for _, fd := range f.Fields {
			if fd.Path == "" {
				continue
			}
			p, err := jsonpath.Parse(fd.Path)
			if err != nil {
				b.Fatal(err)
			}
			for _, src := range []string{fd.LegacyJSON, fd.AIJSON} {
				if c := in.Batch.Col(src); c != nil && in.Batch.Col(src+"#"+fd.Path) == nil {
					in.Batch.Cols = append(in.Batch.Cols, scorers.ExtractJSON(c, p))
				}
			}
		}
		out := scorers.NewOut(n)
		for _, s := range ss {
			b.Run(f.Name+"/"+s.Name(), func(b *testing.B) {
				for b.Loop() {
					out.Reset(n)
					if err := s.Score(in, out); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
			})
		}
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
// documents (the common shape, on ExtractJSON's fast path) and of nested
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
		p, err := jsonpath.Parse(shape.path)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(shape.name, func(b *testing.B) {
			for b.Loop() {
				scorers.ExtractJSON(in.Batch.Col("doc"), p)
			}
			b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// extractDocs are documents on and off ExtractJSON's flat fast path; for
// each, ExtractJSON must give exactly what jsonpath's Lookup gives.
var extractDocs = []string{
	`{"amount":12.50,"currency":"EUR"}`, ` { "amount" : -0 , "x" : true } `, `{"amount":1e5}`, `{"amount":1E+5}`,
	`{"amount":-1.5e-3}`, `{"amount":"12.50"}`, `{"amount":null}`, `{"amount":true}`, `{"amount":false}`,
	`{"currency":"EUR"}`, `{}`, `{ }`, `{"amount":1,"amount":2}`, `{"amount":1,"amount":null}`,
	`{"amount":01}`, `{"amount":1.}`, `{"amount":-}`, `{"amount":.5}`, `{"amount":1,}`, `{"amount":1} trailing`,
	`{"amount":1}{"amount":2}`, `{"amount":{"v":1}}`, `{"amount":[1,2]}`, `{"a":{"amount":1},"amount":3}`,
	`{"amount":"a\"b"}`, `{"am\u006funt":5}`, `{"amount":"é"}`, "{\"amount\":\"tab\there\"}", `{"amount":"x\/y"}`,
	`[1,2]`, `"amount"`, `12`, ``, `not json`, `{"amount":tru}`, `{"amount":truex}`, `{"amount":nul}`,
	`{"amount" 1}`, `{amount:1}`, `{"amount":1`, `{"amount":"unterminated}`, "\n{\"amount\":7}\n", `{"Amount":1}`,
}

func TestExtractJSONMatchesLookup(t *testing.T) {
	for _, path := range []string{"$.amount", "$.currency", "$['amount']", "$.a.amount"} {
		p, err := jsonpath.Parse(path)
		if err != nil {
			t.Fatal(err)
		}
		checkExtract(t, p, extractDocs)
	}
}

// checkExtract compares ExtractJSON over docs with Lookup of each doc.
func checkExtract(t *testing.T, p jsonpath.Path, docs []string) {
	t.Helper()
	src := &datasets.Column{Name: "doc", Kind: datasets.KindString, Dict: docs, Codes: make([]int32, len(docs))}
	for i := range docs {
		src.Codes[i] = int32(i)
	}
	got := scorers.ExtractJSON(src, p)
	for i, doc := range docs {
		want, ok := p.Lookup(doc)
		if got.IsNull(i) != !ok || (ok && got.Str(i) != want) {
			t.Errorf("%s of %q: ExtractJSON gives %q (null %v), Lookup %q (ok %v)", p, doc, got.Str(i), got.IsNull(i), want, ok)
		}
	}
}

// FuzzExtractJSON checks ExtractJSON against Lookup on arbitrary
// documents, so the fast path can never disagree with the decoder.
func FuzzExtractJSON(f *testing.F) {
	for _, d := range extractDocs {
		f.Add(d)
	}
	p, err := jsonpath.Parse("$.amount")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkExtract(t, p, []string{doc})
	})
}
