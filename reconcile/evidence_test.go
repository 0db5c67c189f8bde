package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
)

// evidenceConfig is two reconciliations of the same stores: "typed" names
// its critical types, "untyped" judges every type it finds.
const evidenceConfig = `  - name: typed
    legacy: legacy
    new: new
    key: id
    type_column: kind
    run_partition: run
    types: [customer, invoice]
    critical_fields:
      - name: status
  - name: untyped
    legacy: legacy
    new: new
    key: id
    type_column: kind
    run_partition: run
    critical_fields:
      - name: status
`

// writeRun writes run=<run>/ of both stores with the same 20 entities of
// each kind: a run that reconciles without a single divergence (no kinds:
// two exports of 0 rows).
func writeRun(t *testing.T, dir, run string, kinds ...string) {
	t.Helper()
	var rows []entity
	for _, k := range kinds {
		for i := 0; i < 20; i++ {
			rows = append(rows, entity{ID: fmt.Sprintf("%s-%d", k, i), Kind: k, Status: "open", UpdatedAt: time.Unix(0, 0).UTC()})
		}
	}
	for _, side := range []string{"legacy", "new"} {
		writeEntities(t, filepath.Join(dir, side, "run="+run), rows, 1)
	}
}

func hasReason(res *Result, want string) bool {
	return slices.ContainsFunc(res.NotClean, func(r string) bool { return strings.Contains(r, want) })
}

// A run that compared nothing is not clean: 31 runs of empty exports
// (0 rows in both stores) were clean, 31 in a row, ready for the primary
// switch and decommissioning, because zero entities have zero
// divergences. Each is now not clean with the reason recorded, the streak
// stays 0, and the decommission checklist's count is 0. Results stored by
// a version that called such runs clean neither count in CleanRuns nor
// extend the streak of the next run with evidence.
func TestEmptyExportsAreNotClean(t *testing.T) {
	dir := t.TempDir()
	const n = DecommissionAfter + 1
	for i := 1; i <= n; i++ {
		writeRun(t, dir, fmt.Sprintf("%02d", i))
	}
	cfg := loadConfig(t, dir, evidenceConfig)
	ctx := context.Background()
	for _, c := range []struct{ name, reason string }{
		{"typed", "entity type invoice has no entities in either export"},
		{"untyped", "no entities in either export"},
	} {
		r, err := Open(ctx, cfg, c.name)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= n; i++ {
			res, err := r.Run(ctx, Options{Run: fmt.Sprintf("%02d", i), Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			if res.Clean || res.ConsecutiveCleanRuns != 0 || res.PrimarySwitchReady || res.DecommissionReady || res.Status != eval.StatusInsufficient || !hasReason(res, c.reason) {
				t.Errorf("%s run %s of empty exports: clean %v, %d clean runs, primary switch %v, decommission %v, status %s, not clean %q; want not clean for %q",
					c.name, res.Run, res.Clean, res.ConsecutiveCleanRuns, res.PrimarySwitchReady, res.DecommissionReady, res.Status, res.NotClean, c.reason)
				break // latest.json says where the streak got to
			}
		}
		latest, err := load(ctx, r.Out, LatestKey(c.name))
		if err != nil {
			t.Fatal(err)
		}
		if latest.Run != fmt.Sprint(n) || latest.Clean || latest.ConsecutiveCleanRuns != 0 || latest.PrimarySwitchReady || latest.DecommissionReady || !hasReason(latest, c.reason) {
			t.Errorf("%s latest.json after %d empty runs: run %s clean %v, %d clean runs, primary switch %v, decommission %v, not clean %q",
				c.name, n, latest.Run, latest.Clean, latest.ConsecutiveCleanRuns, latest.PrimarySwitchReady, latest.DecommissionReady, latest.NotClean)
		}
	}
	r, err := Open(ctx, cfg, "typed")
	if err != nil {
		t.Fatal(err)
	}
	if clean, seen, err := CleanRuns(ctx, r.Out, cfg); clean != 0 || !seen || err != nil {
		t.Errorf("CleanRuns after %d empty runs: %d %v %v, want 0 true", n, clean, seen, err)
	}
	checkSchema(t, r.Out, LatestKey("typed"), ResultKey("typed", "01"))

	// The same runs as an earlier version stored them: clean, 1 to 31 in a
	// row, no reasons.
	for i := 1; i <= n; i++ {
		keys := []string{ResultKey("typed", fmt.Sprintf("%02d", i))}
		if i == n {
			keys = append(keys, LatestKey("typed"))
		}
		for _, key := range keys {
			res, err := load(ctx, r.Out, key)
			if err != nil {
				t.Fatal(err)
			}
			res.Status, res.Clean, res.NotClean = eval.StatusPass, true, nil
			res.ConsecutiveCleanRuns, res.PrimarySwitchReady, res.DecommissionReady = i, true, i >= DecommissionAfter
			doc, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Out.Put(ctx, key, doc); err != nil {
				t.Fatal(err)
			}
		}
	}
	if clean, _, err := CleanRuns(ctx, r.Out, cfg); clean != 0 || err != nil {
		t.Errorf("CleanRuns over a stored latest.json that compared nothing but says clean for %d runs: %d %v, want 0", n, clean, err)
	}
	writeRun(t, dir, fmt.Sprint(n+1), "customer", "invoice")
	res, err := r.Run(ctx, Options{Run: fmt.Sprint(n + 1), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Clean || res.ConsecutiveCleanRuns != 1 || res.DecommissionReady || !res.PrimarySwitchReady || len(res.NotClean) != 0 {
		t.Errorf("run %s with evidence after %d stored runs without: clean %v, %d clean runs, decommission %v; want clean, 1, false", res.Run, n, res.Clean, res.ConsecutiveCleanRuns, res.DecommissionReady)
	}
}

// Every critical type needs entities for a run to be clean; a type outside
// reconcile.types may come and go. Run 03 lost invoices from both exports:
// not clean, and it breaks the streak, so run 04 starts again at 1.
func TestCleanNeedsEveryCriticalType(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, dir, "01", "customer", "invoice", "order")
	writeRun(t, dir, "02", "customer", "invoice") // order is not critical
	writeRun(t, dir, "03", "customer", "order")   // invoice is
	writeRun(t, dir, "04", "customer", "invoice")
	cfg := loadConfig(t, dir, evidenceConfig)
	ctx := context.Background()
	r, err := Open(ctx, cfg, "typed")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		clean  bool
		streak int
		status string
	}{{true, 1, eval.StatusPass}, {true, 2, eval.StatusPass}, {false, 0, eval.StatusInsufficient}, {true, 1, eval.StatusPass}}
	for i, w := range want {
		res, err := r.Run(ctx, Options{Run: fmt.Sprintf("%02d", i+1), Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		if res.Clean != w.clean || res.ConsecutiveCleanRuns != w.streak || res.PrimarySwitchReady != w.clean || res.Status != w.status || (len(res.NotClean) == 0) != w.clean {
			t.Errorf("run %s: clean %v, %d clean runs, primary switch %v, status %s, not clean %q; want clean %v, %d, %s",
				res.Run, res.Clean, res.ConsecutiveCleanRuns, res.PrimarySwitchReady, res.Status, res.NotClean, w.clean, w.streak, w.status)
		}
		if res.Run == "03" && !slices.Equal(res.NotClean, []string{"entity type invoice has no entities in either export"}) {
			t.Errorf("run 03: not clean %q, want only the missing invoices", res.NotClean)
		}
	}
	checkSchema(t, r.Out, ResultKey("typed", "02"), ResultKey("typed", "03"))
}
