package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/reports"
)

// demoData generates one small synthetic dataset per test binary: large
// enough that the clearly-worse class fails, small enough to be quick.
var demoData = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parity-e2e-")
	if err != nil {
		return "", err
	}
	_, err = synth.Generate(dir, synth.Options{Seed: 7, Days: 6, Scale: 0.3})
	return dir, err
})

// setup copies the demo config next to fresh data and an empty output.
func setup(t *testing.T) (cfgPath, out string) {
	t.Helper()
	data, err := demoData()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := strings.Replace(string(demoConfig), "output: ../demo-out", "output: "+filepath.Join(dir, "out"), 1)
	cfg = strings.Replace(cfg, "logs: logs", "logs: "+filepath.Join(data, "logs"), 1)
	cfg = strings.Replace(cfg, "labels: labels", "labels: "+filepath.Join(data, "labels"), 1)
	cfgPath = filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfgPath, filepath.Join(dir, "out")
}

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var o, e bytes.Buffer
	code := Main(context.Background(), args, &o, &e)
	return code, o.String(), e.String()
}

const backfillFrom, backfillTo = "2026-10-01", "2026-10-07"

func backfill(t *testing.T, cfg string) {
	t.Helper()
	code, out, errs := run(t, "backfill", "--config", cfg, "--from", backfillFrom, "--to", backfillTo, "--now", "2026-10-07T01:00:00Z", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("backfill exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}

func readVerdicts(t *testing.T, path string) *reports.Verdicts {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := reports.DecodeVerdicts(data)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDemoVerdicts(t *testing.T) {
	cfg, out := setup(t)
	backfill(t, cfg)
	v := readVerdicts(t, filepath.Join(out, "verdicts/latest.json"))
	tr := v.Features["ticket_routing"]
	if tr == nil {
		t.Fatal("no ticket_routing in verdicts")
	}
	if got := tr.Classes["spanish"].Status; got != "fail" {
		t.Errorf("spanish (AI clearly worse) status = %s, want fail; reasons %v", got, tr.Classes["spanish"].Reasons)
	}
	ln := tr.Classes["legal_notice"]
	if ln.Status != "insufficient_data" || ln.NNeeded <= ln.N {
		t.Errorf("legal_notice (tiny) = %s n=%d n_needed=%d, want insufficient_data with n_needed > n", ln.Status, ln.N, ln.NNeeded)
	}
	if !strings.Contains(strings.Join(ln.Reasons, " "), "needs at least") {
		t.Errorf("legal_notice reasons do not say how many requests it needs: %v", ln.Reasons)
	}
	for name, f := range v.Features {
		if f.Verdict == "graduate" {
			for c, cd := range f.Classes {
				if cd.Status != "pass" {
					t.Errorf("%s graduates with class %s %s", name, c, cd.Status)
				}
			}
		}
	}
}

func TestVerdictsMatchSchema(t *testing.T) {
	cfg, out := setup(t)
	backfill(t, cfg)
	c := jsonschema.NewCompiler()
	schema, err := jsonschema.UnmarshalJSON(bytes.NewReader(reports.VerdictsSchema))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("verdicts.schema.json", schema); err != nil {
		t.Fatal(err)
	}
	c.AssertFormat()
	sch, err := c.Compile("verdicts.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	docs, _ := filepath.Glob(filepath.Join(out, "verdicts/window=*/verdicts.json"))
	docs = append(docs, filepath.Join(out, "verdicts/latest.json"))
	if len(docs) < 6 {
		t.Fatalf("want 6 window docs + latest, found %v", docs)
	}
	for _, d := range docs {
		f, err := os.Open(d)
		if err != nil {
			t.Fatal(err)
		}
		inst, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(inst); err != nil {
			t.Errorf("%s does not match the schema: %v", d, err)
		}
	}
	// The schema must reject what it should: a verdict outside the enum.
	bad := map[string]any{}
	data, _ := os.ReadFile(docs[0])
	_ = json.Unmarshal(data, &bad)
	for _, f := range bad["features"].(map[string]any) {
		f.(map[string]any)["verdict"] = "promote"
	}
	if err := sch.Validate(bad); err == nil {
		t.Error("schema accepted verdict \"promote\"")
	}
}

// TestRerunIdempotent: the same windows twice give identical scores and
// verdicts (apart from generated_at and the run id).
func TestRerunIdempotent(t *testing.T) {
	cfg, out := setup(t)
	backfill(t, cfg)
	first := snapshot(t, out)
	backfill(t, cfg)
	second := snapshot(t, out)
	if len(first) != len(second) {
		t.Fatalf("rerun changed the set of outputs: %d files then %d", len(first), len(second))
	}
	for k, v := range first {
		if second[k] != v {
			t.Errorf("%s differs between runs", k)
		}
	}
}

// snapshot reads every output with run-specific fields blanked.
func snapshot(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		if strings.HasPrefix(rel, "locks/") || strings.HasPrefix(rel, "audit/") || strings.HasSuffix(rel, ".parity-cas") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(p, ".parquet"):
			rows, err := reports.DecodeScores(data)
			if err != nil {
				return err
			}
			for i := range rows {
				rows[i].RunID, rows[i].ConfigHash = "", ""
			}
			b, _ := json.Marshal(rows)
			m[rel] = string(b)
		case strings.HasSuffix(p, ".json"):
			m[rel] = blankRun(t, data)
		default:
			m[rel] = string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func blankRun(t *testing.T, data []byte) string {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any)
	walk = func(x any) {
		switch y := x.(type) {
		case map[string]any:
			for k := range y {
				if k == "generated_at" || k == "id" || k == "run_id" || k == "manifest_hash" || k == "config_hash" || k == "mod_time" || k == "etag" {
					y[k] = ""
				}
				walk(y[k])
			}
		case []any:
			for _, e := range y {
				walk(e)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	return string(b)
}

// TestMissingColumn: a config naming a column the data lack fails before
// reading rows, naming the column and the file, exit non-zero, nothing written.
func TestMissingColumn(t *testing.T) {
	cfgPath, out := setup(t)
	data, _ := os.ReadFile(cfgPath)
	bad := strings.Replace(string(data), "ai: ai_category", "ai: ai_categry", 1)
	if err := os.WriteFile(cfgPath, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := buildBinary(t)
	cmd := exec.Command(bin, "run", "--config", cfgPath, "--window", "2026-10-02T00:00:00Z/2026-10-03T00:00:00Z", "--now", "2026-10-07T00:00:00Z")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != ExitFailure {
		t.Fatalf("want exit %d, got %v\n%s", ExitFailure, err, stderr.String())
	}
	msg := errorText(t, stderr.String()) // fatal_test.go
	if !strings.Contains(msg, `"ai_categry"`) || !strings.Contains(msg, ".parquet") {
		t.Errorf("error does not name the column and the file: %s", msg)
	}
	// Nothing may be written; a released run lock leaves at most its folder.
	var written []string
	filepath.Walk(out, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && !strings.HasSuffix(p, ".parity-cas") {
			written = append(written, p)
		}
		return nil
	})
	sort.Strings(written)
	if len(written) > 0 {
		t.Errorf("output written despite the error: %v", written)
	}
}

func TestConfigErrorExitCode(t *testing.T) {
	cfgPath, _ := setup(t)
	data, _ := os.ReadFile(cfgPath)
	bad := strings.Replace(string(data), "comparator: numeric", "comparator: fuzzy", 1)
	os.WriteFile(cfgPath, []byte(bad), 0o600)
	code, _, errs := run(t, "validate", "--config", cfgPath)
	if code != ExitUsage {
		t.Fatalf("validate exit %d, want %d", code, ExitUsage)
	}
	if !strings.Contains(errs, "parity.yaml:") || !strings.Contains(errs, "comparator") || !strings.Contains(errs, `"fuzzy"`) {
		t.Errorf("error does not point at file:line and key: %s", errs)
	}
}

var buildOnce = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "parity-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "parity")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// buildBinary builds cmd/parity once per test binary, for subprocess tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildOnce()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}
