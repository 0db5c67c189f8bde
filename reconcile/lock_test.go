package reconcile

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets/synth"
	"github.com/parity-eval/parity/storage"
)

// slowOut delays every output write but the lock's, and counts the lock's
// renewals (conditional replacements).
type slowOut struct {
	storage.Store
	delay    time.Duration
	renewals atomic.Int32
}

func (s *slowOut) Put(ctx context.Context, key string, data []byte) (storage.Object, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return storage.Object{}, ctx.Err()
	}
	return s.Store.Put(ctx, key, data)
}

func (s *slowOut) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (storage.Object, error) {
	if strings.HasPrefix(key, "locks/reconcile-") {
		s.renewals.Add(1)
	}
	return s.Store.PutIfMatch(ctx, key, data, etag)
}

// ttl is the lease of the lock tests' runs.
const ttl = 600 * time.Millisecond

// startSlowRun starts reconciling run 01 of a generated dual-write
// section with a ttl lease, every output write delayed by delay, and
// returns the output and the run's result channel.
func startSlowRun(t *testing.T, delay time.Duration) (*slowOut, chan error) {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(dir, synth.Options{Scale: 0.1, Days: 2}); err != nil {
		t.Fatal(err)
	}
	cfg := loadConfig(t, dir, `  - name: dual_write
    legacy: recon/legacy
    new: recon/new
    run_partition: run
    critical_fields:
      - name: status
`)
	ctx := context.Background()
	r, err := Open(ctx, cfg, "dual_write")
	if err != nil {
		t.Fatal(err)
	}
	out := &slowOut{Store: r.Out, delay: delay}
	r.Out = out
	done := make(chan error, 1)
	go func() {
		_, err := r.Run(ctx, Options{Run: "01", Now: fixedNow, LockTTL: ttl})
		done <- err
	}()
	return out, done
}

// The reconciliation's lock has a lease of Options.LockTTL (not a fixed
// 10 minutes), renewed while the run writes: a run whose writes outlast
// several leases keeps the lock throughout (another owner is refused at
// every moment), and releases it at the end.
func TestRunRenewsLockForLockTTL(t *testing.T) {
	ctx := context.Background()
	out, done := startSlowRun(t, ttl) // three writes: 3 leases
	key := "locks/reconcile-dual_write.lock"
	var sawLease bool
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
			continue
		case <-time.After(50 * time.Millisecond):
		}
		data, _, err := out.Store.Get(ctx, key)
		if errors.Is(err, storage.ErrNotExist) {
			continue // not taken yet (comparing), or released
		}
		if err != nil {
			t.Fatal(err)
		}
		if !sawLease {
			sawLease = true
			if !strings.Contains(string(data), `"owner":"reconcile-dual_write-run-01-`) {
				t.Errorf("lock body %s", data)
			}
		}
		if _, err := storage.AcquireLock(ctx, out.Store, key, "intruder", time.Minute, nil); !errors.Is(err, storage.ErrLocked) {
			t.Fatalf("another owner could take the lock during the run: %v", err)
		}
	}
	if !sawLease {
		t.Fatal("never saw the lock held")
	}
	if n := out.renewals.Load(); n < 3 {
		t.Errorf("%d renewals during writes lasting %v with a %v lease, want at least 3", n, 3*ttl, ttl)
	}
	if _, _, err := out.Store.Get(ctx, key); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("lock left after the run: %v", err)
	}
}

// A run whose lease was taken over (here: its lock object replaced
// behind its back) stops writing at its next renewal and fails with
// storage.ErrLockLost, leaving the new holder's lock alone.
func TestRunStopsWhenLockLost(t *testing.T) {
	ctx := context.Background()
	out, done := startSlowRun(t, 2*ttl)
	key := "locks/reconcile-dual_write.lock"
	for {
		if _, _, err := out.Store.Get(ctx, key); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("run ended before the test saw its lock: %v", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if _, err := out.Store.Put(ctx, key, []byte(`{"owner":"usurper","expires":"2099-01-01T00:00:00Z"}`)); err != nil {
		t.Fatal(err)
	}
	err := <-done
	if !errors.Is(err, storage.ErrLockLost) {
		t.Fatalf("run after losing its lock: %v, want ErrLockLost", err)
	}
	if _, _, err := out.Store.Get(ctx, ResultKey("dual_write", "01")); !errors.Is(err, storage.ErrNotExist) {
		t.Errorf("result written after the lock was lost: %v", err)
	}
	if data, _, err := out.Store.Get(ctx, key); err != nil || !strings.Contains(string(data), "usurper") {
		t.Errorf("the new holder's lock: %s, %v", data, err)
	}
}
