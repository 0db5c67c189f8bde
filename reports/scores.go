package reports

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/parity-eval/parity/eval"
)

// ScoreRow is one row of the scores history: one metric of one feature ×
// input class × window. Absent figures are null.
type ScoreRow struct {
	Feature     string    `parquet:"feature,dict"`
	InputClass  string    `parquet:"input_class,dict"`
	WindowStart time.Time `parquet:"window_start,timestamp(microsecond)"`
	WindowEnd   time.Time `parquet:"window_end,timestamp(microsecond)"`
	Metric      string    `parquet:"metric,dict"`
	Value       *float64  `parquet:"value,optional"`
	CILow       *float64  `parquet:"ci_low,optional"`
	CIHigh      *float64  `parquet:"ci_high,optional"`
	CILevel     *float64  `parquet:"ci_level,optional"`
	CIMethod    string    `parquet:"ci_method,dict"`
	Test        string    `parquet:"test,dict"`
	Statistic   *float64  `parquet:"statistic,optional"`
	PValue      *float64  `parquet:"p_value,optional"`
	PAdjusted   *float64  `parquet:"p_adjusted,optional"`
	N           int64     `parquet:"n"`
	NNeeded     int64     `parquet:"n_needed"`
	Threshold   *float64  `parquet:"threshold,optional"`
	Status      string    `parquet:"status,dict"`
	Criterion   bool      `parquet:"criterion"`
	Reason      string    `parquet:"reason"`
	Warnings    string    `parquet:"warnings"`
	RunID       string    `parquet:"run_id,dict"`
	ConfigHash  string    `parquet:"config_hash,dict"`
}

// Num returns nil for NaN/Inf so absent figures are null, not NaN.
func Num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// ScoreRows flattens a window's evaluation into score rows, in a stable
// order (feature, class, metric as produced). The rows and their figures
// are allocated once per window (Num allocated each figure on its own,
// eight per row), their pointers into one backing slice.
func ScoreRows(fws []*eval.FeatureWindow, runID, configHash string) []ScoreRow {
	n := 0
	for _, fw := range fws {
		for _, c := range fw.Classes {
			n += len(c.Metrics)
		}
	}
	if n == 0 {
		return nil
	}
	out := make([]ScoreRow, 0, n)
	nums := make(numSlab, 0, 8*n)
	for _, fw := range fws {
		start, end := fw.Window.Start.UTC(), fw.Window.End.UTC()
		for _, c := range fw.Classes {
			for _, m := range c.Metrics {
				out = append(out, ScoreRow{
					Feature: fw.Feature, InputClass: c.Class,
					WindowStart: start, WindowEnd: end,
					Metric: m.Name, Value: nums.num(m.Value), CILow: nums.num(m.CILow), CIHigh: nums.num(m.CIHigh), CILevel: nums.num(m.CILevel),
					CIMethod: m.CIMethod, Test: m.Test, Statistic: nums.num(m.Statistic), PValue: nums.num(m.P), PAdjusted: nums.num(m.PAdjusted),
					N: m.N, NNeeded: m.NNeeded, Threshold: nums.num(m.Threshold), Status: m.Status, Criterion: m.Criterion,
					Reason: m.Reason, Warnings: strings.Join(m.Warnings, "; "), RunID: runID, ConfigHash: configHash,
				})
			}
		}
	}
	return out
}

// numSlab holds the figures ScoreRows points at: Num without an
// allocation per figure. ScoreRows sizes it for eight figures a row, so
// it never grows (were it to, earlier pointers would still point at
// their values in the old array).
type numSlab []float64

// num is Num(x) with x stored in the slab.
func (s *numSlab) num(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	*s = append(*s, x)
	return &(*s)[len(*s)-1]
}

// EncodeScores writes rows as a Parquet file (zstd) into memory; outputs
// are small (one row per metric), and an in-memory file can be put
// atomically to any store. zstd's fastest level: its default level took
// a tenth of a small backfill's CPU for files of a few hundred KiB.
func EncodeScores(rows []ScoreRow) ([]byte, error) {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[ScoreRow](&buf, parquet.Compression(scoresCodec))
	if _, err := w.Write(rows); err != nil {
		return nil, fmt.Errorf("encode scores: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encode scores: %w", err)
	}
	return buf.Bytes(), nil
}

// DecodeScores reads a scores file back.
func DecodeScores(data []byte) ([]ScoreRow, error) {
	rows, err := parquet.Read[ScoreRow](bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("decode scores: %w", err)
	}
	for i := range rows {
		rows[i].WindowStart = rows[i].WindowStart.UTC()
		rows[i].WindowEnd = rows[i].WindowEnd.UTC()
	}
	return rows, nil
}

var scoresCodec = &zstd.Codec{Level: zstd.SpeedFastest}
