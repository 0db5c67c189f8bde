package storage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrLocked is returned (wrapped, naming the holder and the lease expiry)
// by AcquireLock when someone else holds an unexpired lease.
var ErrLocked = errors.New("locked")

// ErrLockLost is returned (wrapped) by Renew and Release when the lock is
// no longer this holder's: its lease ran out and another owner took it
// over, or the lock object was removed or changed behind its back. It also
// wraps ErrPrecondition.
var ErrLockLost = errors.New("lock lost")

// LockInfo is the lock object's body: who holds the lock and until when.
type LockInfo struct {
	Owner    string    `json:"owner"`
	Host     string    `json:"host"`
	PID      int       `json:"pid"`
	Acquired time.Time `json:"acquired"`
	Expires  time.Time `json:"expires"`
	// Token is random per acquisition. It tells this holder's lease from
	// an earlier one by the same owner, and lets a holder recognise its
	// own write when a retried request is answered 412 because the first
	// attempt had already succeeded.
	Token string `json:"token"`
}

// Lock is a lease on one key of a Store, taken with the store's
// conditional writes (PutIfAbsent / PutIfMatch / DeleteIfMatch), so it
// works the same on a folder and on S3 and needs no other service.
//
// A lease is only as good as its TTL: a holder that stalls past Expires can
// be taken over, so holders Renew well before expiry (e.g. every TTL/3) and
// check Renew's error before committing work. Expiry is judged on the
// clock of whoever tries to take the lock over, so keep the TTL large
// against clock skew (minutes, not seconds).
//
// A Lock is safe for concurrent use.
type Lock struct {
	store Store
	key   string
	ttl   time.Duration
	now   func() time.Time

	mu   sync.Mutex
	info LockInfo
	etag string
}

// AcquireLock takes the lock at key for owner, for ttl. now is the clock
// (nil: time.Now).
//
// When the key is free it is created with PutIfAbsent. When it exists and
// its lease has expired, it is taken over with PutIfMatch on the ETag just
// read, so of two processes taking over the same stale lock only one
// succeeds. When it is held, the error wraps ErrLocked and names the
// holder and expiry.
func AcquireLock(ctx context.Context, store Store, key, owner string, ttl time.Duration, now func() time.Time) (*Lock, error) {
	if ttl <= 0 {
		return nil, fmt.Errorf("lock %s/%s: ttl %v must be positive", store.URI(), key, ttl)
	}
	if now == nil {
		now = time.Now
	}
	host, _ := os.Hostname()
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	l := &Lock{store: store, key: key, ttl: ttl, now: now}
	t := now().UTC()
	l.info = LockInfo{Owner: owner, Host: host, PID: os.Getpid(), Acquired: t, Expires: t.Add(ttl), Token: hex.EncodeToString(tok[:])}

	// Each round either takes the lock, proves it held, or observes a
	// change made by another process; a few rounds settle any race.
	var lastErr error
	for range 5 {
		body, err := json.Marshal(l.info)
		if err != nil {
			return nil, err
		}
		o, err := store.PutIfAbsent(ctx, key, body)
		if err == nil {
			l.etag = o.ETag
			return l, nil
		}
		if !errors.Is(err, ErrPrecondition) {
			return nil, fmt.Errorf("lock %s/%s: %w", store.URI(), key, err)
		}
		data, cur, err := store.Get(ctx, key)
		if errors.Is(err, ErrNotExist) {
			lastErr = err
			continue // released between our write and read
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s/%s: read holder: %w", store.URI(), key, err)
		}
		held, perr := parseLock(data, cur, ttl)
		if perr == nil && held.Token == l.info.Token {
			// Our PutIfAbsent succeeded on an attempt whose answer was lost.
			l.etag = cur.ETag
			return l, nil
		}
		t = now().UTC()
		if t.Before(held.Expires) {
			return nil, fmt.Errorf("lock %s/%s: held by %s until %s: %w", store.URI(), key, held.describe(), held.Expires.Format(time.RFC3339), ErrLocked)
		}
		// Expired (or unreadable and older than the TTL): take over.
		l.info.Acquired, l.info.Expires = t, t.Add(ttl)
		body, err = json.Marshal(l.info)
		if err != nil {
			return nil, err
		}
		o, err = store.PutIfMatch(ctx, key, body, cur.ETag)
		if err == nil {
			l.etag = o.ETag
			return l, nil
		}
		if !errors.Is(err, ErrPrecondition) {
			return nil, fmt.Errorf("lock %s/%s: take over expired lease of %s: %w", store.URI(), key, held.describe(), err)
		}
		lastErr = err // another process changed it first; look again
	}
	return nil, fmt.Errorf("lock %s/%s: the lock kept changing under us: %w", store.URI(), key, lastErr)
}

// parseLock decodes a lock body. An unreadable body (a crashed writer, a
// foreign file) is treated as a lease taken at its ModTime for ttl, so it
// can be taken over rather than block runs forever.
func parseLock(data []byte, o Object, ttl time.Duration) (LockInfo, error) {
	var li LockInfo
	if err := json.Unmarshal(data, &li); err != nil || li.Expires.IsZero() {
		return LockInfo{Owner: "(unreadable lock object)", Expires: o.ModTime.Add(ttl)}, errors.New("unreadable lock body")
	}
	return li, nil
}

func (li LockInfo) describe() string {
	if li.Host == "" {
		return fmt.Sprintf("%q", li.Owner)
	}
	return fmt.Sprintf("%q (host %s, pid %d)", li.Owner, li.Host, li.PID)
}

// Info returns the current lease as written to the store.
func (l *Lock) Info() LockInfo {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.info
}

// Key is the lock's key in its store.
func (l *Lock) Key() string { return l.key }

// Renew extends the lease to now+ttl, if the lock is still this holder's
// (PutIfMatch on the ETag it last wrote). On ErrLockLost the holder must
// stop: someone else may be running.
func (l *Lock) Renew(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := l.info
	next.Expires = l.now().UTC().Add(l.ttl)
	body, err := json.Marshal(next)
	if err != nil {
		return err
	}
	o, err := l.store.PutIfMatch(ctx, l.key, body, l.etag)
	if err != nil {
		if !errors.Is(err, ErrPrecondition) {
			return fmt.Errorf("renew lock %s/%s: %w", l.store.URI(), l.key, err)
		}
		// A retried request can be refused because its first attempt
		// succeeded: if the object is exactly what we wrote, it did.
		data, cur, gerr := l.store.Get(ctx, l.key)
		if gerr != nil || !bytes.Equal(data, body) {
			return l.lost("renew", data, cur, gerr)
		}
		o = cur
	}
	l.info, l.etag = next, o.ETag
	return nil
}

// Release gives the lock up (DeleteIfMatch on the ETag it last wrote).
// Releasing a lock whose object is already gone is not an error; one that
// another owner now holds is ErrLockLost and is left alone.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.store.DeleteIfMatch(ctx, l.key, l.etag)
	if err == nil {
		return nil
	}
	if !errors.Is(err, ErrPrecondition) {
		return fmt.Errorf("release lock %s/%s: %w", l.store.URI(), l.key, err)
	}
	data, cur, gerr := l.store.Get(ctx, l.key)
	if errors.Is(gerr, ErrNotExist) {
		return nil
	}
	return l.lost("release", data, cur, gerr)
}

// lost builds the ErrLockLost error, naming the current holder if known.
func (l *Lock) lost(op string, data []byte, cur Object, gerr error) error {
	who := "nobody (the lock object is gone)"
	switch {
	case gerr != nil && !errors.Is(gerr, ErrNotExist):
		who = "unknown (" + gerr.Error() + ")"
	case gerr == nil:
		held, _ := parseLock(data, cur, l.ttl)
		who = fmt.Sprintf("%s until %s", held.describe(), held.Expires.Format(time.RFC3339))
	}
	return fmt.Errorf("%s lock %s/%s for %q: now held by %s: %w", op, l.store.URI(), l.key, l.info.Owner, who, errors.Join(ErrLockLost, ErrPrecondition))
}

// Keep renews the lease every third of its TTL, in the background, until
// stop is called. Once the lease can no longer be trusted — a renewal
// found it taken over, or renewals kept failing until less than a third
// of it was left — lost is cancelled with a cause wrapping ErrLockLost
// and renewal ends, so its holder stops writing before another may
// start. A failure short of that is passed to warn (the next tick
// retries). stop ends renewal and returns the loss, nil if none.
func (l *Lock) Keep(warn func(error)) (lost context.Context, stop func() error) {
	lost, lose := context.WithCancelCause(context.Background())
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		every := l.ttl / 3
		t := time.NewTicker(every)
		defer t.Stop()
		lastOK := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			rctx, rcancel := context.WithTimeout(context.Background(), every)
			err := l.Renew(rctx)
			rcancel()
			switch {
			case err == nil:
				lastOK = time.Now()
			case errors.Is(err, ErrLockLost):
				lose(err)
				return
			case time.Since(lastOK) > 2*l.ttl/3:
				// The lease may run out before the next attempt.
				lose(fmt.Errorf("lock %s: not renewed since %s: %w: %w", l.key, lastOK.UTC().Format(time.RFC3339), err, ErrLockLost))
				return
			default:
				warn(err)
			}
		}
	}()
	return lost, func() error {
		close(done)
		<-finished
		if lost.Err() != nil {
			return context.Cause(lost)
		}
		return nil // lost stays uncancelled: nothing was lost
	}
}
