package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parity-eval/parity/jobs"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// TestS3FaultsRetried runs a whole evaluation through a FaultProxy that
// throttles (503 SlowDown), fails (500), resets connections, answers
// slowly, truncates bodies and loses the answer to writes that happened,
// on reads of the logs and labels, on output writes and on the run lock:
// every fault is retried, the run succeeds, and its verdicts equal those
// of a run without faults.
func TestS3FaultsRetried(t *testing.T) {
	e := newS3Env(t)
	ctx := context.Background()
	ref, err := openRunner(t, e.config(t, e.endpoint)).Evaluate(ctx, allWindows(), quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	refDocs := map[string]string{}
	snap := s3Snapshot(t, e.out)
	for _, w := range allWindows() {
		refDocs[verdictKey(w)] = normVerdicts(t, snap[verdictKey(w)])
	}

	p := storagetest.NewFaultProxy(t, e.srv.Endpoint)
	type injected struct {
		m      storagetest.Match
		faults []storagetest.Fault
	}
	plan := []injected{
		{storagetest.Match{Method: "GET", Ranged: true, KeySuffix: ".parquet"}, []storagetest.Fault{storagetest.SlowDown, storagetest.TruncatedBody, storagetest.ConnReset, storagetest.Slow(700 * time.Millisecond), storagetest.InternalError}},
		{storagetest.Match{Method: "PUT", KeySuffix: "/locks/evaluate.lock"}, []storagetest.Fault{storagetest.LostResponse}},
		{storagetest.Match{Method: "PUT", KeySuffix: "/scores.parquet"}, []storagetest.Fault{storagetest.SlowDown, storagetest.InternalError}},
		{storagetest.Match{Method: "PUT", KeySuffix: "/verdicts.json"}, []storagetest.Fault{storagetest.LostResponse, storagetest.ConnReset}},
		{storagetest.Match{Method: "PUT", KeySuffix: "/latest.json"}, []storagetest.Fault{storagetest.SlowDown, storagetest.TruncatedBody}},
		{storagetest.Match{Method: "GET", KeySuffix: "/records.json"}, []storagetest.Fault{storagetest.TruncatedBody, storagetest.SlowDown}},
	}
	for _, in := range plan {
		p.Inject(in.m, in.faults...)
	}
	r := openRunner(t, e.config(t, p.URL()))
	res, err := r.Evaluate(ctx, allWindows(), quietOptions())
	if err != nil {
		t.Fatalf("run through transient faults: %v", err)
	}
	if res.RunID == "" || res.Verdicts == nil {
		t.Fatalf("result %+v", res)
	}
	// Every planned fault was delivered.
	counts := map[storagetest.FaultKind]int{}
	for _, ev := range p.Events() {
		if ev.Fault != storagetest.Pass {
			counts[ev.Fault]++
		}
	}
	want := 0
	for _, in := range plan {
		want += len(in.faults)
	}
	got := 0
	for _, n := range counts {
		got += n
	}
	if got != want {
		t.Fatalf("%d faults delivered (%v), planned %d: some requests never happened", got, counts, want)
	}
	// Truncated bodies arrive with a 200 and complete headers, past the
	// SDK's retries: the stores retry them (BodyRetries).
	var bodyRetries int64
	for _, st := range []any{r.Logs.Store, r.Labels.Store, r.Out} {
		bodyRetries += st.(*s3store.Store).Stats().BodyRetries
	}
	if want := int64(counts[storagetest.Truncate] - 1); bodyRetries < want {
		t.Errorf("stores made %d body retries for %d truncated GETs", bodyRetries, want)
	}
	snap = s3Snapshot(t, e.out)
	checkState(t, snap, true)
	for k, want := range refDocs {
		if got := normVerdicts(t, snap[k]); got != want {
			t.Errorf("%s after faults differs from the run without faults", k)
		}
	}
	t.Logf("faults delivered: %v; reference run %s, faulty run %s", counts, ref.RunID, res.RunID)
}

// TestS3PersistentFailure: persistent failures make a real `parity run`
// exit 1, with no new object in the output, the previous latest.json
// byte-identical and the lock released.
func TestS3PersistentFailure(t *testing.T) {
	e := newS3Env(t)
	ctx := context.Background()
	if _, err := openRunner(t, e.config(t, e.endpoint)).Evaluate(ctx, allWindows(), quietOptions()); err != nil {
		t.Fatal(err)
	}
	bin(t) // build before timing anything
	p := storagetest.NewFaultProxy(t, e.srv.Endpoint)
	cfg := e.config(t, p.URL())
	// Three attempts per request keep the test short; the default (8,
	// backoff up to 10 s) would only make it slower to fail.
	env := map[string]string{"AWS_MAX_ATTEMPTS": "3"}
	cases := []struct {
		name string
		m    storagetest.Match
		f    storagetest.Fault
		// unchanged: the failure comes before any output is written, so
		// every object is byte-identical (not just the same keys).
		unchanged bool
		// say: the error must say this (what failed, not a symptom).
		say string
	}{
		{"throttled input reads", storagetest.Match{Method: "GET", Ranged: true, KeySuffix: ".parquet"}, storagetest.SlowDown, true, "503"},
		{"resets on input reads", storagetest.Match{Method: "GET", Ranged: true, KeySuffix: ".parquet"}, storagetest.ConnReset, true, "connection reset"},
		{"truncated input reads", storagetest.Match{Method: "GET", Ranged: true, KeySuffix: ".parquet"}, storagetest.TruncatedBody, true, "body truncated"},
		{"output refuses writes", storagetest.Match{Method: "PUT"}, storagetest.InternalError, true, "run lock"},
		{"verdict writes fail", storagetest.Match{Method: "PUT", KeySuffix: "/verdicts.json"}, storagetest.InternalError, false, "verdicts.json"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := s3Snapshot(t, e.out)
			p.Clear()
			p.Always(c.m, c.f)
			start := time.Now()
			cmd, o, er := e.parityCmdEnv(t, env, runArgs(cfg, allWindows()[1], time.Minute)...)
			code := exitCode(cmd.Run())
			p.Clear()
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, o, er)
			}
			if !strings.Contains(er.String(), "s3://"+e.bucket) {
				t.Errorf("error does not name the object: %s", er)
			}
			if !strings.Contains(er.String(), c.say) || strings.Contains(er.String(), "stalled") {
				t.Errorf("error should say %q (and not blame a stall): %s", c.say, er)
			}
			for _, secret := range []string{e.srv.AccessKey, e.srv.SecretKey} {
				if strings.Contains(er.String()+o.String(), secret) {
					t.Fatalf("output leaks a credential: %s", er)
				}
			}
			after := s3Snapshot(t, e.out)
			for k := range after {
				if _, ok := before[k]; !ok {
					t.Errorf("new object after a failed run: %s", k)
				}
			}
			if string(after[jobs.KeyLatest]) != string(before[jobs.KeyLatest]) {
				t.Error("latest.json changed")
			}
			if c.unchanged && !equalSnap(before, after) {
				t.Error("outputs changed although the run failed before writing")
			}
			checkState(t, after, true)
			t.Logf("exit 1 after %v: %s", time.Since(start).Round(time.Millisecond), firstLine(er.String()))
		})
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\nparity: "); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + fmt.Sprintf("... (%d bytes)", len(s))
	}
	return s
}
