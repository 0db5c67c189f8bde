package storagetest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// FaultKind is what a FaultProxy does to one request.
type FaultKind int

const (
	// Pass forwards the request untouched.
	Pass FaultKind = iota
	// Respond answers with an S3 error (Fault.Status, Fault.Code) without
	// forwarding.
	Respond
	// Reset closes the client's connection with a TCP RST before
	// forwarding: the server never sees the request.
	Reset
	// Delay waits Fault.Delay, then forwards.
	Delay
	// Truncate forwards, then sends the status, headers (with the real
	// Content-Length) and only half the body before dropping the
	// connection.
	Truncate
	// LoseResponse forwards (the server acts on the request) and then
	// resets the connection instead of answering: the client cannot tell
	// whether its write happened.
	LoseResponse
)

func (k FaultKind) String() string {
	return [...]string{"pass", "respond", "reset", "delay", "truncate", "lose-response"}[k]
}

// Fault is one injected failure.
type Fault struct {
	Kind   FaultKind
	Status int           // Respond
	Code   string        // Respond: the S3 error code
	Delay  time.Duration // Delay
}

// Common faults.
var (
	SlowDown          = Fault{Kind: Respond, Status: http.StatusServiceUnavailable, Code: "SlowDown"}
	InternalError     = Fault{Kind: Respond, Status: http.StatusInternalServerError, Code: "InternalError"}
	ConditionConflict = Fault{Kind: Respond, Status: http.StatusConflict, Code: "ConditionalRequestConflict"}
	ConnReset         = Fault{Kind: Reset}
	TruncatedBody     = Fault{Kind: Truncate}
	LostResponse      = Fault{Kind: LoseResponse}
)

// Slow is a Delay fault.
func Slow(d time.Duration) Fault { return Fault{Kind: Delay, Delay: d} }

// Match selects requests. Zero fields match anything.
type Match struct {
	Method    string // "GET", "PUT", "HEAD", "DELETE"
	KeySuffix string // the URL path ends with this
	Ranged    bool   // only requests with a Range header
}

func (m Match) matches(method, path, rng string) bool {
	return (m.Method == "" || m.Method == method) &&
		strings.HasSuffix(path, m.KeySuffix) &&
		(!m.Ranged || rng != "")
}

// Event records one request that passed through the proxy.
type Event struct {
	Method string
	Path   string
	Range  string
	Fault  FaultKind
	Status int // status the client was sent (0 for resets)
}

type rule struct {
	m          Match
	faults     []Fault // consumed in order
	persistent *Fault
}

// FaultProxy is an HTTP reverse proxy between an S3 client and server that
// injects failures on a programmable schedule. It keeps the Host header,
// so SigV4 signatures made for the proxy's address verify at the server.
type FaultProxy struct {
	target string
	srv    *httptest.Server
	tr     *http.Transport

	mu     sync.Mutex
	rules  []*rule
	events []Event
}

// NewFaultProxy starts a proxy on 127.0.0.1 in front of target (an
// http://host:port endpoint); it stops when the test ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	p := &FaultProxy{
		target: strings.TrimSuffix(target, "/"),
		// No transparent gzip: bodies and Content-Length pass through as
		// the server sent them.
		tr: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
		p.tr.CloseIdleConnections()
	})
	return p
}

// URL is the endpoint clients should use.
func (p *FaultProxy) URL() string { return p.srv.URL }

// Inject queues faults for the next matching requests, one fault per
// request, in order; later requests pass.
func (p *FaultProxy) Inject(m Match, faults ...Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{m: m, faults: faults})
}

// Always applies f to every matching request until Clear.
func (p *FaultProxy) Always(m Match, f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules = append(p.rules, &rule{m: m, persistent: &f})
}

// Clear removes all rules and forgets the events.
func (p *FaultProxy) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rules, p.events = nil, nil
}

// Events returns the requests seen so far.
func (p *FaultProxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Event(nil), p.events...)
}

// Count returns how many seen requests match m.
func (p *FaultProxy) Count(m Match) int {
	n := 0
	for _, e := range p.Events() {
		if m.matches(e.Method, e.Path, e.Range) {
			n++
		}
	}
	return n
}

func (p *FaultProxy) next(r *http.Request) Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ru := range p.rules {
		if !ru.m.matches(r.Method, r.URL.Path, r.Header.Get("Range")) {
			continue
		}
		if ru.persistent != nil {
			return *ru.persistent
		}
		if len(ru.faults) > 0 {
			f := ru.faults[0]
			ru.faults = ru.faults[1:]
			return f
		}
	}
	return Fault{Kind: Pass}
}

func (p *FaultProxy) record(r *http.Request, f FaultKind, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, Event{Method: r.Method, Path: r.URL.Path, Range: r.Header.Get("Range"), Fault: f, Status: status})
}

func (p *FaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	f := p.next(r)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		p.record(r, f.Kind, 0)
		return
	}
	switch f.Kind {
	case Respond:
		p.record(r, f.Kind, f.Status)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected by FaultProxy</Message><Resource>%s</Resource><RequestId>faultproxy</RequestId></Error>`, f.Code, r.URL.Path)
		}
		return
	case Reset:
		p.record(r, f.Kind, 0)
		reset(w)
		return
	case Delay:
		select {
		case <-time.After(f.Delay):
		case <-r.Context().Done():
			p.record(r, f.Kind, 0)
			return
		}
	}

	out, err := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = r.Header.Clone()
	out.Header.Del("Expect")
	out.Host = r.Host // the client signed the proxy's host
	out.ContentLength = int64(len(body))
	resp, err := p.tr.RoundTrip(out)
	if err != nil {
		p.record(r, f.Kind, http.StatusBadGateway)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	if f.Kind == LoseResponse {
		_, _ = io.Copy(io.Discard, resp.Body)
		p.record(r, f.Kind, 0)
		reset(w)
		return
	}
	p.record(r, f.Kind, resp.StatusCode)
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	if f.Kind == Truncate && resp.ContentLength > 1 {
		_, _ = io.CopyN(w, resp.Body, resp.ContentLength/2)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		// Drop the connection mid-body; net/http closes it without
		// completing the response.
		panic(http.ErrAbortHandler)
	}
	_, _ = io.Copy(w, resp.Body)
}

// reset hijacks the connection and closes it with SO_LINGER 0, which
// sends a TCP RST ("connection reset by peer").
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	conn.Close()
}
