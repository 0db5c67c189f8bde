package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/jobs"
)

// logBuf collects a daemon's JSON log lines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// msgs returns the messages of the log records whose msg starts with prefix.
func (l *logBuf) msgs(prefix string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		var m struct{ Msg string }
		if json.Unmarshal([]byte(line), &m) == nil && strings.HasPrefix(m.Msg, prefix) {
			out = append(out, m.Msg)
		}
	}
	return out
}

const yearlyJob = `jobs:
  - name: yearly
    schedule: "TZ=UTC 0 0 1 1 *"
    catch_up: 2
`

// A start-up tick skipped because a live replica holds the job's lock is
// retried when that lease expires; the holder renews it, so the retry is
// skipped again and waits for the new expiry (no busy loop, no run while
// the lock is held), and once the holder lets go the job runs, long
// before its next scheduled tick (next New Year). The old daemon skipped
// the tick and waited for that.
func TestSchedulerRetriesTickSkippedOnHeldLock(t *testing.T) {
	cfg := scheduleConfig(t, yearlyJob)
	ctx := context.Background()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 3 * time.Second
	holder := &jobs.StoreLocker{Store: r.Out, Owner: "live-replica", TTL: ttl}
	lk, err := holder.Lock(ctx, "yearly")
	if err != nil {
		t.Fatal(err)
	}
	var logs logBuf
	so := jobs.ScheduleOptions{LockTTL: ttl}
	so.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	so.Now = func() time.Time { return at("2026-10-03T05:30:00Z") }
	d := startDaemon(t, cfg, so)

	// Held (and renewed) for about three leases: no run meanwhile.
	const held = 8 * time.Second
	select {
	case ev := <-d.runs:
		t.Fatalf("the job ran while another replica held its lock: %+v", ev)
	case <-time.After(held):
	}
	if err := lk.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	skips := logs.msgs("tick skipped: the job's lock is held by \"live-replica\"")
	if len(skips) < 2 {
		t.Fatalf("%d skipped ticks logged while the lock was held, want the start-up tick and a retry that found the lease renewed:\n%s", len(skips), strings.Join(skips, "\n"))
	}
	// One attempt per lease at most (plus slack), not a busy loop.
	if max := int(held/ttl) + 3; len(skips) > max {
		t.Errorf("%d attempts in %v with a %v lease, want at most %d", len(skips), held, ttl, max)
	}
	for _, m := range skips {
		if !strings.Contains(m, "a running replica, or a crashed run whose lease expires then") || !strings.Contains(m, "retrying once it expires, at ") {
			t.Errorf("skip message %q does not say who may hold it and when it is retried", m)
		}
	}
	ev := d.nextWork(t)
	if ev.err != nil {
		t.Fatal(ev.err)
	}
	t.Logf("skips while held:\n%s", strings.Join(skips, "\n"))
	if took := time.Since(released); took > ttl+5*time.Second {
		t.Errorf("the job ran %v after the lock was released, want within a lease (%v) and the margin", took, ttl)
	}
	if want := hours("2026-10-03T02:00:00Z", 3); !equal(names(ev.run.Done), want) {
		t.Fatalf("retried tick evaluated %v, want %v", names(ev.run.Done), want)
	}
	if n := len(logs.msgs("retrying the skipped tick")); n < 2 {
		t.Errorf("%d retries logged, want at least 2", n)
	}
}

// A daemon that is stopping does not retry a skipped tick.
func TestSchedulerStopCancelsRetry(t *testing.T) {
	cfg := scheduleConfig(t, yearlyJob)
	ctx := context.Background()
	r, err := jobs.Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const ttl = 2 * time.Second
	holder := &jobs.StoreLocker{Store: r.Out, Owner: "live-replica", TTL: ttl}
	lk, err := holder.Lock(ctx, "yearly")
	if err != nil {
		t.Fatal(err)
	}
	defer lk.Unlock(ctx)
	var logs logBuf
	so := jobs.ScheduleOptions{LockTTL: ttl}
	so.Log = slog.New(slog.NewJSONHandler(&logs, nil))
	so.Now = func() time.Time { return at("2026-10-03T05:30:00Z") }
	d := startDaemon(t, cfg, so)
	deadline := time.Now().Add(20 * time.Second)
	for len(logs.msgs("tick skipped: the job's lock is held")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no skipped tick logged:\n%s", logs.b.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := d.stop(t); err != nil {
		t.Fatal(err)
	}
	time.Sleep(ttl + 3*time.Second) // past the retry it had armed
	if n := len(logs.msgs("retrying the skipped tick")); n != 0 {
		t.Errorf("%d retries after the stop", n)
	}
}
