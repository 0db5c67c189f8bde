package main

// The bad-input matrix (issue: bad input, faults and kills): every kind of
// broken input gives either a clear error (exit 1, naming file/column and
// what was expected, nothing written) or a documented warning with the
// affected class marked insufficient_data or error. None may pass.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/reports"
)

// row is a minimal shadow-log row for crafted files.
type row struct {
	RequestID  string    `parquet:"request_id"`
	TS         time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature    string    `parquet:"feature,dict"`
	InputClass string    `parquet:"input_class,dict"`
	Legacy     string    `parquet:"legacy_category,optional"`
	AI         string    `parquet:"ai_category,optional"`
	AILatency  float64   `parquet:"ai_latency_ms"`
}

var badDay = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

const badConfig = `version: 1
source:
  logs: logs
output: out
window: 24h
features:
  - name: f
    fields:
      - name: category
        label: "-"
        critical: true
    criteria:
      max_p95_latency_ms: 1000
`

// goodRows are n agreeing rows of class c.
func goodRows(c string, n int) []row {
	out := make([]row, n)
	for i := range out {
		out[i] = row{RequestID: fmt.Sprintf("%s-%d", c, i), TS: badDay.Add(time.Duration(i) * time.Second), Feature: "f", InputClass: c, Legacy: "a", AI: "a", AILatency: 100}
	}
	return out
}

type badCase struct {
	dir string
	cfg string
}

func newBad(t *testing.T) badCase {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfg, []byte(badConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return badCase{dir: dir, cfg: cfg}
}

func (b badCase) file(name string) string { return filepath.Join(b.dir, "logs", "dt=2026-10-01", name) }

func (b badCase) run(t *testing.T) (int, string) {
	t.Helper()
	code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "error")
	return code, errs
}

// nothingWritten asserts the output holds no file.
func (b badCase) nothingWritten(t *testing.T) {
	t.Helper()
	var written []string
	filepath.Walk(filepath.Join(b.dir, "out"), func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".parity-cas") {
			written = append(written, p)
		}
		return nil
	})
	if len(written) > 0 {
		t.Errorf("outputs written despite the error: %v", written)
	}
}

func (b badCase) verdicts(t *testing.T) *reports.Verdicts {
	t.Helper()
	return readVerdicts(t, filepath.Join(b.dir, "out", "verdicts", "latest.json"))
}

func wantError(t *testing.T, b badCase, parts ...string) {
	t.Helper()
	code, errs := b.run(t)
	if code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr: %s", code, ExitFailure, errs)
	}
	msg := errorText(t, errs) // fatal_test.go
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error lacks %q: %s", p, errs)
		}
	}
	b.nothingWritten(t)
}

// wantNoPass runs and checks that the class is not pass and the verdict is not graduate.
func wantNoPass(t *testing.T, b badCase, class string, want ...string) *reports.Verdicts {
	t.Helper()
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	v := b.verdicts(t)
	f := v.Features["f"]
	if f.Verdict == "graduate" {
		t.Errorf("graduated on bad input")
	}
	if c := f.Classes[class]; c == nil || c.Status == "pass" || (len(want) > 0 && !containsString(want, c.Status)) {
		t.Errorf("class %s: %+v, want one of %v", class, c, want)
	}
	return v
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestBadInputTruncatedParquet(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 500))
	data, _ := os.ReadFile(b.file("part-0.parquet"))
	os.WriteFile(b.file("part-0.parquet"), data[:len(data)/2], 0o600)
	wantError(t, b, "part-0.parquet")
}

func TestBadInputCorruptPage(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 2000))
	data, _ := os.ReadFile(b.file("part-0.parquet"))
	for i := 200; i < 260; i++ { // inside the first column chunk's pages
		data[i] ^= 0xff
	}
	os.WriteFile(b.file("part-0.parquet"), data, 0o600)
	wantError(t, b, "part-0.parquet")
}

func TestBadInputNonParquetFile(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 100))
	os.WriteFile(b.file("notes.txt"), []byte("not parquet"), 0o600)
	wantError(t, b, "notes.txt", "Parquet")
}

func TestBadInputWrongType(t *testing.T) {
	type wrong struct {
		RequestID  string    `parquet:"request_id"`
		TS         time.Time `parquet:"ts,timestamp(microsecond)"`
		Feature    string    `parquet:"feature"`
		InputClass string    `parquet:"input_class"`
		Legacy     string    `parquet:"legacy_category"`
		AI         int64     `parquet:"ai_category"`
		AILatency  float64   `parquet:"ai_latency_ms"`
	}
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), []wrong{{RequestID: "r", TS: badDay, Feature: "f", InputClass: "x", Legacy: "a", AI: 1}})
	wantError(t, b, "part-0.parquet", `"ai_category"`, "string")
}

func TestBadInputTimestampWithoutUnit(t *testing.T) {
	type raw struct {
		RequestID  string `parquet:"request_id"`
		TS         int64  `parquet:"ts"` // a bare INT64: no timestamp unit
		Feature    string `parquet:"feature"`
		InputClass string `parquet:"input_class"`
		Legacy     string `parquet:"legacy_category"`
		AI         string `parquet:"ai_category"`
	}
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), []raw{{RequestID: "r", TS: badDay.UnixMicro(), Feature: "f", InputClass: "x", Legacy: "a", AI: "a"}})
	wantError(t, b, "part-0.parquet", `"ts"`)
}

func TestBadInputAllNullAIColumn(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 400)
	for i := range rows {
		rows[i].AI = "" // optional "" is written as null
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	wantNoPass(t, b, "x", "fail", "insufficient_data")
}

func TestBadInputNaNAndInf(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 400)
	for i := range rows {
		switch i % 3 {
		case 0:
			rows[i].AILatency = math.NaN()
		case 1:
			rows[i].AILatency = math.Inf(1)
		}
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	v := b.verdicts(t)
	c := v.Features["f"].Classes["x"]
	// NaN/Inf are not measurements: the latency criterion is judged on the
	// 133 finite values only, and never on NaN.
	m, ok := c.Metrics["latency_ms.ai.p95_bound"]
	if !ok || m.N >= 400 {
		t.Errorf("latency criterion counted NaN/Inf rows: %+v", m)
	}
}

// TestBadInputNegativeLatency: a latency below zero (−Inf, or a clock
// gone backwards) is no latency. Counted as under the bound, half the
// rows at −Inf made a class whose real latencies fail the P95 bound
// (6% of them over it) pass, with a P95 of the finite values above the
// bound in the same evaluation.
func TestBadInputNegativeLatency(t *testing.T) {
	for _, bad := range []float64{math.Inf(-1), -1e9} {
		b := newBad(t)
		rows := goodRows("x", 3000)
		for i := range rows {
			switch {
			case i%2 == 0:
				rows[i].AILatency = bad
			case i%100 < 6: // 3 rows in 100: 6% of the other half
				rows[i].AILatency = 2000
			}
		}
		parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
		code, errs := b.run(t)
		if code != ExitOK {
			t.Fatalf("exit %d: %s", code, errs)
		}
		c := b.verdicts(t).Features["f"].Classes["x"]
		m, ok := c.Metrics["latency_ms.ai.p95_bound"]
		if !ok || m.N != 1500 || m.Status == "pass" {
			t.Errorf("latency %g on half the rows: P95 bound criterion %+v, want n 1500 and not pass", bad, m)
		}
		if c.Status == "pass" {
			t.Errorf("latency %g on half the rows: class passes", bad)
		}
	}
}

func TestBadInputEmptyWindow(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 50)
	for i := range rows {
		rows[i].TS = badDay.AddDate(0, 0, 1) // all on the next day
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f := b.verdicts(t).Features["f"]
	if f.Verdict == "graduate" || f.Status != "insufficient_data" {
		t.Errorf("empty window: verdict %s status %s", f.Verdict, f.Status)
	}
}

func TestBadInputHugeAndInvalidStrings(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 300)
	huge := strings.Repeat("z", 2<<20)
	rows[0].Legacy, rows[0].AI = huge, huge
	rows[1].Legacy, rows[1].AI = "caf\xe9\xff", "caf\xe9\xff" // invalid UTF-8, equal bytes
	rows[2].Legacy, rows[2].AI = "\xff", "\xfe"
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c := b.verdicts(t).Features["f"].Classes["x"]
	m := c.Metrics["agreement.category"]
	if m.N != 300 || m.Value == nil || math.Abs(*m.Value-299.0/300) > 1e-12 {
		t.Errorf("agreement with huge/invalid strings: %+v", m)
	}
}

func TestBadInputFarFutureTimestamps(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 400)
	for i := 0; i < 100; i++ {
		rows[i].TS = time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := b.verdicts(t).Features["f"].Classes["x"].N; n != 300 {
		t.Errorf("rows outside the window were used: n=%d, want 300", n)
	}
}

func TestBadInputFutureWindowRefused(t *testing.T) {
	b := newBad(t)
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 10))
	code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-01T12:00:00Z")
	if code != ExitUsage || !strings.Contains(errs, "has not ended") {
		t.Errorf("exit %d: %s", code, errs)
	}
	b.nothingWritten(t)
}

// TestBadInputUnfinishedWindowRefusedByRealClock: a backfill whose range
// reaches past the real clock, and a run whose --now lies in the
// future, must not evaluate the window still being logged (both used to
// pass run's own check and could graduate on part of a day).
func TestBadInputUnfinishedWindowRefusedByRealClock(t *testing.T) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	for name, args := range map[string][]string{
		"backfill to tomorrow": {"backfill", "--from", today.AddDate(0, 0, -2).Format(time.DateOnly), "--to", today.AddDate(0, 0, 1).Format(time.DateOnly)},
		"run with --now ahead": {"run", "--window", today.Format(time.DateOnly) + "/" + today.AddDate(0, 0, 1).Format(time.DateOnly), "--now", today.AddDate(0, 0, 2).Format(time.RFC3339)},
	} {
		t.Run(name, func(t *testing.T) {
			b := newBad(t)
			parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 10))
			code, _, errs := run(t, append(args, "--config", b.cfg)...)
			if code != ExitUsage || !strings.Contains(errs, "has not ended yet") {
				t.Errorf("exit %d: %s", code, errs)
			}
			b.nothingWritten(t)
		})
	}
}

// TestBadInputMissingSource: a source.logs location with no object at all
// (a mistyped path, an unmounted volume) is a failure naming it, not a
// window without requests that exits 0 and keeps a scheduled job green.
// An existing log with no file in the window is still a window without
// data.
func TestBadInputMissingSource(t *testing.T) {
	b := newBad(t)
	code, errs := b.run(t)
	if code != ExitFailure || !strings.Contains(errs, "source.logs: ") || !strings.Contains(errs, "holds no objects at all") {
		t.Errorf("exit %d: %s", code, errs)
	}
	b.nothingWritten(t)
	parquettest.WriteGo(t, filepath.Join(b.dir, "logs", "dt=2026-09-01", "part-0.parquet"), goodRows("x", 10))
	if code, errs := b.run(t); code != ExitOK {
		t.Errorf("a window without files in an existing log: exit %d: %s", code, errs)
	}
}

func TestBadInputDuplicateRequestIDs(t *testing.T) {
	b := newBad(t)
	rows := goodRows("x", 300)
	dups := append([]row{}, rows[:40]...)
	for i := range dups {
		dups[i].AI = "b" // a retried write with a different answer must not count twice
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), append(rows, dups...))
	code, errs := b.run(t)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	c := b.verdicts(t).Features["f"].Classes["x"]
	if c.N != 300 {
		t.Errorf("n = %d, want 300 (duplicates dropped)", c.N)
	}
	data, err := os.ReadFile(filepath.Join(b.dir, "out", "manifests", "window=2026-10-01T00-00-00Z", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"duplicate_request_id": 40`) {
		t.Errorf("manifest does not count the 40 duplicates: %s", data)
	}
}
