package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/file"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestLockFile(t *testing.T) {
	runLockTests(t, func(t *testing.T) storage.Store {
		s, err := file.New(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestLockS3(t *testing.T) {
	srv := storagetest.StartS3(t)
	runLockTests(t, func(t *testing.T) storage.Store {
		s, err := s3store.New(context.Background(), s3store.Config{
			Bucket: srv.NewBucket(t), Prefix: "locks", Endpoint: srv.Endpoint,
			Region: srv.Region, Credentials: srv.Credentials(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

const key = "runs/nightly.lock"

func runLockTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

	t.Run("HeldIsErrLocked", func(t *testing.T) {
		s := newStore(t)
		c := &clock{t: t0}
		a, err := storage.AcquireLock(ctx, s, key, "worker-a", time.Minute, c.now)
		if err != nil {
			t.Fatal(err)
		}
		if a.Info().Owner != "worker-a" || !a.Info().Expires.Equal(t0.Add(time.Minute)) {
			t.Fatalf("Info() = %+v", a.Info())
		}
		c.add(59 * time.Second)
		_, err = storage.AcquireLock(ctx, s, key, "worker-b", time.Minute, c.now)
		if !errors.Is(err, storage.ErrLocked) {
			t.Fatalf("second acquire err = %v, want ErrLocked", err)
		}
		for _, want := range []string{`"worker-a"`, "2026-11-22T03:01:00Z", key} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ErrLocked message %q does not name %s", err, want)
			}
		}
		// The body is the documented JSON.
		data, _, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var li storage.LockInfo
		if err := json.Unmarshal(data, &li); err != nil || li.Owner != "worker-a" || li.PID == 0 || li.Host == "" || li.Acquired.IsZero() {
			t.Fatalf("lock body %s (%v) lacks owner/host/pid/acquired", data, err)
		}
	})

	t.Run("ConcurrentAcquireOneWins", func(t *testing.T) {
		s := newStore(t)
		const n = 16
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		var others []error
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				owner := fmt.Sprintf("worker-%d", i)
				_, err := storage.AcquireLock(ctx, s, key, owner, time.Minute, nil)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					winners = append(winners, owner)
				case !errors.Is(err, storage.ErrLocked):
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if len(winners) != 1 || len(others) != 0 {
			t.Fatalf("%d concurrent acquirers: winners %v, unexpected errors %v; want exactly one winner", n, winners, others)
		}
	})

	t.Run("ExpiredLockTakenOver", func(t *testing.T) {
		s := newStore(t)
		c := &clock{t: t0}
		dead, err := storage.AcquireLock(ctx, s, key, "killed-worker", time.Minute, c.now)
		if err != nil {
			t.Fatal(err)
		}
		// The holder is "killed": it never renews or releases.
		c.add(61 * time.Second)
		b, err := storage.AcquireLock(ctx, s, key, "worker-b", time.Minute, c.now)
		if err != nil {
			t.Fatalf("taking over an expired lock: %v", err)
		}
		if got := b.Info(); got.Owner != "worker-b" || !got.Expires.Equal(c.now().Add(time.Minute)) {
			t.Fatalf("new lease %+v", got)
		}
		// The old holder wakes up: neither renew nor release may touch
		// worker-b's lease.
		if err := dead.Renew(ctx); !errors.Is(err, storage.ErrLockLost) || !strings.Contains(err.Error(), "worker-b") {
			t.Fatalf("Renew by the old holder err = %v, want ErrLockLost naming worker-b", err)
		}
		if err := dead.Release(ctx); !errors.Is(err, storage.ErrLockLost) {
			t.Fatalf("Release by the old holder err = %v, want ErrLockLost", err)
		}
		if _, err := storage.AcquireLock(ctx, s, key, "worker-c", time.Minute, c.now); !errors.Is(err, storage.ErrLocked) || !strings.Contains(err.Error(), "worker-b") {
			t.Fatalf("after the old holder's attempts, acquire err = %v, want ErrLocked by worker-b", err)
		}
		if err := b.Renew(ctx); err != nil {
			t.Fatalf("Renew by the new holder: %v", err)
		}
		if err := b.Release(ctx); err != nil {
			t.Fatalf("Release by the new holder: %v", err)
		}
	})

	t.Run("ConcurrentTakeoverOneWins", func(t *testing.T) {
		s := newStore(t)
		c := &clock{t: t0}
		if _, err := storage.AcquireLock(ctx, s, key, "killed-worker", time.Minute, c.now); err != nil {
			t.Fatal(err)
		}
		c.add(time.Hour)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, locked := 0, 0
		var others []error
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := storage.AcquireLock(ctx, s, key, fmt.Sprintf("w%d", i), time.Minute, c.now)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, storage.ErrLocked):
					locked++
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if wins != 1 || locked != n-1 {
			t.Fatalf("%d racers taking over one expired lock: %d won, %d ErrLocked, others %v; want 1 and %d", n, wins, locked, others, n-1)
		}
	})

	t.Run("RenewExtends", func(t *testing.T) {
		s := newStore(t)
		c := &clock{t: t0}
		a, err := storage.AcquireLock(ctx, s, key, "worker-a", time.Minute, c.now)
		if err != nil {
			t.Fatal(err)
		}
		c.add(50 * time.Second)
		if err := a.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		c.add(50 * time.Second) // past the first lease, inside the renewed one
		if _, err := storage.AcquireLock(ctx, s, key, "worker-b", time.Minute, c.now); !errors.Is(err, storage.ErrLocked) {
			t.Fatalf("acquire inside a renewed lease err = %v, want ErrLocked", err)
		}
		if err := a.Renew(ctx); err != nil { // renew twice: the ETag is tracked
			t.Fatal(err)
		}
		if want := c.now().Add(time.Minute); !a.Info().Expires.Equal(want) {
			t.Fatalf("Expires = %v, want %v", a.Info().Expires, want)
		}
	})

	t.Run("ReleaseFreesTheLock", func(t *testing.T) {
		s := newStore(t)
		a, err := storage.AcquireLock(ctx, s, key, "worker-a", time.Hour, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if err := a.Release(ctx); err != nil {
			t.Fatalf("second Release: %v, want nil (already free)", err)
		}
		if _, _, err := s.Get(ctx, key); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("lock object after Release: err = %v, want ErrNotExist", err)
		}
		if _, err := storage.AcquireLock(ctx, s, key, "worker-b", time.Hour, nil); err != nil {
			t.Fatalf("acquire after release: %v", err)
		}
	})

	t.Run("UnreadableLockExpiresByModTime", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.Put(ctx, key, []byte("not json")); err != nil {
			t.Fatal(err)
		}
		if _, err := storage.AcquireLock(ctx, s, key, "worker-a", time.Hour, nil); !errors.Is(err, storage.ErrLocked) {
			t.Fatalf("acquire over a fresh unreadable lock err = %v, want ErrLocked", err)
		}
		later := func() time.Time { return time.Now().Add(2 * time.Hour) }
		if _, err := storage.AcquireLock(ctx, s, key, "worker-a", time.Hour, later); err != nil {
			t.Fatalf("acquire over an unreadable lock older than the TTL: %v", err)
		}
	})
}
