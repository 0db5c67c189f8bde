package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parity-eval/parity/storage"
)

// ErrRunLocked is returned (wrapped, naming the holder and its lease
// expiry) when another run holds the output's run lock. It also wraps
// storage.ErrLocked.
var ErrRunLocked = errors.New("another run holds the run lock")

// runLockKey is the lock a run takes. Full runs share one lock per output
// location: the verdict replay rewrites every window after the first one
// evaluated, so two runs on different windows of the same output would
// still race on the later windows' documents and on latest.json. Shard
// runs write only their own partial aggregates, so shards of one job run
// in parallel, each under its own lock.
func runLockKey(o Options) string {
	if o.ShardCount > 1 {
		return fmt.Sprintf("locks/evaluate-shard-%03d-of-%03d.lock", o.ShardIndex, o.ShardCount)
	}
	return keyLock
}

// runLock is the run lock of one Evaluate, renewed in the background.
type runLock struct {
	lock *storage.Lock
	lost context.Context // cancelled when the lease is lost
	stop func() error    // ends renewal; the loss, if any
}

// acquireRunLock takes the run lock before the run reads or writes
// anything, and renews it every TTL/3 until release. Once the lease can no
// longer be trusted (a renewal found it taken over, or renewals kept
// failing until less than a third of the lease was left) every context
// made by guard is cancelled with a cause wrapping storage.ErrLockLost, so
// a run that lost its lease stops writing before another run may start.
//
// The lease is judged on the wall clock, never on Options.Now: a run
// evaluating "as of" a fixed time (--now) must still let its lease expire
// in real time, or a killed run's lock would block every later run (or
// never block anything).
func (r *Runner) acquireRunLock(ctx context.Context, owner string, o Options, log *slog.Logger) (*runLock, error) {
	key := runLockKey(o)
	lk, err := storage.AcquireLock(ctx, r.Out, key, owner, o.LockTTL, time.Now)
	if err != nil {
		if errors.Is(err, storage.ErrLocked) {
			return nil, fmt.Errorf("%w: %w", ErrRunLocked, heldError(ctx, r.Out, key, o.LockTTL, err))
		}
		return nil, fmt.Errorf("run lock: %w", err)
	}
	rl := &runLock{lock: lk}
	rl.lost, rl.stop = lk.Keep(func(err error) {
		// Transient: the lease is still ours; the next tick retries.
		log.Warn("renewing run lock", "lock", key, "err", err)
	})
	context.AfterFunc(rl.lost, func() {
		log.Error("run lock lost: stopping the run", "lock", r.Out.URI()+"/"+key, "err", context.Cause(rl.lost))
	})
	return rl, nil
}

// guard returns ctx, cancelled (with the loss as its cause) when the
// lease is lost. Evaluate guards the scan and, separately, the write
// phase, which is detached from the caller's cancellation but never from
// the lease.
func (rl *runLock) guard(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancelCause(ctx)
	context.AfterFunc(rl.lost, func() { cancel(context.Cause(rl.lost)) })
	return ctx
}

// release stops renewal and deletes the lock (detached from a cancelled
// run context, bounded by a timeout): a lock left behind would block the
// next run until its lease expires.
func (rl *runLock) release(ctx context.Context, log *slog.Logger) {
	if rl.stop() != nil {
		return // someone else's lock now: leave it alone
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := rl.lock.Release(ctx); err != nil {
		log.Warn("releasing run lock", "err", err)
	}
}
