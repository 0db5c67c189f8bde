// Package parquettest writes Parquet fixture files for tests, with both
// writers parity has to read: parquet-go's GenericWriter (Go structs with
// parquet tags) and arrow-go's pqarrow FileWriter (the same code path as
// pyarrow and Arrow-based pipelines: dictionary encoding with PLAIN
// fallback, INT96 timestamps, nested structs). Fixtures are generated in
// the test rather than checked in, so each test shows what it reads.
package parquettest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	aparquet "github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/parquet-go/parquet-go"
)

// WriteGo writes rows to the file at path (folders are created) with
// parquet-go's GenericWriter. Options such as
// parquet.MaxRowsPerRowGroup(n) or parquet.Compression(&parquet.Zstd)
// pass through; struct tags choose encodings ("name,dict", "name,plain"),
// nullability ("name,optional") and timestamp units
// ("name,timestamp(microsecond)").
func WriteGo[T any](tb testing.TB, path string, rows []T, opts ...parquet.WriterOption) {
	tb.Helper()
	f := create(tb, path)
	w := parquet.NewGenericWriter[T](f, opts...)
	if _, err := w.Write(rows); err != nil {
		tb.Fatalf("parquettest: writing %s: %v", path, err)
	}
	if err := w.Close(); err != nil {
		tb.Fatalf("parquettest: closing writer for %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		tb.Fatalf("parquettest: closing %s: %v", path, err)
	}
}

// Col is one column for WriteArrow. Values is a slice of one of: string,
// int64, int32, uint32, float64, float32, bool, time.Time (written as an
// Arrow timestamp of Unit); or nil with Fields set for a struct column.
// Valid marks nulls (false = null) and makes the field nullable; nil
// means every row is valid and the field is non-nullable unless Nullable.
type Col struct {
	Name     string
	Values   any
	Valid    []bool
	Nullable bool
	Unit     arrow.TimeUnit // for []time.Time; default arrow.Microsecond
	Fields   []Col          // struct column
}

// ArrowOptions configure WriteArrow.
type ArrowOptions struct {
	// RowGroupRows splits the rows into row groups of this many rows
	// (0 = one row group).
	RowGroupRows int
	// Props are arrow-go Parquet writer properties, e.g.
	// parquet.WithCompression(compress.Codecs.Zstd) or
	// parquet.WithDictionaryPageSizeLimit(256) to force the PLAIN fallback.
	Props []aparquet.WriterProperty
	// Int96 writes timestamps as legacy INT96 (Spark/Impala style).
	Int96 bool
}

// WriteArrow writes the columns (all of the same length) to path with
// arrow-go's pqarrow FileWriter.
func WriteArrow(tb testing.TB, path string, cols []Col, o ArrowOptions) {
	tb.Helper()
	rec, err := Record(cols)
	if err != nil {
		tb.Fatalf("parquettest: %s: %v", path, err)
	}
	defer rec.Release()

	f := create(tb, path)
	var aopts []pqarrow.WriterOption
	if o.Int96 {
		aopts = append(aopts, pqarrow.WithDeprecatedInt96Timestamps(true))
	}
	props := aparquet.NewWriterProperties(o.Props...)
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, props, pqarrow.NewArrowWriterProperties(aopts...))
	if err != nil {
		tb.Fatalf("parquettest: %s: %v", path, err)
	}
	n := rec.NumRows()
	step := int64(o.RowGroupRows)
	if step <= 0 {
		step = max(n, 1)
	}
	for off := int64(0); off < n; off += step {
		part := rec.NewSlice(off, min(off+step, n))
		if off > 0 {
			w.NewRowGroup()
		}
		err := w.WriteBuffered(part)
		part.Release()
		if err != nil {
			tb.Fatalf("parquettest: writing %s: %v", path, err)
		}
	}
	if err := w.Close(); err != nil { // also closes f
		tb.Fatalf("parquettest: closing %s: %v", path, err)
	}
}

// Record builds an Arrow record from columns.
func Record(cols []Col) (arrow.RecordBatch, error) {
	mem := memory.DefaultAllocator
	fields := make([]arrow.Field, len(cols))
	arrs := make([]arrow.Array, len(cols))
	n := -1
	for i, c := range cols {
		a, f, err := build(mem, c)
		if err != nil {
			return nil, err
		}
		if n >= 0 && a.Len() != n {
			return nil, fmt.Errorf("column %q has %d rows, want %d", c.Name, a.Len(), n)
		}
		n = a.Len()
		fields[i], arrs[i] = f, a
	}
	if n < 0 {
		n = 0
	}
	rec := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec, nil
}

func build(mem memory.Allocator, c Col) (arrow.Array, arrow.Field, error) {
	nullable := c.Nullable || c.Valid != nil
	valid := func(i int) bool { return c.Valid == nil || c.Valid[i] }
	if c.Fields != nil {
		var kids []arrow.Array
		var kf []arrow.Field
		n := -1
		for _, sub := range c.Fields {
			a, f, err := build(mem, sub)
			if err != nil {
				return nil, arrow.Field{}, err
			}
			if n >= 0 && a.Len() != n {
				return nil, arrow.Field{}, fmt.Errorf("struct %q: field %q has %d rows, want %d", c.Name, sub.Name, a.Len(), n)
			}
			n = a.Len()
			kids, kf = append(kids, a), append(kf, f)
		}
		var bitmap []byte
		nulls := 0
		if c.Valid != nil {
			bitmap = make([]byte, (n+7)/8)
			for i, ok := range c.Valid {
				if ok {
					bitmap[i/8] |= 1 << (i % 8)
				} else {
					nulls++
				}
			}
		}
		typ := arrow.StructOf(kf...)
		buffers := []*memory.Buffer{nil}
		if bitmap != nil {
			buffers[0] = memory.NewBufferBytes(bitmap)
		}
		childData := make([]arrow.ArrayData, len(kids))
		for i, k := range kids {
			childData[i] = k.Data()
		}
		data := array.NewData(typ, n, buffers, childData, nulls, 0)
		a := array.NewStructData(data)
		data.Release()
		for _, k := range kids {
			k.Release()
		}
		return a, arrow.Field{Name: c.Name, Type: typ, Nullable: nullable}, nil
	}

	var b array.Builder
	switch v := c.Values.(type) {
	case []string:
		b = fill(array.NewStringBuilder(mem), v, valid)
	case []int64:
		b = fill(array.NewInt64Builder(mem), v, valid)
	case []int32:
		b = fill(array.NewInt32Builder(mem), v, valid)
	case []uint32:
		b = fill(array.NewUint32Builder(mem), v, valid)
	case []float64:
		b = fill(array.NewFloat64Builder(mem), v, valid)
	case []float32:
		b = fill(array.NewFloat32Builder(mem), v, valid)
	case []bool:
		b = fill(array.NewBooleanBuilder(mem), v, valid)
	case []time.Time:
		unit := c.Unit
		if unit == arrow.Second { // Parquet has no seconds unit; the zero value means "default"
			unit = arrow.Microsecond
		}
		typ := &arrow.TimestampType{Unit: unit, TimeZone: "UTC"}
		tb := array.NewTimestampBuilder(mem, typ)
		for i, x := range v {
			if valid(i) {
				ts, err := arrow.TimestampFromTime(x, unit)
				if err != nil {
					return nil, arrow.Field{}, fmt.Errorf("column %q: %w", c.Name, err)
				}
				tb.Append(ts)
			} else {
				tb.AppendNull()
			}
		}
		b = tb
	default:
		return nil, arrow.Field{}, fmt.Errorf("column %q: unsupported values %T", c.Name, c.Values)
	}
	defer b.Release()
	a := b.NewArray()
	return a, arrow.Field{Name: c.Name, Type: a.DataType(), Nullable: nullable}, nil
}

func create(tb testing.TB, path string) *os.File {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		tb.Fatalf("parquettest: %v", err)
	}
	f, err := os.Create(path)
	if err != nil {
		tb.Fatalf("parquettest: %v", err)
	}
	return f
}

// appender is an Arrow builder of T values.
type appender[T any] interface {
	array.Builder
	Append(T)
}

// fill appends v to bld, null where valid says so.
func fill[T any, B appender[T]](bld B, v []T, valid func(int) bool) array.Builder {
	for i, x := range v {
		if valid(i) {
			bld.Append(x)
		} else {
			bld.AppendNull()
		}
	}
	return bld
}
