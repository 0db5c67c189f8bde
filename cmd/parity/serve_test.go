package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// verdictsEnd is the end of the sample window; verdicts are valid 24h
// after it.
var verdictsEnd = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

func num(v float64) *float64 { return &v }

// writeLatest writes a verdicts document as a run would, into dir.
func writeLatest(t testing.TB, dir string, refundsVerdict string) *reports.Verdicts {
	t.Helper()
	w := eval.Window{Start: verdictsEnd.Add(-24 * time.Hour), End: verdictsEnd}
	vu := verdictsEnd.Add(24 * time.Hour)
	mk := func(verdict string, pct float64, divs ...float64) *reports.FeatureDoc {
		fd := &reports.FeatureDoc{Status: eval.StatusPass, Classes: map[string]*reports.ClassDoc{}}
		fd.Verdict, fd.ValidUntil, fd.Window = verdict, vu, w
		fd.Traffic = eval.Traffic{Percent: pct}
		for i, d := range divs {
			fd.Classes[string(rune('a'+i))] = &reports.ClassDoc{Status: eval.StatusPass, N: 100, Metrics: map[string]reports.MetricDoc{"divergence.critical": {Value: num(d)}}}
		}
		return fd
	}
	doc := &reports.Verdicts{SchemaVersion: reports.SchemaVersion, GeneratedAt: verdictsEnd.Add(time.Hour), ValidUntil: vu, Window: w,
		Run: reports.RunInfo{ID: "run-1"},
		Features: map[string]*reports.FeatureDoc{
			"refunds": mk(refundsVerdict, 25, 0.02, 0.04),
			"tickets": mk(eval.VerdictHold, 5, 0.01),
		}}
	data, err := doc.Encode()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, jobs.KeyLatest)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return doc
}

func getJSON(t *testing.T, c *http.Client, method, url, token string, v any) (int, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil && len(body) > 0 {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s %s: body is not JSON: %v\n%s", method, url, err, body)
		}
	}
	if method == http.MethodHead && len(body) != 0 {
		t.Errorf("HEAD %s returned a body", url)
	}
	return resp.StatusCode, resp.Header
}

func newTestServer(t *testing.T, dir string, now time.Time, token string, ttl time.Duration) *httptest.Server {
	t.Helper()
	st, err := storage.Open(context.Background(), dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := &verdictServer{st: st, token: []byte(token), ttl: ttl, now: func() time.Time { return now }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(vs.handler())
	t.Cleanup(srv.Close)
	return srv
}

func TestServeEndpoints(t *testing.T) {
	dir := t.TempDir()
	fresh := verdictsEnd.Add(2 * time.Hour)
	srv := newTestServer(t, dir, fresh, "", 0)
	c := srv.Client()

	var health map[string]any
	if code, _ := getJSON(t, c, "GET", srv.URL+"/healthz", "", &health); code != 200 || health["verdicts"] != false {
		t.Fatalf("healthz before any run: %d %v", code, health)
	}
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts", "", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("/verdicts before any run: %d, want 503", code)
	}

	doc := writeLatest(t, dir, eval.VerdictGraduate)
	var all struct {
		Stale         bool                   `json:"stale"`
		StaleFeatures []string               `json:"stale_features"`
		Features      map[string]interface{} `json:"features"`
		ValidUntil    time.Time              `json:"valid_until"`
	}
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts", "", &all); code != 200 || all.Stale || len(all.Features) != 2 || !all.ValidUntil.Equal(doc.ValidUntil) {
		t.Fatalf("/verdicts: %d %+v", code, all)
	}

	var fr FeatureResponse
	code, hdr := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", &fr)
	if code != 200 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("/verdicts/refunds: %d %v", code, hdr)
	}
	if fr.Feature != "refunds" || fr.Stale || !fr.Pass || fr.Verdict != eval.VerdictGraduate || fr.Traffic.Percent != 25 {
		t.Errorf("/verdicts/refunds = %+v", fr)
	}
	// The lowest class agreement: 1 - the largest divergence.
	if fr.Agreement == nil || *fr.Agreement != 1-*doc.Features["refunds"].Classes["b"].Metrics["divergence.critical"].Value {
		t.Errorf("agreement = %v", fr.Agreement)
	}
	var tk FeatureResponse
	if getJSON(t, c, "GET", srv.URL+"/verdicts/tickets", "", &tk); tk.Pass {
		t.Error("a hold verdict passes")
	}
	if code, _ := getJSON(t, c, "HEAD", srv.URL+"/verdicts/refunds", "", nil); code != 200 {
		t.Errorf("HEAD: %d", code)
	}
	var nf map[string]any
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/nosuch", "", &nf); code != 404 || !strings.Contains(nf["error"].(string), "nosuch") {
		t.Errorf("unknown feature: %d %v", code, nf)
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		code, hdr := getJSON(t, c, m, srv.URL+"/verdicts", "", nil)
		if code != http.StatusMethodNotAllowed || hdr.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s /verdicts: %d Allow=%q, want 405", m, code, hdr.Get("Allow"))
		}
	}

	// The same document judged after valid_until: stale, and no pass.
	late := newTestServer(t, dir, doc.ValidUntil.Add(time.Minute), "", 0)
	if getJSON(t, late.Client(), "GET", late.URL+"/verdicts/refunds", "", &fr); !fr.Stale || fr.Pass {
		t.Errorf("after valid_until: stale=%v pass=%v, want stale and not pass", fr.Stale, fr.Pass)
	}
	if getJSON(t, late.Client(), "GET", late.URL+"/verdicts", "", &all); !all.Stale || len(all.StaleFeatures) != 2 {
		t.Errorf("after valid_until: /verdicts stale=%v %v", all.Stale, all.StaleFeatures)
	}
}

func TestServeTokenAndCache(t *testing.T) {
	dir := t.TempDir()
	writeLatest(t, dir, eval.VerdictGraduate)
	now := verdictsEnd.Add(time.Hour)
	srv := newTestServer(t, dir, now, "s3cret", time.Hour)
	c := srv.Client()
	if code, hdr := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", nil); code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d", code)
	}
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "wrong", nil); code != 401 {
		t.Errorf("wrong token: %d", code)
	}
	if code, _ := getJSON(t, c, "GET", srv.URL+"/healthz", "", nil); code != 200 {
		t.Errorf("healthz needs no token: %d", code)
	}
	var fr FeatureResponse
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "s3cret", &fr); code != 200 || fr.Verdict != eval.VerdictGraduate {
		t.Fatalf("right token: %d %s", code, fr.Verdict)
	}
	// Within the cache TTL a new run's verdict is not read yet ...
	writeLatest(t, dir, eval.VerdictRollback)
	if getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "s3cret", &fr); fr.Verdict != eval.VerdictGraduate {
		t.Errorf("cached verdict = %s, want the cached graduate", fr.Verdict)
	}
	// ... and without a cache it is read on every request.
	nocache := newTestServer(t, dir, now, "", 0)
	if getJSON(t, nocache.Client(), "GET", nocache.URL+"/verdicts/refunds", "", &fr); fr.Verdict != eval.VerdictRollback || fr.Pass {
		t.Errorf("uncached verdict = %s pass=%v, want rollback", fr.Verdict, fr.Pass)
	}
}

// TestServeHealthUnreadableOutput: once latest.json stops reading (here:
// overwritten by invalid JSON), /healthz is 503 naming the file and the
// error, while the verdict endpoints keep serving the last good copy with
// its own valid_until; a good write makes it healthy again. A missing
// latest.json names its path once.
func TestServeHealthUnreadableOutput(t *testing.T) {
	dir := t.TempDir()
	st, err := storage.Open(context.Background(), dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var clock atomic.Pointer[time.Time]
	setClock := func(t time.Time) { clock.Store(&t) }
	setClock(verdictsEnd.Add(2 * time.Hour))
	vs := &verdictServer{st: st, now: func() time.Time { return *clock.Load() }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(vs.handler())
	t.Cleanup(srv.Close)
	c := srv.Client()
	path := filepath.Join(dir, jobs.KeyLatest)

	// No run yet: the verdict endpoints' 503 names the path once.
	var nv map[string]any
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", &nv); code != http.StatusServiceUnavailable {
		t.Fatalf("/verdicts/refunds before any run: %d %v", code, nv)
	}
	if msg, _ := nv["error"].(string); strings.Count(msg, jobs.KeyLatest) != 1 {
		t.Errorf("503 body names latest.json %d times, want once: %q", strings.Count(msg, jobs.KeyLatest), msg)
	}

	doc := writeLatest(t, dir, eval.VerdictGraduate)
	var health map[string]any
	if code, _ := getJSON(t, c, "GET", srv.URL+"/healthz", "", &health); code != 200 || health["status"] != "ok" || health["verdicts"] != true {
		t.Fatalf("healthz with good verdicts: %d %v", code, health)
	}
	if err := os.WriteFile(path, []byte(`{"schema_version": 1, "features": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	health = nil
	code, _ := getJSON(t, c, "GET", srv.URL+"/healthz", "", &health)
	msg, _ := health["error"].(string)
	if code != http.StatusServiceUnavailable || health["status"] != "error" {
		t.Fatalf("healthz with latest.json unreadable: %d %v, want 503", code, health)
	}
	if !strings.Contains(msg, path) || !strings.Contains(msg, "not a verdicts document") || strings.Count(msg, jobs.KeyLatest) != 1 {
		t.Errorf("healthz error %q: want the file (once) and the error", msg)
	}
	if f, _ := health["file"].(string); !strings.HasSuffix(f, jobs.KeyLatest) {
		t.Errorf("healthz file = %q", f)
	}
	// Routers still get the last good copy, judged by its valid_until ...
	var fr FeatureResponse
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", &fr); code != 200 || fr.Verdict != eval.VerdictGraduate || fr.Stale || !fr.ValidUntil.Equal(doc.ValidUntil) {
		t.Errorf("/verdicts/refunds while unreadable: %d %+v, want the last good copy", code, fr)
	}
	setClock(doc.ValidUntil)
	if code, _ := getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", &fr); code != 200 || !fr.Stale || fr.Pass {
		t.Errorf("/verdicts/refunds while unreadable, at the last good copy's valid_until: %d stale=%v pass=%v, want stale", code, fr.Stale, fr.Pass)
	}
	setClock(verdictsEnd.Add(2 * time.Hour))
	// A server that never read a good copy has nothing to serve.
	cold := newTestServer(t, dir, verdictsEnd.Add(2*time.Hour), "", 0)
	health = nil
	if code, _ := getJSON(t, cold.Client(), "GET", cold.URL+"/healthz", "", &health); code != http.StatusServiceUnavailable || health["verdicts"] != false {
		t.Errorf("healthz of a server that never read a good copy: %d %v", code, health)
	}
	if code, _ := getJSON(t, cold.Client(), "GET", cold.URL+"/verdicts/refunds", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("/verdicts/refunds of a server that never read a good copy: %d, want 503", code)
	}
	// A good write makes it healthy again.
	writeLatest(t, dir, eval.VerdictRollback)
	health = nil
	if code, _ := getJSON(t, c, "GET", srv.URL+"/healthz", "", &health); code != 200 || health["status"] != "ok" {
		t.Errorf("healthz after a good write: %d %v", code, health)
	}
	if getJSON(t, c, "GET", srv.URL+"/verdicts/refunds", "", &fr); fr.Verdict != eval.VerdictRollback {
		t.Errorf("verdict after a good write = %s, want rollback", fr.Verdict)
	}
}

// TestServeHealthUnreadableCached: with --cache, a failed read is
// remembered for the TTL like a good one: /healthz stays 503 (and storage
// is not re-read on every request) until the TTL has passed.
func TestServeHealthUnreadableCached(t *testing.T) {
	dir := t.TempDir()
	writeLatest(t, dir, eval.VerdictGraduate)
	st, err := storage.Open(context.Background(), dir, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vs := &verdictServer{st: st, ttl: time.Hour, now: func() time.Time { return verdictsEnd }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := vs.handler()
	get := func(p string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		return w.Code
	}
	if code := get("/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	if err := os.WriteFile(filepath.Join(dir, jobs.KeyLatest), []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	vs.mu.Lock()
	vs.fetched = time.Time{} // the TTL has passed
	vs.mu.Unlock()
	if code := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz after a failed read: %d, want 503", code)
	}
	writeLatest(t, dir, eval.VerdictGraduate)
	if code := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("healthz within the TTL of a failed read: %d, want the cached 503", code)
	}
	if code := get("/verdicts/refunds"); code != 200 {
		t.Errorf("/verdicts/refunds within the TTL of a failed read: %d, want the last good copy", code)
	}
	vs.mu.Lock()
	vs.fetched = time.Time{}
	vs.mu.Unlock()
	if code := get("/healthz"); code != 200 {
		t.Errorf("healthz after the TTL and a good write: %d, want 200", code)
	}
}

// TestServeBinary runs the built binary as a subprocess on 127.0.0.1 and
// stops it with SIGINT.
func TestServeBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds and runs the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	writeLatest(t, dir, eval.VerdictGraduate)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("tok-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Judged after valid_until: the binary must report the verdict stale.
	cmd := exec.Command(bin, "serve", "--output", dir, "--addr", "127.0.0.1:0", "--token-file", tokenFile, "--now", verdictsEnd.Add(48*time.Hour).Format(time.RFC3339), "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	waited := false
	t.Cleanup(func() {
		if !waited {
			cmd.Process.Kill()
			<-done
		}
	})
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { done <- cmd.Wait() }()
	var base string
	select {
	case l := <-lines:
		i := strings.Index(l, "http://")
		if i < 0 {
			t.Fatalf("unexpected first line %q", l)
		}
		base = strings.Fields(l[i:])[0]
	case <-time.After(20 * time.Second):
		t.Fatal("parity serve did not report its address within 20s")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	var fr FeatureResponse
	if code, _ := getJSON(t, c, "GET", base+"/verdicts/refunds", "tok-123", &fr); code != 200 || !fr.Stale || fr.Pass || fr.Verdict != eval.VerdictGraduate {
		t.Errorf("binary /verdicts/refunds: %d stale=%v pass=%v verdict=%s", code, fr.Stale, fr.Pass, fr.Verdict)
	}
	if code, _ := getJSON(t, c, "GET", base+"/verdicts", "", nil); code != 401 {
		t.Errorf("binary without token: %d, want 401", code)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		waited = true
		if err != nil {
			t.Errorf("parity serve exited with %v after SIGINT, want 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("parity serve did not stop within 15s of SIGINT")
	}
}

// BenchmarkServeFeature: one /verdicts/{feature} answer from the cache
// (the steady state an Argo analysis or a router sidecar sees).
func BenchmarkServeFeature(b *testing.B) {
	dir := b.TempDir()
	writeLatest(b, dir, eval.VerdictGraduate)
	st, err := storage.Open(context.Background(), dir, storage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	vs := &verdictServer{st: st, ttl: time.Hour, now: func() time.Time { return verdictsEnd }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h := vs.handler()
	req := httptest.NewRequest("GET", "/verdicts/refunds", nil)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
}

// TestServeFromS3: the same endpoints over an S3 output location (the
// versitygw test server), reading through the s3 backend.
func TestServeFromS3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: needs the S3 test server")
	}
	srv := storagetest.StartS3(t)
	ctx := context.Background()
	st, err := s3store.New(ctx, s3store.Config{Bucket: srv.NewBucket(t), Prefix: "out", Endpoint: srv.Endpoint, Region: srv.Region, Credentials: srv.Credentials()})
	if err != nil {
		t.Fatal(err)
	}
	local := t.TempDir()
	writeLatest(t, local, eval.VerdictRollback)
	data, err := os.ReadFile(filepath.Join(local, jobs.KeyLatest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, jobs.KeyLatest, data); err != nil {
		t.Fatal(err)
	}
	vs := &verdictServer{st: st, now: func() time.Time { return verdictsEnd }, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	hs := httptest.NewServer(vs.handler())
	defer hs.Close()
	var fr FeatureResponse
	if code, _ := getJSON(t, hs.Client(), "GET", hs.URL+"/verdicts/refunds", "", &fr); code != 200 || fr.Verdict != eval.VerdictRollback || fr.Pass || fr.Stale {
		t.Fatalf("from S3: %d %+v", code, fr)
	}
}
