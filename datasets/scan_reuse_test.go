package datasets

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// reuseRow has a nullable column of every kind, so that a value or null
// flag left over from a recycled buffer shows up as a wrong row.
type reuseRow struct {
	ID   int64      `parquet:"id"`
	N    *int64     `parquet:"n,optional"`
	F    *float64   `parquet:"f,optional"`
	B    *bool      `parquet:"b,optional"`
	T    *time.Time `parquet:"t,optional,timestamp(microsecond)"`
	Cat  *string    `parquet:"cat,optional,dict"` // dictionary pages
	Uniq *string    `parquet:"uniq,optional"`     // PLAIN, distinct: appended
	Rep  *string    `parquet:"rep,optional"`      // PLAIN, repeated: interned
	Req  string     `parquet:"req,dict"`          // dictionary falling back to PLAIN
}

// reuseNull decides whether row i of column c is null: a pattern that
// differs from row group to row group (so a stale flag lands on a row
// that has a value), no nulls at all in rows 1400..2099 (a column whose
// Null is nil after one that had them), and every row null in 2100..2299
// for the string columns (an empty Dict).
func reuseNull(i, c int) bool {
	switch {
	case i >= 1400 && i < 2100:
		return false
	case i >= 2100 && i < 2300 && c >= 4:
		return true
	}
	h := uint32(i)*2654435761 + uint32(c)*40503
	return h>>29 < 3 // about 3 rows in 8
}

func reuseRows(from, to int) []reuseRow {
	rows := make([]reuseRow, 0, to-from)
	for i := from; i < to; i++ {
		r := reuseRow{ID: int64(i), Req: fmt.Sprintf("req-%06d", i)}
		if !reuseNull(i, 0) {
			n := int64(i*7 - 3000)
			r.N = &n
		}
		if !reuseNull(i, 1) {
			f := float64(i) / 8
			r.F = &f
		}
		if !reuseNull(i, 2) {
			b := i%3 != 0
			r.B = &b
		}
		if !reuseNull(i, 3) {
			t := base.Add(time.Duration(i) * time.Millisecond)
			r.T = &t
		}
		if !reuseNull(i, 4) {
			s := categories[i%len(categories)]
			r.Cat = &s
		}
		if !reuseNull(i, 5) {
			s := fmt.Sprintf("u-%d-%s", i, "abcdefgh"[:i%9])
			r.Uniq = &s
		}
		if !reuseNull(i, 6) {
			s := labelVals[i%len(labelVals)]
			r.Rep = &s
		}
		rows = append(rows, r)
	}
	return rows
}

// colSnap is a copy of one decoded column, comparable with
// reflect.DeepEqual (floats as bits, so NaN compares equal).
type colSnap struct {
	Name        string
	Kind        Kind
	Null        []bool
	Dict        []string
	Codes       []int32
	Float       []uint64
	Int         []int64
	Bool        []bool
	DictRepeats bool
}

type batchSnap struct {
	File   string
	Offset int64
	Rows   int
	Cols   []*colSnap
}

func snapBatch(b *Batch) batchSnap {
	s := batchSnap{File: b.File, Offset: b.Offset, Rows: b.Rows}
	for _, c := range b.Cols {
		if c == nil {
			s.Cols = append(s.Cols, nil)
			continue
		}
		cs := &colSnap{Name: c.Name, Kind: c.Kind, Null: slices.Clone(c.Null), Dict: slices.Clone(c.Dict),
			Codes: slices.Clone(c.Codes), Int: slices.Clone(c.Int), Bool: slices.Clone(c.Bool), DictRepeats: c.DictRepeats}
		for _, f := range c.Float {
			cs.Float = append(cs.Float, math.Float64bits(f))
		}
		s.Cols = append(s.Cols, cs)
	}
	return s
}

// scanSnaps scans files and returns a copy of every batch made during
// the callback, ordered by file and offset, and the batches themselves.
func scanSnaps(t *testing.T, d *Dataset, spec ScanSpec) ([]batchSnap, []*Batch) {
	t.Helper()
	var mu sync.Mutex
	var snaps []batchSnap
	var kept []*Batch
	if _, err := d.Scan(context.Background(), listFiles(t, d), spec, func(_ int, b *Batch) error {
		s := snapBatch(b)
		mu.Lock()
		defer mu.Unlock()
		snaps = append(snaps, s)
		kept = append(kept, b)
		return nil
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	order := func(a, b batchSnap) int {
		if a.File != b.File {
			return map[bool]int{true: -1, false: 1}[a.File < b.File]
		}
		return int(a.Offset - b.Offset)
	}
	idx := make([]int, len(snaps))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int { return order(snaps[i], snaps[j]) })
	var outS []batchSnap
	var outB []*Batch
	for _, i := range idx {
		outS, outB = append(outS, snaps[i]), append(outB, kept[i])
	}
	return outS, outB
}

// TestScanReuseBuffers scans files of several row-group sizes (growing,
// then shrinking) with nulls in every kind of column, with and without
// ReuseBuffers: the batches must hold the same values, null flags and
// dictionaries; with ReuseBuffers the slices are really recycled; without
// it, batches kept after the scan still hold their values.
func TestScanReuseBuffers(t *testing.T) {
	s, dir := store(t)
	opts := []parquet.WriterOption{parquet.PageBufferSize(1024), parquet.DictionaryMaxBytes(400)}
	parquettest.WriteGo(t, filepath.Join(dir, "a.parquet"), reuseRows(0, 2100), append(opts, parquet.MaxRowsPerRowGroup(700))...)
	parquettest.WriteGo(t, filepath.Join(dir, "b.parquet"), reuseRows(2100, 4100), append(opts, parquet.MaxRowsPerRowGroup(1000))...)
	parquettest.WriteGo(t, filepath.Join(dir, "c.parquet"), reuseRows(4100, 4600), append(opts, parquet.MaxRowsPerRowGroup(250))...)
	encs := chunkEncodings(t, filepath.Join(dir, "a.parquet"), "req")
	if !mixesDictAndPlain(encs[0]) {
		t.Fatalf("fixture: req chunks should mix dictionary and PLAIN pages, got %v", encs)
	}
	d := &Dataset{Store: s}
	spec := ScanSpec{Columns: []ColumnSpec{
		{Name: "id", Kind: KindInt64}, {Name: "n", Kind: KindInt64}, {Name: "f", Kind: KindFloat64},
		{Name: "b", Kind: KindBool}, {Name: "t", Kind: KindTimestamp}, {Name: "cat", Kind: KindString},
		{Name: "uniq", Kind: KindString}, {Name: "rep", Kind: KindString}, {Name: "req", Kind: KindString},
		{Name: "absent", Kind: KindString, Optional: true},
	}}

	spec.Workers = 1
	want, kept := scanSnaps(t, d, spec)
	if len(want) != 7 {
		t.Fatalf("fixture: %d row groups, want 7", len(want))
	}
	// The fixture exercises what recycling could get wrong: per column,
	// some row group has nulls and some has none (id and req have none).
	for ci := 1; ci < 8; ci++ {
		c := spec.Columns[ci]
		var withNulls, without bool
		for _, b := range want {
			if slices.Contains(b.Cols[ci].Null, true) {
				withNulls = true
			} else {
				without = true
			}
		}
		if !withNulls || !without {
			t.Fatalf("fixture: column %s: row groups with nulls %v, without %v; want both", c.Name, withNulls, without)
		}
	}
	// Without ReuseBuffers, batches may be kept: after the scan they hold
	// what they held during the callback.
	for i, b := range kept {
		if got := snapBatch(b); !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("without ReuseBuffers, batch %d (%s @%d) changed after its callback", i, b.File, b.Offset)
		}
	}

	spec.ReuseBuffers = true
	for _, w := range []int{1, 2} {
		spec.Workers = w
		got, _ := scanSnaps(t, d, spec)
		if len(got) != len(want) {
			t.Fatalf("workers=%d: %d batches with ReuseBuffers, %d without", w, len(got), len(want))
		}
		for i := range want {
			for ci, c := range want[i].Cols {
				if g := got[i].Cols[ci]; !reflect.DeepEqual(g, c) {
					t.Fatalf("workers=%d: %s @%d column %s differs with ReuseBuffers:\n got %+v\nwant %+v",
						w, want[i].File, want[i].Offset, spec.Columns[ci].Name, g, c)
				}
			}
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("workers=%d: batch %d differs with ReuseBuffers", w, i)
			}
		}
	}

	// With ReuseBuffers and one worker, later row groups decode into the
	// slices of earlier ones (else the test above would prove nothing).
	spec.Workers = 1
	arrays := map[string]map[unsafe.Pointer]int{}
	note := func(kind string, p unsafe.Pointer) {
		if arrays[kind] == nil {
			arrays[kind] = map[unsafe.Pointer]int{}
		}
		arrays[kind][p]++
	}
	if _, err := d.Scan(context.Background(), listFiles(t, d), spec, func(_ int, b *Batch) error {
		for _, c := range b.Cols {
			if c == nil {
				continue
			}
			switch c.Kind {
			case KindString:
				note("codes", unsafe.Pointer(unsafe.SliceData(c.Codes)))
				if cap(c.Dict) > 0 {
					note("dict", unsafe.Pointer(unsafe.SliceData(c.Dict)))
				}
			case KindFloat64:
				note("float", unsafe.Pointer(unsafe.SliceData(c.Float)))
			case KindInt64, KindTimestamp:
				note("int", unsafe.Pointer(unsafe.SliceData(c.Int)))
			case KindBool:
				note("bool", unsafe.Pointer(unsafe.SliceData(c.Bool)))
			}
			if c.Null != nil {
				note("null", unsafe.Pointer(unsafe.SliceData(c.Null)))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"codes", "dict", "float", "int", "bool", "null"} {
		reused := false
		for _, n := range arrays[kind] {
			reused = reused || n > 1
		}
		if !reused {
			t.Errorf("ReuseBuffers: no %s slice was reused across row groups (%d distinct arrays)", kind, len(arrays[kind]))
		}
	}
}
