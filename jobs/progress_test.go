package jobs

import (
	"sync"
	"testing"
	"time"

	"github.com/parity-eval/parity/datasets"
)

// A watched scan keeps reporting while no batch arrives (an S3 GET that
// hangs, before the first batch or between two), with the same counts
// and a later Elapsed, so a stalled scan can be told from a dead one;
// stop ends the reports, and finish's is the last.
func TestProgressWhileStalled(t *testing.T) {
	var mu sync.Mutex
	var got []Progress
	pt := newProgressTracker(func(p Progress) {
		mu.Lock()
		got = append(got, p)
		mu.Unlock()
	}, []string{"a.parquet", "b.parquet", "c.parquet"})
	pt.beat = 10 * time.Millisecond
	reports := func() []Progress {
		mu.Lock()
		defer mu.Unlock()
		return append([]Progress(nil), got...)
	}
	// waitFor waits until n reports have rows rows; the limit is
	// generous: the beat is 10ms.
	waitFor := func(n int, rows int64) []Progress {
		t.Helper()
		for limit := time.Now().Add(10 * time.Second); time.Now().Before(limit); time.Sleep(time.Millisecond) {
			ps, k := reports(), 0
			for _, p := range ps {
				if p.RowsDone == rows {
					k++
				}
			}
			if k >= n {
				return ps
			}
		}
		t.Fatalf("no %d reports of %d rows in 10s while the scan stalled: %+v", n, rows, reports())
		return nil
	}
	pt.watch()
	defer pt.stop()
	batch := pt.wrap(func(int, *datasets.Batch) error { return nil })

	// Stalled before the first batch, then after one.
	waitFor(3, 0)
	if err := batch(0, &datasets.Batch{File: "b.parquet", Rows: 7}); err != nil {
		t.Fatal(err)
	}
	ps := waitFor(3, 7)
	for i, p := range ps {
		if p.FilesTotal != 3 || !(p.RowsDone == 0 && p.FilesDone == 0 || p.RowsDone == 7 && p.FilesDone == 1) {
			t.Errorf("report %d: %+v", i, p)
		}
		if i > 0 && (p.Elapsed <= ps[i-1].Elapsed || p.RowsDone < ps[i-1].RowsDone) {
			t.Errorf("report %d %+v after %+v", i, p, ps[i-1])
		}
	}

	pt.finish()
	ps = reports()
	if last := ps[len(ps)-1]; last.FilesDone != 3 || last.RowsDone != 7 {
		t.Errorf("last report %+v, want the finished scan's", last)
	}
	// finish waited for the watcher to return: nothing follows.
	time.Sleep(5 * pt.beat)
	if after := reports(); len(after) != len(ps) {
		t.Errorf("%d reports after finish: %+v", len(after)-len(ps), after[len(ps):])
	}
}
