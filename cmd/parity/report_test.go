package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/reports/html"
)

// reportFixture generates a small synthetic shadow log, evaluates every
// window with the demo config and returns the config path.
func reportFixture(t *testing.T, days int) (cfgPath string, sum synth.Summary) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	sum, err := synth.Generate(data, synth.Options{Seed: 7, Days: days, Scale: 0.15})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath = filepath.Join(data, "parity.yaml")
	if err := os.WriteFile(cfgPath, demoConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	r, err := jobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := sum.End.Add(time.Hour)
	ws := eval.WindowsBetween(sum.Start, sum.End, cfg.Window.D())
	if _, err := r.Evaluate(context.Background(), ws, jobs.Options{Now: func() time.Time { return now }, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}); err != nil {
		t.Fatal(err)
	}
	return cfgPath, sum
}

func rptMain(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String() + errb.String()
}

// TestReportVerifyDetectsAlteredInput is the reproducibility contract:
// a report verifies against the inputs it names, and changing one value
// in one input object makes verification fail, naming the figure that
// moved and the object that changed.
func TestReportVerifyDetectsAlteredInput(t *testing.T) {
	cfgPath, _ := reportFixture(t, 12)
	out := filepath.Join(t.TempDir(), "ticket_routing.html")
	code, msg := rptMain(t, "report", "--config", cfgPath, "--feature", "ticket_routing", "--from", "2026-10-03", "--to", "2026-10-07", "--out", out, "--now", "2026-12-01T00:00:00Z")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, msg)
	}
	code, msg = rptMain(t, "verify", out)
	if code != ExitOK || !strings.Contains(msg, "verify: OK") {
		t.Fatalf("verify of an untouched report: exit %d:\n%s", code, msg)
	}

	// The same config moved elsewhere verifies; a config with other bytes
	// is named even when no figure moves.
	moved := filepath.Join(t.TempDir(), "parity.yaml")
	raw, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	abs := strings.NewReplacer("logs: logs", "logs: "+filepath.Join(filepath.Dir(cfgPath), "logs"), "labels: labels", "labels: "+filepath.Join(filepath.Dir(cfgPath), "labels"))
	if err := os.WriteFile(moved, []byte(abs.Replace(string(raw))), 0o600); err != nil {
		t.Fatal(err)
	}
	code, msg = rptMain(t, "verify", out, "--config", moved)
	if code != ExitFailure || !strings.Contains(msg, "DIFFERS config "+moved+": report sha256 ") || strings.Count(msg, "DIFFERS") != 1 {
		t.Errorf("verify with an edited config: exit %d, want 1 naming only the config:\n%s", code, msg)
	}

	// Flip one ai_category of a ticket_routing row that agreed with legacy.
	obj := filepath.Join(filepath.Dir(cfgPath), "logs", "dt=2026-10-05", "part-00000.parquet")
	class := flipOneCategory(t, obj)
	code, msg = rptMain(t, "verify", out)
	if code != ExitFailure {
		t.Fatalf("verify after altering %s: exit %d, want %d:\n%s", obj, code, ExitFailure, msg)
	}
	figure := regexp.MustCompile(`DIFFERS ticket_routing/` + regexp.QuoteMeta(class) + ` 2026-10-05 divergence\.critical: report 0\.\d{4}, recomputed 0\.\d{4}`)
	t.Logf("verify after the change:\n%s", msg)
	if !figure.MatchString(msg) {
		t.Errorf("verify does not name the divergence figure of %s on 2026-10-05:\n%s", class, msg)
	}
	if !strings.Contains(msg, "DIFFERS input object "+obj+" changed") {
		t.Errorf("verify does not name the changed input object %s:\n%s", obj, msg)
	}
	// Windows the altered row does not belong to still match.
	if strings.Contains(msg, "2026-10-04 divergence.critical") {
		t.Errorf("a window without the altered row is reported as different:\n%s", msg)
	}
}

// flipOneCategory rewrites a log file with one ticket_routing row's
// ai_category changed from the legacy answer to another category, and
// returns that row's input class.
func flipOneCategory(t *testing.T, path string) string {
	t.Helper()
	rows, err := parquet.ReadFile[synth.LogRow](path)
	if err != nil {
		t.Fatal(err)
	}
	class := ""
	for i := range rows {
		r := &rows[i]
		if r.Feature == "ticket_routing" && r.AICategory != "" && r.AICategory == r.LegacyCategory && !r.AIError {
			r.AICategory = r.LegacyCategory + "_flipped"
			class = r.InputClass
			break
		}
	}
	if class == "" {
		t.Fatalf("%s: no agreeing ticket_routing row to alter", path)
	}
	if err := parquet.WriteFile(path, rows, parquet.Compression(&parquet.Snappy)); err != nil {
		t.Fatal(err)
	}
	return class
}

// TestReportFormats checks the Markdown summary and the JSON data, and
// that two reports of the same stored outputs differ only in the one
// generated-at field.
func TestReportFormats(t *testing.T) {
	cfgPath, _ := reportFixture(t, 9)
	dir := t.TempDir()
	gen := func(format, now string) []byte {
		p := filepath.Join(dir, format+now)
		code, msg := rptMain(t, "report", "--config", cfgPath, "--feature", "refund_approval", "--format", format, "--out", p, "--now", now)
		if code != ExitOK {
			t.Fatalf("report --format %s: exit %d: %s", format, code, msg)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	md := string(gen("md", "2026-12-01T00:00:00Z"))
	for _, want := range []string{"## parity: refund_approval is **", "| class | status | n |", "### Decommission checklist", "large_amount"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	js := gen("json", "2026-12-01T00:00:00Z")
	d, err := html.Decode(js)
	if err != nil {
		t.Fatal(err)
	}
	if d.Feature != "refund_approval" || len(d.Windows) != 9 || len(d.Lineage.Inputs) == 0 || d.Lineage.ConfigHash == "" {
		t.Errorf("json: feature %q, %d windows, %d inputs, config hash %q", d.Feature, len(d.Windows), len(d.Lineage.Inputs), d.Lineage.ConfigHash)
	}
	var raw map[string]any
	if err := json.Unmarshal(js, &raw); err != nil {
		t.Fatal(err)
	}
	a := gen("html", "2026-12-01T00:00:00Z")
	b := gen("html", "2027-03-04T05:06:07Z")
	if bytes.Equal(a, b) {
		t.Fatal("reports generated at different times are identical: the generated-at field is missing")
	}
	norm := func(x []byte, ts string) []byte {
		return bytes.ReplaceAll(x, []byte(ts), []byte("GENERATED-AT"))
	}
	if !bytes.Equal(norm(a, "2026-12-01T00:00:00Z"), norm(b, "2027-03-04T05:06:07Z")) {
		t.Error("two reports of the same inputs and config differ beyond the generated-at field")
	}
}

// TestReportUsage: unknown feature and bad format are usage errors.
func TestReportUsage(t *testing.T) {
	if code, _ := rptMain(t, "report", "--config", "x.yaml", "--format", "pdf"); code != ExitUsage {
		t.Errorf("--format pdf: exit %d, want %d", code, ExitUsage)
	}
	if code, _ := rptMain(t, "verify"); code != ExitUsage {
		t.Errorf("verify without a report: exit %d, want %d", code, ExitUsage)
	}
	p := filepath.Join(t.TempDir(), "not-a-report.html")
	if err := os.WriteFile(p, []byte("<html></html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, msg := rptMain(t, "verify", p); code != ExitFailure || !strings.Contains(msg, "no embedded report data") {
		t.Errorf("verify of a page without data: exit %d: %s", code, msg)
	}
}

// TestVerifyWholeReport: verify regenerates the report and compares the
// whole file: an untouched report is byte-identical; edits of the visible
// text, of fields outside the named figures and of the embedded config
// text fail; a touched or copied input (same bytes, new modification time
// and inode) is a notice, not a failure.
func TestVerifyWholeReport(t *testing.T) {
	cfgPath, _ := reportFixture(t, 6)
	dir := t.TempDir()
	out := filepath.Join(dir, "ticket_routing.html")
	code, msg := rptMain(t, "report", "--config", cfgPath, "--feature", "ticket_routing", "--out", out, "--now", "2026-12-01T00:00:00Z")
	if code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, msg)
	}
	code, msg = rptMain(t, "verify", out)
	if code != ExitOK || !strings.Contains(msg, "verify: OK: the report is byte-identical to one regenerated from its inputs;") {
		t.Fatalf("verify of an untouched report: exit %d:\n%s", code, msg)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d, err := extractData(page)
	if err != nil {
		t.Fatal(err)
	}
	verdict := "<strong>" + strings.ToUpper(d.Verdict.Verdict) + "</strong>"
	lo, _, err := dataSpan(page)
	if err != nil {
		t.Fatal(err)
	}
	visible, data := string(page[:lo]), string(page[lo:])
	validUntil := `"valid_until":"` + d.Verdict.ValidUntil.UTC().Format(time.RFC3339) + `"`
	for _, c := range []struct {
		name, edited, want string
	}{
		{"visible verdict", strings.Replace(visible, verdict, "<strong>GRADUATE</strong>", 1) + data, "DIFFERS the report's visible text differs from a regenerated report at byte"},
		{"valid_until", visible + strings.Replace(data, validUntil, `"valid_until":"2027-01-01T00:00:00Z"`, 1), "DIFFERS ticket_routing verdict.valid_until: report \"2027-01-01T00:00:00Z\""},
		{"methodology.alpha", visible + strings.Replace(data, `"methodology":{"alpha":0.05`, `"methodology":{"alpha":0.01`, 1), "DIFFERS ticket_routing methodology.alpha: report 0.01, recomputed 0.05"},
		{"config text", visible + strings.Replace(data, `windows: `, `windows:  `, 1), "DIFFERS config text embedded in the report (lineage.config)"},
		{"added field", visible + strings.Replace(data, `{"schema_version":1,`, `{"schema_version":1,"approved":true,`, 1), "DIFFERS the report's embedded data are not as parity writes them"},
	} {
		if c.edited == string(page) {
			t.Errorf("%s: the edit did not apply", c.name)
			continue
		}
		p := filepath.Join(dir, "edited.html")
		if err := os.WriteFile(p, []byte(c.edited), 0o600); err != nil {
			t.Fatal(err)
		}
		code, msg := rptMain(t, "verify", p)
		if code != ExitFailure || !strings.Contains(msg, c.want) {
			t.Errorf("%s: exit %d, want %d with %q:\n%s", c.name, code, ExitFailure, c.want, msg)
		}
	}

	// Copy every log file onto itself through a new file: same bytes, new
	// modification time and inode, so a new local ETag.
	logs, err := filepath.Glob(filepath.Join(filepath.Dir(cfgPath), "logs", "*", "*.parquet"))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no logs: %v", err)
	}
	later := time.Now().Add(time.Hour)
	for _, f := range logs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f+".copy", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(f+".copy", f); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	code, msg = rptMain(t, "verify", out)
	if code != ExitOK || !strings.Contains(msg, "notice: input object "+logs[0]+": metadata changed (modification time/inode), content not compared") || strings.Contains(msg, "DIFFERS") {
		t.Fatalf("verify after copying the logs onto themselves: exit %d, want 0 with a notice per object:\n%s", code, msg)
	}
	// A changed size still fails.
	f, err := os.OpenFile(logs[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("x"))
	f.Close()
	if code, msg = rptMain(t, "verify", out); code != ExitFailure {
		t.Errorf("verify after appending to %s: exit %d, want %d:\n%s", logs[0], code, ExitFailure, msg)
	}
}

// TestVerifyAfterReconciliation: a report made before a reconciliation
// run still verifies after it. The decommission checklist's
// reconciliation item comes from the stored reconciliation results, which
// every run replaces, not from the report's inputs: verify takes the
// report's item and says so, rather than calling an untouched report
// altered.
func TestVerifyAfterReconciliation(t *testing.T) {
	cfgPath, _ := reportFixture(t, 8)
	out := filepath.Join(t.TempDir(), "refund_approval.html")
	if code, msg := rptMain(t, "report", "--config", cfgPath, "--feature", "refund_approval", "--out", out, "--now", "2026-12-01T00:00:00Z"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, msg)
	}
	if code, msg := rptMain(t, "reconcile", "--config", cfgPath, "--all", "--log-level", "error"); code != ExitOK {
		t.Fatalf("reconcile: exit %d: %s", code, msg)
	}
	code, msg := rptMain(t, "verify", out)
	if code != ExitOK || !strings.Contains(msg, "verify: OK") || !strings.Contains(msg, `the decommission item "reconciliation clean for 30 consecutive runs" is taken from the report ("no reconciliation runs recorded")`) {
		t.Errorf("verify after a reconciliation run: exit %d:\n%s", code, msg)
	}
}

// TestVerifyDetectsForgedScores: the scores history beside the report is
// recomputed too. A criterion's row edited in place (fail → pass, a
// figure moved) makes verify fail naming the file, row and fields; the
// report itself is untouched.
func TestVerifyDetectsForgedScores(t *testing.T) {
	cfgPath, _ := reportFixture(t, 8)
	out := filepath.Join(t.TempDir(), "ticket_routing.html")
	if code, msg := rptMain(t, "report", "--config", cfgPath, "--feature", "ticket_routing", "--out", out, "--now", "2026-12-01T00:00:00Z"); code != ExitOK {
		t.Fatalf("report: exit %d: %s", code, msg)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	scores := filepath.Join(cfg.Output, "scores", "window=2026-10-05T00-00-00Z", "scores.parquet")
	raw, err := os.ReadFile(scores)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := reports.DecodeScores(raw)
	if err != nil {
		t.Fatal(err)
	}
	forged := ""
	for i := range rows {
		if r := &rows[i]; r.Feature == "ticket_routing" && r.Criterion && r.Value != nil && forged == "" {
			v := *r.Value * 1.5
			r.Value, r.Status = &v, "pass"
			forged = r.InputClass + " " + r.Metric
		}
	}
	if forged == "" {
		t.Fatal("no criterion row to forge")
	}
	enc, err := reports.EncodeScores(rows)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scores, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg := rptMain(t, "verify", out)
	if code != ExitFailure || !strings.Contains(msg, "DIFFERS stored scores "+scores+" "+forged+" value") {
		t.Errorf("verify after forging %s in %s: exit %d:\n%s", forged, scores, code, msg)
	}

	// A forged copy of a row put before the true one: the duplicate is
	// named, whichever of the two is read first.
	rows, err = reports.DecodeScores(raw)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if r := rows[i]; r.InputClass+" "+r.Metric == forged && r.Feature == "ticket_routing" {
			fake := r
			v := 0.001
			fake.Value = &v
			rows = append([]reports.ScoreRow{fake}, rows...)
			break
		}
	}
	if enc, err = reports.EncodeScores(rows); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(scores, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	code, msg = rptMain(t, "verify", out)
	if code != ExitFailure || !strings.Contains(msg, "DIFFERS stored scores "+scores+" "+forged+": report written more than once") {
		t.Errorf("verify after duplicating %s in %s: exit %d:\n%s", forged, scores, code, msg)
	}
}
