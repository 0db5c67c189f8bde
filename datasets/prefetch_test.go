package datasets

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/storage"
)

// rowGroupsRead lists the row groups a read started at one of whose
// column chunks (a fetch reads each chunk whole from its start; the
// footer read, which may overlap the last row group, starts elsewhere).
func (s *slowRemote) rowGroupsRead(f *parquet.File) map[int]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]bool{}
	for _, off := range s.offs {
		for rg, g := range f.Metadata().RowGroups {
			for _, c := range g.Columns {
				md := c.MetaData
				start := md.DataPageOffset
				if md.DictionaryPageOffset != 0 {
					start = md.DictionaryPageOffset
				}
				if off == start {
					out[rg] = true
				}
			}
		}
	}
	return out
}

// TestRemotePrefetchesOneRowGroupAhead: on a remote store a worker
// fetches its next row group while its current one is being scored, and
// no further: while the first batch is held, row groups 0 and 1 have
// been read and 2 and 3 have not; the scan reads the fixture right.
func TestRemotePrefetchesOneRowGroupAhead(t *testing.T) {
	s, dir := store(t)
	path := filepath.Join(dir, "p.parquet")
	// Uncompressed and 5,000-row row groups, so the column chunks lie
	// outside the footer read.
	parquettest.WriteGo(t, path, goRows(20000), parquet.MaxRowsPerRowGroup(5000), parquet.Compression(&parquet.Uncompressed))
	pf := openParquet(t, path)
	if n := len(pf.RowGroups()); n != 4 {
		t.Fatalf("%d row groups, want 4", n)
	}

	slow := &slowRemote{Store: s}
	d := &Dataset{Store: slow}
	files := listFiles(t, d)
	spec := fullSpec(true)
	spec.Workers = 1
	var seen []map[int]bool
	_, err := d.Scan(context.Background(), files, spec, func(w int, b *Batch) error {
		if b.RowGroup == 0 {
			// Wait for the prefetch of row group 1 (2 ms a read; up to
			// 10 s on a loaded machine), then long enough for a second
			// one, were there one, to start.
			for end := time.Now().Add(10 * time.Second); !slow.rowGroupsRead(pf)[1] && time.Now().Before(end); {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			seen = append(seen, slow.rowGroupsRead(pf))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tab, _ := scanAll(t, d, files, spec)
	checkFixture(t, tab, 20000, true)
	if len(seen) != 1 {
		t.Fatalf("row group 0 delivered %d times", len(seen))
	}
	if got := seen[0]; !got[0] || !got[1] || got[2] || got[3] {
		t.Errorf("row groups read while the first batch was held: %v; want 0 and 1 only", got)
	}
}

// TestInspectFootprint: on a remote store Inspect reports the largest row
// group's projected compressed column chunks (what a worker's fetch
// holds), on a local one nothing.
func TestInspectFootprint(t *testing.T) {
	s, dir := store(t)
	path := filepath.Join(dir, "p.parquet")
	// Row groups of 5,000 and 3,000 rows: the first is the largest.
	parquettest.WriteGo(t, path, goRows(8000), parquet.MaxRowsPerRowGroup(5000), parquet.Compression(&parquet.Uncompressed))
	pf := openParquet(t, path)
	spec := fullSpec(true)
	var want int64
	for _, g := range pf.Metadata().RowGroups {
		var n int64
		for _, c := range g.Columns {
			for _, cs := range spec.Columns {
				if strings.Join(c.MetaData.PathInSchema, ".") == cs.Name {
					n += c.MetaData.TotalCompressedSize
				}
			}
		}
		want = max(want, n)
	}
	if want == 0 {
		t.Fatal("fixture: no projected column chunks")
	}
	for _, c := range []struct {
		name string
		st   storage.Store
		want int64
	}{{"remote", &slowRemote{Store: s}, want}, {"local", s, 0}} {
		d := &Dataset{Store: c.st}
		fp, err := d.Inspect(context.Background(), listFiles(t, d), spec)
		if err != nil {
			t.Fatal(err)
		}
		if fp.FetchBytes != c.want {
			t.Errorf("%s: FetchBytes %d, want %d", c.name, fp.FetchBytes, c.want)
		}
	}
}
