package flagd_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/eval/stats"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/flagd"
)

// nodeModules finds the flagd-core install (NODE_PATH for the script), or
// skips (fails under CI=true) with the install command.
func nodeModules(t testing.TB) (node, modules string) {
	t.Helper()
	missing := func(what string) {
		msg := what + ": install with `npm install --prefix .tools/node @openfeature/flagd-core@4` at the repository root (needs node >= 18)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node not on PATH")
	}
	if p := os.Getenv("PARITY_NODE_MODULES"); p != "" {
		modules = p
	} else {
		dir, _ := os.Getwd()
		for dir != "/" && dir != "." {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				break
			}
			dir = filepath.Dir(dir)
		}
		modules = filepath.Join(dir, ".tools", "node", "node_modules")
	}
	if _, err := os.Stat(filepath.Join(modules, "@openfeature", "flagd-core", "package.json")); err != nil {
		missing("@openfeature/flagd-core not found in " + modules)
	}
	return node, modules
}

type classCounts struct {
	AI, Legacy, Other int
	Reasons           map[string]int
}

type evalOut struct {
	Flags map[string]struct {
		Classes  map[string]classCounts `json:"classes"`
		Metadata map[string]any         `json:"metadata"`
	} `json:"flags"`
	Metadata map[string]any `json:"metadata"`
}

// runFlagd evaluates the file with flagd's engine in a node subprocess,
// with the engine's clock ($flagd.timestamp) at now (the real clock when
// now is zero).
func runFlagd(t *testing.T, file string, n int, classes []string, now time.Time) (evalOut, error) {
	t.Helper()
	node, modules := nodeModules(t)
	cmd := exec.Command(node, filepath.Join("testdata", "evaluate.cjs"), file, itoa(n), strings.Join(classes, ","))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if !now.IsZero() {
		cmd.Env = append(cmd.Env, fmt.Sprintf("PARITY_FLAGD_NOW=%d", now.Unix()))
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return evalOut{}, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	var out evalOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("script output: %v\n%s", err, stdout.String())
	}
	return out, nil
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func feature(verdict string, pct float64, allowed, legacyOnly []string, ov *eval.Override, validUntil time.Time) *reports.FeatureDoc {
	fd := &reports.FeatureDoc{Status: "pass", Classes: map[string]*reports.ClassDoc{}}
	fd.Verdict = verdict
	fd.Traffic = eval.Traffic{Percent: pct, Steps: []float64{0, 1, 5, 25, 50, 100}}
	fd.AIAllowedClasses = allowed
	fd.LegacyOnlyClasses = legacyOnly
	fd.Override = ov
	fd.ValidUntil = validUntil
	return fd
}

func sampleDoc() *reports.Verdicts {
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	w := eval.Window{Start: end.Add(-24 * time.Hour), End: end}
	vu := end.Add(24 * time.Hour)
	return &reports.Verdicts{
		SchemaVersion: reports.SchemaVersion, GeneratedAt: end.Add(time.Hour), ValidUntil: vu, Window: w,
		Run: reports.RunInfo{ID: "run-1", ConfigHash: "c0ffee"},
		Features: map[string]*reports.FeatureDoc{
			"refunds":  feature(eval.VerdictHold, 25, []string{"small", "medium"}, []string{"large"}, nil, vu),
			"invoices": feature(eval.VerdictGraduate, 5, []string{"small", "medium", "large"}, nil, nil, vu),
			"tickets": feature(eval.VerdictHold, 50, []string{"small", "medium", "large"}, nil,
				&eval.Override{ForceLegacy: true, By: "oncall@example.com", Reason: "INC-7 wrong routing", At: "2026-11-21T02:00:00Z", Source: "file"}, vu),
			"search":  feature(eval.VerdictRollback, 0, nil, []string{"small", "medium", "large"}, nil, vu),
			"full":    feature(eval.VerdictGraduate, 100, []string{"small"}, []string{"medium", "large"}, nil, vu),
			"halfpct": feature(eval.VerdictHold, 0.5, []string{"small", "medium", "large"}, nil, nil, vu),
		},
	}
}

// TestFlagdEngineEvaluatesGeneratedFlags is the contract with routers:
// flagd's own engine accepts the file and routes as the verdicts say.
func TestFlagdEngineEvaluatesGeneratedFlags(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs flagd's engine in node")
	}
	doc := sampleDoc()
	data, err := flagd.Generate(doc, flagd.Options{FlagPrefix: "parity."})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 4000
	classes := []string{"small", "medium", "large", "-"}
	// The engine's clock at generation time: the verdicts are fresh.
	out, err := runFlagd(t, file, n, classes, doc.GeneratedAt)
	if err != nil {
		t.Fatalf("flagd-core rejected the generated file: %v: %s\n%s", err, err.(*exec.ExitError).Stderr, data)
	}
	if len(out.Flags) != len(doc.Features) {
		t.Fatalf("flagd loaded %d flags, want %d", len(out.Flags), len(doc.Features))
	}
	if out.Metadata["flagSetId"] != "parity" {
		t.Errorf("flag set metadata = %v", out.Metadata)
	}
	checkRouting(t, doc, out, "parity.", n, classes, false)
	// The overridden feature says why in its metadata.
	if ov := out.Flags["parity.tickets"].Metadata["override"]; ov != "force_legacy" {
		t.Errorf("tickets metadata override = %v, want force_legacy", ov)
	}
}

// checkRouting checks flagd's counts against the verdicts: with expired
// false, legacy-only features and disallowed classes get no AI and the
// others an AI share matching the traffic step (99.9% Wilson interval);
// with expired true, every flag and class gets legacy only.
func checkRouting(t *testing.T, doc *reports.Verdicts, out evalOut, prefix string, n int, classes []string, expired bool) {
	t.Helper()
	for name, fd := range doc.Features {
		got, ok := out.Flags[prefix+name]
		if !ok {
			t.Fatalf("flag %s%s missing", prefix, name)
		}
		if vu := got.Metadata["valid_until"]; vu != fd.ValidUntil.Format(time.RFC3339) {
			t.Errorf("%s: metadata valid_until = %v, want %s", name, vu, fd.ValidUntil.Format(time.RFC3339))
		}
		legacyOnly, _ := flagd.LegacyOnly(&fd.FeatureVerdict)
		allowed := map[string]bool{}
		for _, c := range fd.AIAllowedClasses {
			allowed[c] = true
		}
		for _, cls := range classes {
			c := got.Classes[cls]
			if c.Other != 0 || c.AI+c.Legacy != n {
				t.Fatalf("%s/%s: %d evaluations returned neither ai nor legacy (reasons %v)", name, cls, c.Other, c.Reasons)
			}
			switch {
			case expired:
				if c.AI != 0 {
					t.Errorf("%s/%s: %d of %d requests routed to ai after valid_until %s, want all legacy", name, cls, c.AI, n, fd.ValidUntil.Format(time.RFC3339))
				}
			case legacyOnly || !allowed[cls]:
				if c.AI != 0 {
					t.Errorf("%s/%s: %d of %d requests routed to ai, want all legacy (verdict %s, override %v, allowed %v)", name, cls, c.AI, n, fd.Verdict, fd.Override, fd.AIAllowedClasses)
				}
			default:
				want := fd.Traffic.Percent / 100
				ci := stats.Wilson(int64(c.AI), int64(n), 0.999)
				if want < ci.Lo || want > ci.Hi {
					t.Errorf("%s/%s: AI share %.4f (99.9%% CI %.4f..%.4f) does not match the traffic step %g%%", name, cls, float64(c.AI)/float64(n), ci.Lo, ci.Hi, fd.Traffic.Percent)
				}
			}
		}
	}
}

// TestFlagdEngineExpiresAtValidUntil: flagd itself turns a flag to legacy
// once its verdict's valid_until has passed ($flagd.timestamp, the
// engine's clock), to the second: one second before valid_until the
// verdict's split, at valid_until and after it legacy for every request.
// A router that only asks flagd cannot route to the AI on a stale verdict.
func TestFlagdEngineExpiresAtValidUntil(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs flagd's engine in node")
	}
	doc := sampleDoc()
	// One feature expires earlier than the others, so the guard is the
	// feature's valid_until, not the document's.
	early := doc.ValidUntil.Add(-6 * time.Hour)
	doc.Features["invoices"].ValidUntil = early
	data, err := flagd.Generate(doc, flagd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	classes := []string{"small", "medium", "large", "-"}
	only := func(d *reports.Verdicts, names ...string) *reports.Verdicts {
		c := *d
		c.Features = map[string]*reports.FeatureDoc{}
		for _, nm := range names {
			c.Features[nm] = d.Features[nm]
		}
		return &c
	}
	others := []string{"refunds", "tickets", "search", "full", "halfpct"}
	for _, tc := range []struct {
		name string
		now  time.Time
		// fresh and expired features at that time
		fresh, expired []string
	}{
		{"second before invoices' valid_until", early.Add(-time.Second), append([]string{"invoices"}, others...), nil},
		{"at invoices' valid_until", early, others, []string{"invoices"}},
		{"second before valid_until", doc.ValidUntil.Add(-time.Second), others, []string{"invoices"}},
		{"at valid_until", doc.ValidUntil, nil, append([]string{"invoices"}, others...)},
		{"a week after valid_until", doc.ValidUntil.Add(7 * 24 * time.Hour), nil, append([]string{"invoices"}, others...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runFlagd(t, file, n, classes, tc.now)
			if err != nil {
				t.Fatalf("flagd-core rejected the generated file: %v: %s", err, err.(*exec.ExitError).Stderr)
			}
			checkRouting(t, only(doc, tc.fresh...), out, "", n, classes, false)
			checkRouting(t, only(doc, tc.expired...), out, "", n, classes, true)
		})
	}
}

// TestExpiryGuard pins the guard's form: every flag with targeting
// starts with 0 < $flagd.timestamp < valid_until (Unix seconds) and
// answers legacy otherwise; a legacy-only flag has no targeting at all.
func TestExpiryGuard(t *testing.T) {
	doc := sampleDoc()
	f, err := flagd.Build(doc, flagd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, fd := range doc.Features {
		fl := f.Flags[name]
		if legacy, _ := flagd.LegacyOnly(&fd.FeatureVerdict); legacy {
			if fl.Targeting != nil {
				t.Errorf("%s: legacy-only flag has targeting %v", name, fl.Targeting)
			}
			continue
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // as Encode writes the file
		if err := enc.Encode(fl.Targeting); err != nil {
			t.Fatal(err)
		}
		b := bytes.TrimSpace(buf.Bytes())
		want := fmt.Sprintf(`{"if":[{"and":[{">":[{"var":"$flagd.timestamp"},0]},{"<":[{"var":"$flagd.timestamp"},%d]}]},{"if":`, fd.ValidUntil.Unix())
		if !strings.HasPrefix(string(b), want) || !strings.HasSuffix(string(b), `,"legacy"]}`) {
			t.Errorf("%s: targeting %s\nwant it guarded by %s...,\"legacy\"]}", name, b, want)
		}
	}
	// A verdict without valid_until is no evaluation: legacy only.
	doc = sampleDoc()
	doc.Features["refunds"].ValidUntil = time.Time{}
	f, err = flagd.Build(doc, flagd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fl := f.Flags["refunds"]; fl.Targeting != nil || fl.Metadata["legacy_reason"] == nil {
		t.Errorf("refunds without valid_until: targeting %v, metadata %v; want legacy only", fl.Targeting, fl.Metadata)
	}
}

// TestFlagdStickyAssignment: the same request id gets the same variant on
// every evaluation, so a user does not flip between systems.
func TestFlagdStickyAssignment(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs flagd's engine in node")
	}
	data, err := flagd.Generate(sampleDoc(), flagd.Options{})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	now := sampleDoc().GeneratedAt
	a, err := runFlagd(t, file, 500, []string{"small"}, now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := runFlagd(t, file, 500, []string{"small"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if ai := a.Flags["refunds"].Classes["small"].AI; ai == 0 || ai != b.Flags["refunds"].Classes["small"].AI {
		t.Error("two evaluations of the same request ids disagree")
	}
}

// TestFlagdEngineRejectsInvalidFile proves the subprocess really validates:
// a flag without variants is refused by flagd's schema.
func TestFlagdEngineRejectsInvalidFile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs flagd's engine in node")
	}
	file := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(file, []byte(`{"flags":{"x":{"state":"ENABLED","defaultVariant":"legacy"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := runFlagd(t, file, 1, []string{"a"}, time.Time{}); err == nil {
		t.Fatal("flagd-core accepted a flag without variants")
	}
}

func TestBuildErrors(t *testing.T) {
	doc := sampleDoc()
	doc.Features["refunds"].Traffic.Percent = 140
	if _, err := flagd.Build(doc, flagd.Options{}); err == nil || !strings.Contains(err.Error(), `"refunds"`) {
		t.Fatalf("out-of-range percent: err = %v, want one naming the feature", err)
	}
	if _, err := flagd.Build(nil, flagd.Options{}); err == nil {
		t.Fatal("nil doc accepted")
	}
}

// TestDeterministic: the same verdicts give the same bytes (flagd's
// blob sources detect change by ETag).
func TestDeterministic(t *testing.T) {
	a, _ := flagd.Generate(sampleDoc(), flagd.Options{})
	b, _ := flagd.Generate(sampleDoc(), flagd.Options{})
	if !bytes.Equal(a, b) {
		t.Fatal("two renderings of the same verdicts differ")
	}
}

// BenchmarkGenerate renders the flags for 50 features (a large
// deployment); it runs once per evaluation, so a few milliseconds are
// noise next to the scan.
func BenchmarkGenerate(b *testing.B) {
	doc := sampleDoc()
	base := doc.Features["refunds"]
	for i := 0; i < 50; i++ {
		doc.Features[fmt.Sprintf("feature_%02d", i)] = base
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := flagd.Generate(doc, flagd.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
