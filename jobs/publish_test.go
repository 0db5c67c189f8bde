package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/audit"
	"github.com/parity-eval/parity/reports/flagd"
	"github.com/parity-eval/parity/storage"

	_ "github.com/parity-eval/parity/storage/file"
)

// publishConfig evaluates two synthetic features with a short graduation
// streak, so 20 days exercise graduations, holds and rollbacks.
const publishConfig = `version: 1
source:
  logs: logs
  labels: labels
output: out
window: 24h
baseline:
  windows: 5
features:
  - name: ticket_routing
    fields:
      - name: category
        legacy: legacy_category
        ai: ai_category
        label: label_category
        critical: true
    criteria:
      min_agreement: 0.95
      quality_margin: 0.03
    policy:
      graduate_after: 3
      rollback_after: 2
  - name: refund_approval
    fields:
      - name: decision
        legacy: legacy_category
        ai: ai_category
        label: label_category
        critical: true
    criteria:
      min_agreement: 0.95
      quality_margin: 0.03
    policy:
      graduate_after: 3
      rollback_after: 2
      steps: [0, 10, 25, 50, 100]
      initial_percent: 10
publish:
  flag_prefix: "parity."
`

// pubSetup generates the small synthetic dataset (about 0.6 s) and a
// config beside it, in a folder of the test's own.
func pubSetup(t *testing.T, extra string) (*config.Config, string) {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.05, Days: 20}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(path, []byte(publishConfig+extra), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, filepath.Join(dir, "out")
}

func pubBackfill(t *testing.T, cfg *config.Config, now time.Time) (*jobs.Result, error) {
	t.Helper()
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	windows := eval.WindowsBetween(synth.DefaultStart, synth.DefaultStart.Add(20*24*time.Hour), 24*time.Hour)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return r.Evaluate(context.Background(), windows, jobs.Options{Now: func() time.Time { return now }, Log: log, Workers: 2})
}

// pubVerdictsByWindow reads every per-window verdicts document, keeping only
// what the policy decided (features), not who ran it or when.
func pubVerdictsByWindow(t *testing.T, out string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(out, "verdicts", "window=*", "verdicts.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no per-window verdicts in %s (%v)", out, err)
	}
	m := map[string]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := reports.DecodeVerdicts(data)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc.Features)
		m[filepath.Base(filepath.Dir(f))] = string(b)
	}
	return m
}

func pubReadJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestBackfillTwiceIdenticalVerdicts: streaks come from stored history,
// never process memory, so a second backfill (a fresh runner, a later
// clock) decides exactly the same verdicts, flags and metrics values; and
// the audit log only grows.
func TestBackfillTwiceIdenticalVerdicts(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: backfills 20 synthetic days")
	}
	cfg, out := pubSetup(t, "")
	t1 := synth.DefaultStart.Add(20*24*time.Hour + time.Hour)
	res1, err := pubBackfill(t, cfg, t1)
	if err != nil {
		t.Fatal(err)
	}
	first := pubVerdictsByWindow(t, out)
	if len(first) != 20 {
		t.Fatalf("%d per-window verdicts, want 20", len(first))
	}
	var flags1 flagd.File
	pubReadJSON(t, filepath.Join(out, "flags", "flagd.json"), &flags1)
	audit1 := pubAuditObjects(t, out)
	if len(audit1) != 20 {
		t.Fatalf("%d audit objects after one backfill, want one per window (20)", len(audit1))
	}

	res2, err := pubBackfill(t, cfg, t1.Add(90*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	second := pubVerdictsByWindow(t, out)
	for w, v := range first {
		if second[w] != v {
			t.Errorf("window %s: verdicts differ between two backfills", w)
		}
	}
	var flags2 flagd.File
	pubReadJSON(t, filepath.Join(out, "flags", "flagd.json"), &flags2)
	a, _ := json.Marshal(flags1.Flags)
	b, _ := json.Marshal(flags2.Flags)
	if !bytes.Equal(a, b) {
		t.Errorf("flagd flags differ between two backfills:\n%s\n%s", a, b)
	}
	// The policy actually moved: some verdict is not a plain hold, so the
	// comparison above covers streak arithmetic.
	moved := false
	for _, v := range first {
		if strings.Contains(v, `"kind":"graduate"`) || strings.Contains(v, `"kind":"rollback"`) {
			moved = true
		}
	}
	if !moved {
		t.Error("no graduation or rollback event in 20 windows; the dataset does not exercise the policy")
	}
	// Audit: first run's objects unchanged, second run's added.
	audit2 := pubAuditObjects(t, out)
	if len(audit2) != 40 {
		t.Errorf("%d audit objects after two backfills, want 40", len(audit2))
	}
	for k, v := range audit1 {
		if audit2[k] != v {
			t.Errorf("audit object %s was rewritten", k)
		}
	}
	// Outputs are listed and latest.json comes last.
	for _, res := range []*jobs.Result{res1, res2} {
		if res.Outputs[len(res.Outputs)-1] != jobs.KeyLatest {
			t.Errorf("last output %s, want %s", res.Outputs[len(res.Outputs)-1], jobs.KeyLatest)
		}
		idx := map[string]int{}
		for i, k := range res.Outputs {
			idx[k] = i
		}
		if !(idx[jobs.KeyFlagd] < idx[jobs.KeyMetrics]) {
			t.Errorf("flagd file should be written before the metrics: %v", res.Outputs)
		}
	}
	pubCheckMetrics(t, out, res2.Verdicts)
}

func pubAuditObjects(t *testing.T, out string) map[string]string {
	t.Helper()
	m := map[string]string{}
	files, _ := filepath.Glob(filepath.Join(out, "audit", "window=*", "*.jsonl"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[f] = string(data)
	}
	return m
}

// pubCheckMetrics parses the textfile and compares it with latest.json.
func pubCheckMetrics(t *testing.T, out string, latest *reports.Verdicts) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "metrics", "parity.prom"))
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("metrics textfile does not parse: %v", err)
	}
	for name, fd := range latest.Features {
		found := false
		for _, m := range fams["parity_verdict_traffic_percent"].GetMetric() {
			if m.GetLabel()[0].GetValue() == name {
				found = true
				if m.GetGauge().GetValue() != fd.Traffic.Percent {
					t.Errorf("%s traffic metric %g, verdict %g", name, m.GetGauge().GetValue(), fd.Traffic.Percent)
				}
			}
		}
		if !found {
			t.Errorf("no traffic metric for %s", name)
		}
	}
}

// TestOverridesFile: a kill switch in overrides.yaml beats the computed
// verdict, shows in the verdict, the flag and the audit log; an expired
// entry does nothing; a bad file fails the run with file:line and leaves
// latest.json as it was.
func TestOverridesFile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: backfills 20 synthetic days")
	}
	cfg, out := pubSetup(t, "")
	now := synth.DefaultStart.Add(20*24*time.Hour + time.Hour)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	ov := fmt.Sprintf(`overrides:
  refund_approval:
    force_legacy: true
    by: oncall@example.com
    reason: INC-4411 wrong refunds for EUR
    at: %s
  ticket_routing:
    freeze: true
    by: lead@example.com
    reason: expired freeze
    at: 2026-01-01T00:00:00Z
    expires: 2026-02-01T00:00:00Z
`, now.Add(-time.Hour).Format(time.RFC3339))
	if err := os.WriteFile(filepath.Join(out, jobs.KeyOverrides), []byte(ov), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := pubBackfill(t, cfg, now)
	if err != nil {
		t.Fatal(err)
	}
	ra := res.Verdicts.Features["refund_approval"]
	if ra.Override == nil || !ra.Override.ForceLegacy || ra.Override.By != "oncall@example.com" || ra.Verdict != eval.VerdictRollback || ra.Traffic.Percent != 0 {
		t.Fatalf("refund_approval: verdict %s traffic %g override %+v, want rollback at 0%% by the override", ra.Verdict, ra.Traffic.Percent, ra.Override)
	}
	if !strings.Contains(ra.Override.Source, jobs.KeyOverrides) {
		t.Errorf("override source %q does not name the file", ra.Override.Source)
	}
	// An older window's verdict had expired before the override was set:
	// the replay leaves it as computed.
	early := eval.Window{Start: synth.DefaultStart.Add(10 * 24 * time.Hour)}
	var old reports.Verdicts
	pubReadJSON(t, filepath.Join(out, "verdicts", "window="+early.Key(), "verdicts.json"), &old)
	if ov := old.Features["refund_approval"].Override; ov != nil {
		t.Errorf("override set at %s stamped on the verdict of a window that expired earlier: %+v", ov.At, ov)
	}
	if tr := res.Verdicts.Features["ticket_routing"]; tr.Override != nil {
		t.Errorf("expired freeze applied: %+v", tr.Override)
	}
	var flags flagd.File
	pubReadJSON(t, filepath.Join(out, "flags", "flagd.json"), &flags)
	fl := flags.Flags["parity.refund_approval"]
	if fl.Targeting != nil || fl.DefaultVariant != flagd.VariantLegacy || fl.Metadata["override"] != "force_legacy" {
		t.Errorf("overridden flag still routes to AI: %+v", fl)
	}
	// flagd's own engine on the file the pipeline wrote: the overridden
	// feature is legacy for every request and class.
	if counts := pubFlagdEval(t, filepath.Join(out, jobs.KeyFlagd), 300, []string{"small_amount", "large_amount", "-"}); counts != nil {
		for cls, c := range counts["parity.refund_approval"] {
			if c["ai"] != 0 || c["legacy"] != 300 {
				t.Errorf("flagd engine, overridden refund_approval/%s: %v, want 300 legacy", cls, c)
			}
		}
		if len(counts) != 2 {
			t.Errorf("flagd engine loaded %d flags, want 2", len(counts))
		}
	}
	st, err := storage.Open(context.Background(), out, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := audit.Read(context.Background(), st, "refund_approval")
	if err != nil {
		t.Fatal(err)
	}
	overrides := 0
	for _, e := range entries {
		if e.Kind == audit.KindOverride && strings.Contains(e.Reasons[0], "INC-4411") && e.ConfigHash == cfg.Hash {
			overrides++
		}
	}
	if overrides != 1 {
		t.Errorf("%d override entries with who/why and config hash in the audit log, want 1 (the newest window)", overrides)
	}

	// A bad file: error with file:line and key; latest.json untouched.
	before, err := os.ReadFile(filepath.Join(out, jobs.KeyLatest))
	if err != nil {
		t.Fatal(err)
	}
	bad := "overrides:\n  refund_approval:\n    force_legacy: true\n    by: x\n    reason: y\n    at: 2026-11-21T00:00:00Z\n  nosuch:\n    freeze: true\n    by: x\n    reason: y\n    at: yesterday\n"
	if err := os.WriteFile(filepath.Join(out, jobs.KeyOverrides), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = pubBackfill(t, cfg, now.Add(time.Hour))
	if err == nil {
		t.Fatal("bad overrides file accepted")
	}
	for _, want := range []string{"overrides.yaml:7: overrides.nosuch: unknown feature", "overrides.yaml:11: overrides.nosuch.at", `"yesterday"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	after, _ := os.ReadFile(filepath.Join(out, jobs.KeyLatest))
	if !bytes.Equal(before, after) {
		t.Error("latest.json changed by a run that failed on its overrides file")
	}
}

func TestParseOverridesErrors(t *testing.T) {
	cfg, _ := pubSetup(t, "")
	cases := map[string]string{
		"overrides:\n  ticket_routing:\n    force_legacy: true\n    freeze: true\n    by: a\n    reason: b\n    at: 2026-11-21T00:00:00Z\n":            "not both",
		"overrides:\n  ticket_routing:\n    by: a\n    reason: b\n    at: 2026-11-21T00:00:00Z\n":                                                      "set force_legacy",
		"overrides:\n  ticket_routing:\n    freeze: true\n    at: 2026-11-21T00:00:00Z\n":                                                              "by: required",
		"overrides:\n  ticket_routing:\n    freeze: yes please\n":                                                                                      "overrides.yaml",
		"overrides:\n  ticket_routing:\n    freeze: true\n    by: a\n    reason: b\n    at: 2026-11-21T00:00:00Z\n    expires: 2026-11-20T00:00:00Z\n": "not after at",
		"overrides:\n  ticket_routing:\n    freez: true\n":                                                                                             "freez",
	}
	keys := make([]string, 0, len(cases))
	for k := range cases {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, in := range keys {
		_, err := jobs.ParseOverrides("overrides.yaml", []byte(in), cfg)
		if err == nil || !strings.Contains(err.Error(), cases[in]) {
			t.Errorf("input:\n%s\nerr = %v, want it to mention %q", in, err, cases[in])
		}
	}
	if m, err := jobs.ParseOverrides("overrides.yaml", nil, cfg); err != nil || len(m) != 0 {
		t.Errorf("empty file: %v %v, want no overrides", m, err)
	}
}

// TestPublishPushAndTextfile: publish.pushgateway and publish.textfile
// from the config reach a (recording) Pushgateway and a local file.
func TestPublishPushAndTextfile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: backfills 20 synthetic days")
	}
	var mu sync.Mutex
	var pushes []string
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushes = append(pushes, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	cfg, out := pubSetup(t, "  textfile: node/parity.prom\n  pushgateway: "+gw.URL+"\n  push_job: parity_test\n")
	if err := os.MkdirAll(filepath.Join(filepath.Dir(cfg.Path), "node"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := pubBackfill(t, cfg, synth.DefaultStart.Add(20*24*time.Hour+time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(pushes) != 1 || !strings.HasPrefix(pushes[0], "PUT /metrics/job/parity_test/instance") {
		t.Errorf("pushes = %v, want one PUT to job parity_test", pushes)
	}
	mu.Unlock()
	local, err := os.ReadFile(filepath.Join(filepath.Dir(cfg.Path), "node", "parity.prom"))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := os.ReadFile(filepath.Join(out, jobs.KeyMetrics))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(local, stored) {
		t.Error("local textfile differs from metrics/parity.prom")
	}
	pubCheckMetrics(t, out, res.Verdicts)
}

// pubFlagdEval evaluates a flags file with flagd's engine
// (reports/flagd/testdata/evaluate.cjs in node): variant counts by flag
// and class. Without node and @openfeature/flagd-core it skips that part
// (returns nil), or fails under CI=true.
func pubFlagdEval(t *testing.T, file string, n int, classes []string) map[string]map[string]map[string]int {
	t.Helper()
	root, _ := filepath.Abs("..")
	modules := filepath.Join(root, ".tools", "node", "node_modules")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(modules, "@openfeature", "flagd-core", "package.json"))
	}
	if err != nil {
		msg := "flagd engine check skipped: install with `npm install --prefix .tools/node @openfeature/flagd-core@4` (needs node)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Log(msg)
		return nil
	}
	cmd := exec.Command(node, filepath.Join(root, "reports", "flagd", "testdata", "evaluate.cjs"), file, fmt.Sprint(n), strings.Join(classes, ","))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("flagd engine rejected %s: %v: %s", file, err, stderr.String())
	}
	var res struct {
		Flags map[string]struct {
			Classes map[string]map[string]any `json:"classes"`
		} `json:"flags"`
	}
	if err := json.Unmarshal(outb, &res); err != nil {
		t.Fatal(err)
	}
	counts := map[string]map[string]map[string]int{}
	for flag, f := range res.Flags {
		counts[flag] = map[string]map[string]int{}
		for cls, c := range f.Classes {
			counts[flag][cls] = map[string]int{"ai": int(c["ai"].(float64)), "legacy": int(c["legacy"].(float64))}
		}
	}
	return counts
}

// TestPublishConfigErrors: the publish section is validated at load,
// with the line and key.
func TestPublishConfigErrors(t *testing.T) {
	bad := publishConfig + "  pushgateway: ftp://gw\n  push_job: \"a b\"\n"
	_, err := config.Parse("parity.yaml", []byte(bad))
	if err == nil {
		t.Fatal("bad publish section accepted")
	}
	for _, want := range []string{"publish.pushgateway", "ftp://gw", "publish.push_job", "parity.yaml:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
