package reports

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// BenchmarkEncodeScores encodes a window's score rows as a benchmark
// log's window has them (3 features × 5 classes × ~170 metrics) with the
// codec EncodeScores uses and, for comparison, zstd's default level.
// Compare ns/op and B/file.
func BenchmarkEncodeScores(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var rows []ScoreRow
	for f := range 3 {
		for c := range 5 {
			for m := range 170 {
				v := r.Float64()
				rows = append(rows, ScoreRow{Feature: fmt.Sprint("feature-", f), InputClass: fmt.Sprint("class-", c),
					WindowStart: start, WindowEnd: start.Add(24 * time.Hour), Metric: fmt.Sprint("metric.", m),
					Value: &v, CILow: &v, CIHigh: &v, N: r.Int64N(10000), Status: "pass", RunID: "r", ConfigHash: "h"})
			}
		}
	}
	for _, c := range []struct {
		name  string
		codec parquet.WriterOption
	}{{"fastest", parquet.Compression(scoresCodec)}, {"default", parquet.Compression(&parquet.Zstd)}} {
		b.Run(c.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				w := parquet.NewGenericWriter[ScoreRow](&buf, c.codec)
				if _, err := w.Write(rows); err != nil {
					b.Fatal(err)
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "B/file")
		})
	}
}
