package eval_test

import (
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/scorertest"
)

// batchConfig is the shape of bench/'s configuration: two categorical
// features (labelled, critical) and one with three JSON fields, with
// every built-in scorer, a latency bound and the optional columns.
const batchConfig = `version: 1
source: {logs: unused}
output: unused
window: 24h
features:
  - name: ticket_routing
    fields:
      - {name: category, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
    criteria: {max_p95_latency_ms: 2000}
  - name: refund_approval
    fields:
      - {name: decision, legacy: legacy_category, ai: ai_category, label: label_category, critical: true}
  - name: invoice_extraction
    fields:
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, abs_tolerance: 0.01, label: "-", critical: true}
      - {name: currency, legacy_json: legacy_output, ai_json: ai_output, path: $.currency, label: "-"}
      - {name: vendor, legacy_json: legacy_output, ai_json: ai_output, path: $.vendor, comparator: case_insensitive, label: "-"}
`

// mixedBatch is one row group of n rows of the three features
// interleaved (as a shared shadow log has them), over one day, each
// request distinct.
func mixedBatch(b *testing.B, eng *eval.Engine, day time.Time, n int) *datasets.Batch {
	r := rand.New(rand.NewSource(1))
	feats := []string{"ticket_routing", "ticket_routing", "refund_approval", "invoice_extraction"}
	classes := []string{"email", "chat", "phone", "web", "spanish"}
	cats := []string{"billing", "technical", "account", "sales", "fraud"}
	rows := make([]scorertest.Row, n)
	for i := range rows {
		f := feats[r.Intn(len(feats))]
		row := scorertest.Row{
			"request_id": "req-" + strconv.Itoa(i), "ts": day.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n)),
			"feature": f, "input_class": classes[r.Intn(len(classes))], "input_hash": strconv.FormatUint(r.Uint64(), 16),
			"ai_confidence": r.Float64(), "ai_model_version": "v1", "served_by": "legacy",
			"legacy_latency_ms": 40 * (1 + r.Float64()), "ai_latency_ms": 600 * (1 + r.Float64()),
			"legacy_cost": 0.0002, "ai_cost": 0.002 * r.Float64(),
			"legacy_error": r.Float64() < 0.01, "ai_error": r.Float64() < 0.02,
		}
		if f == "invoice_extraction" {
			amount := float64(r.Intn(500000)) / 100
			row["legacy_output"] = fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"Acme"}`, amount)
			row["ai_output"] = fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"ACME"}`, amount+float64(r.Intn(2)))
		} else {
			l := cats[r.Intn(len(cats))]
			row["legacy_category"], row["ai_category"] = l, l
			if r.Float64() < 0.05 {
				row["ai_category"] = cats[r.Intn(len(cats))]
			}
			if r.Float64() < 0.4 {
				row["label_category"] = l
			}
		}
		rows[i] = row
	}
	var needs []scorers.Need
	for _, c := range eng.Projection() {
		needs = append(needs, scorers.Need{Column: c.Name, Kind: c.Kind, Optional: c.Optional})
	}
	in, err := scorertest.Input(needs, rows)
	if err != nil {
		b.Fatal(err)
	}
	return in.Batch
}

// BenchmarkBatch is eval's per-batch hot path (Workers.Batch: window,
// feature and class grouping, gathering each feature's rows, every
// built-in scorer, accumulation) on a 64Ki-row batch of three
// interleaved features; rows/s is per core.
func BenchmarkBatch(b *testing.B) { benchBatch(b, nil) }

// benchBatch runs Workers.Batch on mixedBatch's 64Ki rows, first
// reshaped by shape when it is not nil.
func benchBatch(b *testing.B, shape func(*testing.B, *datasets.Batch)) {
	cfg, err := config.Parse("bench.yaml", []byte(batchConfig))
	if err != nil {
		b.Fatal(err)
	}
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	eng, err := eval.NewEngine(cfg, nil, eval.WindowsBetween(day, day.AddDate(0, 0, 1), 24*time.Hour), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	const n = 64 << 10
	batch := mixedBatch(b, eng, day, n)
	if shape != nil {
		shape(b, batch)
	}
	ws := eng.NewWorkers(1, []string{batch.File})
	b.ReportAllocs()
	for b.Loop() {
		if err := ws.Batch(0, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "rows/s")
	// Every row is scored: the benchmark measures the real path, not a
	// batch that was dropped.
	var rows int64
	for _, g := range ws.Result().Groups {
		rows += g.Rows
	}
	if rows != int64(b.N)*n {
		b.Fatalf("%d rows in groups after %d batches of %d", rows, b.N, n)
	}
}

// decoded makes batch's columns look as the Parquet decoder returns the
// bench log's (datasets.Scan): request ids and JSON documents PLAIN, one
// Dict entry per row (DictRepeats), the input hash, read for presence
// only, as PresenceDict codes, and NoEmpty set on string columns without
// an empty value. mixedBatch's dictionary-coded ids take the cheaper
// duplicate check by code, which the decoded log does not.
func decoded(b *testing.B, batch *datasets.Batch) {
	for _, c := range batch.Cols {
		if c.Kind != datasets.KindString {
			continue
		}
		switch c.Name {
		case "request_id", "legacy_output", "ai_output":
			dict, codes := make([]string, 0, len(c.Codes)), make([]int32, len(c.Codes))
			for i, code := range c.Codes {
				codes[i] = int32(len(dict))
				dict = append(dict, c.Dict[code])
			}
			c.Dict, c.Codes, c.DictRepeats = dict, codes, true
		case "input_hash":
			c.Dict = datasets.PresenceDict[:]
			for i := range c.Codes {
				c.Codes[i] = 1
			}
		}
		c.NoEmpty = !slices.Contains(c.Dict, "")
	}
	if c := batch.Col("request_id"); c == nil || !c.DictRepeats || !c.NoEmpty {
		b.Fatal("no PLAIN request id column")
	}
}

// BenchmarkBatchDecoded is BenchmarkBatch on columns shaped as the
// decoder returns the bench log's (decoded): its duplicate request ids
// are found by value (dupFinder), as in a real run.
func BenchmarkBatchDecoded(b *testing.B) { benchBatch(b, decoded) }
