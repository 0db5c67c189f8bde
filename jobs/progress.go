package jobs

import (
	"sort"
	"sync"
	"time"

	"github.com/parity-eval/parity/datasets"
)

// progressEvery throttles Progress callbacks: a scan delivers hundreds of
// batches a second, a terminal or a log needs a few updates.
const progressEvery = 250 * time.Millisecond

// progressBeat is how often a watched scan reports while no batch
// arrives (a hung S3 GET, a huge row group): the same counts, a later
// Elapsed, so a reader can tell a stalled scan from a dead process.
const progressBeat = time.Second

// progressTracker counts a scan's batches for Options.Progress. Scan
// hands out row groups in key order, so a file counts as done once a
// batch of a later file has been seen (an estimate while workers overlap
// on neighbouring files; exact at the end).
type progressTracker struct {
	fn    func(Progress)
	start time.Time
	total int
	order map[string]int // file key -> position in key order
	beat  time.Duration  // progressBeat; tests shorten it

	mu        sync.Mutex
	furthest  int // highest key position seen
	rows      int64
	last      time.Time // last callback
	stopWatch func()    // set by watch
}

func newProgressTracker(fn func(Progress), keys []string) *progressTracker {
	t := &progressTracker{fn: fn, start: time.Now(), total: len(keys), order: map[string]int{}, furthest: -1, beat: progressBeat}
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted)
	for i, k := range sorted {
		t.order[k] = i
	}
	return t
}

// wrap counts each batch, then passes it on.
func (t *progressTracker) wrap(next func(int, *datasets.Batch) error) func(int, *datasets.Batch) error {
	if t == nil || t.fn == nil {
		return next
	}
	return func(w int, b *datasets.Batch) error {
		err := next(w, b)
		t.mu.Lock()
		t.rows += int64(b.Rows)
		if i, ok := t.order[b.File]; ok && i > t.furthest {
			t.furthest = i
		}
		t.mu.Unlock()
		t.report(time.Now(), progressEvery)
		return err
	}
}

// report calls fn with the progress at now, unless it was called less
// than every before. fn runs outside the lock: workers do not wait on a
// terminal.
func (t *progressTracker) report(now time.Time, every time.Duration) {
	t.mu.Lock()
	if now.Sub(t.last) < every {
		t.mu.Unlock()
		return
	}
	t.last = now
	p := Progress{FilesDone: max(t.furthest, 0), FilesTotal: t.total, RowsDone: t.rows, Elapsed: now.Sub(t.start)}
	t.mu.Unlock()
	t.fn(p)
}

// watch reports the progress every t.beat until stop or finish, also
// when no batch arrives: batches alone report nothing while the scan
// waits. The caller must stop it however the scan ends, since finish is
// only reached when the scan succeeded.
func (t *progressTracker) watch() {
	if t == nil || t.fn == nil {
		return
	}
	done, stopped := make(chan struct{}), make(chan struct{})
	t.mu.Lock()
	if t.stopWatch != nil {
		t.mu.Unlock()
		return
	}
	t.stopWatch = sync.OnceFunc(func() { close(done); <-stopped })
	t.mu.Unlock()
	go func() {
		defer close(stopped)
		tick := time.NewTicker(t.beat)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-tick.C:
				// Half a beat: a tick is skipped only just after a
				// batch's report, so reports are at most 1.5 beats apart.
				t.report(now, t.beat/2)
			}
		}
	}()
}

// stop ends watch's reports and waits for a report under way, so none
// follows finish's. Safe to call more than once, or without watch.
func (t *progressTracker) stop() {
	if t == nil {
		return
	}
	t.mu.Lock()
	f := t.stopWatch
	t.mu.Unlock()
	if f != nil {
		f()
	}
}

// finish reports the completed scan.
func (t *progressTracker) finish() {
	if t == nil || t.fn == nil {
		return
	}
	t.stop()
	t.mu.Lock()
	p := Progress{FilesDone: t.total, FilesTotal: t.total, RowsDone: t.rows, Elapsed: time.Since(t.start)}
	t.mu.Unlock()
	t.fn(p)
}

// Rate is rows per second so far.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.RowsDone) / p.Elapsed.Seconds()
}

// ETA estimates the time left from the share of files done; 0 when
// unknown (nothing done yet) or finished.
func (p Progress) ETA() time.Duration {
	if p.FilesDone <= 0 || p.FilesDone >= p.FilesTotal {
		return 0
	}
	left := float64(p.FilesTotal-p.FilesDone) / float64(p.FilesDone)
	return time.Duration(float64(p.Elapsed) * left).Round(time.Second)
}
