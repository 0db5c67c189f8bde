package datasets

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/storage"
)

// recordingStore records every key or folder a reader touches, to prove
// pruned partitions are never listed or opened.
type recordingStore struct {
	storage.Store
	mu      sync.Mutex
	touched []string
}

func (r *recordingStore) note(s string) {
	r.mu.Lock()
	r.touched = append(r.touched, s)
	r.mu.Unlock()
}

func (r *recordingStore) List(ctx context.Context, prefix string) ([]storage.Object, error) {
	r.note("list " + prefix)
	return r.Store.List(ctx, prefix)
}

func (r *recordingStore) ListLevel(ctx context.Context, dir string) ([]string, []storage.Object, error) {
	r.note("level " + dir)
	return r.Store.ListLevel(ctx, dir)
}

func (r *recordingStore) Open(ctx context.Context, key string) (storage.Reader, error) {
	r.note("open " + key)
	return r.Store.Open(ctx, key)
}

func TestFilesPrunesHivePartitions(t *testing.T) {
	s, dir := store(t)
	rows := goRows(20)
	for _, key := range []string{
		"logs/dt=2026-11-20/hour=23/part-0.parquet",
		"logs/dt=2026-11-21/hour=00/part-0.parquet",
		"logs/dt=2026-11-21/hour=01/part-0.parquet",
		"logs/dt=2026-11-21/hour=01/part-1.parquet",
		"logs/dt=2026-11-21/hour=02/part-0.parquet",
		"logs/dt=2026-11-21/hour=03/part-0.parquet",
		"logs/dt=2026-11-22/part-0.parquet",
		"logs/model=a/date=2026-11-21/part-0.parquet", // non-time key above a date: walked, date pruned
		"logs/model=a/date=2026-11-25/part-0.parquet",
		"other/dt=2026-11-21/hour=01/part-0.parquet", // outside the prefix
	} {
		parquettest.WriteGo(t, filepath.Join(dir, key), rows)
	}
	parquettest.WriteArrow(t, filepath.Join(dir, "logs/dt=2026-11-21/hour=02/part-1.parquet"), arrowCols(20), parquettest.ArrowOptions{})
	for key, body := range map[string]string{
		"logs/_SUCCESS": "",
		"logs/dt=2026-11-21/hour=01/.part-0.parquet.crc":         "crc",
		"logs/dt=2026-11-21/hour=01/_temporary/0/part-9.parquet": "partial",
		"logs/dt=2026-11-23/hour=00/notes.txt":                   "not parquet, but pruned so never opened",
	} {
		p := filepath.Join(dir, key)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	keys := func(objs []storage.Object) []string {
		var out []string
		for _, o := range objs {
			out = append(out, o.Key)
		}
		return out
	}

	rec := &recordingStore{Store: s}
	d := &Dataset{Store: rec, Prefix: "logs/", Name: "logs"}
	from, to := time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	files, err := d.Files(ctx, from, to)
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	want := []string{
		"logs/dt=2026-11-21/hour=01/part-0.parquet",
		"logs/dt=2026-11-21/hour=01/part-1.parquet",
		"logs/dt=2026-11-21/hour=02/part-0.parquet",
		"logs/dt=2026-11-21/hour=02/part-1.parquet",
		"logs/model=a/date=2026-11-21/part-0.parquet",
	}
	if got := keys(files); !slices.Equal(got, want) {
		t.Errorf("Files = %v\nwant %v", got, want)
	}
	for _, op := range rec.touched {
		for _, pruned := range []string{"dt=2026-11-20", "hour=00", "hour=03", "dt=2026-11-22", "dt=2026-11-23", "date=2026-11-25", "_temporary", "other/"} {
			if strings.Contains(op, pruned) {
				t.Errorf("pruned partition touched: %s", op)
			}
		}
	}

	// An open-ended window keeps everything from its start on.
	files, err = d.Files(ctx, time.Date(2026, 11, 21, 23, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(files); !slices.Equal(got, []string{"logs/dt=2026-11-22/part-0.parquet", "logs/model=a/date=2026-11-21/part-0.parquet"}) {
		t.Errorf("Files(21T23, 22T12) = %v", got)
	}

	// No window: everything is listed, and the stray text file is an error naming it.
	_, err = d.Files(ctx, time.Time{}, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "logs/dt=2026-11-23/hour=00/notes.txt: not a Parquet file (no PAR1 magic)") {
		t.Errorf("Files() = %v, want notes.txt named as not Parquet", err)
	}

	// The pruned files scan; the partition folders are not columns.
	files, _ = d.Files(ctx, from, to)
	tab, m := scanAll(t, d, files, ScanSpec{Columns: []ColumnSpec{{Name: "category", Kind: KindString}}})
	if tab.rows != 5*20 || len(m.Files) != 5 {
		t.Errorf("scanned %d rows from %d files, want 100 from 5", tab.rows, len(m.Files))
	}
}

func TestFilesFlatDatasetWithWindow(t *testing.T) {
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "b.parquet"), goRows(5), parquet.Compression(&parquet.Zstd))
	parquettest.WriteGo(t, filepath.Join(dir, "a.parquet"), goRows(5))
	d := &Dataset{Store: s}
	files, err := d.Files(context.Background(), base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Key != "a.parquet" || files[1].Key != "b.parquet" {
		t.Errorf("Files = %+v, want a.parquet, b.parquet", files)
	}
}

func TestPartitionRange(t *testing.T) {
	day := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		day    time.Time
		lo, hi time.Time
		ok     bool
	}{
		{"dt=2026-11-21", time.Time{}, day, day.Add(24 * time.Hour), true},
		{"DATE=2026-11-21", time.Time{}, day, day.Add(24 * time.Hour), true},
		{"hour=06", day, day.Add(6 * time.Hour), day.Add(7 * time.Hour), true},
		{"hour=06", time.Time{}, time.Time{}, time.Time{}, false}, // no date above: unknown
		{"hour=24", day, time.Time{}, time.Time{}, false},
		{"dt=__HIVE_DEFAULT_PARTITION__", time.Time{}, time.Time{}, time.Time{}, false},
		{"model=a", time.Time{}, time.Time{}, time.Time{}, false},
		{"plain", time.Time{}, time.Time{}, time.Time{}, false},
	} {
		lo, hi, ok := partitionRange(tc.name, tc.day)
		if ok != tc.ok || !lo.Equal(tc.lo) || !hi.Equal(tc.hi) {
			t.Errorf("partitionRange(%q, %v) = %v, %v, %v; want %v, %v, %v", tc.name, tc.day, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}

// countingStore tracks how many objects are open at once.
type countingStore struct {
	storage.Store
	open, peak atomic.Int64
}

type countedReader struct {
	storage.Reader
	s    *countingStore
	once sync.Once
}

func (r *countedReader) Close() error {
	r.once.Do(func() { r.s.open.Add(-1) })
	return r.Reader.Close()
}

func (c *countingStore) Open(ctx context.Context, key string) (storage.Reader, error) {
	r, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	n := c.open.Add(1)
	for {
		p := c.peak.Load()
		if n <= p || c.peak.CompareAndSwap(p, n) {
			break
		}
	}
	return &countedReader{Reader: r, s: c}, nil
}

// TestScanKeepsFewFilesOpen: open footers (and so memory) stay bounded by
// the worker count, not by the number of files, and every file is closed.
func TestScanKeepsFewFilesOpen(t *testing.T) {
	s, dir := store(t)
	for i := range 24 {
		parquettest.WriteGo(t, filepath.Join(dir, fmt.Sprintf("p%02d.parquet", i)), goRows(200), parquet.MaxRowsPerRowGroup(50))
	}
	cs := &countingStore{Store: s}
	d := &Dataset{Store: cs}
	files := listFiles(t, d)
	cs.peak.Store(0)
	for _, w := range []int{1, 2} {
		spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, Workers: w}
		rows := atomic.Int64{}
		if _, err := d.Scan(context.Background(), files, spec, func(_ int, b *Batch) error {
			time.Sleep(100 * time.Microsecond) // a slow consumer lets the producer run ahead
			rows.Add(int64(b.Rows))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if rows.Load() != 24*200 {
			t.Fatalf("read %d rows", rows.Load())
		}
		if open := cs.open.Load(); open != 0 {
			t.Errorf("workers=%d: %d files left open", w, open)
		}
		if peak := cs.peak.Load(); peak > int64(3*w+3) {
			t.Errorf("workers=%d: %d files open at once; want at most %d", w, peak, 3*w+3)
		}
		t.Logf("workers=%d: at most %d of 24 files open at once", w, cs.peak.Load())
		cs.peak.Store(0)
	}
}

// slowRemote makes a local store look remote (URI with a scheme) and slow,
// and records how many reads overlap and where each started.
type slowRemote struct {
	storage.Store
	inFlight, peak atomic.Int64
	mu             sync.Mutex
	offs           []int64
}

func (s *slowRemote) URI() string { return "mem://slow" }

func (s *slowRemote) Open(ctx context.Context, key string) (storage.Reader, error) {
	r, err := s.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &slowReader{Reader: r, s: s}, nil
}

type slowReader struct {
	storage.Reader
	s *slowRemote
}

func (r *slowReader) ReadAt(p []byte, off int64) (int, error) {
	r.s.mu.Lock()
	r.s.offs = append(r.s.offs, off)
	r.s.mu.Unlock()
	n := r.s.inFlight.Add(1)
	defer r.s.inFlight.Add(-1)
	for {
		p := r.s.peak.Load()
		if n <= p || r.s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	time.Sleep(2 * time.Millisecond) // a round trip, so concurrent reads overlap
	return r.Reader.ReadAt(p, off)
}

// TestRemoteFetchesColumnChunksConcurrently: on a remote store one worker
// fetches a row group's projected column chunks in parallel, and the
// result is the same as reading locally.
func TestRemoteFetchesColumnChunksConcurrently(t *testing.T) {
	s, dir := store(t)
	// 200 KiB+ per file so the column chunks lie outside the footer read.
	parquettest.WriteGo(t, filepath.Join(dir, "p.parquet"), goRows(20000), parquet.MaxRowsPerRowGroup(5000), parquet.Compression(&parquet.Uncompressed))
	slow := &slowRemote{Store: s}
	d := &Dataset{Store: slow}
	files := listFiles(t, d)
	slow.peak.Store(0)
	spec := fullSpec(true)
	spec.Workers = 1
	tab, m := scanAll(t, d, files, spec)
	checkFixture(t, tab, 20000, true)
	if peak := slow.peak.Load(); peak < 8 {
		t.Errorf("at most %d reads in flight with one worker; want the row group's column chunks fetched together", peak)
	}
	if !strings.HasPrefix(m.Files[0].Location, "mem://slow/") {
		t.Errorf("location %q", m.Files[0].Location)
	}
}
