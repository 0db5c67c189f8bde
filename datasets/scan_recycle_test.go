package datasets

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// recycleFixture writes the reuse fixture (PLAIN distinct "uniq" values,
// appended; a "req" column falling back from dictionary to PLAIN; the
// interned "rep") in row groups of several sizes, and returns the
// dataset and a projection of its string columns with RecycleStrings
// set on every one of them (honoured only where values are appended).
func recycleFixture(t *testing.T) (*Dataset, ScanSpec) {
	t.Helper()
	s, dir := store(t)
	opts := []parquet.WriterOption{parquet.PageBufferSize(1024), parquet.DictionaryMaxBytes(400)}
	parquettest.WriteGo(t, filepath.Join(dir, "a.parquet"), reuseRows(0, 2100), append(opts, parquet.MaxRowsPerRowGroup(700))...)
	parquettest.WriteGo(t, filepath.Join(dir, "b.parquet"), reuseRows(2100, 4100), append(opts, parquet.MaxRowsPerRowGroup(1000))...)
	parquettest.WriteGo(t, filepath.Join(dir, "c.parquet"), reuseRows(4100, 4600), append(opts, parquet.MaxRowsPerRowGroup(250))...)
	spec := ScanSpec{Workers: 1, ReuseBuffers: true}
	for _, name := range []string{"cat", "uniq", "rep", "req"} {
		spec.Columns = append(spec.Columns, ColumnSpec{Name: name, Kind: KindString, RecycleStrings: true})
	}
	return &Dataset{Store: s}, spec
}

// deepStrings is every row's value of every column of b, copied
// (strings.Clone: the batch's bytes may be recycled), "\x00null" for a
// null.
func deepStrings(b *Batch) [][]string {
	out := make([][]string, len(b.Cols))
	for ci, c := range b.Cols {
		for i := range b.Rows {
			v := "\x00null"
			if !c.IsNull(i) {
				v = strings.Clone(c.Dict[c.Codes[i]])
			}
			out[ci] = append(out[ci], v)
		}
	}
	return out
}

// TestRecycleStringsSameValues: with RecycleStrings, every batch holds
// during its callback the values a scan without it gives, with one or
// two workers; with one worker, later row groups' appended strings are
// made over the bytes of earlier ones (the blob is really reused).
func TestRecycleStringsSameValues(t *testing.T) {
	d, spec := recycleFixture(t)
	scan := func(spec ScanSpec, fn func(b *Batch)) map[string][][]string {
		var mu sync.Mutex
		got := map[string][][]string{}
		if _, err := d.Scan(context.Background(), listFiles(t, d), spec, func(_ int, b *Batch) error {
			v := deepStrings(b)
			mu.Lock()
			defer mu.Unlock()
			got[fmt.Sprintf("%s@%d", b.File, b.RowGroup)] = v
			if fn != nil {
				fn(b)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	plain := spec
	plain.Columns = nil
	for _, c := range spec.Columns {
		c.RecycleStrings = false
		plain.Columns = append(plain.Columns, c)
	}
	plain.ReuseBuffers = false
	want := scan(plain, nil)
	if len(want) != 7 {
		t.Fatalf("fixture: %d row groups, want 7", len(want))
	}
	for _, w := range []int{1, 2} {
		spec.Workers = w
		if got := scan(spec, nil); !reflect.DeepEqual(got, want) {
			t.Fatalf("workers=%d: values differ with RecycleStrings", w)
		}
	}
	// Where the first "uniq" string of each row group lives: with one
	// worker, some row group's must lie at an address an earlier row
	// group's did (its blob reused, not a fresh allocation per page).
	spec.Workers = 1
	seen := map[uintptr]bool{}
	reused := false
	scan(spec, func(b *Batch) {
		c := b.Cols[1]
		if !c.DictRepeats {
			t.Fatalf("fixture: uniq should be appended (DictRepeats)")
		}
		for i := range b.Rows {
			if s := c.Dict[c.Codes[i]]; !c.IsNull(i) && s != "" {
				p := uintptr(unsafe.Pointer(unsafe.StringData(s)))
				reused = reused || seen[p]
				seen[p] = true
				return
			}
		}
	})
	if !reused {
		t.Errorf("RecycleStrings: no row group's strings were made over an earlier one's bytes")
	}
}

// TestPoisonRecycledStrings: with PARITY_POISON_RECYCLED=1, a consumer
// that keeps strings of a RecycleStrings column past its callback (what
// the option forbids) reads poison bytes afterwards, which is what the
// poisoned test runs and identity checks rely on to catch such a
// consumer; strings of a column without the option stay valid.
func TestPoisonRecycledStrings(t *testing.T) {
	t.Setenv(poisonEnv, "1")
	d, spec := recycleFixture(t)
	spec.Columns = append(spec.Columns, ColumnSpec{Name: "uniq", Kind: KindString}) // twice: kept, not recycled
	var keptRecycled, keptPlain, want []string
	if _, err := d.Scan(context.Background(), listFiles(t, d), spec, func(_ int, b *Batch) error {
		r, p := b.Cols[1], b.Cols[4]
		for i := range b.Rows {
			if !r.IsNull(i) {
				keptRecycled = append(keptRecycled, r.Dict[r.Codes[i]])
				keptPlain = append(keptPlain, p.Dict[p.Codes[i]])
				want = append(want, strings.Clone(p.Dict[p.Codes[i]]))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("fixture: no uniq values")
	}
	poisoned := 0
	for i, s := range keptRecycled {
		if keptPlain[i] != want[i] {
			t.Fatalf("value %d of the column without RecycleStrings changed: %q, want %q", i, keptPlain[i], want[i])
		}
		if s == "" {
			continue
		}
		if strings.Trim(s, string([]byte{poisonByte})) != "" {
			t.Fatalf("value %d kept past its batch is %q, want poison bytes (was %q)", i, s, want[i])
		}
		poisoned++
	}
	if poisoned == 0 {
		t.Fatal("no non-empty value kept")
	}
}
