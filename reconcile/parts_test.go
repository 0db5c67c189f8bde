package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/storage"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// encodeOne encodes one row of the given columns and parses it back.
func encodeOne(t *testing.T, cols []*datasets.Column) (rec, []value) {
	t.Helper()
	body := newEncoder().encode([]byte("k1"), []byte("invoice"), cols, 0)
	r, err := parseBody(append([]byte(nil), body...))
	if err != nil {
		t.Fatal(err)
	}
	vs, err := values(r.vals, len(cols))
	if err != nil {
		t.Fatal(err)
	}
	return r, vs
}

func TestRecordRoundTripAndComparators(t *testing.T) {
	str := func(s string, null bool) *datasets.Column {
		c := &datasets.Column{Kind: datasets.KindString, Dict: []string{s}, Codes: []int32{0}}
		if null {
			c.Null = []bool{true}
		}
		return c
	}
	flt := func(f float64) *datasets.Column {
		return &datasets.Column{Kind: datasets.KindFloat64, Float: []float64{f}}
	}
	i64 := func(i int64) *datasets.Column { return &datasets.Column{Kind: datasets.KindInt64, Int: []int64{i}} }
	ts := func(i int64) *datasets.Column { return &datasets.Column{Kind: datasets.KindTimestamp, Int: []int64{i}} }
	boo := func(b bool) *datasets.Column { return &datasets.Column{Kind: datasets.KindBool, Bool: []bool{b}} }

	r, vs := encodeOne(t, []*datasets.Column{str("Paid ", false), flt(12.5), i64(-7), ts(1_700_000_000_123_456_789), boo(true), str("", true)})
	if string(r.key) != "k1" || string(r.typ) != "invoice" {
		t.Fatalf("key %q type %q", r.key, r.typ)
	}
	want := []string{"Paid ", "12.5", "-7", "2023-11-14T22:13:20.123456789Z", "true", ""}
	for i, v := range vs {
		if v.String() != want[i] {
			t.Errorf("value %d = %q, want %q", i, v.String(), want[i])
		}
	}
	if vs[5].tag != tagNull || vs[5].sample() != nil {
		t.Errorf("null value: tag %d", vs[5].tag)
	}
	// the row hash ignores the type and sees every value
	r2, _ := encodeOne(t, []*datasets.Column{str("Paid ", false), flt(12.5), i64(-7), ts(1_700_000_000_123_456_789), boo(true), str("", true)})
	r3, _ := encodeOne(t, []*datasets.Column{str("Paid ", false), flt(12.5), i64(-7), ts(1_700_000_000_123_456_789), boo(true), str("", false)})
	if r.hash != r2.hash || r.hash == r3.hash {
		t.Errorf("row hashes %x %x %x: want equal rows equal and null != empty", r.hash, r2.hash, r3.hash)
	}

	v := func(c *datasets.Column) value { _, vs := encodeOne(t, []*datasets.Column{c}); return vs[0] }
	cases := []struct {
		cmp  scorers.Comparator
		a, b *datasets.Column
		eq   bool
	}{
		{scorers.Comparator{Kind: "exact"}, str("paid", false), str("paid", false), true},
		{scorers.Comparator{Kind: "exact"}, str("paid", false), str("Paid", false), false},
		{scorers.Comparator{Kind: "case_insensitive"}, str("paid", false), str(" Paid", false), true},
		{scorers.Comparator{Kind: "exact"}, str("", true), str("", true), true},              // both null: equal
		{scorers.Comparator{Kind: "exact"}, str("", true), str("", false), false},            // null vs ''
		{scorers.Comparator{Kind: "case_insensitive"}, str("", true), str(" ", false), true}, // normalised absence
		{scorers.Comparator{Kind: "case_insensitive"}, str("", true), str("x", false), false},
		{scorers.Comparator{Kind: "numeric", Abs: 0.005}, flt(10), flt(10.004), true},
		{scorers.Comparator{Kind: "numeric", Abs: 0.005}, flt(10), flt(11.9), false},
		{scorers.Comparator{Kind: "numeric", Rel: 0.01}, flt(100), i64(100), true}, // double vs integer column
		{scorers.Comparator{Kind: "numeric"}, flt(2), str("2.0", false), true},     // number vs numeric text
		{scorers.Comparator{Kind: "exact"}, i64(3), i64(3), true},
		{scorers.Comparator{Kind: "exact"}, ts(5), ts(6), false},
		{scorers.Comparator{Kind: "exact"}, boo(true), boo(false), false},
		{scorers.Comparator{Kind: "set", Sep: ","}, str("a,b", false), str("b, a", false), true},
		{scorers.Comparator{Kind: "exact"}, flt(0), flt(math.Copysign(0, -1)), true},
	}
	for i, c := range cases {
		if got := equalValues(c.cmp, v(c.a), v(c.b)); got != c.eq {
			t.Errorf("case %d (%s %q vs %q): equal %v, want %v", i, c.cmp.Kind, v(c.a).String(), v(c.b).String(), got, c.eq)
		}
	}
	if _, err := parseBody([]byte{1, 2, 3}); !errors.Is(err, errCorrupt) {
		t.Errorf("short body: %v", err)
	}
}

// Bad reconcile sections fail at config load, naming the line and key.
func TestConfigValidation(t *testing.T) {
	base := `version: 1
source: {logs: logs}
output: out
features:
  - name: f
    fields: [{name: x, critical: true}]
reconcile:
`
	for _, c := range []struct{ body, want string }{
		{"  - {name: a, legacy: l, new: n}\n", "reconcile[0].critical_fields"},
		{"  - {name: a, legacy: l, new: n, critical_fields: [{name: s, comparator: fuzzy}]}\n", "reconcile[0].critical_fields[0].comparator"},
		{"  - {name: a, legacy: l, new: n, critical_fields: [{name: entity_id}]}\n", "is the key"},
		{"  - {name: a, legacy: l, new: n, critical_fields: [{name: s}], memory_limit_mb: -1}\n", "reconcile[0].memory_limit_mb"},
		{"  - {name: a/b, legacy: l, new: n, critical_fields: [{name: s}]}\n", "reconcile[0].name"},
		{"  - {name: a, legacy: l, new: n, critical_fields: [{name: s}]}\n  - {name: a, legacy: l, new: n, critical_fields: [{name: s}]}\n", "duplicate reconcile section"},
	} {
		_, err := config.Parse("p.yaml", []byte(base+c.body))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "p.yaml:") {
			t.Errorf("%q: error %v, want one naming %q with its line", c.body, err, c.want)
		}
	}
	cfg, err := config.Parse("p.yaml", []byte(base+"  - {name: a, legacy: l, new: n, critical_fields: [{name: s}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Reconcile[0]
	if r.Key != "entity_id" || r.TypeColumn != "entity_type" || r.Tolerance != 0.001 || r.AlertAfter != 2 || r.CriticalFields[0].Comparator != "exact" || r.SampleValues {
		t.Errorf("defaults: %+v", r)
	}
}

// TestS3 reconciles a run whose legacy side is in S3 and new side is
// local, writing the outputs to S3, and gets the local run's figures.
func TestS3(t *testing.T) {
	srv := storagetest.StartS3(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.1, Days: 2}); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, dir, `  - name: dw
    legacy: recon/legacy
    new: recon/new
    run_partition: run
    sample_values: true
    critical_fields:
      - name: status
      - name: amount
        comparator: numeric
        abs_tolerance: 0.005
`)
	local, err := Open(ctx, cfg, "dw")
	if err != nil {
		t.Fatal(err)
	}
	want, err := local.Compute(ctx, Options{Run: "03", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s3 := func(prefix string) *s3store.Store {
		st, err := s3store.New(ctx, s3store.Config{Bucket: bucket, Prefix: prefix, Endpoint: srv.Endpoint, Region: srv.Region, Credentials: srv.Credentials(), PathStyle: true})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	legacy := s3("legacy")
	data, err := os.ReadFile(filepath.Join(dir, "recon/legacy/run=03/part-00000.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := legacy.Put(ctx, "run=03/part-00000.parquet", data); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Cfg: cfg, Sec: local.Sec, Legacy: legacy, New: local.New, Out: s3("out")}
	got, err := r.Run(ctx, Options{Run: "03", Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want.Types {
		g := got.Type(w.Type)
		if g == nil || g.OnlyInLegacy != w.OnlyInLegacy || g.Mismatched != w.Mismatched || g.Equal != w.Equal || g.Checksum != w.Checksum {
			t.Errorf("%s: S3 %+v, local %+v", w.Type, g, w)
		}
	}
	inv := got.Type("invoice")
	if len(inv.Samples.Mismatched) == 0 || inv.Samples.Mismatched[0].Legacy["amount"] == nil || *inv.Samples.Mismatched[0].Legacy["amount"] == *inv.Samples.Mismatched[0].New["amount"] {
		t.Errorf("sample_values: %+v", inv.Samples.Mismatched)
	}
	if !strings.HasPrefix(got.Legacy.Location, "s3://") {
		t.Errorf("legacy location %s", got.Legacy.Location)
	}
	checkSchema(t, r.Out, LatestKey("dw"))
}

// BenchmarkReconcile measures throughput (entities per legacy side per
// second) and peak heap, in memory and with a 4 MiB limit that forces
// spilling. Goals on 2 cores: >= 250k entities/s in memory, spilling
// within 2x of that, and a spilled peak heap far below the in-memory one
// (it is the scan's decoded row groups and write buffers, not the data).
// Measured (AMD EPYC, 2 cores, 500k entities): 367k/s and 189 MiB in
// memory; 276k/s and 62 MiB spilled.
func BenchmarkReconcile(b *testing.B) {
	const n = 500_000
	dir := b.TempDir()
	legacy, fresh, _ := spillData(n)
	writeEntities(b, filepath.Join(dir, "legacy"), legacy, 4)
	writeEntities(b, filepath.Join(dir, "new"), fresh, 4)
	cfg := loadConfig(b, dir, `  - name: big
    legacy: legacy
    new: new
    key: id
    type_column: kind
    critical_fields:
      - name: status
        comparator: case_insensitive
      - name: amount
        comparator: numeric
        abs_tolerance: 0.005
      - name: email
      - name: updated_at
      - name: version
`)
	r, err := Open(context.Background(), cfg, "big")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		limit int64
	}{{"in-memory", 1 << 40}, {"spill-4MiB", 4 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			runtime.GC()
			var peak atomic.Uint64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() {
				var ms runtime.MemStats
				for {
					runtime.ReadMemStats(&ms)
					if ms.HeapInuse > peak.Load() {
						peak.Store(ms.HeapInuse)
					}
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			})
			for b.Loop() {
				if _, err := r.Compute(context.Background(), Options{Run: "b", MemoryLimitBytes: c.limit, TempDir: b.TempDir(), Log: slog.New(slog.DiscardHandler)}); err != nil {
					b.Fatal(err)
				}
			}
			close(stop)
			wg.Wait()
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entities/s")
			b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
		})
	}
}

// checkSchema validates stored result documents against ResultSchema and
// checks that the schema rejects a status outside its enum.
func checkSchema(t *testing.T, st storage.Store, keys ...string) {
	t.Helper()
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ResultSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("result.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	c.AssertFormat()
	sch, err := c.Compile("result.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		data, _, err := st.Get(context.Background(), k)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not match the schema: %v", k, err)
		}
		var bad map[string]any
		_ = json.Unmarshal(data, &bad)
		bad["types"].([]any)[0].(map[string]any)["status"] = "promote"
		if err := sch.Validate(bad); err == nil {
			t.Errorf("%s: schema accepted status \"promote\"", k)
		}
	}
}

// Derive judges a run from the stored results before it only: later runs
// and an earlier result of the same run are ignored; non-critical types
// are reported without failing the run.
func TestDerive(t *testing.T) {
	mk := func(run string, clean bool, statuses map[string]string) *Result {
		if statuses == nil {
			statuses = map[string]string{"invoice": "pass"} // a clean run needs evidence
		}
		res := &Result{Run: run, Clean: clean, Settings: Settings{AlertAfter: 2}}
		for typ, st := range statuses {
			tr := &TypeResult{Type: typ, Critical: typ != "audit", Status: st}
			if st == "fail" {
				tr.Divergent, tr.Entities = 5, 100
			} else {
				tr.Entities = 100
			}
			res.Types = append(res.Types, tr)
		}
		return res
	}
	hist := []*Result{
		mk("8", true, map[string]string{"invoice": "pass"}),
		mk("9", false, map[string]string{"invoice": "fail"}),
		mk("10", false, map[string]string{"invoice": "fail"}), // an earlier result of this run
		mk("11", false, map[string]string{"invoice": "fail"}), // later: ignored
	}
	cur := mk("10", false, map[string]string{"invoice": "fail", "order": "pass", "audit": "fail"})
	Derive(cur, hist)
	inv, audit := cur.Type("invoice"), cur.Type("audit")
	if cur.Status != "fail" || !cur.Alert || inv.ConsecutiveFailing != 2 || len(cur.Alerts) != 1 || cur.Alerts[0].Class != "invoice" || !strings.Contains(cur.Alerts[0].Message, "(9, 10)") {
		t.Errorf("run 10: status %s alert %v failing %d alerts %+v", cur.Status, cur.Alert, inv.ConsecutiveFailing, cur.Alerts)
	}
	if audit.ConsecutiveFailing != 1 || cur.Clean || cur.ConsecutiveCleanRuns != 0 {
		t.Errorf("audit failing %d, clean %v %d", audit.ConsecutiveFailing, cur.Clean, cur.ConsecutiveCleanRuns)
	}
	// a non-critical type alone neither fails nor dirties the run
	only := mk("12", false, map[string]string{"invoice": "pass", "audit": "fail"})
	Derive(only, []*Result{mk("11", true, nil), mk("10", true, nil), mk("9", false, nil)})
	if only.Status != "pass" || only.Alert || !only.Clean || only.ConsecutiveCleanRuns != 3 || !only.PrimarySwitchReady || only.DecommissionReady {
		t.Errorf("run 12: %s alert %v clean %v streak %d", only.Status, only.Alert, only.Clean, only.ConsecutiveCleanRuns)
	}
	// 30 clean runs in a row make the legacy store decommissionable
	var long []*Result
	for i := 1; i < DecommissionAfter; i++ {
		long = append(long, mk(strconv.Itoa(i), true, nil))
	}
	last := mk(strconv.Itoa(DecommissionAfter), true, map[string]string{"invoice": "pass"})
	Derive(last, long)
	if last.ConsecutiveCleanRuns != DecommissionAfter || !last.DecommissionReady {
		t.Errorf("after %d clean runs: streak %d ready %v", DecommissionAfter, last.ConsecutiveCleanRuns, last.DecommissionReady)
	}
}
