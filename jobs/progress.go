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

// progressTracker counts a scan's batches for Options.Progress. Scan
// hands out row groups in key order, so a file counts as done once a
// batch of a later file has been seen (an estimate while workers overlap
// on neighbouring files; exact at the end).
type progressTracker struct {
	fn    func(Progress)
	start time.Time
	total int
	order map[string]int // file key -> position in key order

	mu       sync.Mutex
	furthest int // highest key position seen
	rows     int64
	last     time.Time
}

func newProgressTracker(fn func(Progress), keys []string) *progressTracker {
	t := &progressTracker{fn: fn, start: time.Now(), total: len(keys), order: map[string]int{}, furthest: -1}
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
		now := time.Now()
		var p *Progress
		if now.Sub(t.last) >= progressEvery {
			t.last = now
			p = &Progress{FilesDone: max(t.furthest, 0), FilesTotal: t.total, RowsDone: t.rows, Elapsed: now.Sub(t.start)}
		}
		t.mu.Unlock()
		if p != nil {
			t.fn(*p)
		}
		return err
	}
}

// finish reports the completed scan.
func (t *progressTracker) finish() {
	if t == nil || t.fn == nil {
		return
	}
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
