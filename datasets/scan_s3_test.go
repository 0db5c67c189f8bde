package datasets

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// TestScanS3 runs the same Files/Check/Scan path against a real S3 server
// (versitygw, or PARITY_TEST_S3_ENDPOINT): partition pruning through
// ListLevel with a delimiter, footers and column chunks through ranged
// GETs, and the manifest's byte counts against the store's own counters.
func TestScanS3(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no S3 server")
	}
	srv := storagetest.StartS3(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	st, err := s3store.New(ctx, s3store.Config{
		Bucket: bucket, Prefix: "shadow", Endpoint: srv.Endpoint, Region: srv.Region,
		Credentials: srv.Credentials(), PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	local := t.TempDir()
	upload := func(key string) {
		b, err := os.ReadFile(filepath.Join(local, key))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Put(ctx, key, b); err != nil {
			t.Fatal(err)
		}
	}
	// hour=06 holds the fixture from both writers; hour=07 and another day are pruned.
	fixtures := []struct {
		key         string
		arrowWriter bool
	}{
		{"logs/dt=2026-11-21/hour=06/part-0.parquet", false},
		{"logs/dt=2026-11-21/hour=06/part-1.parquet", true},
		{"logs/dt=2026-11-21/hour=07/part-0.parquet", false},
		{"logs/dt=2026-11-22/hour=06/part-0.parquet", false},
	}
	for _, f := range fixtures {
		p := filepath.Join(local, f.key)
		if f.arrowWriter {
			parquettest.WriteArrow(t, p, arrowCols(n), parquettest.ArrowOptions{RowGroupRows: 500})
		} else {
			parquettest.WriteGo(t, p, goRows(n), parquet.MaxRowsPerRowGroup(500), parquet.Compression(&parquet.Zstd))
		}
		upload(f.key)
	}
	if _, err := st.Put(ctx, "logs/dt=2026-11-21/hour=06/_SUCCESS", nil); err != nil {
		t.Fatal(err)
	}

	d := &Dataset{Store: st, Prefix: "logs", Name: "logs"}
	files, err := d.Files(ctx, base, base.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Key != fixtures[0].key || files[1].Key != fixtures[1].key {
		t.Fatalf("Files = %+v, want the two hour=06 files of 2026-11-21", files)
	}
	spec := fullSpec(false)
	if err := d.Check(ctx, files, spec); err != nil {
		t.Fatalf("Check: %v", err)
	}

	before := st.Stats()
	tab, m := scanAll(t, d, files[:1], spec)
	checkFixture(t, tab, n, false)
	after := st.Stats()

	fi := m.Files[0]
	if !strings.HasPrefix(fi.Location, "s3://"+bucket+"/shadow/logs/dt=2026-11-21/hour=06/") || fi.ETag == "" || fi.RowsRead != n {
		t.Errorf("manifest %+v", fi)
	}
	gets, fetched := after.RangeGETs-before.RangeGETs, after.BytesFetched-before.BytesFetched
	if fi.BytesRead != fetched {
		t.Errorf("manifest BytesRead %d, store fetched %d", fi.BytesRead, fetched)
	}
	// One GET for the footer, then one per projected column chunk: the
	// whole chunk is fetched at once. 16 projected leaves × 4 row groups.
	if max := int64(1 + 16*4); gets > max {
		t.Errorf("scan made %d ranged GETs, want at most %d", gets, max)
	}
	t.Logf("S3 scan of %d rows: %d ranged GETs, %d of %d bytes", n, gets, fetched, fi.Size)

	// The arrow-written file reads the same through S3.
	tab, _ = scanAll(t, d, files[1:], spec)
	checkFixture(t, tab, n, false)
}
