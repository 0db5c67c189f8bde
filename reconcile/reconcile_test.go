package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/reports"

	_ "github.com/parity-eval/parity/storage/file"
)

// loadConfig writes a config whose reconcile section is body (indented
// YAML under "reconcile:") and loads it.
func loadConfig(t testing.TB, dir, body string) *config.Config {
	t.Helper()
	y := `version: 1
source:
  logs: logs
output: out
features:
  - name: f
    fields:
      - name: x
        critical: true
reconcile:
` + body
	p := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func fixedNow() time.Time { return time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC) }

// TestSynthTruth reconciles the five synthetic snapshot runs and checks
// every count and key list against the generator's truth, and the
// verdicts: invoice fails from run 03 and alerts from run 04 (two
// consecutive failing runs), every other type is clean throughout.
func TestSynthTruth(t *testing.T) {
	dir := t.TempDir()
	sum, err := synth.Generate(dir, synth.Options{Scale: 0.1, Days: 3})
	if err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, dir, `  - name: dual_write
    legacy: recon/legacy
    new: recon/new
    run_partition: run
    sample_keys: 100000
    critical_fields:
      - name: status
      - name: amount
        comparator: numeric
        abs_tolerance: 0.005
      - name: email
        comparator: case_insensitive
      - name: updated_at
`)
	ctx := context.Background()
	r, err := Open(ctx, cfg, "dual_write")
	if err != nil {
		t.Fatal(err)
	}
	runs, err := r.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"01", "02", "03", "04", "05"}; !slices.Equal(runs, want) {
		t.Fatalf("runs %v, want %v", runs, want)
	}
	wantClean := []int{1, 2, 0, 0, 0}
	for i, truth := range sum.Recon.Runs {
		res, err := r.Run(ctx, Options{Run: runs[i], Now: fixedNow})
		if err != nil {
			t.Fatalf("run %s: %v", runs[i], err)
		}
		if res.Legacy.Rows != int64(truth.LegacyRows) || res.New.Rows != int64(truth.NewRows) {
			t.Errorf("run %s: rows %d/%d, truth %d/%d", res.Run, res.Legacy.Rows, res.New.Rows, truth.LegacyRows, truth.NewRows)
		}
		if len(res.Types) != 4 {
			t.Fatalf("run %s: %d types, want 4", res.Run, len(res.Types))
		}
		for _, tr := range res.Types {
			rows := int64(truth.RowsByType[tr.Type])
			if tr.Entities != rows || tr.OnlyInNew != 0 || tr.DuplicateKeys != (Sides{}) {
				t.Errorf("run %s %s: %d entities, %d only in new, dups %+v; truth %d, 0, none", res.Run, tr.Type, tr.Entities, tr.OnlyInNew, tr.DuplicateKeys, rows)
			}
			var onlyLegacy, mismatched []string
			if tr.Type == "invoice" {
				onlyLegacy, mismatched = truth.OnlyInLegacy, truth.AmountMismatch
			}
			if !slices.Equal(nonNil(onlyLegacy), tr.Samples.OnlyInLegacy) {
				t.Errorf("run %s %s: only in legacy %v, truth %v", res.Run, tr.Type, tr.Samples.OnlyInLegacy, onlyLegacy)
			}
			var gotMis []string
			for _, m := range tr.Samples.Mismatched {
				gotMis = append(gotMis, m.Key)
				if !slices.Equal(m.Fields, []string{"amount"}) {
					t.Errorf("run %s %s: %s mismatched on %v, truth amount only", res.Run, tr.Type, m.Key, m.Fields)
				}
				if m.Legacy != nil || m.New != nil {
					t.Errorf("run %s: sample of %s carries values without sample_values", res.Run, m.Key)
				}
			}
			if !slices.Equal(gotMis, mismatched) {
				t.Errorf("run %s %s: mismatched %v, truth %v", res.Run, tr.Type, gotMis, mismatched)
			}
			if tr.OnlyInLegacy != int64(len(onlyLegacy)) || tr.Mismatched != int64(len(mismatched)) || tr.FieldMismatches["amount"] != int64(len(mismatched)) {
				t.Errorf("run %s %s: counts %d/%d/%v, truth %d/%d", res.Run, tr.Type, tr.OnlyInLegacy, tr.Mismatched, tr.FieldMismatches, len(onlyLegacy), len(mismatched))
			}
			if tr.Equal != rows-int64(len(onlyLegacy)+len(mismatched)) {
				t.Errorf("run %s %s: %d equal, truth %d", res.Run, tr.Type, tr.Equal, rows-int64(len(onlyLegacy)+len(mismatched)))
			}
			drift := tr.Type == "invoice" && truth.Run >= 3
			if tr.Checksum.Equal == drift {
				t.Errorf("run %s %s: checksums equal=%v (%+v)", res.Run, tr.Type, tr.Checksum.Equal, tr.Checksum)
			}
			wantStatus, wantFailing := eval.StatusPass, 0
			if drift {
				wantStatus, wantFailing = eval.StatusFail, truth.Run-2
			}
			if tr.Status != wantStatus || tr.ConsecutiveFailing != wantFailing {
				t.Errorf("run %s %s: status %s failing %d, want %s %d (%v)", res.Run, tr.Type, tr.Status, tr.ConsecutiveFailing, wantStatus, wantFailing, tr.Reasons)
			}
			if drift && !(float64(tr.CILow) > 0.001 && tr.Significant) {
				t.Errorf("run %s invoice: CI [%v, %v] p=%v: drift of ~2%% should be significant above 0.1%%", res.Run, tr.CILow, tr.CIHigh, tr.PValue)
			}
		}
		if res.ConsecutiveCleanRuns != wantClean[i] || res.Clean != (wantClean[i] > 0) || res.PrimarySwitchReady != res.Clean {
			t.Errorf("run %s: clean %v, %d consecutive; want %d", res.Run, res.Clean, res.ConsecutiveCleanRuns, wantClean[i])
		}
		if wantAlert := truth.Run >= 4; res.Alert != wantAlert {
			t.Errorf("run %s: alert %v, want %v (%v)", res.Run, res.Alert, wantAlert, res.Alerts)
		}
		if truth.Run == 4 && (len(res.Alerts) != 1 || res.Alerts[0].Class != "invoice" || !strings.Contains(res.Alerts[0].Message, "2 consecutive runs (03, 04)")) {
			t.Errorf("run 04 alerts: %+v", res.Alerts)
		}
		if truth.Run == 2 {
			clean, seen, err := CleanRuns(ctx, r.Out, cfg)
			if err != nil || clean != 2 || !seen {
				t.Errorf("CleanRuns after run 02: %d %v %v, want 2 true", clean, seen, err)
			}
		}
	}
	// latest.json is the last run's result; the scores Parquet reads back.
	latest, err := load(ctx, r.Out, LatestKey("dual_write"))
	if err != nil || latest.Run != "05" || !latest.Alert {
		t.Fatalf("latest: %+v %v", latest, err)
	}
	data, _, err := r.Out.Get(ctx, "reconcile/dual_write/run=05/scores.parquet")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reports.DecodeScores(data)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, row := range rows {
		if row.InputClass == "invoice" && row.Metric == "divergence_rate" {
			found = row.Status == eval.StatusFail && row.Value != nil && *row.Value > 0.001 && row.Threshold != nil && *row.Threshold == 0.001
		}
	}
	if !found {
		t.Errorf("scores.parquet lacks a failing invoice divergence_rate row: %+v", rows)
	}
	checkSchema(t, r.Out, LatestKey("dual_write"), ResultKey("dual_write", "01"), ResultKey("dual_write", "04"))
	clean, seen, err := CleanRuns(ctx, r.Out, cfg)
	if err != nil || clean != 0 || !seen {
		t.Errorf("CleanRuns: %d %v %v, want 0 true", clean, seen, err)
	}
	// Rerunning an old run rewrites its result but leaves latest.json
	// at the newest run.
	if _, err := r.Run(ctx, Options{Run: "02", Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if latest, err := load(ctx, r.Out, LatestKey("dual_write")); err != nil || latest.Run != "05" {
		t.Errorf("latest after rerunning 02: %v %v", latest.Run, err)
	}
}

// entity is one row of the spill test's stores.
type entity struct {
	ID        string    `parquet:"id"`
	Kind      string    `parquet:"kind,dict"`
	Status    string    `parquet:"status,dict"`
	Amount    float64   `parquet:"amount"`
	Email     *string   `parquet:"email,optional"`
	UpdatedAt time.Time `parquet:"updated_at,timestamp(microsecond)"`
	Version   int64     `parquet:"version"`
}

func writeEntities(t testing.TB, dir string, rows []entity, files int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	per := (len(rows) + files - 1) / files
	for f := 0; f < files; f++ {
		part := rows[min(f*per, len(rows)):min((f+1)*per, len(rows))]
		fh, err := os.Create(filepath.Join(dir, fmt.Sprintf("part-%05d.parquet", f)))
		if err != nil {
			t.Fatal(err)
		}
		w := parquet.NewGenericWriter[entity](fh, parquet.MaxRowsPerRowGroup(16384))
		if _, err := w.Write(part); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if err := fh.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// spillData builds legacy and new stores of n entities with every kind of
// difference: missing rows, extra rows, field mismatches, differences the
// comparators forgive, a changed type, identical and conflicting
// duplicates. It returns the expected per-type counts, computed with a
// plain map join.
func spillData(n int) (legacy, fresh []entity, want map[string][4]int64) {
	kinds := []string{"customer", "order", "invoice", "payment"}
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		var email *string
		if i%50 != 0 {
			e := fmt.Sprintf("user%d@example.com", i%9973)
			email = &e
		}
		e := entity{ID: fmt.Sprintf("e%08d", i), Kind: kinds[i%4], Status: []string{"open", "paid", "void"}[i%3], Amount: float64(i%10007) / 100, Email: email, UpdatedAt: t0.Add(time.Duration(i) * time.Second), Version: int64(i % 7)}
		legacy = append(legacy, e)
		if i%5000 == 7 {
			legacy = append(legacy, e) // identical duplicate
		}
		switch {
		case i%1000 == 1:
			continue // missing from new
		case i%997 == 2:
			e.Amount += 1 // mismatch
		case i%991 == 3:
			e.Status = strings.ToUpper(e.Status) // forgiven by case_insensitive
		case i%983 == 4:
			e.Email = nil // mismatch (one side null)
		case i%977 == 5:
			e.Amount += 0.001 // forgiven by abs_tolerance 0.005
		case i%4999 == 9:
			e.Kind = "refund" // type mismatch
		case i%3001 == 6:
			e.Version++ // mismatch on an int64 column
		}
		fresh = append(fresh, e)
		if i%7000 == 8 {
			d := e
			d.Status = "disputed"
			fresh = append(fresh, d) // conflicting duplicate
		}
	}
	for i := 0; i < 150; i++ {
		fresh = append(fresh, entity{ID: fmt.Sprintf("n%08d", i), Kind: kinds[i%4], Status: "open", UpdatedAt: t0})
	}
	slices.Reverse(fresh) // the new store's row order is unrelated to legacy's

	// reference: only legacy, only new, mismatched, equal
	want = map[string][4]int64{}
	byKey := map[string][]entity{}
	for _, e := range fresh {
		byKey[e.ID] = append(byKey[e.ID], e)
	}
	seen := map[string]bool{}
	bump := func(kind string, i int) {
		c := want[kind]
		c[i]++
		want[kind] = c
	}
	for _, l := range legacy {
		if seen[l.ID] {
			continue
		}
		seen[l.ID] = true
		ns := byKey[l.ID]
		switch {
		case len(ns) == 0:
			bump(l.Kind, 0)
		case len(ns) > 1 || ns[0].Kind != l.Kind || ns[0].Amount-l.Amount > 0.005 || l.Amount-ns[0].Amount > 0.005 ||
			!strings.EqualFold(ns[0].Status, l.Status) || (ns[0].Email == nil) != (l.Email == nil) || ns[0].Version != l.Version:
			bump(l.Kind, 2)
		default:
			bump(l.Kind, 3)
		}
	}
	for _, e := range fresh {
		if !seen[e.ID] {
			bump(e.Kind, 1)
		}
	}
	return legacy, fresh, want
}

// TestSpillMatchesInMemory reconciles 200k entities three ways — all in
// memory, spilled once (256 partitions), and spilled with re-partitioning (64 KiB)
// — and requires identical per-type results, equal to a plain map join.
func TestSpillMatchesInMemory(t *testing.T) {
	dir := t.TempDir()
	legacy, fresh, want := spillData(200_000)
	writeEntities(t, filepath.Join(dir, "legacy"), legacy, 3)
	writeEntities(t, filepath.Join(dir, "new"), fresh, 2)
	cfg := loadConfig(t, dir, `  - name: big
    legacy: legacy
    new: new
    key: id
    type_column: kind
    memory_limit_mb: 1
    sample_keys: 5
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
	ctx := context.Background()
	r, err := Open(ctx, cfg, "big")
	if err != nil {
		t.Fatal(err)
	}
	run := func(limit int64) *Result {
		t.Helper()
		res, err := r.Compute(ctx, Options{Run: "t", MemoryLimitBytes: limit, TempDir: t.TempDir(), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	mem := run(1 << 40)
	oneLevel := run(0) // the config's memory_limit_mb: 1
	deep := run(64 << 10)
	if mem.Spill.Spilled || !oneLevel.Spill.Spilled || oneLevel.Spill.MemoryLimitBytes != 1<<20 || oneLevel.Spill.MaxDepth != 0 || !deep.Spill.Spilled || deep.Spill.MaxDepth < 1 {
		t.Fatalf("spill: in-memory %+v, 1 MiB %+v, 16 KiB %+v", mem.Spill, oneLevel.Spill, deep.Spill)
	}
	memJSON, _ := json.Marshal(mem.Types)
	for _, res := range []*Result{oneLevel, deep} {
		got, _ := json.Marshal(res.Types)
		if string(got) != string(memJSON) {
			t.Errorf("limit %d: results differ from the in-memory run:\n%s\n%s", res.Spill.MemoryLimitBytes, got, memJSON)
		}
	}
	var dupL, dupN int64
	for _, tr := range mem.Types {
		w := want[tr.Type]
		if got := [4]int64{tr.OnlyInLegacy, tr.OnlyInNew, tr.Mismatched, tr.Equal}; got != w {
			t.Errorf("%s: got [only legacy, only new, mismatched, equal] %v, want %v", tr.Type, got, w)
		}
		dupL += tr.DuplicateKeys.Legacy
		dupN += tr.DuplicateKeys.New
		if tr.Checksum.Equal {
			t.Errorf("%s: checksums equal although the stores differ", tr.Type)
		}
	}
	if dupL != 40 || dupN != 29 {
		t.Errorf("duplicate keys legacy %d new %d, want 40 and 29", dupL, dupN)
	}
	fields := map[string]int64{}
	for _, tr := range mem.Types {
		for f, n := range tr.FieldMismatches {
			fields[f] += n
		}
	}
	// status differs only in a conflicting duplicate (upper case is
	// forgiven), and only when that row sorts first
	if fields[dupField] != 29 || fields["kind"] == 0 || fields["version"] == 0 || fields["email"] == 0 || fields["amount"] == 0 || fields["status"] > fields[dupField] || fields["updated_at"] != 0 {
		t.Errorf("field mismatches %v", fields)
	}
	order := mem.Type("order") // every missing entity (i%1000 == 1) is an order
	if len(order.Samples.Mismatched) != 5 || len(order.Samples.OnlyInLegacy) != 5 || order.OnlyInLegacy != 200 {
		t.Errorf("order samples: %+v, %d only in legacy", order.Samples, order.OnlyInLegacy)
	}
	if mem.Legacy.Rows != int64(len(legacy)) || mem.New.Rows != int64(len(fresh)) {
		t.Errorf("rows %d/%d, want %d/%d", mem.Legacy.Rows, mem.New.Rows, len(legacy), len(fresh))
	}
}
