package main

// Security properties, end to end: credentials never reach logs, errors
// or outputs; reports and verdicts carry hashes and ETags, not raw
// inputs; local outputs are not world-readable; `parity serve` is
// read-only and honours its token; no config value can make parity write
// outside its output location.

import (
	"bytes"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/storage"
)

// leakCheck fails when any of secrets occurs in text (named where).
func leakCheck(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			i := strings.Index(text, s)
			t.Errorf("%s contains a credential (%q…) near: %q", where, s[:4], text[max(0, i-80):min(len(text), i+len(s)+40)])
		}
	}
}

// leakCheckTree scans every file under dir.
func leakCheckTree(t *testing.T, dir string, secrets ...string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Error(err)
			return nil
		}
		n++
		leakCheck(t, p, string(data), secrets...)
		return nil
	})
	return n
}

// TestSecurityCredentialsNeverLeak runs full evaluations reading the logs
// from a real S3 server (versitygw) with the credentials in the standard
// environment variables: with the right keys (then writes an HTML report),
// with a wrong secret, with a wrong access key id and against a wrong
// endpoint. Neither the access key id nor the secret may appear in
// stdout, stderr (debug logging), the output tree or the report.
func TestSecurityCredentialsNeverLeak(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the versitygw S3 server")
	}
	srv, bucket := cpS3Env(t)
	// Logs to S3 with parity cp.
	src := t.TempDir()
	parquettest.WriteGo(t, filepath.Join(src, "dt=2026-10-01", "part-0.parquet"), goodRows("x", 400))
	if code, _, errs := run(t, "cp", src, "s3://"+bucket+"/logs"); code != ExitOK {
		t.Fatalf("cp: exit %d: %s", code, errs)
	}
	realKey, realSecret := srv.AccessKey, srv.SecretKey
	const fakeSecret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzzLEAKME"
	const fakeKey = "AKIAFAKELEAKCHECK0042"

	for _, tc := range []struct {
		name, key, secret, endpoint string
		wantCode                    int
	}{
		{"right credentials", realKey, realSecret, srv.Endpoint, ExitOK},
		{"wrong secret", realKey, fakeSecret, srv.Endpoint, ExitFailure},
		{"wrong access key id", fakeKey, realSecret, srv.Endpoint, ExitFailure},
		{"wrong endpoint", fakeKey, fakeSecret, "http://127.0.0.1:1", ExitFailure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", tc.key)
			t.Setenv("AWS_SECRET_ACCESS_KEY", tc.secret)
			t.Setenv("AWS_ENDPOINT_URL_S3", tc.endpoint)
			b := newBad(t)
			cfg := strings.Replace(badConfig, "  logs: logs", "  logs: s3://"+bucket+"/logs", 1)
			if err := os.WriteFile(b.cfg, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			secrets := []string{tc.key, tc.secret}
			code, out, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "debug")
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tc.wantCode, errs)
			}
			leakCheck(t, "stdout", out, secrets...)
			leakCheck(t, "stderr", errs, secrets...)
			if tc.wantCode != ExitOK {
				if strings.Contains(errs, "does not exist") {
					t.Errorf("an authentication or connection failure reported as a missing object: %s", errs)
				}
				if !strings.Contains(errs, bucket) && !strings.Contains(errs, "s3://") {
					t.Errorf("the error does not name the location: %s", errs)
				}
				b.nothingWritten(t)
				return
			}
			report := filepath.Join(b.dir, "report.html")
			code, out, errs = run(t, "report", "--config", b.cfg, "--feature", "f", "--out", report)
			if code != ExitOK {
				t.Fatalf("report: exit %d: %s", code, errs)
			}
			leakCheck(t, "report stdout", out, secrets...)
			leakCheck(t, "report stderr", errs, secrets...)
			html, err := os.ReadFile(report)
			if err != nil || !bytes.Contains(html, []byte("s3://"+bucket+"/logs")) {
				t.Fatalf("report does not name its S3 input (%v)", err)
			}
			if n := leakCheckTree(t, b.dir, secrets...); n < 5 {
				t.Errorf("only %d files written", n)
			}
		})
	}
}

// TestSecurityReportsCarryNoRawInputs: the verdicts, scores, manifests
// and review reports (HTML, Markdown, JSON) identify inputs by location,
// size and ETag; a distinctive request id appears in no output, and a
// distinctive AI decision value only in the window aggregates' category
// counts (what output-drift tests need), never in verdicts or reports.
func TestSecurityReportsCarryNoRawInputs(t *testing.T) {
	const rawID, rawAI = "req-RAWINPUT-5f1e9a", "AIOUT-RAWINPUT-c0ffee"
	b := newBad(t)
	rows := goodRows("x", 400)
	rows[17].RequestID = rawID
	rows[17].AI = rawAI // a divergence: the kind of row a report might sample
	rows[18].AI = rawAI
	parquettest.WriteGo(t, b.file("part-0.parquet"), rows)
	code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, format := range []string{"html", "md", "json"} {
		report := filepath.Join(b.dir, "out-report."+format)
		if code, _, errs := run(t, "report", "--config", b.cfg, "--feature", "f", "--format", format, "--out", report); code != ExitOK {
			t.Fatalf("report %s: exit %d: %s", format, code, errs)
		}
	}
	html, err := os.ReadFile(filepath.Join(b.dir, "out-report.html"))
	if err != nil {
		t.Fatal(err)
	}
	// The report names its input object; the manifest its fingerprint.
	if !bytes.Contains(html, []byte("part-0.parquet")) {
		t.Error("report does not name its input file")
	}
	manifest, err := os.ReadFile(filepath.Join(b.dir, "out", "manifests", "window=2026-10-01T00-00-00Z", "manifest.json"))
	if err != nil || !bytes.Contains(manifest, []byte(`"etag"`)) {
		t.Errorf("manifest carries no ETag (%v): %s", err, manifest)
	}
	n := 0
	for _, dir := range []string{filepath.Join(b.dir, "out")} {
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			n++
			data, _ := os.ReadFile(p)
			raws := []string{rawID, rawAI}
			if strings.Contains(filepath.ToSlash(p), "/aggregates/") {
				// Mergeable window aggregates keep the counts of each
				// decision category (output drift needs them): a decision
				// value may appear there, a request id may not.
				raws = raws[:1]
			}
			for _, raw := range raws {
				if i := bytes.Index(data, []byte(raw)); i >= 0 {
					t.Errorf("%s contains the raw input %q: …%s…", p, raw, data[max(0, i-200):min(len(data), i+len(raw)+60)])
				}
			}
			return nil
		})
	}
	for _, format := range []string{"html", "md", "json"} {
		data, _ := os.ReadFile(filepath.Join(b.dir, "out-report."+format))
		for _, raw := range []string{rawID, rawAI} {
			if bytes.Contains(data, []byte(raw)) {
				t.Errorf("%s report contains the raw input %q", format, raw)
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d output files checked", n)
	}
}

// TestSecurityOutputPermissions: a real run's local output tree has files
// of at most 0640 and folders of at most 0750 (nothing for others, no
// group write), whatever the umask allows.
func TestSecurityOutputPermissions(t *testing.T) {
	b := newBad(t)
	cfg := strings.Replace(badConfig, "window: 24h", "window: 24h\njobs:\n  - name: daily\n    report: true", 1)
	if err := os.WriteFile(b.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 300))
	code, _, errs := run(t, "run", "--config", b.cfg, "--job", "daily", "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z", "--log-level", "error")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	files, dirs, html := 0, 0, 0
	err := filepath.WalkDir(filepath.Join(b.dir, "out"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		perm := fi.Mode().Perm()
		if d.IsDir() {
			dirs++
			if perm&^0o750 != 0 {
				t.Errorf("folder %s has mode %o, want at most 0750", p, perm)
			}
		} else {
			files++
			if strings.HasSuffix(p, ".html") {
				html++
			}
			if perm&^0o640 != 0 {
				t.Errorf("file %s has mode %o, want at most 0640", p, perm)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 4 || dirs < 4 || html == 0 {
		t.Errorf("output tree too small to judge: %d files (%d HTML reports), %d folders", files, html, dirs)
	}
}

// TestSecurityServeReadOnly adds what serve_test.go does not cover: every
// route refuses writes (405, even with the right token, and the stored
// verdicts stay unchanged), and with a token a write without it is
// refused before anything else.
func TestSecurityServeReadOnly(t *testing.T) {
	dir := t.TempDir()
	writeLatest(t, dir, eval.VerdictGraduate)
	latest := filepath.Join(dir, "verdicts", "latest.json")
	before, err := os.ReadFile(latest)
	if err != nil {
		t.Fatal(err)
	}
	now := verdictsEnd.Add(time.Hour)
	open := newTestServer(t, dir, now, "", 0)
	locked := newTestServer(t, dir, now, "s3cret", 0)
	for _, path := range []string{"/healthz", "/verdicts", "/verdicts/refunds", "/verdicts/nosuch", "/metrics", "/verdicts/latest.json"} {
		for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
			if code, _ := getJSON(t, open.Client(), m, open.URL+path, "", nil); code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s without a token configured: %d, want 405", m, path, code)
			}
			if code, _ := getJSON(t, locked.Client(), m, locked.URL+path, "s3cret", nil); code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s with the right token: %d, want 405", m, path, code)
			}
			if code, _ := getJSON(t, locked.Client(), m, locked.URL+path, "", nil); code < 400 {
				t.Errorf("%s %s without the token: %d, want a refusal", m, path, code)
			}
		}
	}
	for _, path := range []string{"/verdicts", "/verdicts/refunds"} {
		if code, _ := getJSON(t, locked.Client(), "GET", locked.URL+path, "", nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
		if code, _ := getJSON(t, locked.Client(), "GET", locked.URL+path, "s3cre", nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s with a token prefix: %d, want 401", path, code)
		}
	}
	after, err := os.ReadFile(latest)
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("verdicts changed by write requests (%v)", err)
	}
}

// TestSecurityNoWriteOutsideOutput: every config value that becomes part
// of an output key (feature, job and reconcile names; the window keys are
// computed) is refused at load when it could leave or alias a folder, and
// the storage layer refuses absolute and ".." keys whatever builds them.
func TestSecurityNoWriteOutsideOutput(t *testing.T) {
	for _, tc := range []struct{ name, replace, with, key string }{
		{"feature ../x", "  - name: f", "  - name: ../x", "features[0].name"},
		{"feature ..", "  - name: f", "  - name: ..", "features[0].name"},
		{"feature .", "  - name: f", "  - name: .", "features[0].name"},
		{"feature absolute", "  - name: f", "  - name: /etc/x", "features[0].name"},
		{"feature backslash", "  - name: f", `  - name: '..\x'`, "features[0].name"},
		{"job ..", "", "jobs:\n  - name: ..\n", "jobs[0].name"},
		{"job path", "", "jobs:\n  - name: a/../../b\n", "jobs[0].name"},
		{"reconcile ..", "", "reconcile:\n  - name: ..\n    legacy: a\n    new: b\n    critical_fields: [{name: x}]\n", "reconcile[0].name"},
		{"reconcile absolute", "", "reconcile:\n  - name: /tmp/r\n    legacy: a\n    new: b\n    critical_fields: [{name: x}]\n", "reconcile[0].name"},
		{"flag prefix", "", "publish:\n  flag_prefix: ../\n", "publish.flag_prefix"},
		{"push job", "", "publish:\n  push_job: ../x\n", "publish.push_job"},
		{"field name", "      - name: category", "      - name: ../category", "features[0].fields[0].name"},
		{"scorer name", "    criteria:", "    scorers:\n      - name: ../s\n        type: normalized_equal\n        legacy: legacy_category\n        ai: ai_category\n    criteria:", "features[0].scorers[0].name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBad(t)
			src := badConfig + tc.with
			if tc.replace != "" {
				src = strings.Replace(badConfig, tc.replace, tc.with, 1)
			}
			if src == badConfig {
				t.Fatal("replacement did not apply")
			}
			if err := os.WriteFile(b.cfg, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
			code, _, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z")
			if code != ExitUsage || !strings.Contains(errs, "parity.yaml:") || !strings.Contains(errs, tc.key) {
				t.Errorf("exit %d, want %d naming %s: %s", code, ExitUsage, tc.key, errs)
			}
			// Nothing anywhere near: not the output, not beside it.
			entries, _ := os.ReadDir(b.dir)
			for _, e := range entries {
				if n := e.Name(); n != "parity.yaml" && n != "logs" {
					t.Errorf("written beside the output: %s", n)
				}
			}
		})
	}
	for _, k := range []string{"../x", "a/../../x", "/etc/passwd", "reports/../../x.html", "", "a/.."} {
		if c, err := storage.CleanKey(k); err == nil {
			t.Errorf("CleanKey(%q) = %q, want an error", k, c)
		}
	}
	// Through a real store: a write to an escaping key fails and creates
	// nothing outside the store's folder.
	root := t.TempDir()
	st, err := storage.Open(t.Context(), filepath.Join(root, "out"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"../escaped", "verdicts/../../escaped", "/tmp/escaped-" + fmt.Sprint(time.Now().UnixNano())} {
		if _, err := st.Put(t.Context(), k, []byte("x")); err == nil {
			t.Errorf("Put(%q) succeeded", k)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "escaped")); !os.IsNotExist(err) {
		t.Errorf("a key escaped the store: %v", err)
	}
}

// TestSecurityNoCredentialsInConfig: the config is copied verbatim into
// every review report (lineage) and URLs reach the logs, so URLs carrying
// credentials are refused at load, and the refusal does not repeat them.
func TestSecurityNoCredentialsInConfig(t *testing.T) {
	const pw = "pw-CONFIGSECRET-77"
	for _, tc := range []struct{ name, add, key string }{
		{"pushgateway", "publish:\n  pushgateway: http://parity:" + pw + "@127.0.0.1:9091\n", "publish.pushgateway"},
		{"s3 endpoint", "s3:\n  endpoint: http://AKIA:" + pw + "@127.0.0.1:7070\n", "s3.endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBad(t)
			if err := os.WriteFile(b.cfg, []byte(badConfig+tc.add), 0o600); err != nil {
				t.Fatal(err)
			}
			parquettest.WriteGo(t, b.file("part-0.parquet"), goodRows("x", 50))
			code, out, errs := run(t, "run", "--config", b.cfg, "--window", "2026-10-01/2026-10-02", "--now", "2026-10-03T00:00:00Z")
			if code != ExitUsage || !strings.Contains(errs, tc.key) || !strings.Contains(errs, "credentials") {
				t.Errorf("exit %d, want %d naming %s: %s", code, ExitUsage, tc.key, errs)
			}
			leakCheck(t, "stdout", out, pw)
			leakCheck(t, "stderr", errs, pw)
			b.nothingWritten(t)
		})
	}
}
