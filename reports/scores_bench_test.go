package reports

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/eval"
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

// BenchmarkScoreRows flattens a benchmark log's window (3 features × 5
// classes × 170 metrics) into score rows.
func BenchmarkScoreRows(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var fws []*eval.FeatureWindow
	for f := range 3 {
		fw := &eval.FeatureWindow{Feature: fmt.Sprint("feature-", f), Window: eval.Window{Start: start, End: start.Add(24 * time.Hour)}}
		for c := range 5 {
			cr := &eval.ClassResult{Class: fmt.Sprint("class-", c)}
			for m := range 170 {
				cr.Metrics = append(cr.Metrics, &eval.Metric{Name: fmt.Sprint("metric.", m), Value: r.Float64(), CILow: r.Float64(),
					CIHigh: r.Float64(), CILevel: 0.95, Statistic: math.NaN(), P: math.NaN(), PAdjusted: math.NaN(), Threshold: math.NaN(),
					N: r.Int64N(10000), Status: "pass"})
			}
			fw.Classes = append(fw.Classes, cr)
		}
		fws = append(fws, fw)
	}
	for b.Loop() {
		ScoreRows(fws, "r", "h")
	}
}
