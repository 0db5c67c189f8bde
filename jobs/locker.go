package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"

	"github.com/parity-eval/parity/storage"
)

// StoreLocker is a gocron.Locker over storage.AcquireLock: one lease
// object per job under locks/schedule/ in a Store, taken with conditional
// writes, so replicas of `parity schedule` sharing an output location (a
// folder or S3) never run the same job at the same time, with no other
// service to deploy. The lease is renewed every TTL/3 while the job runs;
// a replica that dies leaves a lease that expires after TTL.
type StoreLocker struct {
	Store storage.Store
	// Owner names this replica in the lock object (default host/pid).
	Owner string
	// TTL is the lease (default 2m). Keep it well above clock skew.
	TTL time.Duration
	Log *slog.Logger
	// OnLost is called (with the job name) when a renewal finds the lease
	// taken over: the run must stop, someone else may be running.
	OnLost func(key string)
}

var _ gocron.Locker = (*StoreLocker)(nil)

// LockKey is where the lease for a job lives in the store.
func LockKey(job string) string { return "locks/schedule/" + job + ".lock" }

// DefaultOwner identifies this process in lock objects.
func DefaultOwner() string {
	h, _ := os.Hostname()
	return fmt.Sprintf("%s/%d", h, os.Getpid())
}

// Lock takes the job's lease or fails (gocron then skips this run).
func (l *StoreLocker) Lock(ctx context.Context, key string) (gocron.Lock, error) {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	owner := l.Owner
	if owner == "" {
		owner = DefaultOwner()
	}
	// Lease expiry is real time whatever clock the jobs evaluate with.
	lk, err := storage.AcquireLock(ctx, l.Store, LockKey(sanitizeKey(key)), owner, ttl, time.Now)
	if err != nil {
		return nil, heldError(ctx, l.Store, LockKey(sanitizeKey(key)), ttl, err)
	}
	h := &storeLock{lock: lk, done: make(chan struct{}), stopped: make(chan struct{})}
	go h.renew(ttl/3, l.Log, func() {
		if l.OnLost != nil {
			l.OnLost(key)
		}
	})
	return h, nil
}

// LockHeldError is the error of StoreLocker.Lock and of a run's run lock
// when another holder's lease is unexpired: who holds the lock and until
// when, so the scheduler can try again once the lease expires (a live
// holder renews it; a crashed one's runs out). It wraps the storage
// error, and so storage.ErrLocked, and reads as it does.
type LockHeldError struct {
	Key string
	// Holder is the lease as read back after the failed attempt; its
	// Owner is empty when it could not be read.
	Holder storage.LockInfo
	// Until is when the lease expires: the holder's Expires, the
	// object's time plus the TTL for an unreadable body, the moment of
	// the read when the lock was released meanwhile, or zero when the
	// lock could not be read.
	Until time.Time
	Err   error
}

func (e *LockHeldError) Error() string { return e.Err.Error() }
func (e *LockHeldError) Unwrap() error { return e.Err }

// Describe names the holder as the lock object does: "owner" (host H, pid P).
func (e *LockHeldError) Describe() string {
	switch {
	case e.Holder.Owner == "":
		return "an unknown holder"
	case strings.HasPrefix(e.Holder.Owner, "("):
		return e.Holder.Owner
	case e.Holder.Host == "":
		return fmt.Sprintf("%q", e.Holder.Owner)
	}
	return fmt.Sprintf("%q (host %s, pid %d)", e.Holder.Owner, e.Holder.Host, e.Holder.PID)
}

// heldError turns AcquireLock's ErrLocked into a *LockHeldError by reading
// the lease back (one GET); any other error is returned as it is.
func heldError(ctx context.Context, st storage.Store, key string, ttl time.Duration, err error) error {
	if !errors.Is(err, storage.ErrLocked) {
		return err
	}
	h := &LockHeldError{Key: key, Err: err}
	data, o, gerr := st.Get(ctx, key)
	switch {
	case errors.Is(gerr, storage.ErrNotExist):
		h.Holder.Owner = "(a holder that has released it since)"
		h.Until = time.Now() // free now
	case gerr != nil:
	case json.Unmarshal(data, &h.Holder) != nil || h.Holder.Expires.IsZero():
		// As AcquireLock judges an unreadable body.
		h.Holder = storage.LockInfo{Owner: "(unreadable lock object)"}
		h.Until = o.ModTime.Add(ttl)
	default:
		h.Until = h.Holder.Expires
	}
	return h
}

func sanitizeKey(k string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, k)
}

type storeLock struct {
	lock    *storage.Lock
	once    sync.Once
	done    chan struct{}
	stopped chan struct{}
}

func (h *storeLock) renew(every time.Duration, log *slog.Logger, lost func()) {
	defer close(h.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), every)
			err := h.lock.Renew(ctx)
			cancel()
			if errors.Is(err, storage.ErrLockLost) {
				if log != nil {
					log.Error("job lease lost: stopping the run", "lock", h.lock.Key(), "err", err)
				}
				lost()
				return
			}
			if err != nil && log != nil {
				// Transient: the lease is still ours until it expires;
				// the next tick retries.
				log.Warn("renewing job lease", "lock", h.lock.Key(), "err", err)
			}
		}
	}
}

// Unlock stops renewal and deletes the lease. gocron passes the job's
// context, which is already cancelled during shutdown, so the delete runs
// detached from it (bounded by a timeout): a lease left behind would
// block the other replicas until it expires.
func (h *storeLock) Unlock(ctx context.Context) error {
	h.once.Do(func() { close(h.done) })
	<-h.stopped
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return h.lock.Release(ctx)
}
