package main

// parity serve: a read-only HTTP view of verdicts/latest.json for systems
// that poll verdicts over HTTP (Argo Rollouts' web metric provider, a
// router's sidecar). It never writes; it reads the output location on
// each request, or at most every --cache.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/jobs"
	"github.com/parity-eval/parity/reports"
	"github.com/parity-eval/parity/storage"
)

func init() {
	register(&command{name: "serve", summary: "serve the latest verdicts read-only over HTTP (Argo Rollouts web metric, routers)", run: cmdServe})
}

const serveHelp = `Endpoints (GET and HEAD only; anything else is 405):
  /healthz             200 {"status":"ok","verdicts":true|false} (false: no run yet); 503 naming
                       latest.json and the error while the last read of it failed, even
                       when the verdict endpoints still serve the last good copy
  /verdicts            the latest verdicts document plus "stale" (any feature past
                       valid_until), "stale_features" and "now"
  /verdicts/{feature}  that feature's verdict plus "feature", "stale", "pass"
                       (verdict == graduate and not stale), "agreement" (lowest class
                       agreement on critical fields) and "now"; 404 for an unknown feature
  No verdicts yet: 503. A stale verdict is reported with "stale": true: treat it as legacy only.
  When a read fails after a good one, the verdict endpoints serve that last good copy (its
  own valid_until still decides "stale") while /healthz answers 503.
  With --token-file every endpoint but /healthz needs "Authorization: Bearer TOKEN".
`

// outputFlags locate the output store: a config's output, or --output.
type outputFlags struct {
	config, output, now, logLevel string
}

func (f *outputFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.config, "config", "", "config file (YAML); its output location is read")
	fs.StringVar(&f.output, "output", "", "output location (folder or s3://bucket/prefix) instead of --config; S3 settings come from the standard AWS environment")
	fs.StringVar(&f.now, "now", "", "judge staleness as if the time were this (RFC 3339); for tests and replays")
}

// open returns the output store and the clock.
func (f *outputFlags) open(ctx context.Context, name string, stderr io.Writer) (storage.Store, func() time.Time, int) {
	now := time.Now
	if f.now != "" {
		t, err := eval.ParseTime(f.now)
		if err != nil {
			return nil, nil, usageError(stderr, "parity %s: --now: %v", name, err)
		}
		now = func() time.Time { return t }
	}
	var loc string
	var opts storage.Options
	switch {
	case f.config != "" && f.output != "":
		return nil, nil, usageError(stderr, "parity %s: give --config or --output, not both", name)
	case f.config != "":
		cfg, code := loadConfig(f.config, stderr)
		if cfg == nil {
			return nil, nil, code
		}
		loc = cfg.Output
		opts = storage.Options{S3Endpoint: cfg.S3.Endpoint, S3Region: cfg.S3.Region, S3PathStyle: cfg.S3.PathStyle}
	case f.output != "":
		loc = f.output
	default:
		return nil, nil, usageError(stderr, "parity %s: --config or --output is required", name)
	}
	st, err := storage.Open(ctx, loc, opts)
	if err != nil {
		return nil, nil, usageError(stderr, "parity %s: output: %v", name, err)
	}
	return st, now, ExitOK
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var of outputFlags
	of.register(fs)
	logLevelFlag(fs, &of.logLevel, "info")
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one, printed on stdout)")
	tokenFile := fs.String("token-file", "", "file holding a bearer token every request but /healthz must present")
	cache := fs.Duration("cache", 5*time.Second, "reuse latest.json read from storage for this long (0: read on every request)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: parity serve (--config FILE | --output LOCATION) [--addr HOST:PORT] [--token-file FILE] [--cache 5s]\n\nServes verdicts/latest.json read-only over HTTP.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\n%s\n%s", serveHelp, exitHelp)
	}
	if err := fs.Parse(args); err != nil {
		return helpOrUsage(err)
	}
	if fs.NArg() > 0 {
		return usageError(stderr, "parity serve: unexpected argument %q", fs.Arg(0))
	}
	if *cache < 0 {
		return usageError(stderr, "parity serve: --cache must be >= 0")
	}
	if err := checkAddr(*addr); err != nil {
		return usageError(stderr, "parity serve: --addr %q: %v", *addr, err)
	}
	st, now, code := of.open(ctx, "serve", stderr)
	if st == nil {
		return code
	}
	var token []byte
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return usageError(stderr, "parity serve: --token-file: %v", err)
		}
		token = []byte(strings.TrimSpace(string(b)))
		if len(token) == 0 {
			return usageError(stderr, "parity serve: --token-file %s is empty", *tokenFile)
		}
	}
	log := newLogger(stderr, of.logLevel)
	vs := &verdictServer{st: st, token: token, ttl: *cache, now: now, log: log}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fail(stderr, fmt.Errorf("listen %s: %w", *addr, err))
	}
	srv := &http.Server{Handler: vs.handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	fmt.Fprintf(stdout, "parity serve: listening on http://%s (verdicts from %s)\n", ln.Addr(), st.URI())
	log.Info("serving verdicts", "addr", ln.Addr().String(), "output", st.URI(), "auth", len(token) > 0, "cache", cache.String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fail(stderr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fail(stderr, err)
	}
	log.Info("stopped")
	return ExitOK
}

// checkAddr checks that addr is HOST:PORT, HOST empty, an IP address or
// a host name and PORT a number 0-65535, so a mistyped address is a usage
// error before anything starts; net.Listen would report 999.1.1.1 as a
// failed DNS lookup, a runtime failure. Whether it can be bound is for
// net.Listen to say.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want HOST:PORT, e.g. 127.0.0.1:8080 or :8080")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: want a number 0-65535", port)
	}
	if _, err := netip.ParseAddr(host); host != "" && err != nil && !validHostName(host) {
		return fmt.Errorf("host %q: want an IP address or a host name", host)
	}
	return nil
}

// validHostName: dot-separated labels of letters, digits and hyphens, the
// last not all digits (which makes 999.1.1.1 a bad IP address, not a
// name to look up).
func validHostName(h string) bool {
	labels := strings.Split(strings.TrimSuffix(h, "."), ".")
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// verdictServer answers from verdicts/latest.json.
type verdictServer struct {
	st    storage.Store
	token []byte
	ttl   time.Duration
	now   func() time.Time
	log   *slog.Logger

	mu      sync.Mutex
	doc     *reports.Verdicts // the last good copy
	raw     []byte
	fetched time.Time // when storage was last read, successfully or not (with doc)
	readErr error     // the last read's failure while doc is served; nil after a good read
}

func (s *verdictServer) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /verdicts", s.all)
	mux.HandleFunc("GET /verdicts/{feature}", s.feature)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "read-only: only GET and HEAD"})
			return
		}
		if len(s.token) > 0 && r.URL.Path != "/healthz" && !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="parity"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "missing or wrong bearer token"})
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func (s *verdictServer) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const p = "Bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(h[len(p):])), s.token) == 1
}

// latest returns the document, from the cache while it is fresh. When
// storage fails and a previous copy exists, that copy is returned (its own
// valid_until still decides staleness) with the read's failure as readErr,
// and the failure is logged; the cache applies to that answer too, so
// --cache bounds storage reads while it fails. err is non-nil only when
// there is no copy to serve.
func (s *verdictServer) latest(ctx context.Context) (doc *reports.Verdicts, readErr, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doc != nil && s.ttl > 0 && time.Since(s.fetched) < s.ttl {
		return s.doc, s.readErr, nil
	}
	doc, raw, err := jobs.ReadLatest(ctx, s.st)
	if err != nil {
		if s.doc != nil && !errors.Is(err, storage.ErrNotExist) {
			s.log.Warn("reading verdicts failed; serving the previous copy", "err", err, "previous_generated_at", s.doc.GeneratedAt)
			s.readErr, s.fetched = err, time.Now()
			return s.doc, err, nil
		}
		return nil, nil, err
	}
	s.doc, s.raw, s.fetched, s.readErr = doc, raw, time.Now(), nil
	return doc, nil, nil
}

func (s *verdictServer) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, storage.ErrNotExist) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "no verdicts yet: " + err.Error()})
		return
	}
	s.log.Error("reading verdicts", "err", err)
	writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
}

// healthz is 200 while latest.json reads (or does not exist yet: no run
// so far), 503 while its last read failed, naming the file and the
// error, even when the verdict endpoints still serve the last good copy:
// the output is unreadable and whatever writes it needs attention.
func (s *verdictServer) healthz(w http.ResponseWriter, r *http.Request) {
	doc, readErr, err := s.latest(r.Context())
	switch {
	case err == nil && readErr == nil:
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "verdicts": true})
	case errors.Is(err, storage.ErrNotExist):
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "verdicts": false})
	default:
		if err == nil {
			err = readErr
		}
		body := map[string]any{"status": "error", "verdicts": doc != nil, "file": s.st.URI() + "/" + jobs.KeyLatest, "error": err.Error()}
		if doc != nil {
			// What the verdict endpoints answer with meanwhile.
			body["serving"] = "last good copy, generated_at " + doc.GeneratedAt.UTC().Format(time.RFC3339) + ", valid_until " + doc.ValidUntil.UTC().Format(time.RFC3339)
		}
		writeJSON(w, http.StatusServiceUnavailable, body)
	}
}

func (s *verdictServer) all(w http.ResponseWriter, r *http.Request) {
	doc, _, err := s.latest(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	stale := doc.Stale(now)
	if stale == nil {
		stale = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		*reports.Verdicts
		Stale         bool      `json:"stale"`
		StaleFeatures []string  `json:"stale_features"`
		Now           time.Time `json:"now"`
	}{doc, len(stale) > 0, stale, now.UTC()})
}

// FeatureResponse is GET /verdicts/{feature}: the feature's verdict and
// evidence plus the fields a rollout analysis judges.
type FeatureResponse struct {
	Feature string `json:"feature"`
	// Stale: now is past valid_until; the verdict must be treated as
	// legacy only.
	Stale bool `json:"stale"`
	// Pass: verdict is graduate and not stale.
	Pass bool `json:"pass"`
	// Agreement is the lowest class agreement on critical fields (null
	// when no class has one).
	Agreement *float64  `json:"agreement"`
	Now       time.Time `json:"now"`
	*reports.FeatureDoc
}

func (s *verdictServer) feature(w http.ResponseWriter, r *http.Request) {
	doc, _, err := s.latest(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	name := r.PathValue("feature")
	fd, ok := doc.Features[name]
	if !ok || fd == nil {
		names := make([]string, 0, len(doc.Features))
		for n := range doc.Features {
			names = append(names, n)
		}
		sort.Strings(names)
		writeJSON(w, http.StatusNotFound, map[string]any{"error": fmt.Sprintf("unknown feature %q", name), "features": names})
		return
	}
	now := s.now()
	stale := !now.Before(fd.ValidUntil) // valid strictly before valid_until, as routers check it
	resp := FeatureResponse{Feature: name, Stale: stale, Pass: fd.Verdict == eval.VerdictGraduate && !stale, Now: now.UTC(), FeatureDoc: fd}
	for _, c := range fd.Classes {
		if m, ok := c.Metrics["divergence.critical"]; ok && m.Value != nil && !math.IsNaN(*m.Value) {
			a := 1 - *m.Value
			if resp.Agreement == nil || a < *resp.Agreement {
				resp.Agreement = &a
			}
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, `{"error":"encoding failed"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}
