package datasets

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// fuzzRow has one column of each encoding the reader handles differently:
// dictionary and PLAIN strings, optional (definition-levelled) strings
// and doubles, a required double, a bool and a microsecond timestamp.
type fuzzRow struct {
	RequestID string    `parquet:"request_id,plain"`
	TS        time.Time `parquet:"ts,timestamp(microsecond)"`
	Class     string    `parquet:"input_class,dict"`
	Legacy    *string   `parquet:"legacy_category,optional,dict"`
	AI        *string   `parquet:"ai_output,optional,plain"`
	Conf      *float64  `parquet:"ai_confidence,optional"`
	Latency   float64   `parquet:"ai_latency_ms"`
	Err       bool      `parquet:"ai_error"`
}

var fuzzDay = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

func fuzzRows(n int) []fuzzRow {
	rows := make([]fuzzRow, n)
	for i := range rows {
		r := fuzzRow{
			RequestID: fmt.Sprintf("req-%05d", i),
			TS:        fuzzDay.Add(time.Duration(i) * 7 * time.Minute),
			Class:     []string{"email", "chat", "phone"}[i%3],
			Latency:   float64(100 + i%17),
			Err:       i%11 == 0,
		}
		if i%5 != 0 {
			l := []string{"billing", "refund"}[i%2]
			r.Legacy = &l
		}
		if i%7 != 0 {
			a := fmt.Sprintf(`{"category": "c%d"}`, i%4)
			r.AI = &a
		}
		if i%3 != 0 {
			c := float64(i%10) / 10
			r.Conf = &c
		}
		rows[i] = r
	}
	return rows
}

func fuzzSpec() ScanSpec {
	return ScanSpec{
		Columns: []ColumnSpec{
			{Name: "request_id", Kind: KindString},
			{Name: "ts", Kind: KindTimestamp},
			{Name: "input_class", Kind: KindString},
			{Name: "legacy_category", Kind: KindString},
			{Name: "ai_output", Kind: KindString},
			{Name: "ai_confidence", Kind: KindFloat64, Optional: true},
			{Name: "ai_latency_ms", Kind: KindFloat64},
			{Name: "ai_error", Kind: KindBool, Optional: true},
		},
		TimeColumn: "ts",
		From:       fuzzDay,
		To:         fuzzDay.Add(24 * time.Hour),
		Workers:    2,
	}
}

// fuzzBases writes the valid files the fuzzer mutates: parquet-go (with
// small pages and row groups, so a mutation lands in a page as often as in
// the footer) and arrow-go (dictionary fallback to PLAIN mid-chunk).
func fuzzBases(tb testing.TB) [][]byte {
	dir := tb.TempDir()
	goPath, arrowPath := filepath.Join(dir, "go.parquet"), filepath.Join(dir, "arrow.parquet")
	parquettest.WriteGo(tb, goPath, fuzzRows(150), parquet.MaxRowsPerRowGroup(50), parquet.PageBufferSize(512))
	rows := fuzzRows(150)
	var (
		ids, classes, legacy, ai = make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows)), make([]string, len(rows))
		legacyOK, aiOK           = make([]bool, len(rows)), make([]bool, len(rows))
		ts                       = make([]time.Time, len(rows))
		lat                      = make([]float64, len(rows))
	)
	for i, r := range rows {
		ids[i], classes[i], ts[i], lat[i] = r.RequestID, r.Class, r.TS, r.Latency
		if r.Legacy != nil {
			legacy[i], legacyOK[i] = *r.Legacy, true
		}
		if r.AI != nil {
			ai[i], aiOK[i] = *r.AI, true
		}
	}
	parquettest.WriteArrow(tb, arrowPath, []parquettest.Col{
		{Name: "request_id", Values: ids},
		{Name: "ts", Values: ts},
		{Name: "input_class", Values: classes},
		{Name: "legacy_category", Values: legacy, Valid: legacyOK},
		{Name: "ai_output", Values: ai, Valid: aiOK},
		{Name: "ai_latency_ms", Values: lat},
	}, parquettest.ArrowOptions{RowGroupRows: 60})
	var out [][]byte
	for _, p := range []string{goPath, arrowPath} {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzCheckScanMutated overwrites bytes of a small valid Parquet file
// (base selects the parquet-go or the arrow-go one; patch is written at
// off, modulo the length; cut, when non-zero, truncates to that many
// bytes) and runs what a job runs on it: Files (magic check), Check
// (footer and schema) and Scan. Each must succeed or return an error
// naming the file; none may panic, and all must finish within the
// context's deadline (the work is bounded: a hang fails the test).
//
//	go test -run '^$' -fuzz '^FuzzCheckScanMutated$' -fuzztime 60s ./datasets
func FuzzCheckScanMutated(f *testing.F) {
	bases := fuzzBases(f)
	f.Add(uint8(0), uint32(0), []byte{}, uint32(0))
	f.Add(uint8(1), uint32(0), []byte{}, uint32(0))
	f.Add(uint8(0), uint32(300), []byte{0xff, 0xff, 0xff, 0x7f}, uint32(0))
	f.Add(uint8(1), uint32(900), []byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, uint32(0))
	f.Add(uint8(0), uint32(4), []byte{0x15, 0x00, 0x15, 0xff, 0xff, 0x01}, uint32(0))
	f.Add(uint8(0), uint32(0), []byte{}, uint32(2000))
	f.Fuzz(func(t *testing.T, base uint8, off uint32, patch []byte, cut uint32) {
		data := append([]byte(nil), bases[int(base)%len(bases)]...)
		if len(patch) > 0 {
			o := int(off % uint32(len(data)))
			copy(data[o:], patch)
		}
		if cut > 0 && int(cut) < len(data) {
			data = data[:cut]
		}
		checkMutated(t, data)
	})
}

// checkMutated runs Files, Check and Scan over data as one file of a
// dataset and enforces the outcome rules of FuzzCheckScanMutated.
func checkMutated(t *testing.T, data []byte) {
	s, dir := store(t)
	if err := os.WriteFile(filepath.Join(dir, "m.parquet"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			d := &Dataset{Store: s, Name: "logs"}
			files, err := d.Files(ctx, time.Time{}, time.Time{})
			if err != nil {
				return err
			}
			spec := fuzzSpec()
			if err := d.Check(ctx, files, spec); err != nil {
				return err
			}
			_, err = d.Scan(ctx, files, spec, func(_ int, b *Batch) error {
				for i, c := range b.Cols {
					if c == nil {
						if !spec.Columns[i].Optional {
							return fmt.Errorf("required column %s missing from the batch", spec.Columns[i].Name)
						}
						continue
					}
					if c.Len() != b.Rows {
						return fmt.Errorf("column %s has %d rows, batch %d", c.Name, c.Len(), b.Rows)
					}
					if c.Kind == KindString {
						for _, code := range c.Codes {
							if code < 0 || int(code) >= len(c.Dict) {
								return fmt.Errorf("column %s: code %d outside its dictionary of %d", c.Name, code, len(c.Dict))
							}
						}
					}
				}
				return nil
			})
			return err
		}()
	}()
	var err error
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("Files/Check/Scan still running 25 s after the context's 5 s deadline (hang) on a %d-byte file", len(data))
	}
	if err == nil {
		return
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("work not bounded: the 5 s deadline passed on a %d-byte file: %v", len(data), err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "m.parquet") {
		t.Errorf("error does not name the file: %v", err)
	}
	for _, bad := range []string{"outside its dictionary", "rows, batch", "missing from the batch"} {
		if strings.Contains(msg, bad) {
			t.Errorf("inconsistent batch: %v", err)
		}
	}
}
