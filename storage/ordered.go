package storage

import (
	"context"
	"fmt"
	"sync"
)

// Stager is a Store whose Put can be split in two: Stage makes the bytes
// durable without making them visible (a local folder writes and fsyncs a
// temporary file), Commit makes them visible (renames it into place).
// Ordered uses it to prepare the next objects while committing the
// current one.
type Stager interface {
	Stage(ctx context.Context, key string, data []byte) (Staged, error)
}

// Staged is an object Stage made durable but not yet visible.
type Staged interface {
	// Commit makes the object visible, as Put would have.
	Commit(ctx context.Context) (Object, error)
	// Discard drops it; the key keeps its previous version.
	Discard()
}

// OrderedStore is a Store whose Put returns before the object is written,
// while every object still becomes visible in the order Put was called,
// exactly as with one Put after another; a failed write stops every
// later one (nothing after it becomes visible) and is returned by the
// next call and by Flush. A write whose context is cancelled before it
// is committed is not made visible either, and counts as failed. The
// point is a local folder, where each Put
// waits on two fsyncs (the file's, then its folder's after the rename):
// with Ordered, the files of the next objects are written and fsynced
// while the current one is renamed, so a run's ~6 outputs per window no
// longer wait on each other's file fsync (the folder's, which orders the
// renames on disk, stays one after another). Over a store that cannot
// stage (S3, whose PUT is one call), Put is the store's own.
//
// Reads see this store's own writes: Get and Open of a key still being
// written, and every List, wait for the writes before them. Conditional
// writes and deletes wait for every write first. Flush must be called
// before the writes are relied on.
type OrderedStore struct {
	Store
	st Stager

	mu      sync.Mutex
	slots   chan struct{} // one per write in flight, staged or not
	queue   chan *orderedPut
	pending map[string]int // key -> writes not yet committed
	err     error          // the first failed write, sticky
	idle    *sync.Cond     // signalled as writes finish
	active  int            // writes queued and not finished
	closed  bool
}

type orderedPut struct {
	ctx    context.Context
	key    string
	ready  chan struct{} // closed once Stage returned
	staged Staged
	err    error
}

// Ordered wraps s for ordered, overlapped writes (see OrderedStore), with
// at most depth writes in flight (each holds its data until committed).
// Close releases it.
func Ordered(s Store, depth int) *OrderedStore {
	o := &OrderedStore{Store: s, pending: map[string]int{}}
	o.idle = sync.NewCond(&o.mu)
	if st, ok := s.(Stager); ok && depth > 1 {
		o.st = st
		o.slots = make(chan struct{}, depth)
		o.queue = make(chan *orderedPut, depth)
		go o.commit()
	}
	return o
}

// Put implements Store. Over a Stager it returns once the write is queued
// (or the error of an earlier write), with an Object holding only Key and
// Size: the ETag and time exist once the write is committed.
func (o *OrderedStore) Put(ctx context.Context, key string, data []byte) (Object, error) {
	if o.st == nil {
		return o.Store.Put(ctx, key, data)
	}
	if ctx.Err() != nil {
		// A cancelled write phase (jobs: the run lock's lease was lost)
		// writes nothing more: the write counts as failed, so no later
		// one, even with a live context, is made visible after it.
		err := fmt.Errorf("write %s: %w", key, context.Cause(ctx))
		o.mu.Lock()
		if o.err == nil {
			o.err = fmt.Errorf("an earlier write failed (%s): %w", key, err)
		}
		o.mu.Unlock()
		return Object{}, err
	}
	o.slots <- struct{}{} // bounds the data held
	o.mu.Lock()
	if o.err != nil || o.closed {
		err := o.err
		if err == nil {
			err = fmt.Errorf("storage: write %s after Close", key)
		}
		o.mu.Unlock()
		<-o.slots
		return Object{}, err
	}
	p := &orderedPut{ctx: ctx, key: key, ready: make(chan struct{})}
	o.pending[key]++
	o.active++
	// Queued under the lock, so the queue's order is the order of Puts.
	o.queue <- p
	o.mu.Unlock()
	go func() {
		p.staged, p.err = o.st.Stage(ctx, key, data)
		close(p.ready)
	}()
	return Object{Key: key, Size: int64(len(data))}, nil
}

// commit makes the queued writes visible one after another, in order.
func (o *OrderedStore) commit() {
	for p := range o.queue {
		<-p.ready
		o.mu.Lock()
		failed := o.err != nil
		o.mu.Unlock()
		var err error
		switch {
		case p.err != nil:
			err = p.err
		case failed:
			p.staged.Discard() // nothing after a failed write is made visible
		case p.ctx.Err() != nil:
			// Cancelled while queued (jobs: the lease was lost): not made
			// visible, and nothing after it either.
			p.staged.Discard()
			err = context.Cause(p.ctx)
		default:
			_, err = p.staged.Commit(p.ctx)
		}
		o.mu.Lock()
		if err != nil && o.err == nil {
			o.err = fmt.Errorf("an earlier write failed (%s): %w", p.key, err)
		}
		if o.pending[p.key]--; o.pending[p.key] == 0 {
			delete(o.pending, p.key)
		}
		o.active--
		o.idle.Broadcast()
		o.mu.Unlock()
		<-o.slots
	}
}

// Flush waits for every write queued so far and returns the first that
// failed (then no later one was made visible).
func (o *OrderedStore) Flush() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.active > 0 {
		o.idle.Wait()
	}
	return o.err
}

// Close flushes and stops the committer; later Puts fail.
func (o *OrderedStore) Close() error {
	err := o.Flush()
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed && o.queue != nil {
		close(o.queue)
	}
	o.closed = true
	return err
}

// waitKey waits until key has no write in flight.
func (o *OrderedStore) waitKey(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.pending[key] > 0 {
		o.idle.Wait()
	}
	return o.err
}

// Get implements Store, after this store's writes of key.
func (o *OrderedStore) Get(ctx context.Context, key string) ([]byte, Object, error) {
	if err := o.waitKey(key); err != nil {
		return nil, Object{}, err
	}
	return o.Store.Get(ctx, key)
}

// Open implements Store, after this store's writes of key.
func (o *OrderedStore) Open(ctx context.Context, key string) (Reader, error) {
	if err := o.waitKey(key); err != nil {
		return nil, err
	}
	return o.Store.Open(ctx, key)
}

// List implements Store, after every write queued so far.
func (o *OrderedStore) List(ctx context.Context, prefix string) ([]Object, error) {
	if err := o.Flush(); err != nil {
		return nil, err
	}
	return o.Store.List(ctx, prefix)
}

// ListLevel implements Store, after every write queued so far.
func (o *OrderedStore) ListLevel(ctx context.Context, dir string) ([]string, []Object, error) {
	if err := o.Flush(); err != nil {
		return nil, nil, err
	}
	return o.Store.ListLevel(ctx, dir)
}

// PutIfAbsent implements Store, after every write queued so far.
func (o *OrderedStore) PutIfAbsent(ctx context.Context, key string, data []byte) (Object, error) {
	if err := o.Flush(); err != nil {
		return Object{}, err
	}
	return o.Store.PutIfAbsent(ctx, key, data)
}

// PutIfMatch implements Store, after every write queued so far.
func (o *OrderedStore) PutIfMatch(ctx context.Context, key string, data []byte, etag string) (Object, error) {
	if err := o.Flush(); err != nil {
		return Object{}, err
	}
	return o.Store.PutIfMatch(ctx, key, data, etag)
}

// Delete implements Store, after every write queued so far.
func (o *OrderedStore) Delete(ctx context.Context, key string) error {
	if err := o.Flush(); err != nil {
		return err
	}
	return o.Store.Delete(ctx, key)
}

// DeleteIfMatch implements Store, after every write queued so far.
func (o *OrderedStore) DeleteIfMatch(ctx context.Context, key string, etag string) error {
	if err := o.Flush(); err != nil {
		return err
	}
	return o.Store.DeleteIfMatch(ctx, key, etag)
}
