package main

// The bad-input matrix, continued (badinput_test.go has the first part):
// timestamp columns that are not instants, labels for unknown requests,
// rows outside the window, invalid YAML and every kind of invalid config
// value. Each gives a clear error with a non-zero exit and nothing
// written, or a documented, counted warning; none may pass or graduate.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// writeArrowTS writes n agreeing rows of class x as arrow-go does, with a
// ts column of the given Arrow type (TIME or DATE rather than TIMESTAMP).
func writeArrowTS(t *testing.T, path string, n int, tsType arrow.DataType) {
	t.Helper()
	mem := memory.NewGoAllocator()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "request_id", Type: arrow.BinaryTypes.String},
		{Name: "ts", Type: tsType},
		{Name: "feature", Type: arrow.BinaryTypes.String},
		{Name: "input_class", Type: arrow.BinaryTypes.String},
		{Name: "legacy_category", Type: arrow.BinaryTypes.String},
		{Name: "ai_category", Type: arrow.BinaryTypes.String},
		{Name: "ai_latency_ms", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("x-%d", i))
		at := badDay.Add(time.Duration(i) * time.Second)
		switch tb := b.Field(1).(type) {
		case *array.Time64Builder:
			tb.Append(arrow.Time64(at.Sub(badDay).Microseconds()))
		case *array.Time32Builder:
			tb.Append(arrow.Time32(at.Sub(badDay).Milliseconds()))
		case *array.Date32Builder:
			tb.Append(arrow.Date32FromTime(at))
		default:
			t.Fatalf("unsupported ts type %s", tsType)
		}
		b.Field(2).(*array.StringBuilder).Append("f")
		b.Field(3).(*array.StringBuilder).Append("x")
		b.Field(4).(*array.StringBuilder).Append("a")
		b.Field(5).(*array.StringBuilder).Append("a")
		b.Field(6).(*array.Float64Builder).Append(100)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, f, aparquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A TIME column (time of day, no date) named ts is not an instant: the
// run fails before reading rows, naming the file and the column.
func TestBadInputTimeOfDayColumnAsTS(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  arrow.DataType
	}{
		{"time64_us", arrow.FixedWidthTypes.Time64us},
		{"time64_ns", arrow.FixedWidthTypes.Time64ns},
		{"time32_ms", arrow.FixedWidthTypes.Time32ms},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBad(t)
			writeArrowTS(t, b.file("part-0.parquet"), 300, tc.typ)
			wantError(t, b, "part-0.parquet", `"ts"`, "TIME")
		})
	}
}

// A DATE column named ts is read as midnight UTC of that day (documented
// in datasets: "every timestamp encoding ... and DATE"): the day's rows
// are in the day's window, none is lost and none leaks into another.
func TestBadInputDateColumnAsTS(t *testing.T) {
	b := newBad(t)
	writeArrowTS(t, b.file("part-0.parquet"), 300, arrow.FixedWidthTypes.Date32)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c := b.verdicts(t).Features["f"].Classes["x"]
	if c == nil || c.N != 300 {
		t.Fatalf("DATE ts: class %+v, want the 300 rows of the day", c)
	}
	if v := b.verdicts(t).Features["f"].Verdict; v == "graduate" {
		t.Errorf("graduated after one window")
	}
}

// readManifest returns the window's manifest as generic JSON.
func readManifest(t *testing.T, b badCase) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.dir, "out", "manifests", "window=2026-10-01T00-00-00Z", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// dropped is a drop count of the window's manifest: section "dropped"
// (the window's rows) or "run_dropped" (the run's, in no window).
func dropped(m map[string]any, section, reason string) float64 {
	d, _ := m[section].(map[string]any)
	n, _ := d[reason].(float64)
	return n
}

// Rows whose ts lies outside the window (here: in a file of the window's
// partition, the day after, and the day before) are not used and are
// counted in the manifest's dropped.outside_window.
func TestBadInputRowsOutsideWindow(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 300)
	for i := 0; i < 30; i++ {
		rows[i].TS = badDay.Add(24*time.Hour + time.Duration(i)*time.Minute)
	}
	for i := 30; i < 45; i++ {
		rows[i].TS = badDay.Add(-time.Duration(i) * time.Minute)
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := b.verdicts(t).Features["f"].Classes["x"].N; n != 255 {
		t.Errorf("n = %d, want 255 (45 rows outside the window)", n)
	}
	if got := dropped(readManifest(t, b), "run_dropped", "outside_window"); got != 45 {
		t.Errorf("manifest run_dropped.outside_window = %v, want 45", got)
	}
}

const labelledConfig = `version: 1
source:
  logs: logs
  labels: labels
output: out
window: 24h
features:
  - name: f
    fields:
      - name: category
        critical: true
`

// Labels whose request id is in no evaluated window are not joined to
// anything: they are counted (manifest run_dropped.labels_unmatched)
// with a log line, and the quality criterion is judged on the joined labels only.
func TestBadInputLabelsForUnknownRequests(t *testing.T) {
	b := newBad(t)
	if err := os.WriteFile(b.cfg, []byte(labelledConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 300))
	type label struct {
		RequestID string `parquet:"request_id"`
		Label     string `parquet:"label_category"`
	}
	var labels []label
	for i := range 40 {
		labels = append(labels, label{fmt.Sprintf("x-%d", i), "a"})
	}
	for i := range 25 {
		labels = append(labels, label{fmt.Sprintf("ghost-%d", i), "a"})
	}
	parquettest.WriteGo(t, filepath.Join(b.dir, "labels", "dt=2026-10-02", "part-0.parquet"), labels)
	code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "info")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	m := readManifest(t, b)
	if got := dropped(m, "run_dropped", "labels_unmatched"); got != 25 {
		t.Errorf("manifest run_dropped.labels_unmatched = %v, want 25", got)
	}
	// The labels file is listed as such, with the labels it gave the window.
	var labelsFile map[string]any
	for _, f := range m["files"].([]any) {
		if f := f.(map[string]any); f["role"] == "labels" {
			labelsFile = f
		}
	}
	if labelsFile == nil || labelsFile["rows_used"] != 40.0 || labelsFile["rows"] != 65.0 || m["labels"] != 65.0 {
		t.Errorf("manifest's labels file %v (labels %v), want role labels, 40 of its 65 rows used", labelsFile, m["labels"])
	}
	if !strings.Contains(errs, "labels_unmatched") {
		t.Errorf("no log line about the unmatched labels: %s", errs)
	}
	c := b.verdicts(t).Features["f"].Classes["x"]
	acc, ok := c.Metrics["accuracy.category.ai"]
	if !ok || acc.N != 40 {
		t.Errorf("quality judged on %+v, want the 40 joined labels", acc)
	}
	if b.verdicts(t).Features["f"].Verdict == "graduate" {
		t.Error("graduated after one window")
	}
}

// Invalid YAML: exit 2 with file:line, for validate and run alike, and
// nothing written.
func TestBadConfigSyntax(t *testing.T) {
	for _, tc := range []struct{ name, yaml, line string }{
		{"unclosed flow sequence", strings.Replace(badConfig, "      - name: category", "      - name: [category", 1), "parity.yaml:"},
		{"tab indentation", strings.Replace(badConfig, "  logs: logs", "\tlogs: logs", 1), "parity.yaml:3:"},
		{"bad indentation", strings.Replace(badConfig, "output: out", "  output: out", 1), "parity.yaml:4:"},
		{"unterminated quote", strings.Replace(badConfig, "window: 24h", `window: "24h`, 1), "parity.yaml:"},
		{"duplicate key", badConfig + "window: 6h\n", "parity.yaml:"},
		{"empty file", "", "parity.yaml:1:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBad(t)
			if err := os.WriteFile(b.cfg, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
			for _, cmd := range []string{"validate", "run"} {
				args := []string{cmd, "--config", b.cfg}
				if cmd == "run" {
					args = append(args, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z")
				}
				code, _, errs := run(t, args...)
				if code != ExitUsage {
					t.Errorf("%s: exit %d, want %d; %s", cmd, code, ExitUsage, errs)
				}
				if !strings.Contains(errs, tc.line) {
					t.Errorf("%s: error lacks %q: %s", cmd, tc.line, errs)
				}
				if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
					t.Errorf("%s: %s", cmd, errs)
				}
			}
			if _, err := os.Stat(filepath.Join(b.dir, "out")); !os.IsNotExist(err) {
				t.Errorf("output folder created by a run with a broken config: %v", err)
			}
		})
	}
}

// Every kind of invalid config value: exit 2 naming file:line and key,
// nothing read or written.
func TestBadConfigValues(t *testing.T) {
	crit := "        critical: true\n"
	for _, tc := range []struct {
		name, replace, with string
		want                []string
	}{
		{"unknown key", "window: 24h", "windw: 24h", []string{"parity.yaml:5:", "windw", "unknown key"}},
		{"version", "version: 1", "version: 2", []string{"parity.yaml:1:", "version"}},
		{"duration syntax", "window: 24h", "window: a day", []string{"parity.yaml:5:", "duration"}},
		{"window not dividing a day", "window: 24h", "window: 7h", []string{"parity.yaml:5:", "window"}},
		{"negative window", "window: 24h", "window: -24h", []string{"parity.yaml:5:", "window"}},
		{"wrong type", "window: 24h", "window: 24h\nbaseline:\n  windows: many", []string{"parity.yaml:7:", "baseline.windows", "want a whole number"}},
		{"missing logs", "  logs: logs", "  labels: labels", []string{"source.logs", "required"}},
		{"missing output", "output: out\n", "", []string{"output", "required"}},
		{"alpha", "window: 24h", "window: 24h\nstats:\n  alpha: 0.7", []string{"parity.yaml:7:", "stats.alpha"}},
		{"power", "window: 24h", "window: 24h\nstats:\n  power: 1.5", []string{"parity.yaml:7:", "stats.power"}},
		{"adjust", "window: 24h", "window: 24h\nstats:\n  adjust: bonferroni", []string{"parity.yaml:7:", "stats.adjust"}},
		{"feature name with ..", "  - name: f", "  - name: ../x", []string{"parity.yaml:7:", "features[0].name"}},
		{"feature name ..", "  - name: f", "  - name: ..", []string{"parity.yaml:7:", "features[0].name"}},
		{"duplicate feature", "    criteria:", "    criteria:\n      max_p95_latency_ms: 1\n  - name: f\n    fields:\n      - name: c\n        critical: true\n    criteria:", []string{"duplicate feature"}},
		{"comparator", crit, "        comparator: fuzzy\n" + crit, []string{"parity.yaml:11:", "comparator", `"fuzzy"`}},
		{"no critical field", crit, "        critical: false\n", []string{"features[0].fields", "no critical field"}},
		{"json path", "      - name: category\n        label: \"-\"\n", "      - name: category\n        label: \"-\"\n        legacy_json: l\n        ai_json: a\n        path: amount\n", []string{"parity.yaml:13:", "path", "must start with $"}},
		{"negative tolerance", crit, crit + "        comparator: numeric\n        abs_tolerance: -1\n", []string{"tolerances"}},
		{"min_agreement", "      max_p95_latency_ms: 1000", "      min_agreement: 1.5", []string{"parity.yaml:13:", "min_agreement"}},
		{"negative latency bound", "      max_p95_latency_ms: 1000", "      max_p95_latency_ms: -1", []string{"parity.yaml:13:", "max_p95_latency_ms"}},
		{"critical above min", "      max_p95_latency_ms: 1000", "      critical_agreement: 0.99", []string{"parity.yaml:13:", "critical_agreement"}},
		{"baseline criterion", "      max_p95_latency_ms: 1000", "      baseline:\n        - metric: agreement.critical", []string{"max_drop"}},
		{"steps", "      max_p95_latency_ms: 1000", "      max_p95_latency_ms: 1000\n    policy:\n      steps: [0, 50, 25]", []string{"parity.yaml:15:", "steps"}},
		{"initial percent", "      max_p95_latency_ms: 1000", "      max_p95_latency_ms: 1000\n    policy:\n      initial_percent: 7", []string{"parity.yaml:15:", "initial_percent"}},
		{"override without who", "      max_p95_latency_ms: 1000", "      max_p95_latency_ms: 1000\n    policy:\n      force_legacy: true", []string{"override_by"}},
		{"unknown scorer type", "    criteria:", "    scorers:\n      - name: s\n        type: telepathy\n    criteria:", []string{"parity.yaml:14:", "telepathy"}},
		{"drift column", "    criteria:", "    drift_columns: [\"a:b:c\"]\n    criteria:", []string{"drift_columns"}},
		{"job kind", "", "jobs:\n  - name: j\n    kind: teleport\n", []string{"parity.yaml:16:", "kind"}},
		{"job schedule", "", "jobs:\n  - name: j\n    schedule: \"61 * * * *\"\n", []string{"parity.yaml:16:", "schedule"}},
		{"job name ..", "", "jobs:\n  - name: ..\n", []string{"parity.yaml:15:", "jobs[0].name"}},
		{"job unknown feature", "", "jobs:\n  - name: j\n    features: [nope]\n", []string{"unknown feature"}},
		{"reconcile name escaping", "", "reconcile:\n  - name: ../r\n    legacy: a\n    new: b\n    critical_fields: [{name: x}]\n", []string{"parity.yaml:15:", "reconcile[0].name"}},
		{"reconcile job without section", "", "jobs:\n  - name: j\n    kind: reconcile\n    reconcile: nope\n", []string{"no reconcile section"}},
		{"pushgateway", "", "publish:\n  pushgateway: ftp://x\n", []string{"parity.yaml:15:", "pushgateway"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBad(t)
			src := badConfig
			if tc.replace == "" {
				src += tc.with
			} else {
				src = strings.Replace(badConfig, tc.replace, tc.with, 1)
			}
			if src == badConfig {
				t.Fatal("test replacement did not apply")
			}
			if err := os.WriteFile(b.cfg, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
			code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z")
			if code != ExitUsage {
				t.Fatalf("exit %d, want %d: %s", code, ExitUsage, errs)
			}
			msg := errorText(t, errs) // fatal_test.go: a record per problem
			if !strings.HasPrefix(msg, b.cfg+":") {
				t.Errorf("error does not start with the file: %s", errs)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error lacks %q: %s", w, errs)
				}
			}
			if _, err := os.Stat(filepath.Join(b.dir, "out")); !os.IsNotExist(err) {
				t.Errorf("output folder created by a run with an invalid config: %v", err)
			}
		})
	}
}

// A log file uploaded twice under two names would count every request
// twice (duplicates are found within a row group only) and could turn
// insufficient_data into pass: the copy is an error naming both files,
// nothing is written. A file of other rows with the same layout is not
// a copy.
func TestBadInputCopiedLogFile(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 300))
	data, err := os.ReadFile(b.file("part-0.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.file("part-0-retry.parquet"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	wantError(t, b, "dt=2026-10-01/part-0-retry.parquet", "is a copy of", "dt=2026-10-01/part-0.parquet", "counted twice")
	b.nothingWritten(t)

	other := goodRows("x", 300)
	for i := range other {
		other[i].RequestID += "-b"
	}
	parquettest.WriteGo(t, b.file("part-0-retry.parquet"), other)
	if code, errs := b.run(t); code != ExitOK {
		t.Fatalf("two files of other rows: exit %d: %s", code, errs)
	}
	if n := b.verdicts(t).Features["f"].Classes["x"].N; n != 600 {
		t.Errorf("n = %d, want both files' 600 rows", n)
	}
}

// A file beside the partition folders of a Hive-partitioned log (copied
// into its root) is read, its rows judged by their timestamps; it used to
// be skipped without a word.
func TestFileBesidePartitionsIsRead(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 300))
	parquettest.WriteGo(t, filepath.Join(b.dir, "logs", "extra.parquet"), goodRows("y", 100))
	if code, errs := b.run(t); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	cls := b.verdicts(t).Features["f"].Classes
	if cls["x"] == nil || cls["x"].N != 300 || cls["y"] == nil || cls["y"].N != 100 {
		t.Errorf("classes %v: want x from the partition (300) and y from the file beside it (100)", cls)
	}
	if m := readManifest(t, b); !strings.Contains(fmt.Sprint(m["files"]), "extra.parquet") {
		t.Errorf("the window's manifest does not list extra.parquet: %v", m["files"])
	}
}
