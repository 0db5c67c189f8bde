//go:build unix

package datasets

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/synth"
)

// logBenchSpec is the projection a full evaluation of the benchmark
// config reads from synth.LogRow files (19 of its 22 columns), its
// string columns' bytes recycled as eval.Engine.RecyclingProjection
// asks for them (no configured scorer reads them).
var logBenchSpec = recycleStrings(ScanSpec{Columns: []ColumnSpec{
	{Name: "request_id", Kind: KindString},
	{Name: "ts", Kind: KindTimestamp},
	{Name: "feature", Kind: KindString},
	{Name: "input_class", Kind: KindString},
	{Name: "legacy_category", Kind: KindString},
	{Name: "ai_category", Kind: KindString},
	{Name: "legacy_output", Kind: KindString},
	{Name: "ai_output", Kind: KindString},
	{Name: "ai_confidence", Kind: KindFloat64},
	{Name: "ai_model_version", Kind: KindString},
	{Name: "input_hash", Kind: KindString, PresenceOnly: true}, // as eval asks for it
	{Name: "legacy_latency_ms", Kind: KindFloat64},
	{Name: "ai_latency_ms", Kind: KindFloat64},
	{Name: "legacy_error", Kind: KindBool},
	{Name: "ai_error", Kind: KindBool},
	{Name: "legacy_cost", Kind: KindFloat64},
	{Name: "ai_cost", Kind: KindFloat64},
	{Name: "served_by", Kind: KindString},
	{Name: "label_category", Kind: KindString},
}, ReuseBuffers: true})

func recycleStrings(spec ScanSpec) ScanSpec {
	for i := range spec.Columns {
		c := &spec.Columns[i]
		c.RecycleStrings = c.Kind == KindString && !c.PresenceOnly
	}
	return spec
}

// writeLogBenchFile writes n synth.LogRow rows shaped like parity-bench's
// log (bench/gen): 128Ki-row row groups, snappy, distinct request ids and
// input hashes, JSON outputs for a third of the rows, categories for the
// rest, rare errors.
func writeLogBenchFile(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := parquet.NewGenericWriter[synth.LogRow](f, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(128<<10))
	r := rand.New(rand.NewPCG(1, 2))
	cats := []string{"billing", "shipping", "returns", "account", "fraud"}
	classes := []string{"email", "chat", "phone", "web"}
	day := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]synth.LogRow, 0, 4096)
	for i := range n {
		lr := synth.LogRow{
			RequestID:       "req-0-0-" + strconv.Itoa(i),
			TS:              day.Add(time.Duration(i) * time.Millisecond),
			Feature:         []string{"ticket_routing", "invoice_extraction", "refund_approval"}[r.IntN(3)],
			InputClass:      classes[r.IntN(len(classes))],
			AIModelVersion:  "v1",
			InputHash:       strconv.FormatUint(r.Uint64(), 16),
			InputTokens:     int64(r.IntN(2000)),
			LegacyLatencyMS: 40 * (1 + r.Float64()),
			AILatencyMS:     600 * (1 + r.Float64()),
			LegacyError:     r.Float64() < 0.01,
			AIError:         r.Float64() < 0.02,
			LegacyCost:      0.0002,
			AICost:          0.002 * (1 + r.Float64()),
			ServedBy:        "legacy",
			AIConfidence:    0.5 + 0.5*r.Float64(),
		}
		if lr.Feature == "invoice_extraction" {
			amount := float64(r.IntN(500_000)) / 100
			lr.LegacyOutput = fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"acme"}`, amount)
			lr.AIOutput = fmt.Sprintf(`{"amount":%.2f,"currency":"EUR","vendor":"acme"}`, amount+float64(r.IntN(2)))
		} else {
			lr.LegacyCategory = cats[r.IntN(len(cats))]
			lr.AICategory = cats[r.IntN(len(cats))]
			if r.Float64() < 0.4 {
				lr.LabelCategory = lr.LegacyCategory
			}
		}
		rows = append(rows, lr)
		if len(rows) == cap(rows) || i == n-1 {
			if _, err := w.Write(rows); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScanLog scans the 19 columns a full evaluation reads from a
// 1Mi-row shadow log laid out like parity-bench's (PLAIN/DELTA_LENGTH
// unique strings, dictionary categories, optional JSON documents,
// doubles, booleans), one worker, buffers recycled as the jobs do: the
// decoding part of a run's CPU. Compare cpu-ns/op (the process's user
// and system time per scan, which other processes on a shared machine
// disturb less than ns/op) and B/op.
func BenchmarkScanLog(b *testing.B) {
	const n = 1 << 20
	dir := b.TempDir()
	writeLogBenchFile(b, filepath.Join(dir, "logs.parquet"), n)
	s, _ := storeAt(b, dir)
	d := &Dataset{Store: s, Name: "bench"}
	files, err := d.Files(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	spec := logBenchSpec
	spec.Workers = 1
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for b.Loop() {
		scanRows(b, d, files, spec, n)
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
