package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/reconcile"
)

// reconHead is a config's head for the reconcile tests: one feature and
// a reconcile job; a reconcile section follows.
const reconHead = `version: 1
source:
  logs: logs
output: out
features:
  - name: f
    fields:
      - name: x
        critical: true
jobs:
  - name: recon-nightly
    kind: reconcile
    reconcile: dual_write
`

// reconConfig generates the synthetic snapshot runs (Scale 0.1) and a
// config with the demo's reconcile section plus a reconcile job.
func reconConfig(t *testing.T) (cfgPath, outDir string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.1, Days: 2}); err != nil {
		t.Fatal(err)
	}
	// the demo config's reconcile section, as shipped
	i := bytes.Index(demoConfig, []byte("\nreconcile:\n"))
	if i < 0 {
		t.Fatal("demo.yaml has no reconcile section")
	}
	y := reconHead + string(demoConfig[i:])
	cfgPath = filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, filepath.Join(dir, "out")
}

func reconMain(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

func readResult(t *testing.T, out, key string) *reconcile.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, key))
	if err != nil {
		t.Fatal(err)
	}
	var res reconcile.Result
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return &res
}

func TestReconcileCommand(t *testing.T) {
	cfg, out := reconConfig(t)

	code, stdout, stderr := reconMain("reconcile", "--config", cfg, "--run", "03")
	if code != ExitOK || !strings.Contains(stdout, "FAIL") || !strings.Contains(stdout, "invoice") {
		t.Fatalf("--run 03: exit %d\n%s%s", code, stdout, stderr)
	}
	// run 04 fails again: the stored run 03 makes it two in a row
	code, stdout, stderr = reconMain("reconcile", "--config", cfg, "--name", "dual_write", "--run", "04", "--exit-code-on", "alert")
	if code != ExitRollback || !strings.Contains(stdout, "CRITICAL: entity type invoice") {
		t.Fatalf("--run 04 --exit-code-on alert: exit %d, want %d\n%s%s", code, ExitRollback, stdout, stderr)
	}
	if res := readResult(t, out, "reconcile/dual_write/latest.json"); res.Run != "04" || !res.Alert {
		t.Errorf("latest.json after run 04: run %s alert %v", res.Run, res.Alert)
	}
	// the scheduled job reconciles what is not stored yet: 01, 02, 05
	code, stdout, stderr = reconMain("reconcile", "--config", cfg, "--job", "recon-nightly")
	if code != ExitOK || !strings.Contains(stdout, "3 run(s)") || !strings.Contains(stdout, "run=05") {
		t.Fatalf("--job: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = reconMain("reconcile", "--config", cfg, "--pending")
	if code != ExitOK || !strings.Contains(stdout, "nothing to reconcile") {
		t.Fatalf("--pending with everything stored: exit %d\n%s", code, stdout)
	}
	code, stdout, stderr = reconMain("reconcile", "--config", cfg, "--all", "--memory-limit-mb", "1")
	if code != ExitOK {
		t.Fatalf("--all: exit %d\n%s", code, stderr)
	}
	for _, want := range []string{"ALERT", "customer", "clean runs in a row"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("--all table lacks %q:\n%s", want, stdout)
		}
	}
	r2 := readResult(t, out, "reconcile/dual_write/run=02/result.json")
	if !r2.Clean || r2.ConsecutiveCleanRuns != 2 || !r2.PrimarySwitchReady {
		t.Errorf("run 02: clean %v, %d clean runs, primary switch %v", r2.Clean, r2.ConsecutiveCleanRuns, r2.PrimarySwitchReady)
	}
	if _, err := os.Stat(filepath.Join(out, "reconcile/dual_write/run=05/scores.parquet")); err != nil {
		t.Error(err)
	}

	for _, args := range [][]string{
		{"reconcile", "--config", cfg},                                        // no mode
		{"reconcile", "--config", cfg, "--run", "03", "--all"},                // two modes
		{"reconcile", "--config", cfg, "--name", "nope", "--all"},             // unknown section
		{"reconcile", "--config", cfg, "--all", "--exit-code-on", "rollback"}, // wrong exit condition
		{"reconcile", "--config", cfg, "--job", "missing"},                    // unknown job
	} {
		if code, _, stderr := reconMain(args...); code != ExitUsage || stderr == "" {
			t.Errorf("%v: exit %d (%q), want %d with a message", args[3:], code, stderr, ExitUsage)
		}
	}
	// a run that exists in neither store is a runtime failure naming it
	if code, _, stderr := reconMain("reconcile", "--config", cfg, "--run", "09"); code != ExitFailure || !strings.Contains(stderr, "run=09") {
		t.Errorf("--run 09: exit %d, %q", code, stderr)
	}
}

// `parity run --job` runs a reconcile job through the jobs kind registry.
func TestRunReconcileJob(t *testing.T) {
	cfg, out := reconConfig(t)
	code, stdout, stderr := reconMain("run", "--config", cfg, "--job", "recon-nightly")
	if code != ExitOK {
		t.Fatalf("run --job: exit %d\n%s%s", code, stdout, stderr)
	}
	res := readResult(t, out, "reconcile/dual_write/latest.json")
	if res.Run != "05" || !res.Alert || res.Type("invoice").ConsecutiveFailing != 3 {
		t.Errorf("latest: run %s alert %v invoice failing %d, want 05 true 3", res.Run, res.Alert, res.Type("invoice").ConsecutiveFailing)
	}
	// It says what it compared and how the last run came out, not
	// "evaluated 0 window(s)".
	for _, want := range []string{"job recon-nightly (reconcile): compared 5 snapshot run(s) [01 02 03 04 05]", "reconciliation dual_write, run 05: fail", "run 05 is not clean", "CRITICAL: entity type invoice"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("run --job output lacks %q:\n%s", want, stdout)
		}
	}
}

// Exports that hold no rows are no evidence: 31 runs of them said "clean
// for 31 consecutive runs: the legacy store may be decommissioned" and
// wrote decommission_ready. Each run is now not clean, says why, and the
// scheduled job logs it.
func TestReconcileEmptyExportsAreNotClean(t *testing.T) {
	dir := t.TempDir()
	writeEmpty := func(run int) {
		for _, side := range []string{"legacy", "new"} {
			d := filepath.Join(dir, side, fmt.Sprintf("run=%02d", run))
			if err := os.MkdirAll(d, 0o750); err != nil {
				t.Fatal(err)
			}
			if err := parquet.WriteFile(filepath.Join(d, "part-00000.parquet"), []synth.ReconRow{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	n := reconcile.DecommissionAfter + 1
	for run := 1; run <= n; run++ {
		writeEmpty(run)
	}
	cfg := filepath.Join(dir, "parity.yaml")
	y := reconHead + `reconcile:
  - name: dual_write
    legacy: legacy
    new: new
    key: entity_id
    type_column: entity_type
    run_partition: run
    types: [customer, invoice]
    critical_fields:
      - name: status
`
	if err := os.WriteFile(cfg, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	const why = "is not clean: entity type customer has no entities in either export; entity type invoice has no entities in either export; keep reading from legacy"
	code, stdout, stderr := reconMain("reconcile", "--config", cfg, "--all")
	if code != ExitOK || strings.Contains(stdout, "decommissioned") || strings.Contains(stdout, "read primary") || !strings.Contains(stdout, fmt.Sprintf("run %d %s", n, why)) {
		t.Errorf("--all over %d runs of empty exports: exit %d, want %d and the footer %q\n%s%s", n, code, ExitOK, why, stdout, stderr)
	}
	res := readResult(t, out, "reconcile/dual_write/latest.json")
	if res.Run != fmt.Sprint(n) || res.Clean || res.ConsecutiveCleanRuns != 0 || res.PrimarySwitchReady || res.DecommissionReady || len(res.NotClean) != 2 {
		t.Errorf("latest.json: run %s clean %v, %d clean runs, primary switch %v, decommission %v, not clean %q", res.Run, res.Clean, res.ConsecutiveCleanRuns, res.PrimarySwitchReady, res.DecommissionReady, res.NotClean)
	}
	// one more empty run through the scheduled job: a warning says why
	writeEmpty(n + 1)
	code, stdout, stderr = reconMain("run", "--config", cfg, "--job", "recon-nightly")
	if code != ExitOK || !strings.Contains(stderr, "reconciliation run not clean") || !strings.Contains(stderr, "entity type invoice has no entities in either export") {
		t.Errorf("run --job over an empty run: exit %d, want %d and a warning naming invoice\n%s%s", code, ExitOK, stdout, stderr)
	}
}
