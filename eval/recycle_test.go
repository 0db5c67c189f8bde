package eval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage/file"
)

// recycleConfig reads JSON fields of both documents (a few-valued one
// with a label, so category and classification keys come from the
// documents' bytes, and a many-valued one), next to a plain field.
const recycleConfig = `version: 1
source: {logs: logs}
output: out
window: 24h
features:
  - name: f
    fields:
      - {name: category, label: "-", critical: true}
      - {name: currency, legacy_json: legacy_output, ai_json: ai_output, path: $.currency, label: label_currency}
      - {name: vendor, legacy_json: legacy_output, ai_json: ai_output, path: $.vendor, label: "-"}
      - {name: amount, legacy_json: legacy_output, ai_json: ai_output, path: $.amount, comparator: numeric, label: "-"}
    drift_columns: [ai_model_version:category]
    SCORERS
`

// recycleRow's strings are PLAIN (parquet-go's default) and mostly
// distinct where the decoder should append them (request ids, JSON
// documents, classes and model versions): every one of those columns'
// strings is then in the scan's recycled bytes.
type recycleRow struct {
	RequestID     string    `parquet:"request_id"`
	TS            time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature       string    `parquet:"feature,dict"`
	InputClass    string    `parquet:"input_class"`
	Legacy        string    `parquet:"legacy_category,dict"`
	AI            string    `parquet:"ai_category,dict"`
	LegacyOutput  string    `parquet:"legacy_output"`
	AIOutput      string    `parquet:"ai_output"`
	LabelCurrency string    `parquet:"label_currency,dict"`
	ModelVersion  string    `parquet:"ai_model_version"`
}

func recycleRows(n int, day time.Time) []recycleRow {
	cur := []string{"USD", "EUR", "GBP", "JPY", "CHF"}
	cats := []string{"billing", "shipping", "returns"}
	rows := make([]recycleRow, n)
	for i := range rows {
		doc := func(shift int) string {
			return fmt.Sprintf(`{"currency":%q,"amount":"%d.%02d","vendor":"vendor-%d"}`, cur[(i+shift)%len(cur)], i%997, (i+shift)%100, (i*7+shift)%300)
		}
		rows[i] = recycleRow{
			RequestID: fmt.Sprintf("req-%08d", i), TS: day.Add(time.Duration(i) * time.Second), Feature: "f",
			InputClass: fmt.Sprintf("class-%d", i%450), Legacy: cats[i%3], AI: cats[(i+i/7)%3],
			LegacyOutput: doc(0), AIOutput: doc(i / 11 % 2), LabelCurrency: cur[(i+i/13)%len(cur)],
			ModelVersion: fmt.Sprintf("model-%d", i%600),
		}
		if i%17 == 0 {
			rows[i].AIOutput = `{"currency": "EUR", "nested": {"x": 1}}` // not the flat fast path
		}
	}
	return rows
}

func recycleEngine(t *testing.T, scorersYAML string, day time.Time) *eval.Engine {
	t.Helper()
	cfg, err := config.Parse("parity.yaml", []byte(replaceScorers(recycleConfig, scorersYAML)))
	if err != nil {
		t.Fatal(err)
	}
	eng, err := eval.NewEngine(cfg, nil, eval.WindowsBetween(day, day.AddDate(0, 0, 1), 24*time.Hour), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

func replaceScorers(cfg, scorersYAML string) string {
	return string(bytes.ReplaceAll([]byte(cfg), []byte("SCORERS"), []byte(scorersYAML)))
}

func recycled(cols []datasets.ColumnSpec) []string {
	var out []string
	for _, c := range cols {
		if c.RecycleStrings {
			out = append(out, c.Name)
		}
	}
	slices.Sort(out)
	return out
}

// TestRecyclingProjection: string columns only parity's own code reads
// are recycled; one a configured scorer reads, or whose JSON field it
// reads, is not; presence-only and non-string columns never are.
func TestRecyclingProjection(t *testing.T) {
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		scorers string
		want    []string
	}{
		{"", []string{"ai_category", "ai_model_version", "ai_output", "feature", "input_class", "label_currency", "legacy_category", "legacy_output", "request_id", "served_by"}},
		// A configured scorer on the plain columns.
		{`scorers: [{name: same_cat, type: normalized_equal, legacy: legacy_category, ai: ai_category}]`,
			[]string{"ai_model_version", "ai_output", "feature", "input_class", "label_currency", "legacy_output", "request_id", "served_by"}},
		// One on a JSON field: its documents are not recycled.
		{`scorers: [{name: same_vendor, type: normalized_equal, legacy: "legacy_output#$.vendor", ai: "ai_output#$.vendor"}]`,
			[]string{"ai_category", "ai_model_version", "feature", "input_class", "label_currency", "legacy_category", "request_id", "served_by"}},
	} {
		eng := recycleEngine(t, tc.scorers, day)
		cols := eng.RecyclingProjection()
		if got := recycled(cols); !slices.Equal(got, tc.want) {
			t.Errorf("scorers %q: recycled %v, want %v", tc.scorers, got, tc.want)
		}
		plain := eng.Projection()
		for i := range cols {
			cols[i].RecycleStrings = false
		}
		if !slices.Equal(cols, plain) {
			t.Errorf("scorers %q: RecyclingProjection differs from Projection beyond RecycleStrings", tc.scorers)
		}
	}
}

// TestRecycledAggregatesMatch scans a log whose request ids, classes,
// model versions and JSON documents are all appended PLAIN strings, with
// their bytes recycled and poisoned after every batch
// (PARITY_POISON_RECYCLED=1): the aggregates, whose group keys and
// category keys come from those bytes, must equal a scan without
// recycling, read after the scan (when every recycled byte is poison).
func TestRecycledAggregatesMatch(t *testing.T) {
	t.Setenv("PARITY_POISON_RECYCLED", "1")
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	parquettest.WriteGo(t, filepath.Join(dir, "logs", "a.parquet"), recycleRows(3000, day), parquet.MaxRowsPerRowGroup(700), parquet.PageBufferSize(4096))
	parquettest.WriteGo(t, filepath.Join(dir, "logs", "b.parquet"), recycleRows(1300, day.Add(time.Hour)), parquet.MaxRowsPerRowGroup(1300), parquet.PageBufferSize(4096))
	st, err := file.New(filepath.Join(dir, "logs"))
	if err != nil {
		t.Fatal(err)
	}
	d := &datasets.Dataset{Store: st}
	files, err := d.Files(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	eng := recycleEngine(t, "", day)
	run := func(cols []datasets.ColumnSpec, workers int) ([]byte, map[string]bool) {
		names := make([]string, len(files))
		for i, f := range files {
			names[i] = f.Key
		}
		ws := eng.NewWorkers(workers, names)
		appended := map[string]bool{}
		spec := datasets.ScanSpec{Columns: cols, Workers: workers, ReuseBuffers: true}
		if _, err := d.Scan(context.Background(), files, spec, func(wi int, b *datasets.Batch) error {
			if wi == 0 {
				for _, c := range b.Cols {
					if c != nil && c.DictRepeats {
						appended[c.Name] = true
					}
				}
			}
			return ws.Batch(wi, b)
		}); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(ws.Result().File())
		if err != nil {
			t.Fatal(err)
		}
		return out, appended
	}
	for _, w := range []int{1, 2} {
		want, _ := run(eng.Projection(), w)
		got, appended := run(eng.RecyclingProjection(), w)
		if !bytes.Equal(got, want) {
			t.Fatalf("workers=%d: aggregates differ with recycled, poisoned strings:\n got %s\nwant %s", w, got, want)
		}
		for _, c := range []string{"request_id", "input_class", "legacy_output", "ai_output", "ai_model_version"} {
			if !appended[c] {
				t.Fatalf("fixture: column %s not appended (its strings would not be recycled)", c)
			}
		}
		if bytes.Contains(got, []byte{0xA5}) || !bytes.Contains(got, []byte(`"GBP"`)) || !bytes.Contains(got, []byte("class-449")) || !bytes.Contains(got, []byte("model-599")) {
			t.Fatalf("fixture: aggregates lack the keys the test is about: %.2000s", got)
		}
	}
}
