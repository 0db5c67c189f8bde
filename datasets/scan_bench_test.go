package datasets

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/storage"
)

// benchRow is a shadow-log row: 11 columns, of which the benchmark reads 8.
type benchRow struct {
	TS           time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature      string    `parquet:"feature,dict"`
	InputClass   string    `parquet:"input_class,dict"`
	AIOutput     string    `parquet:"ai_output,dict"`
	LegacyOutput string    `parquet:"legacy_output,dict"`
	AILatency    float64   `parquet:"ai_latency_ms"`
	LegacyLat    float64   `parquet:"legacy_latency_ms"`
	Label        *string   `parquet:"label,optional,dict"`
	RequestID    string    `parquet:"request_id"`
	Prompt       string    `parquet:"prompt"`
	Tokens       int64     `parquet:"tokens"`
}

// benchProj is the 8-column projection, as GenericReader needs it.
type benchProj struct {
	TS           time.Time `parquet:"ts,timestamp(microsecond)"`
	Feature      string    `parquet:"feature"`
	InputClass   string    `parquet:"input_class"`
	AIOutput     string    `parquet:"ai_output"`
	LegacyOutput string    `parquet:"legacy_output"`
	AILatency    float64   `parquet:"ai_latency_ms"`
	LegacyLat    float64   `parquet:"legacy_latency_ms"`
	Label        *string   `parquet:"label,optional"`
}

var benchSpec = ScanSpec{Columns: []ColumnSpec{
	{Name: "ts", Kind: KindTimestamp},
	{Name: "feature", Kind: KindString},
	{Name: "input_class", Kind: KindString},
	{Name: "ai_output", Kind: KindString},
	{Name: "legacy_output", Kind: KindString},
	{Name: "ai_latency_ms", Kind: KindFloat64},
	{Name: "legacy_latency_ms", Kind: KindFloat64},
	{Name: "label", Kind: KindString},
}}

func writeBenchFile(b *testing.B, path string, n int) { writeBenchFileRG(b, path, n, 500_000) }

func writeBenchFileRG(b *testing.B, path string, n, perRG int) {
	features := []string{"triage", "summarise", "classify", "extract"}
	classes := []string{"short", "long", "multilingual", "code", "table", "other"}
	outs := []string{"billing", "shipping", "returns", "account", "fraud", "other", "unknown", "escalate"}
	labels := []string{"billing", "shipping", "returns", "account"}
	chunk := min(n, 100_000)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := parquet.NewGenericWriter[benchRow](f, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(int64(perRG)))
	rows := make([]benchRow, chunk)
	for off := 0; off < n; off += chunk {
		for j := range rows {
			i := off + j
			r := benchRow{
				TS:           base.Add(time.Duration(i) * time.Millisecond),
				Feature:      features[i%len(features)],
				InputClass:   classes[(i/7)%len(classes)],
				AIOutput:     outs[(i*31)%len(outs)],
				LegacyOutput: outs[(i*17)%len(outs)],
				AILatency:    float64(i%900) + 0.25,
				LegacyLat:    float64(i%1300) + 0.5,
				RequestID:    fmt.Sprintf("req-%09d", i),
				Prompt:       "please route this customer message to the right queue",
				Tokens:       int64(i % 4096),
			}
			if i%3 != 0 {
				r.Label = &labels[i%len(labels)]
			}
			rows[j] = r
		}
		if _, err := w.Write(rows); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScan reads 8 of 11 columns of a 2M-row, 4-row-group snappy
// file with Scan (1 worker and GOMAXPROCS workers) and with parquet-go's
// GenericReader into a projected struct, the baseline the page-level
// scan replaces. Compare the rows/s metrics of the sub-benchmarks.
// "distinct-plain-strings" reads one PLAIN column of 2M distinct values,
// "repeated-plain-strings" one PLAIN column of a single repeated value.
func BenchmarkScan(b *testing.B) {
	const n = 2_000_000
	dir := b.TempDir()
	writeBenchFile(b, filepath.Join(dir, "logs.parquet"), n)
	s, _ := storeAt(b, dir)
	d := &Dataset{Store: s, Name: "bench"}
	files, err := d.Files(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}

	for _, w := range []int{1, 0} {
		name := fmt.Sprintf("Scan/workers=%d", w)
		if w == 0 {
			name = "Scan/workers=GOMAXPROCS"
		}
		b.Run(name, func(b *testing.B) {
			spec := benchSpec
			spec.Workers = w
			b.ReportAllocs()
			for b.Loop() {
				var rows, agree atomic.Int64
				_, err := d.Scan(context.Background(), files, spec, func(_ int, bt *Batch) error {
					// Touch the data the way a scorer would: compare two string columns.
					ai, lg := bt.Cols[3], bt.Cols[4]
					var a int64
					for i := range bt.Rows {
						if ai.Dict[ai.Codes[i]] == lg.Dict[lg.Codes[i]] {
							a++
						}
					}
					agree.Add(a)
					rows.Add(int64(bt.Rows))
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
				if rows.Load() != n || agree.Load() == 0 {
					b.Fatalf("read %d rows (%d agreeing), want %d", rows.Load(), agree.Load(), n)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}

	// A high-cardinality PLAIN string column (request ids, all distinct)
	// was the slow case while every value was interned into Dict; its
	// values now get fresh codes, one string copy per page.
	b.Run("Scan/distinct-plain-strings", func(b *testing.B) {
		spec := ScanSpec{Columns: []ColumnSpec{{Name: "request_id", Kind: KindString}}, Workers: 1}
		b.ReportAllocs()
		for b.Loop() {
			var dict atomic.Int64
			if _, err := d.Scan(context.Background(), files, spec, func(_ int, bt *Batch) error {
				dict.Add(int64(len(bt.Cols[0].Dict)))
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if dict.Load() != n {
				b.Fatalf("%d distinct request ids, want %d", dict.Load(), n)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})

	// A low-cardinality PLAIN column is still deduplicated.
	b.Run("Scan/repeated-plain-strings", func(b *testing.B) {
		spec := ScanSpec{Columns: []ColumnSpec{{Name: "prompt", Kind: KindString}}, Workers: 1}
		b.ReportAllocs()
		for b.Loop() {
			var dict atomic.Int64
			if _, err := d.Scan(context.Background(), files, spec, func(_ int, bt *Batch) error {
				dict.Add(int64(len(bt.Cols[0].Dict)))
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if dict.Load() != 4 { // one per row group
				b.Fatalf("%d dictionary entries for one value in 4 row groups", dict.Load())
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})

	b.Run("GenericReader", func(b *testing.B) {
		b.ReportAllocs()
		buf := make([]benchProj, 4096)
		for b.Loop() {
			f, err := os.Open(filepath.Join(dir, "logs.parquet"))
			if err != nil {
				b.Fatal(err)
			}
			r := parquet.NewGenericReader[benchProj](f)
			rows, agree := 0, 0
			for {
				k, err := r.Read(buf)
				for _, p := range buf[:k] {
					if p.AIOutput == p.LegacyOutput {
						agree++
					}
				}
				rows += k
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			r.Close()
			f.Close()
			if rows != n || agree == 0 {
				b.Fatalf("read %d rows, want %d", rows, n)
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// localSlow is slowRemote with a local-looking URI, so Scan reads column
// chunks one at a time as it does for local files.
type localSlow struct{ *slowRemote }

func (l localSlow) URI() string { return "/slow" }

// BenchmarkScanLatency reads 8 columns of a 4-row-group file through a
// store that adds a 2 ms round trip to every read, as S3 does (~10-30 ms
// in practice): "parallel-chunks" is Scan's remote path (a row group's
// column chunks fetched together, the next row group's while the current
// one is handled), "sequential-chunks" the local path on the same slow
// store. "+work" adds 2 ms of CPU per batch, standing in for scoring: the
// remote path then overlaps the next fetch with it (prefetch), ideally
// costing max(round trip, work) per row group instead of their sum. One
// worker, so the gaps are latency hiding alone.
func BenchmarkScanLatency(b *testing.B) {
	const n = 200_000
	dir := b.TempDir()
	writeBenchFileRG(b, filepath.Join(dir, "logs.parquet"), n, n/4)
	s, _ := storeAt(b, dir)
	slow := &slowRemote{Store: s}
	work := func(int, *Batch) error {
		for t := time.Now(); time.Since(t) < 2*time.Millisecond; {
		}
		return nil
	}
	none := func(int, *Batch) error { return nil }
	for _, c := range []struct {
		name string
		st   storage.Store
		fn   func(int, *Batch) error
	}{
		{"parallel-chunks", slow, none}, {"sequential-chunks", localSlow{slow}, none},
		{"parallel-chunks+work", slow, work}, {"sequential-chunks+work", localSlow{slow}, work},
	} {
		b.Run(c.name, func(b *testing.B) {
			d := &Dataset{Store: c.st}
			files, err := d.Files(context.Background(), time.Time{}, time.Time{})
			if err != nil {
				b.Fatal(err)
			}
			spec := benchSpec
			spec.Workers = 1
			for b.Loop() {
				if _, err := d.Scan(context.Background(), files, spec, c.fn); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkScanReuse reads the 8-column projection of a 2M-row file in
// row groups of 128Ki rows (as parity-bench writes them) with and
// without ScanSpec.ReuseBuffers, GOMAXPROCS workers. The scan allocates
// fresh column slices per row group unless they are recycled; compare
// B/op and ns/op of the two.
func BenchmarkScanReuse(b *testing.B) {
	const n = 2_000_000
	dir := b.TempDir()
	writeBenchFileRG(b, filepath.Join(dir, "logs.parquet"), n, 128<<10)
	s, _ := storeAt(b, dir)
	d := &Dataset{Store: s, Name: "bench"}
	files, err := d.Files(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	for _, reuse := range []bool{false, true} {
		b.Run(fmt.Sprintf("reuse=%v", reuse), func(b *testing.B) {
			spec := benchSpec
			spec.ReuseBuffers = reuse
			b.ReportAllocs()
			for b.Loop() {
				scanRows(b, d, files, spec, n)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkNulls expands pages of 16Ki values with a third of them
// present at random (as in the bench log's JSON output columns) and
// counts their present values: "branchy" is the byte-at-a-time, branch
// per row form the decoder used before (spreadSimple, a loop), "decoder"
// what it uses now (countLevel, spread). The pages cycle through 16Mi
// levels so that the branch predictor cannot learn one page's pattern.
func BenchmarkNulls(b *testing.B) {
	const n, total = 16 << 10, 16 << 20
	r := rand.New(rand.NewPCG(5, 6))
	levels := make([]byte, total)
	for i := range levels {
		if r.IntN(3) == 0 {
			levels[i] = 1
		}
	}
	vals, null := make([]int32, n), make([]bool, n)
	b.Run("branchy", func(b *testing.B) {
		off := 0
		for b.Loop() {
			defs := levels[off : off+n]
			off = (off + n) % total
			nn := 0
			for _, l := range defs {
				if l == 1 {
					nn++
				}
			}
			clear(null)
			spreadSimple(vals, nn, defs, 1, null)
		}
	})
	b.Run("decoder", func(b *testing.B) {
		off := 0
		for b.Loop() {
			defs := levels[off : off+n]
			off = (off + n) % total
			nn := countLevel(defs, 1)
			clear(null)
			spread(asBits[int32, uint32](vals), nn, defs, 1, null)
		}
	})
}

// BenchmarkUnpackBools unpacks a 128Ki-value page of bit-packed booleans
// (one of the bench log's error columns): "simple" is the shift per value
// the decoder used before (unpackBoolsSimple), "table" what it uses now.
func BenchmarkUnpackBools(b *testing.B) {
	const n = 128 << 10
	r := rand.New(rand.NewPCG(9, 10))
	bits := make([]byte, n/8)
	for i := range bits {
		bits[i] = byte(r.Uint32())
	}
	dst := make([]bool, n)
	b.Run("simple", func(b *testing.B) {
		for b.Loop() {
			unpackBoolsSimple(dst, bits)
		}
	})
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			unpackBools(dst, bits)
		}
	})
}

// scanRows scans files and fails unless it read n rows: a benchmark's
// loop body when only the decoding is measured.
func scanRows(b *testing.B, d *Dataset, files []storage.Object, spec ScanSpec, n int64) {
	var rows atomic.Int64
	if _, err := d.Scan(context.Background(), files, spec, func(_ int, bt *Batch) error {
		rows.Add(int64(bt.Rows))
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if rows.Load() != n {
		b.Fatalf("read %d rows, want %d", rows.Load(), n)
	}
}
