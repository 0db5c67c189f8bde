package datasets

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"

	"github.com/parity-eval/parity/datasets/parquettest"
)

// plainRow has PLAIN string columns of both kinds the decoder tells
// apart: mostly distinct values (appended under fresh codes) and
// repeated values (deduplicated), with and without nulls, plus a fixed
// length byte array of each kind.
type plainRow struct {
	Uniq    string  `parquet:"uniq"`
	UniqOpt *string `parquet:"uniq_opt,optional"`
	Rep     string  `parquet:"rep"`
	RepOpt  *string `parquet:"rep_opt,optional"`
	Fixed   [4]byte `parquet:"fixed"`
	FixRep  [3]byte `parquet:"fixed_rep"`
	NullCol *string `parquet:"nulls,optional"` // null but for one row
}

func plainUniq(i int) string { return fmt.Sprintf("id-%06d-%s", i, "xyz"[:i%4]) }
func plainRep(i int) string {
	if i%11 == 0 {
		return "" // empty strings are values like any other
	}
	return categories[i%len(categories)]
}
func plainNull(i int) bool { return i%5 == 2 }

// TestScanPlainStrings reads PLAIN string columns written by parquet-go
// (many pages per chunk, several row groups): every value and null must
// read back; distinct-valued columns set DictRepeats, repeated-valued
// ones keep a deduplicated Dict.
func TestScanPlainStrings(t *testing.T) {
	const n = 5000
	rows := make([]plainRow, n)
	for i := range rows {
		u, r := plainUniq(i), plainRep(i)
		rows[i] = plainRow{Uniq: u, Rep: r}
		if !plainNull(i) {
			rows[i].UniqOpt, rows[i].RepOpt = &u, &r
		}
		rows[i].Fixed = [4]byte{byte(i), byte(i >> 8), 'f', 'x'}
		rows[i].FixRep = [3]byte{'a' + byte(i%3), 'b', 'c'}
		if i == 4321 {
			rows[i].NullCol = &r
		}
	}
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "plain.parquet"), rows,
		parquet.MaxRowsPerRowGroup(2000), parquet.PageBufferSize(1024))
	for _, col := range []string{"uniq", "uniq_opt", "rep", "rep_opt", "fixed", "fixed_rep"} {
		for rg, encs := range chunkEncodings(t, filepath.Join(dir, "plain.parquet"), col) {
			if mixesDictAndPlain(encs) || len(encs) == 0 {
				t.Fatalf("fixture: %s row group %d has encodings %v, want PLAIN only", col, rg, encs)
			}
		}
	}
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	var spec ScanSpec
	for _, c := range []string{"uniq", "uniq_opt", "rep", "rep_opt", "fixed", "fixed_rep", "nulls"} {
		spec.Columns = append(spec.Columns, ColumnSpec{Name: c, Kind: KindString})
	}
	tab, _ := scanAll(t, d, files, spec)
	if tab.rows != n {
		t.Fatalf("scanned %d rows, want %d", tab.rows, n)
	}
	for i, r := range rows {
		want := map[string]string{"uniq": r.Uniq, "rep": r.Rep, "fixed": string(r.Fixed[:]), "fixed_rep": string(r.FixRep[:])}
		if !plainNull(i) {
			want["uniq_opt"], want["rep_opt"] = r.Uniq, r.Rep
		}
		if r.NullCol != nil {
			want["nulls"] = *r.NullCol
		}
		for _, c := range spec.Columns {
			col := tab.col(t, c.Name)
			w, present := want[c.Name]
			if col.Null[i] == present || col.Dict[col.Codes[i]] != w {
				t.Fatalf("%s row %d: %q (null %v), want %q (null %v)", c.Name, i, col.Dict[col.Codes[i]], col.Null[i], w, !present)
			}
		}
	}

	// Per batch: which columns were deduplicated, and which the decoder
	// saw no empty string in (scanAll checks that NoEmpty is never wrong;
	// here it must also be set where it can be).
	var mu sync.Mutex
	repeats := map[string][]bool{}
	dictLen := map[string]int{}
	noEmpty := map[string][]bool{}
	if _, err := d.Scan(context.Background(), files, spec, func(_ int, b *Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range b.Cols {
			repeats[c.Name] = append(repeats[c.Name], c.DictRepeats)
			dictLen[c.Name] = max(dictLen[c.Name], len(c.Dict))
			noEmpty[c.Name] = append(noEmpty[c.Name], c.NoEmpty)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// rep holds "" (appended: uniq, fixed; interned: rep, fixed_rep).
	for name, want := range map[string]bool{"uniq": true, "uniq_opt": true, "fixed": true, "fixed_rep": true, "rep": false} {
		for rg, got := range noEmpty[name] {
			if got != want {
				t.Errorf("%s row group %d: NoEmpty = %v, want %v", name, rg, got, want)
			}
		}
	}
	for name, want := range map[string]bool{"uniq": true, "uniq_opt": true, "fixed": true, "rep": false, "rep_opt": false, "fixed_rep": false} {
		for rg, got := range repeats[name] {
			if got != want {
				t.Errorf("%s row group %d: DictRepeats = %v, want %v", name, rg, got, want)
			}
		}
	}
	// Deduplicated: one entry per distinct value (scanAll checks they are
	// distinct), not one per row. rep_opt's category 2 is always null.
	for name, distinct := range map[string]int{"rep": len(categories) + 1, "rep_opt": len(categories), "fixed_rep": 3} {
		if dictLen[name] != distinct {
			t.Errorf("%s: Dict of %d entries, want %d distinct values", name, dictLen[name], distinct)
		}
	}
}

// TestScanDictionaryThenPlain reads chunks that start dictionary-encoded
// and fall back to PLAIN (arrow-go, as pyarrow and Spark write them),
// once with distinct values after the fallback and once with values that
// repeat dictionary entries and each other, with nulls.
func TestScanDictionaryThenPlain(t *testing.T) {
	const n = 4000
	fresh, again := make([]string, n), make([]string, n)
	valid := make([]bool, n)
	for i := range n {
		fresh[i] = fmt.Sprintf("fresh-%05d", i)
		// 300 distinct values first (the dictionary fills up), then those
		// values again, shuffled, so PLAIN pages repeat dictionary entries.
		again[i] = fmt.Sprintf("again-%03d", i%300)
		if i >= 300 {
			again[i] = fmt.Sprintf("again-%03d", (i*7)%40)
		}
		valid[i] = i%7 != 3
	}
	s, dir := store(t)
	p := filepath.Join(dir, "mixed.parquet")
	parquettest.WriteArrow(t, p, []parquettest.Col{
		{Name: "fresh", Values: fresh, Valid: valid},
		{Name: "again", Values: again, Valid: valid},
	}, parquettest.ArrowOptions{RowGroupRows: 2000, Props: []aparquet.WriterProperty{
		aparquet.WithDictionaryPageSizeLimit(2048), aparquet.WithDataPageSize(1024),
	}})
	for _, col := range []string{"fresh", "again"} {
		if encs := chunkEncodings(t, p, col); len(encs) != 2 || !mixesDictAndPlain(encs[0]) || !mixesDictAndPlain(encs[1]) {
			t.Fatalf("fixture: want 2 row groups of %s chunks mixing dictionary and PLAIN pages, got %v", col, encs)
		}
	}
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	spec := ScanSpec{Columns: []ColumnSpec{{Name: "fresh", Kind: KindString}, {Name: "again", Kind: KindString}}}
	tab, _ := scanAll(t, d, files, spec)
	for i := range n {
		for name, want := range map[string]string{"fresh": fresh[i], "again": again[i]} {
			c := tab.col(t, name)
			if c.Null[i] != !valid[i] || (valid[i] && c.Dict[c.Codes[i]] != want) {
				t.Fatalf("%s row %d: %q (null %v), want %q (null %v)", name, i, c.Dict[c.Codes[i]], c.Null[i], want, !valid[i])
			}
		}
	}
	var mu sync.Mutex
	if _, err := d.Scan(context.Background(), files, spec, func(_ int, b *Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if f, a := b.Cols[0], b.Cols[1]; !f.DictRepeats || a.DictRepeats {
			t.Errorf("row group %d: DictRepeats fresh=%v again=%v, want true, false", b.RowGroup, f.DictRepeats, a.DictRepeats)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestPlainAppendThenDictionary drives the decoder through the sequence
// no writer produces but a file may hold: PLAIN pages of distinct values,
// then a dictionary (whose values repeat earlier ones), then PLAIN again.
// Codes must resolve to the written values.
func TestPlainAppendThenDictionary(t *testing.T) {
	page := func(vals ...string) encoding.Values {
		var data []byte
		offs := []uint32{0}
		for _, v := range vals {
			data = append(data, v...)
			offs = append(offs, uint32(len(data)))
		}
		return encoding.ByteArrayValues(data, offs)
	}
	var want []string
	d := chunkDecoder{col: newColumn("c", KindString, 12, nil), rows: 12}
	feed := func(v encoding.Values, dict parquet.Dictionary, vals ...string) {
		t.Helper()
		dst := d.col.Codes[d.row : d.row+len(vals)]
		if err := d.strings(dst, &v, dict); err != nil {
			t.Fatal(err)
		}
		d.row += len(vals)
		want = append(want, vals...)
	}
	feed(page(), nil) // an all-null page decides nothing
	if d.plain != plainUndecided {
		t.Fatalf("mode %v after a page without values", d.plain)
	}
	feed(page("a", "b", "c", ""), nil, "a", "b", "c", "")
	if d.plain != plainAppend || !d.col.DictRepeats {
		t.Fatalf("distinct values: mode %v, DictRepeats %v", d.plain, d.col.DictRepeats)
	}
	dict := parquet.ByteArrayType.NewDictionary(0, 3, page("c", "d", "a"))
	idx := encoding.Int32Values([]int32{2, 1, 0, 1})
	feed(idx, dict, "a", "d", "c", "d")
	feed(page("a", "e", "a", "f"), nil, "a", "e", "a", "f")
	for i, w := range want {
		if got := d.col.Dict[d.col.Codes[i]]; got != w {
			t.Errorf("row %d: %q, want %q", i, got, w)
		}
	}
}
