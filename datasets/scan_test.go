package datasets

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/parity-eval/parity/datasets/parquettest"
	"github.com/parity-eval/parity/storage"
	"github.com/parity-eval/parity/storage/file"
)

// The logical fixture: row i of every test file, whatever the writer.
var (
	base       = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	categories = []string{"billing", "shipping", "returns", "account", "other"}
	labelVals  = []string{"agree", "disagree", "unsure"}
)

func category(i int) string { return categories[i%len(categories)] }
func model(i int) string {
	if i%50 == 0 {
		return "bad-utf8-\xff\xfe" // invalid UTF-8 is kept byte for byte
	}
	return fmt.Sprintf("m-%d", i%97)
}
func request(i int) string { return fmt.Sprintf("req-%07d", i) } // high cardinality: forces PLAIN fallback
func latency(i int) float64 {
	switch i {
	case 7:
		return math.NaN()
	case 8:
		return math.Inf(1)
	}
	return float64(i) * 0.5
}
func score(i int) float32       { return float32(i%10) / 4 }
func small(i int) int32         { return int32(i%1000 - 500) }
func u32(i int) uint32          { return 4_000_000_000 - uint32(i) } // above MaxInt32: must not sign-extend
func okv(i int) bool            { return i%3 == 0 }
func labelNull(i int) bool      { return i%4 == 0 }
func label(i int) string        { return labelVals[i%3] }
func costNull(i int) bool       { return i%5 == 0 }
func cost(i int) float64        { return float64(i) / 100 }
func tsNs(i int) time.Time      { return base.Add(time.Duration(i)*time.Second + time.Duration(i)*1001001) }
func tsUs(i int) time.Time      { return tsNs(i).Truncate(time.Microsecond) }
func tsMs(i int) time.Time      { return tsNs(i).Truncate(time.Millisecond) }
func tempNull(i int) bool       { return i%6 == 0 }
func temp(i int) float64        { return float64(i%7) / 10 }
func modelVersion(i int) string { return fmt.Sprintf("v%d", i%3) }

type goMeta struct {
	ModelVersion string   `parquet:"model_version,dict"`
	Temp         *float64 `parquet:"temp,optional"`
}

// goRow is the fixture as parquet-go writes it.
type goRow struct {
	ID       int64            `parquet:"id"`
	Category string           `parquet:"category,dict"`
	Model    string           `parquet:"model,plain"`
	Request  string           `parquet:"request,dict"`
	Latency  float64          `parquet:"latency_ms"`
	Score    float32          `parquet:"score"`
	Small    int32            `parquet:"small"`
	U32      uint32           `parquet:"u32"`
	OK       bool             `parquet:"ok"`
	Label    *string          `parquet:"label,optional,dict"`
	Cost     *float64         `parquet:"cost,optional"`
	TsMs     time.Time        `parquet:"ts_ms,timestamp(millisecond)"`
	TsUs     time.Time        `parquet:"ts_us,timestamp(microsecond)"`
	TsNs     time.Time        `parquet:"ts_ns,timestamp(nanosecond)"`
	Ts96     deprecated.Int96 `parquet:"ts_96"`
	Meta     goMeta           `parquet:"meta"`
}

// toInt96 encodes t as a legacy INT96 timestamp (the inverse of int96Nanos,
// written out independently so the test checks the decoder).
func toInt96(t time.Time) deprecated.Int96 {
	jd := uint32(t.Unix()/86400 + 2440588)
	nod := uint64(t.UnixNano() - (t.Unix()/86400)*86400*1e9)
	return deprecated.Int96{uint32(nod), uint32(nod >> 32), jd}
}

func goRows(n int) []goRow {
	rows := make([]goRow, n)
	for i := range rows {
		r := goRow{
			ID: int64(i), Category: category(i), Model: model(i), Request: request(i),
			Latency: latency(i), Score: score(i), Small: small(i), U32: u32(i), OK: okv(i),
			TsMs: tsMs(i), TsUs: tsUs(i), TsNs: tsNs(i), Ts96: toInt96(tsNs(i)),
			Meta: goMeta{ModelVersion: modelVersion(i)},
		}
		if !labelNull(i) {
			l := label(i)
			r.Label = &l
		}
		if !costNull(i) {
			c := cost(i)
			r.Cost = &c
		}
		if !tempNull(i) {
			t := temp(i)
			r.Meta.Temp = &t
		}
		rows[i] = r
	}
	return rows
}

// arrowCols is the fixture as arrow-go writes it.
func arrowCols(n int) []parquettest.Col {
	var (
		id                     = make([]int64, n)
		cat, mod, req, lab, mv = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		lat, cst, tmp          = make([]float64, n), make([]float64, n), make([]float64, n)
		sc                     = make([]float32, n)
		sm                     = make([]int32, n)
		uu                     = make([]uint32, n)
		ok                     = make([]bool, n)
		labOK, cstOK, tmpOK    = make([]bool, n), make([]bool, n), make([]bool, n)
		ms, us, ns             = make([]time.Time, n), make([]time.Time, n), make([]time.Time, n)
	)
	for i := range n {
		id[i], cat[i], mod[i], req[i] = int64(i), category(i), model(i), request(i)
		lat[i], sc[i], sm[i], uu[i], ok[i] = latency(i), score(i), small(i), u32(i), okv(i)
		lab[i], labOK[i] = label(i), !labelNull(i)
		cst[i], cstOK[i] = cost(i), !costNull(i)
		ms[i], us[i], ns[i] = tsMs(i), tsUs(i), tsNs(i)
		mv[i], tmp[i], tmpOK[i] = modelVersion(i), temp(i), !tempNull(i)
	}
	return []parquettest.Col{
		{Name: "id", Values: id},
		{Name: "category", Values: cat},
		{Name: "model", Values: mod},
		{Name: "request", Values: req},
		{Name: "latency_ms", Values: lat},
		{Name: "score", Values: sc},
		{Name: "small", Values: sm},
		{Name: "u32", Values: uu},
		{Name: "ok", Values: ok},
		{Name: "label", Values: lab, Valid: labOK},
		{Name: "cost", Values: cst, Valid: cstOK},
		{Name: "ts_ms", Values: ms, Unit: arrow.Millisecond},
		{Name: "ts_us", Values: us, Unit: arrow.Microsecond},
		{Name: "ts_ns", Values: ns, Unit: arrow.Nanosecond},
		{Name: "meta", Fields: []parquettest.Col{
			{Name: "model_version", Values: mv},
			{Name: "temp", Values: tmp, Valid: tmpOK},
		}},
	}
}

// fullSpec projects every fixture column (ts_96 only when the file has it).
func fullSpec(withInt96 bool) ScanSpec {
	cols := []ColumnSpec{
		{Name: "id", Kind: KindInt64},
		{Name: "category", Kind: KindString},
		{Name: "model", Kind: KindString},
		{Name: "request", Kind: KindString},
		{Name: "latency_ms", Kind: KindFloat64},
		{Name: "score", Kind: KindFloat64},
		{Name: "small", Kind: KindInt64},
		{Name: "u32", Kind: KindInt64},
		{Name: "ok", Kind: KindBool},
		{Name: "label", Kind: KindString},
		{Name: "cost", Kind: KindFloat64},
		{Name: "ts_ms", Kind: KindTimestamp},
		{Name: "ts_us", Kind: KindTimestamp},
		{Name: "ts_ns", Kind: KindTimestamp},
		{Name: "meta.model_version", Kind: KindString},
		{Name: "meta.temp", Kind: KindFloat64},
		{Name: "id_as_float", Kind: KindFloat64, Optional: true}, // absent: Cols holds nil
	}
	if withInt96 {
		cols = append(cols, ColumnSpec{Name: "ts_96", Kind: KindTimestamp})
	}
	return ScanSpec{Columns: cols}
}

// table is a scan's output concatenated in file and row order.
type table struct {
	rows  int
	cols  map[string]*Column
	files []string
}

func (t *table) col(tb testing.TB, name string) *Column {
	tb.Helper()
	c := t.cols[name]
	if c == nil {
		tb.Fatalf("column %q not in scan output", name)
	}
	return c
}

// scanAll runs Scan and concatenates the batches in (file, offset) order,
// checking the batch invariants on the way.
func scanAll(tb testing.TB, d *Dataset, files []storage.Object, spec ScanSpec) (*table, Manifest) {
	tb.Helper()
	var batches []*Batch
	var mu = make(chan struct{}, 1)
	nw := workers(&spec)
	busy := make([]atomic.Bool, nw)
	m, err := d.Scan(context.Background(), files, spec, func(w int, b *Batch) error {
		if w < 0 || w >= nw {
			return fmt.Errorf("worker %d outside [0, %d)", w, nw)
		}
		if !busy[w].CompareAndSwap(false, true) {
			return fmt.Errorf("worker %d called concurrently", w)
		}
		defer busy[w].Store(false)
		for i, c := range b.Cols {
			if c == nil {
				if !spec.Columns[i].Optional {
					return fmt.Errorf("required column %q is nil", spec.Columns[i].Name)
				}
				continue
			}
			if c.Len() != b.Rows {
				return fmt.Errorf("column %q has %d rows, batch %d", c.Name, c.Len(), b.Rows)
			}
			if c.Null != nil && len(c.Null) != b.Rows {
				return fmt.Errorf("column %q has %d null flags, batch %d", c.Name, len(c.Null), b.Rows)
			}
			for j, code := range c.Codes {
				if code < 0 || int(code) >= len(c.Dict) && !c.IsNull(j) {
					return fmt.Errorf("column %q row %d: code %d outside dictionary of %d", c.Name, j, code, len(c.Dict))
				}
			}
			if c.NoEmpty && (c.Kind != KindString || slices.Contains(c.Dict, "")) {
				return fmt.Errorf("column %q: NoEmpty set, but Dict holds an empty string (or the column is not a string column)", c.Name)
			}
			if c.Kind == KindString && !c.DictRepeats {
				// Without DictRepeats, codes must be distinct strings.
				seen := make(map[string]bool, len(c.Dict))
				for _, v := range c.Dict {
					if seen[v] {
						return fmt.Errorf("column %q: Dict repeats %q but DictRepeats is not set", c.Name, v)
					}
					seen[v] = true
				}
			}
		}
		mu <- struct{}{}
		batches = append(batches, b)
		<-mu
		return nil
	})
	if err != nil {
		tb.Fatalf("Scan: %v", err)
	}
	pos := map[string]int{}
	for i, f := range files {
		pos[f.Key] = i
	}
	slices.SortFunc(batches, func(a, b *Batch) int {
		if c := pos[a.File] - pos[b.File]; c != 0 {
			return c
		}
		return int(a.Offset - b.Offset)
	})
	t := &table{cols: map[string]*Column{}}
	for _, b := range batches {
		t.files = append(t.files, b.File)
		for i, c := range b.Cols {
			if c == nil {
				continue
			}
			name := spec.Columns[i].Name
			acc := t.cols[name]
			if acc == nil {
				acc = &Column{Name: name, Kind: c.Kind, Null: []bool{}}
				t.cols[name] = acc
			}
			for j := range c.Len() {
				acc.Null = append(acc.Null, c.IsNull(j))
				switch c.Kind {
				case KindString:
					acc.Codes = append(acc.Codes, int32(len(acc.Dict)))
					acc.Dict = append(acc.Dict, c.Str(j))
				case KindFloat64:
					acc.Float = append(acc.Float, c.Float[j])
				case KindInt64, KindTimestamp:
					acc.Int = append(acc.Int, c.Int[j])
				case KindBool:
					acc.Bool = append(acc.Bool, c.Bool[j])
				}
			}
		}
		t.rows += b.Rows
	}
	return t, m
}

// checkFixture compares a scan of files holding rows 0..n-1 (in order)
// with the logical fixture.
func checkFixture(t *testing.T, tab *table, n int, withInt96 bool) {
	t.Helper()
	if tab.rows != n {
		t.Fatalf("scanned %d rows, want %d", tab.rows, n)
	}
	if tab.cols["id_as_float"] != nil {
		t.Errorf("absent optional column produced output")
	}
	type check struct {
		name string
		want func(i int) any
		null func(i int) bool
	}
	never := func(int) bool { return false }
	checks := []check{
		{"id", func(i int) any { return int64(i) }, never},
		{"category", func(i int) any { return category(i) }, never},
		{"model", func(i int) any { return model(i) }, never},
		{"request", func(i int) any { return request(i) }, never},
		{"latency_ms", func(i int) any { return latency(i) }, never},
		{"score", func(i int) any { return float64(score(i)) }, never},
		{"small", func(i int) any { return int64(small(i)) }, never},
		{"u32", func(i int) any { return int64(u32(i)) }, never},
		{"ok", func(i int) any { return okv(i) }, never},
		{"label", func(i int) any { return label(i) }, labelNull},
		{"cost", func(i int) any { return cost(i) }, costNull},
		{"ts_ms", func(i int) any { return tsMs(i).UnixNano() }, never},
		{"ts_us", func(i int) any { return tsUs(i).UnixNano() }, never},
		{"ts_ns", func(i int) any { return tsNs(i).UnixNano() }, never},
		{"meta.model_version", func(i int) any { return modelVersion(i) }, never},
		{"meta.temp", func(i int) any { return temp(i) }, tempNull},
	}
	if withInt96 {
		checks = append(checks, check{"ts_96", func(i int) any { return tsNs(i).UnixNano() }, never})
	}
	for _, ch := range checks {
		c := tab.col(t, ch.name)
		bad := 0
		for i := range n {
			var got any
			switch c.Kind {
			case KindString:
				got = c.Dict[c.Codes[i]]
			case KindFloat64:
				got = c.Float[i]
			case KindInt64, KindTimestamp:
				got = c.Int[i]
			case KindBool:
				got = c.Bool[i]
			}
			if ch.null(i) != c.Null[i] {
				t.Errorf("%s row %d: null = %v, want %v", ch.name, i, c.Null[i], ch.null(i))
				bad++
			} else if !c.Null[i] {
				want := ch.want(i)
				if w, ok := want.(float64); ok && math.IsNaN(w) {
					if g := got.(float64); !math.IsNaN(g) {
						t.Errorf("%s row %d: got %v, want NaN", ch.name, i, g)
						bad++
					}
				} else if got != want {
					t.Errorf("%s row %d: got %#v, want %#v", ch.name, i, got, want)
					bad++
				}
			}
			if bad > 5 {
				t.Fatalf("%s: too many mismatches", ch.name)
			}
		}
	}
}

func store(t testing.TB) (*file.Store, string) {
	return storeAt(t, t.TempDir())
}

func storeAt(t testing.TB, dir string) (*file.Store, string) {
	s, err := file.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s, dir
}

func listFiles(t testing.TB, d *Dataset) []storage.Object {
	t.Helper()
	files, err := d.Files(context.Background(), time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("Files: %v", err)
	}
	return files
}

// openParquet opens a Parquet file with parquet-go, for its footer.
func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytesReaderAt(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pf
}

// chunkEncodings returns the encodings a column's chunks list, per row group.
func chunkEncodings(t *testing.T, path, column string) [][]format.Encoding {
	t.Helper()
	pf := openParquet(t, path)
	leaves, _ := leavesOf(pf.Metadata())
	l := findLeaf(leaves, column)
	if l == nil {
		t.Fatalf("%s: no column %s", path, column)
	}
	var out [][]format.Encoding
	for _, rg := range pf.Metadata().RowGroups {
		out = append(out, []format.Encoding(rg.Columns[l.index].MetaData.Encoding))
	}
	return out
}

func mixesDictAndPlain(encs []format.Encoding) bool {
	//lint:ignore SA1019 older writers still label dictionary pages PLAIN_DICTIONARY
	return (slices.Contains(encs, format.RLEDictionary) || slices.Contains(encs, format.PlainDictionary)) &&
		slices.Contains(encs, format.Plain)
}

func TestScanParquetGoWriter(t *testing.T) {
	const n = 3000
	codecs := map[string]parquet.WriterOption{
		"snappy":       parquet.Compression(&parquet.Snappy),
		"zstd":         parquet.Compression(&parquet.Zstd),
		"gzip":         parquet.Compression(&parquet.Gzip),
		"uncompressed": parquet.Compression(&parquet.Uncompressed),
	}
	for name, codec := range codecs {
		for _, pageVersion := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/v%d", name, pageVersion), func(t *testing.T) {
				s, dir := store(t)
				p := filepath.Join(dir, "logs", "part-0.parquet")
				parquettest.WriteGo(t, p, goRows(n), codec,
					parquet.MaxRowsPerRowGroup(700), // 5 row groups, the last one short
					parquet.PageBufferSize(2048),    // many pages per chunk
					parquet.DataPageVersion(pageVersion),
					parquet.DictionaryMaxBytes(600), // request falls back to PLAIN mid-chunk
				)
				encs := chunkEncodings(t, p, "request")
				if len(encs) != 5 || !mixesDictAndPlain(encs[0]) {
					t.Fatalf("fixture: want 5 row groups with request chunks mixing dictionary and PLAIN pages, got %v", encs)
				}
				d := &Dataset{Store: s, Prefix: "logs", Name: "logs"}
				files := listFiles(t, d)
				spec := fullSpec(true)
				spec.Workers = 3
				if err := d.Check(context.Background(), files, spec); err != nil {
					t.Fatalf("Check: %v", err)
				}
				tab, m := scanAll(t, d, files, spec)
				checkFixture(t, tab, n, true)
				if len(m.Files) != 1 || m.Files[0].RowGroups != 5 || m.Files[0].RowGroupsRead != 5 ||
					m.Files[0].Rows != n || m.Files[0].RowsRead != n || m.Files[0].BytesRead <= 0 ||
					m.Files[0].ETag == "" || m.Files[0].Key != "logs/part-0.parquet" ||
					!strings.HasSuffix(m.Files[0].Location, "/logs/part-0.parquet") {
					t.Errorf("manifest = %+v", m)
				}
			})
		}
	}
}

func TestScanArrowWriter(t *testing.T) {
	const n = 3000
	codecs := map[string]compress.Compression{
		"snappy":       compress.Codecs.Snappy,
		"zstd":         compress.Codecs.Zstd,
		"gzip":         compress.Codecs.Gzip,
		"uncompressed": compress.Codecs.Uncompressed,
	}
	for name, codec := range codecs {
		for _, int96 := range []bool{false, true} {
			pageVersion := aparquet.DataPageV2 // with RLE booleans
			if int96 {
				pageVersion = aparquet.DataPageV1
			}
			t.Run(fmt.Sprintf("%s/int96=%v/v%d", name, int96, pageVersion+1), func(t *testing.T) {
				s, dir := store(t)
				p := filepath.Join(dir, "part-0.parquet")
				parquettest.WriteArrow(t, p, arrowCols(n), parquettest.ArrowOptions{
					RowGroupRows: 1000,
					Int96:        int96,
					Props: []aparquet.WriterProperty{
						aparquet.WithCompression(codec),
						aparquet.WithDictionaryPageSizeLimit(1024), // request and id fall back to PLAIN mid-chunk
						aparquet.WithDataPageSize(1024),
						aparquet.WithDataPageVersion(pageVersion),
					},
				})
				for _, col := range []string{"request", "id"} {
					if encs := chunkEncodings(t, p, col); len(encs) != 3 || !mixesDictAndPlain(encs[0]) {
						t.Fatalf("fixture: want 3 row groups with %s chunks mixing dictionary and PLAIN pages, got %v", col, encs)
					}
				}
				d := &Dataset{Store: s}
				files := listFiles(t, d)
				spec := fullSpec(false)
				if err := d.Check(context.Background(), files, spec); err != nil {
					t.Fatalf("Check: %v", err)
				}
				tab, m := scanAll(t, d, files, spec)
				checkFixture(t, tab, n, false)
				if m.Files[0].RowGroups != 3 || m.Files[0].RowsRead != n {
					t.Errorf("manifest = %+v", m)
				}
			})
		}
	}
}

func TestScanWidensIntegersToFloat(t *testing.T) {
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "a.parquet"), goRows(100))
	d := &Dataset{Store: s}
	spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindFloat64}, {Name: "u32", Kind: KindFloat64}, {Name: "small", Kind: KindFloat64}}}
	tab, _ := scanAll(t, d, listFiles(t, d), spec)
	for i := range 100 {
		if g := tab.col(t, "id").Float[i]; g != float64(i) {
			t.Fatalf("id row %d = %v", i, g)
		}
		if g := tab.col(t, "u32").Float[i]; g != float64(u32(i)) {
			t.Fatalf("u32 row %d = %v, want %v", i, g, float64(u32(i)))
		}
		if g := tab.col(t, "small").Float[i]; g != float64(small(i)) {
			t.Fatalf("small row %d = %v", i, g)
		}
	}
}

func TestScanProjectionReadsLess(t *testing.T) {
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "a.parquet"), goRows(20000), parquet.Compression(&parquet.Uncompressed))
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	_, m := scanAll(t, d, files, ScanSpec{Columns: []ColumnSpec{{Name: "ok", Kind: KindBool}}})
	fi := m.Files[0]
	if fi.BytesRead <= 0 || fi.BytesRead*4 > fi.Size {
		t.Errorf("reading one boolean column fetched %d of %d bytes; want under a quarter", fi.BytesRead, fi.Size)
	}
}

func TestRowGroupStatisticsPruning(t *testing.T) {
	// 4 row groups of one hour each; the window [07:00, 09:00) overlaps 2.
	type row struct {
		TS time.Time `parquet:"ts,timestamp(microsecond)"`
		V  int64     `parquet:"v"`
	}
	const perHour = 500
	var rows []row
	var ts []time.Time
	var vs []int64
	for h := range 4 {
		for j := range perHour {
			tm := base.Add(time.Duration(h)*time.Hour + time.Duration(j)*time.Second)
			rows = append(rows, row{tm, int64(h*perHour + j)})
			ts, vs = append(ts, tm), append(vs, int64(h*perHour+j))
		}
	}
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "go.parquet"), rows, parquet.MaxRowsPerRowGroup(perHour))
	parquettest.WriteArrow(t, filepath.Join(dir, "arrow.parquet"), []parquettest.Col{
		{Name: "ts", Values: ts, Unit: arrow.Millisecond}, {Name: "v", Values: vs},
	}, parquettest.ArrowOptions{RowGroupRows: perHour})
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	spec := ScanSpec{
		Columns:    []ColumnSpec{{Name: "v", Kind: KindInt64}},
		TimeColumn: "ts", From: base.Add(time.Hour), To: base.Add(3 * time.Hour),
	}

	// Without statistics nothing can be pruned: every row group is read.
	parquettest.WriteArrow(t, filepath.Join(dir, "nostats", "arrow.parquet"), []parquettest.Col{
		{Name: "ts", Values: ts, Unit: arrow.Millisecond}, {Name: "v", Values: vs},
	}, parquettest.ArrowOptions{RowGroupRows: perHour, Props: []aparquet.WriterProperty{aparquet.WithStats(false)}})
	ns := &Dataset{Store: s, Prefix: "nostats"}
	if _, m := scanAll(t, ns, listFiles(t, ns), spec); m.Files[0].RowGroupsRead != 4 {
		t.Errorf("file without statistics: %d of 4 row groups read, want all", m.Files[0].RowGroupsRead)
	}

	tab, m := scanAll(t, d, files, spec)
	for _, fi := range m.Files {
		if fi.RowGroups != 4 || fi.RowGroupsRead != 2 || fi.RowsRead != 2*perHour {
			t.Errorf("%s: manifest %+v, want 2 of 4 row groups read", fi.Key, fi)
		}
	}
	v := tab.col(t, "v").Int
	if len(v) != 4*perHour || v[0] != perHour || v[2*perHour-1] != 3*perHour-1 {
		t.Errorf("read v[0]=%d, v[last of file]=%d; want rows of hours 1 and 2", v[0], v[2*perHour-1])
	}
	// Batch offsets are file row numbers, so pruning keeps them true.
	var offsets []int64
	var mu sync.Mutex
	if _, err := d.Scan(context.Background(), files[:1], spec, func(_ int, b *Batch) error {
		mu.Lock()
		defer mu.Unlock()
		offsets = append(offsets, b.Offset)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(offsets)
	if !slices.Equal(offsets, []int64{perHour, 2 * perHour}) {
		t.Errorf("offsets %v, want [%d %d]", offsets, perHour, 2*perHour)
	}
}

func TestShardingCoversEveryUnitOnce(t *testing.T) {
	s, dir := store(t)
	// 5 files × 3 row groups (arrow and parquet-go alternating) = 15 units.
	for f := range 5 {
		p := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", f))
		if f%2 == 0 {
			parquettest.WriteGo(t, p, goRows(300), parquet.MaxRowsPerRowGroup(100))
		} else {
			parquettest.WriteArrow(t, p, arrowCols(300), parquettest.ArrowOptions{RowGroupRows: 100})
		}
	}
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	seen := map[string]int{}
	var counts []int
	for shard := range 4 {
		spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, ShardIndex: shard, ShardCount: 4, Workers: 2}
		var units []string
		ch := make(chan string, 100)
		m, err := d.Scan(context.Background(), files, spec, func(_ int, b *Batch) error {
			ch <- fmt.Sprintf("%s#%d", b.File, b.RowGroup)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		close(ch)
		for u := range ch {
			units = append(units, u)
			seen[u]++
		}
		counts = append(counts, len(units))
		read := 0
		for _, fi := range m.Files {
			read += fi.RowGroupsRead
		}
		if read != len(units) {
			t.Errorf("shard %d: manifest says %d row groups read, fn saw %d", shard, read, len(units))
		}
	}
	if len(seen) != 15 {
		t.Errorf("shards covered %d distinct units, want 15", len(seen))
	}
	for u, c := range seen {
		if c != 1 {
			t.Errorf("unit %s read by %d shards", u, c)
		}
	}
	if slices.Max(counts)-slices.Min(counts) > 1 {
		t.Errorf("unbalanced shards: %v", counts)
	}
	// Deterministic whatever order the caller passes the files in.
	rev := slices.Clone(files)
	slices.Reverse(rev)
	var a, b []string
	for _, fs := range [][]storage.Object{files, rev} {
		var got []string
		ch := make(chan string, 100)
		if _, err := d.Scan(context.Background(), fs, ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, ShardIndex: 1, ShardCount: 4}, func(_ int, b *Batch) error {
			ch <- fmt.Sprintf("%s#%d", b.File, b.RowGroup)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		close(ch)
		for u := range ch {
			got = append(got, u)
		}
		slices.Sort(got)
		if a == nil {
			a = got
		} else {
			b = got
		}
	}
	if !slices.Equal(a, b) {
		t.Errorf("shard 1 depends on file order: %v vs %v", a, b)
	}
}

func TestScanStopsAtFirstError(t *testing.T) {
	s, dir := store(t)
	for f := range 3 {
		parquettest.WriteGo(t, filepath.Join(dir, fmt.Sprintf("p%d.parquet", f)), goRows(1000), parquet.MaxRowsPerRowGroup(100))
	}
	d := &Dataset{Store: s, Name: "logs"}
	files := listFiles(t, d)
	boom := errors.New("boom")
	var calls atomic.Int64
	m, err := d.Scan(context.Background(), files, ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, Workers: 2}, func(_ int, b *Batch) error {
		calls.Add(1)
		if b.File == "p0.parquet" && b.RowGroup == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "p0.parquet: row group 2: boom") || !strings.Contains(err.Error(), "logs") {
		t.Fatalf("err = %v, want boom naming dataset, file and row group", err)
	}
	if c := calls.Load(); c >= 30 {
		t.Errorf("fn called %d times after the error; the scan did not stop", c)
	}
	if len(m.Files) != 3 {
		t.Errorf("manifest has %d files", len(m.Files))
	}
}

func TestScanCanceled(t *testing.T) {
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "p.parquet"), goRows(1000), parquet.MaxRowsPerRowGroup(100))
	d := &Dataset{Store: s}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := d.Scan(ctx, listFiles(t, d), ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, Workers: 1}, func(_ int, b *Batch) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCheckNamesMissingAndMistypedColumns(t *testing.T) {
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "logs/dt=2026-11-21/part-0.parquet"), goRows(10))
	parquettest.WriteArrow(t, filepath.Join(dir, "logs/dt=2026-11-21/part-1.parquet"), arrowCols(10), parquettest.ArrowOptions{})
	d := &Dataset{Store: s, Prefix: "logs"}
	files := listFiles(t, d)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		spec ScanSpec
		want []string
	}{
		{"missing", ScanSpec{Columns: []ColumnSpec{{Name: "ai_category", Kind: KindString}}},
			[]string{`logs/dt=2026-11-21/part-0.parquet: column "ai_category": not found (want string); file has columns: id, category, model, request,`, "meta.model_version, meta.temp", "(and 1 more files with errors)"}},
		{"string as double", ScanSpec{Columns: []ColumnSpec{{Name: "category", Kind: KindFloat64}}},
			[]string{`logs/dt=2026-11-21/part-0.parquet: column "category": has type BYTE_ARRAY (STRING), want double`}},
		{"double as string", ScanSpec{Columns: []ColumnSpec{{Name: "latency_ms", Kind: KindString}}},
			[]string{`column "latency_ms": has type DOUBLE, want string`}},
		{"float as int", ScanSpec{Columns: []ColumnSpec{{Name: "cost", Kind: KindInt64}}},
			[]string{`column "cost": has type DOUBLE, want int64`}},
		{"timestamp as int", ScanSpec{Columns: []ColumnSpec{{Name: "ts_us", Kind: KindInt64}}},
			[]string{`column "ts_us": has type INT64 (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)), want int64`}},
		{"int as timestamp", ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindTimestamp}}},
			[]string{`column "id": has type INT64 (INT(64,true)), want timestamp (an integer without a TIMESTAMP or DATE annotation has no known unit)`}},
		{"time column", ScanSpec{TimeColumn: "when", From: base}, []string{`time column "when": not found (want timestamp)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := d.Check(ctx, files, tc.spec)
			if err == nil {
				t.Fatal("Check passed")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n does not contain %q", err, w)
				}
			}
			// Scan refuses the same spec before calling fn.
			called := false
			if _, err := d.Scan(ctx, files, tc.spec, func(int, *Batch) error { called = true; return nil }); err == nil || called {
				t.Errorf("Scan: err=%v called=%v; want an error before any batch", err, called)
			}
		})
	}
	// Optional columns may be missing.
	if err := d.Check(ctx, files, ScanSpec{Columns: []ColumnSpec{{Name: "nope", Kind: KindString, Optional: true}}}); err != nil {
		t.Errorf("optional missing column: %v", err)
	}
}

func TestTruncatedAndCorruptFilesGiveNamedErrors(t *testing.T) {
	s, dir := store(t)
	good := filepath.Join(dir, "src.parquet")
	parquettest.WriteGo(t, good, goRows(5000), parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(1000))
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(key string, b []byte) {
		p := filepath.Join(dir, key)
		_ = os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("t/truncated.parquet", data[:len(data)/2])
	write("n/notes.txt", []byte("these are not the rows you are looking for"))

	// Corrupt the first data page header of column "latency_ms" in row group 1.
	pf, err := parquet.OpenFile(bytesReaderAt(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	leaves, _ := leavesOf(pf.Metadata())
	l := findLeaf(leaves, "latency_ms")
	off := pf.Metadata().RowGroups[1].Columns[l.index].MetaData.DataPageOffset
	bad := slices.Clone(data)
	for i := range 64 {
		bad[off+int64(i)] = 0xff
	}
	write("c/corrupt.parquet", bad)

	ctx := context.Background()
	spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}, {Name: "latency_ms", Kind: KindFloat64}}}
	for _, tc := range []struct {
		prefix, filesErr, scanErr string
	}{
		{"t", "t/truncated.parquet: truncated Parquet file", "t/truncated.parquet: not a Parquet file or truncated"},
		{"n", "n/notes.txt: not a Parquet file (no PAR1 magic)", "n/notes.txt: not a Parquet file or truncated"},
		{"c", "", `c/corrupt.parquet: row group 1: column "latency_ms": `},
	} {
		d := &Dataset{Store: s, Prefix: tc.prefix}
		_, err := d.Files(ctx, time.Time{}, time.Time{})
		if tc.filesErr == "" {
			if err != nil {
				t.Errorf("Files(%s): %v", tc.prefix, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tc.filesErr) {
			t.Errorf("Files(%s) = %v, want %q", tc.prefix, err, tc.filesErr)
		}
		objs, _ := s.List(ctx, tc.prefix+"/")
		_, err = d.Scan(ctx, objs, spec, func(int, *Batch) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tc.scanErr) {
			t.Errorf("Scan(%s) = %v, want %q", tc.prefix, err, tc.scanErr)
		}
		if tc.prefix != "c" {
			if err := d.Check(ctx, objs, spec); err == nil || !strings.Contains(err.Error(), tc.scanErr) {
				t.Errorf("Check(%s) = %v, want %q", tc.prefix, err, tc.scanErr)
			}
		}
	}
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, errors.New("EOF")
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, errors.New("EOF")
	}
	return n, nil
}

func TestPlanRejectsUnknownTimestampUnit(t *testing.T) {
	e := &format.SchemaElement{Name: "ts"}
	e.Type.Valid, e.Type.V = true, format.Int64
	e.LogicalType.Value = &format.TimestampType{IsAdjustedToUTC: true} // no unit
	_, err := plan(&leaf{path: "ts", elem: e}, KindTimestamp)
	if err == nil || !strings.Contains(err.Error(), "unknown unit") {
		t.Fatalf("plan = %v, want unknown unit error", err)
	}
	// Legacy converted types still work without a logical type.
	e2 := &format.SchemaElement{Name: "ts"}
	e2.Type.Valid, e2.Type.V = true, format.Int64
	e2.ConvertedType.Valid, e2.ConvertedType.V = true, deprecated.TimestampMillis
	cv, err := plan(&leaf{path: "ts", elem: e2}, KindTimestamp)
	if err != nil || cv.tsMul != 1e6 {
		t.Fatalf("TIMESTAMP_MILLIS: conv %+v, err %v", cv, err)
	}
}

func TestInt96AndClamping(t *testing.T) {
	for _, tm := range []time.Time{base, time.Date(1969, 7, 20, 20, 17, 40, 123456789, time.UTC), time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got := int96Nanos(toInt96(tm)); got != tm.UnixNano() {
			t.Errorf("int96 %v: got %v", tm, time.Unix(0, got).UTC())
		}
	}
	c := conv{tsMul: 1e6}
	if got := c.toNanos(253402214400000); got != math.MaxInt64 { // 9999-12-31 in ms
		t.Errorf("far-future millis = %d, want clamped to MaxInt64", got)
	}
}

// TestCorruptionNeverPanics damages a small file in many seeded ways
// (random bytes overwritten, random truncation) and scans each: a bad file
// must come back as an error naming it, or decode to something, never
// crash the process.
func TestCorruptionNeverPanics(t *testing.T) {
	s, dir := store(t)
	goSrc, arrowSrc := filepath.Join(dir, "src-go.parquet"), filepath.Join(dir, "src-arrow.parquet")
	parquettest.WriteGo(t, goSrc, goRows(400), parquet.Compression(&parquet.Uncompressed), parquet.MaxRowsPerRowGroup(100), parquet.PageBufferSize(512))
	// arrow-go writes no page CRCs by default, so damage reaches the decoders.
	parquettest.WriteArrow(t, arrowSrc, arrowCols(400), parquettest.ArrowOptions{RowGroupRows: 100,
		Props: []aparquet.WriterProperty{aparquet.WithCompression(compress.Codecs.Snappy), aparquet.WithDataPageSize(512), aparquet.WithDictionaryPageSizeLimit(512)}})
	rnd := rand.New(rand.NewPCG(1, 2))
	d := &Dataset{Store: s}
	for _, tc := range []struct {
		src       string
		withInt96 bool
	}{{goSrc, true}, {arrowSrc, false}} {
		data, err := os.ReadFile(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		spec := fullSpec(tc.withInt96)
		errs, recovered := 0, 0
		for i := range 300 {
			bad := slices.Clone(data)
			if i%5 == 4 {
				bad = bad[:rnd.IntN(len(bad))]
			} else {
				at := rnd.IntN(len(bad))
				for j := range 1 + rnd.IntN(16) {
					if at+j < len(bad) {
						bad[at+j] = byte(rnd.Uint32())
					}
				}
			}
			key := fmt.Sprintf("bad-%s-%03d.parquet", filepath.Base(tc.src), i)
			if err := os.WriteFile(filepath.Join(dir, key), bad, 0o600); err != nil {
				t.Fatal(err)
			}
			objs, err := s.List(context.Background(), key)
			if err != nil || len(objs) != 1 {
				t.Fatalf("list %s: %v %v", key, objs, err)
			}
			_, err = d.Scan(context.Background(), objs, spec, func(int, *Batch) error { return nil })
			if err != nil {
				errs++
				if strings.Contains(err.Error(), "panicked") {
					recovered++
				}
				if !strings.Contains(err.Error(), key) {
					t.Errorf("error does not name the file: %v", err)
				}
			}
		}
		if errs < 50 {
			t.Errorf("%s: only %d of 300 damaged files gave errors; the damage is not reaching the decoder", tc.src, errs)
		}
		t.Logf("%s: %d of 300 damaged files gave errors (%d recovered decoder panics)", filepath.Base(tc.src), errs, recovered)
	}
}

func TestWorkerCount(t *testing.T) {
	if got := (&ScanSpec{}).WorkerCount(); got != runtime.GOMAXPROCS(0) {
		t.Errorf("WorkerCount() = %d, want GOMAXPROCS %d", got, runtime.GOMAXPROCS(0))
	}
	if got := (&ScanSpec{Workers: 3}).WorkerCount(); got != 3 {
		t.Errorf("WorkerCount() = %d, want 3", got)
	}
}

// encRow covers the other encodings and logical types writers produce:
// DELTA_BINARY_PACKED, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, UUID, DATE,
// DECIMAL, ENUM, JSON, narrow and unsigned INT annotations, local
// timestamps, a repeated column (refused by name) and a TIME (refused).
type encRow struct {
	ID    int64     `parquet:"id,delta"`
	S     string    `parquet:"s,delta"`
	F     float64   `parquet:"f,split"`
	OptF  *float32  `parquet:"of,optional,split"`
	TS    time.Time `parquet:"ts,delta,timestamp(millisecond:local)"`
	UUID  [16]byte  `parquet:"u,uuid"`
	Day   int32     `parquet:"d,date"` // days; parquet-go v0.32 mis-writes time.Time with the date tag
	Cents int64     `parquet:"price,decimal(2:18)"`
	Enum  string    `parquet:"e,enum"`
	JSON  string    `parquet:"j,json"`
	I8    int32     `parquet:"i8,int(8)"`
	U64   uint64    `parquet:"u64,uint(64)"`
	Tags  []string  `parquet:"tags,list"`
	Dur   int64     `parquet:"dur,time(microsecond)"`
}

func TestScanOtherEncodingsAndTypes(t *testing.T) {
	const n = 1000
	rows := make([]encRow, n)
	for i := range rows {
		r := encRow{
			ID: int64(i * 3), S: fmt.Sprintf("prefix-shared-%05d", i), F: float64(i) / 3,
			TS: tsMs(i), Day: int32(base.Unix()/86400) + int32(i%40) - 20, Cents: int64(i*100 + 99),
			Enum: categories[i%5], JSON: fmt.Sprintf(`{"i":%d}`, i), I8: int32(i%256 - 128), U64: uint64(i) << 40,
			Tags: []string{"a"},
		}
		r.UUID[0], r.UUID[15] = byte(i), byte(i>>8)
		if i%2 == 0 {
			f := float32(i)
			r.OptF = &f
		}
		rows[i] = r
	}
	s, dir := store(t)
	parquettest.WriteGo(t, filepath.Join(dir, "enc.parquet"), rows, parquet.MaxRowsPerRowGroup(300))
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	spec := ScanSpec{Columns: []ColumnSpec{
		{Name: "id", Kind: KindInt64}, {Name: "s", Kind: KindString}, {Name: "f", Kind: KindFloat64},
		{Name: "of", Kind: KindFloat64}, {Name: "ts", Kind: KindTimestamp}, {Name: "u", Kind: KindString},
		{Name: "d", Kind: KindTimestamp}, {Name: "price", Kind: KindFloat64}, {Name: "e", Kind: KindString},
		{Name: "j", Kind: KindString}, {Name: "i8", Kind: KindInt64}, {Name: "u64", Kind: KindInt64},
	}}
	if err := d.Check(context.Background(), files, spec); err != nil {
		t.Fatal(err)
	}
	tab, _ := scanAll(t, d, files, spec)
	if tab.rows != n {
		t.Fatalf("rows %d", tab.rows)
	}
	for i, r := range rows {
		wantUUID := uuid.UUID(r.UUID).String()
		got := []any{tab.col(t, "id").Int[i], tab.col(t, "s").Dict[i], tab.col(t, "f").Float[i],
			tab.col(t, "ts").Int[i], tab.col(t, "u").Dict[i], tab.col(t, "d").Int[i], tab.col(t, "price").Float[i],
			tab.col(t, "e").Dict[i], tab.col(t, "j").Dict[i], tab.col(t, "i8").Int[i], tab.col(t, "u64").Int[i]}
		want := []any{r.ID, r.S, r.F, r.TS.UnixNano(), wantUUID, int64(r.Day) * 86400e9, float64(r.Cents) / 100,
			r.Enum, r.JSON, int64(r.I8), int64(r.U64)}
		if !slices.Equal(got, want) {
			t.Fatalf("row %d:\n got %v\nwant %v", i, got, want)
		}
		of := tab.col(t, "of")
		if of.Null[i] != (r.OptF == nil) || (r.OptF != nil && of.Float[i] != float64(*r.OptF)) {
			t.Fatalf("row %d: of = %v (null %v), want %v", i, of.Float[i], of.Null[i], r.OptF)
		}
	}
	for col, want := range map[string]string{
		"tags.list.element": `column "tags.list.element": is a repeated (list or map) column`,
		"dur":               `column "dur": has type INT64 (TIME(isAdjustedToUTC=true,unit=MICROS)), want int64`,
		"tags":              `column "tags": not found (want string); file has columns: id, s, f, of, ts, u, d, price, e, j, i8, u64, tags.list.element, dur`,
	} {
		err := d.Check(context.Background(), files, ScanSpec{Columns: []ColumnSpec{{Name: col, Kind: KindString}}})
		if col == "dur" {
			err = d.Check(context.Background(), files, ScanSpec{Columns: []ColumnSpec{{Name: col, Kind: KindInt64}}})
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check(%s) = %v, want %q", col, err, want)
		}
	}
}

// TestIntern checks the interning table against a Go map over values with
// many repeats, empty and long strings, arena block boundaries and growth.
func TestIntern(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	d := chunkDecoder{col: &Column{Dict: []string{"seed-a", "seed-b", "seed-a"}}} // as after a dictionary page
	want := map[string]int32{"seed-a": 0, "seed-b": 1}
	for i := range 300_000 {
		var v string
		switch {
		case i%1000 == 0:
			v = ""
		case i%777 == 0:
			v = strings.Repeat("long", 5000+rnd.IntN(100)) // bigger than an arena share
		case i%3 == 0:
			v = "seed-a"
		default:
			v = fmt.Sprintf("v-%d", rnd.IntN(60_000))
		}
		var code int32
		if i%2 == 0 {
			code = d.intern([]byte(v))
		} else {
			code = d.internString(v)
		}
		if w, ok := want[v]; ok && code != w {
			t.Fatalf("value %q: code %d, earlier %d", v, code, w)
		}
		want[v] = code
		if d.col.Dict[code] != v {
			t.Fatalf("Dict[%d] = %q, want %q", code, d.col.Dict[code], v)
		}
	}
	if len(d.col.Dict) != len(want)+1 { // + the dictionary page's own duplicate
		t.Errorf("Dict has %d entries for %d distinct values (+1 duplicate from the page)", len(d.col.Dict), len(want))
	}
}

// FuzzScan feeds arbitrary bytes to Scan as a Parquet file: the only
// acceptable outcomes are rows or an error naming the file. The seeds are
// small files from both writers; `go test -fuzz FuzzScan ./datasets`
// explores from them.
func FuzzScan(f *testing.F) {
	dir := f.TempDir()
	goSrc, arrowSrc := filepath.Join(dir, "go.parquet"), filepath.Join(dir, "arrow.parquet")
	parquettest.WriteGo(f, goSrc, goRows(60), parquet.MaxRowsPerRowGroup(20), parquet.PageBufferSize(256))
	parquettest.WriteArrow(f, arrowSrc, arrowCols(60), parquettest.ArrowOptions{RowGroupRows: 20,
		Props: []aparquet.WriterProperty{aparquet.WithDataPageSize(256), aparquet.WithDictionaryPageSizeLimit(128)}})
	for _, p := range []string{goSrc, arrowSrc} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	spec := fullSpec(false)
	for i := range spec.Columns {
		spec.Columns[i].Optional = true // let mutated schemas through to the decoder
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, dir := store(t)
		if err := os.WriteFile(filepath.Join(dir, "f.parquet"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		objs, err := s.List(context.Background(), "")
		if err != nil {
			t.Fatal(err)
		}
		d := &Dataset{Store: s}
		_, err = d.Scan(context.Background(), objs, spec, func(_ int, b *Batch) error {
			for _, c := range b.Cols {
				if c != nil && c.Len() != b.Rows {
					return fmt.Errorf("column %s has %d rows, batch %d", c.Name, c.Len(), b.Rows)
				}
			}
			return nil
		})
		if err != nil && !strings.Contains(err.Error(), "f.parquet") {
			t.Errorf("error does not name the file: %v", err)
		}
		if err != nil && strings.Contains(err.Error(), "has") && strings.Contains(err.Error(), "rows, batch") {
			t.Errorf("inconsistent batch: %v", err)
		}
	})
}

// rewriteFooter returns a copy of a Parquet file with its footer metadata
// changed by edit, re-encoded with parquet-go's thrift codec.
func rewriteFooter(t *testing.T, data []byte, edit func(*format.FileMetaData)) []byte {
	t.Helper()
	n := len(data)
	flen := int(binary.LittleEndian.Uint32(data[n-8:]))
	var md format.FileMetaData
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), data[n-8-flen:n-8], &md); err != nil {
		t.Fatal(err)
	}
	edit(&md)
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		t.Fatal(err)
	}
	out := slices.Clone(data[:n-8-flen])
	out = append(out, footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...)
}

// TestCorruptFooterCounts: row and value counts in the footer are checked
// before Scan allocates columns by them.
func TestCorruptFooterCounts(t *testing.T) {
	s, dir := store(t)
	src := filepath.Join(dir, "src", "a.parquet")
	parquettest.WriteGo(t, src, goRows(300), parquet.MaxRowsPerRowGroup(100))
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	leaves := func(md *format.FileMetaData) []leaf { l, _ := leavesOf(md); return l }
	spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}, {Name: "category", Kind: KindString}}}
	for _, tc := range []struct {
		name string
		edit func(*format.FileMetaData)
		want string
	}{
		{"unchanged", func(*format.FileMetaData) {}, ""},
		{"values", func(md *format.FileMetaData) {
			md.RowGroups[1].Columns[findLeaf(leaves(md), "category").index].MetaData.NumValues = 999
		}, `row group 1: column "category": corrupt footer: column chunk has 999 values, row group 100 rows`},
		{"huge row count", func(md *format.FileMetaData) {
			md.RowGroups[2].NumRows = 1 << 40
			md.NumRows += 1<<40 - 100
		}, "row group 2: corrupt footer: 1099511627776 rows"},
		{"missing column chunk", func(md *format.FileMetaData) {
			md.RowGroups[0].Columns = md.RowGroups[0].Columns[:3]
		}, "row group at index 0 does not have enough columns"}, // caught by parquet-go itself
	} {
		key := "c/" + strings.ReplaceAll(tc.name, " ", "-") + ".parquet"
		p := filepath.Join(dir, key)
		_ = os.MkdirAll(filepath.Dir(p), 0o750)
		if err := os.WriteFile(p, rewriteFooter(t, data, tc.edit), 0o600); err != nil {
			t.Fatal(err)
		}
		objs, _ := s.List(context.Background(), key)
		d := &Dataset{Store: s}
		rows := atomic.Int64{}
		_, err := d.Scan(context.Background(), objs, spec, func(_ int, b *Batch) error { rows.Add(int64(b.Rows)); return nil })
		switch {
		case tc.want == "" && (err != nil || rows.Load() != 300):
			t.Errorf("%s: rewritten footer should read as the original: %v, %d rows", tc.name, err, rows.Load())
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), key+": ") || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestScanAssignsUnitsToWorkersStatically: unit k (in key order) goes to
// worker k mod n and each worker sees its units in order, whatever the
// timing, so per-worker floating-point sums are the same on every rerun.
func TestScanAssignsUnitsToWorkersStatically(t *testing.T) {
	s, dir := store(t)
	// 3 files × 4 row groups = 12 units.
	for f := range 3 {
		parquettest.WriteGo(t, filepath.Join(dir, fmt.Sprintf("part-%d.parquet", f)), goRows(200), parquet.MaxRowsPerRowGroup(50))
	}
	d := &Dataset{Store: s}
	files := listFiles(t, d)
	for _, nw := range []int{2, 3} {
		for run := range 3 {
			var mu sync.Mutex
			got := make([][]string, nw)
			spec := ScanSpec{Columns: []ColumnSpec{{Name: "id", Kind: KindInt64}}, Workers: nw}
			if _, err := d.Scan(context.Background(), files, spec, func(w int, b *Batch) error {
				// Uneven work: a worker that is free must still not take
				// another worker's unit.
				if (b.RowGroup+run)%3 == 0 {
					time.Sleep(2 * time.Millisecond)
				}
				mu.Lock()
				got[w] = append(got[w], fmt.Sprintf("%s#%d", b.File, b.RowGroup))
				mu.Unlock()
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want := make([][]string, nw)
			for k := range 12 {
				want[k%nw] = append(want[k%nw], fmt.Sprintf("part-%d.parquet#%d", k/4, k%4))
			}
			for w := range nw {
				if !slices.Equal(got[w], want[w]) {
					t.Errorf("workers=%d run %d: worker %d scanned %v, want %v", nw, run, w, got[w], want[w])
				}
			}
		}
	}
}
