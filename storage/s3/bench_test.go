package s3_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	s3store "github.com/parity-eval/parity/storage/s3"
	"github.com/parity-eval/parity/storage/storagetest"
)

// benchRow has 15 columns, shaped like a shadow-log record.
type benchRow struct {
	RequestID    int64     `parquet:"request_id"`
	TS           time.Time `parquet:"ts,timestamp(millisecond)"`
	Feature      string    `parquet:"feature,dict"`
	InputClass   string    `parquet:"input_class,dict"`
	Tenant       string    `parquet:"tenant,dict"`
	Region       string    `parquet:"region,dict"`
	LegacyLabel  string    `parquet:"legacy_label,dict"`
	AILabel      string    `parquet:"ai_label,dict"`
	Agree        bool      `parquet:"agree"`
	LegacyMS     float64   `parquet:"legacy_ms"`
	AIMS         float64   `parquet:"ai_ms"`
	AIScore      float64   `parquet:"ai_score"`
	LegacyError  bool      `parquet:"legacy_error"`
	AIError      bool      `parquet:"ai_error"`
	PayloadBytes int64     `parquet:"payload_bytes"`
}

// The 5 columns an agreement-by-class report needs.
var benchCols = []string{"feature", "input_class", "agree", "legacy_ms", "ai_ms"}

func benchParquet(b *testing.B, rows, perRG int) []byte {
	b.Helper()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[benchRow](&buf, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(int64(perRG)))
	feats := []string{"search", "summarise", "classify", "extract", "route", "translate"}
	classes := []string{"short", "long", "code", "table", "multilingual"}
	labels := []string{"accept", "reject", "escalate", "defer"}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]benchRow, 0, 4096)
	x := uint64(88172645463325252)
	rnd := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for i := range rows {
		r := rnd()
		ll, al := labels[r%4], labels[(r>>3)%4]
		if r%10 < 8 {
			al = ll
		}
		batch = append(batch, benchRow{
			RequestID: int64(i), TS: t0.Add(time.Duration(i) * 37 * time.Millisecond),
			Feature: feats[r%6], InputClass: classes[(r>>8)%5], Tenant: fmt.Sprintf("t%03d", (r>>16)%200),
			Region: []string{"eu", "us", "ap"}[(r>>24)%3], LegacyLabel: ll, AILabel: al, Agree: ll == al,
			LegacyMS: float64(r%5000) / 10, AIMS: float64((r>>20)%9000) / 10, AIScore: float64(r%1000) / 1000,
			LegacyError: r%97 == 0, AIError: r%89 == 0, PayloadBytes: int64(r % 100000),
		})
		if len(batch) == cap(batch) || i == rows-1 {
			if _, err := w.Write(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkRangedParquetRead reads 5 of 15 columns of a Parquet object on
// a real S3 server through Reader.ReadAt (one ranged GET each) and reports
// how many GETs that took and what fraction of the object they fetched,
// next to the ideal fraction (the 5 column chunks' share of the file).
func BenchmarkRangedParquetRead(b *testing.B) {
	const rows, perRG = 400_000, 100_000
	srv := storagetest.StartS3(b)
	s := newStore(b, srv, srv.Endpoint)
	ctx := context.Background()
	data := benchParquet(b, rows, perRG)
	if _, err := s.Put(ctx, "shadow/part-0.parquet", data); err != nil {
		b.Fatal(err)
	}
	// The ideal: just the needed column chunks' bytes.
	meta, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		b.Fatal(err)
	}
	var idx []int
	for _, name := range benchCols {
		leaf, ok := meta.Schema().Lookup(name)
		if !ok {
			b.Fatalf("column %s missing", name)
		}
		idx = append(idx, leaf.ColumnIndex)
	}
	var ideal int64
	for _, rg := range meta.Metadata().RowGroups {
		for _, i := range idx {
			ideal += rg.Columns[i].MetaData.TotalCompressedSize
		}
	}

	for _, v := range []struct {
		name string
		opts []parquet.FileOption
	}{
		{"buf=4MiB", []parquet.FileOption{parquet.ReadBufferSize(4 << 20)}},
		{"buf=4MiB,skip-index", []parquet.FileOption{parquet.ReadBufferSize(4 << 20), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true)}},
		{"buf=4KiB(default)", nil},
	} {
		b.Run(v.name, func(b *testing.B) {
			var gets, fetched int64
			b.ReportAllocs()
			for b.Loop() {
				g, n := readColumns(b, s, "shadow/part-0.parquet", idx, rows, v.opts)
				gets += g
				fetched += n
			}
			b.ReportMetric(float64(gets)/float64(b.N), "GETs/op")
			b.ReportMetric(float64(fetched)/float64(b.N)/float64(len(data)), "fetched/size")
			b.ReportMetric(float64(ideal)/float64(len(data)), "ideal/size")
			b.ReportMetric(float64(len(data))/(1<<20), "objectMiB")
		})
	}
}

// readColumns opens key and decodes every page of the chosen columns,
// returning the GETs made and bytes fetched.
func readColumns(b *testing.B, s *s3store.Store, key string, idx []int, rows int, opts []parquet.FileOption) (int64, int64) {
	r, err := s.OpenReader(context.Background(), key)
	if err != nil {
		b.Fatal(err)
	}
	f, err := parquet.OpenFile(r, r.Size(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	values := 0
	for _, rg := range f.RowGroups() {
		for _, i := range idx {
			pages := rg.ColumnChunks()[i].Pages()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				values += int(p.NumValues())
				parquet.Release(p)
			}
			pages.Close()
		}
	}
	if values != rows*len(idx) {
		b.Fatalf("read %d values, want %d", values, rows*len(idx))
	}
	return r.Stats()
}
