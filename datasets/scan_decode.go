package datasets

import (
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// This file is the typed column-scan layer: it reads the pages of one
// column chunk with parquet-go (which does the decompression and the
// Parquet encodings) and converts their raw value buffers straight into a
// Column. parquet-go's row readers build a parquet.Value per cell and fill
// structs by reflection, which measured ~20× slower (see
// /work/shared/notes/libraries.md §1); no library offers this typed,
// dictionary-preserving path over parquet-go pages, so it is hand-written.

// newColumn allocates a column for rows values of kind k.
func newColumn(name string, k Kind, rows int) *Column {
	c := &Column{Name: name, Kind: k}
	switch k {
	case KindString:
		c.Codes = make([]int32, rows)
	case KindFloat64:
		c.Float = make([]float64, rows)
	case KindInt64, KindTimestamp:
		c.Int = make([]int64, rows)
	case KindBool:
		c.Bool = make([]bool, rows)
	}
	return c
}

// chunkDecoder fills one Column from the pages of one column chunk.
type chunkDecoder struct {
	conv   conv
	maxDef byte
	col    *Column
	rows   int // rows in the row group
	row    int // rows filled so far

	// String columns. The chunk's dictionary (if any) becomes Column.Dict
	// as is, so dictionary pages are a straight copy of indices. A PLAIN
	// page (writers fall back to PLAIN mid-chunk when the dictionary grows
	// too big) interns its values into the same Dict through index, which
	// is only built when the first such page arrives.
	index     map[string]int32
	dict      parquet.Dictionary // the dictionary the cached values below belong to
	dictCodes []int32            // parquet dictionary index -> Column code; nil = identity
	dictLen   int

	// Numeric columns: the dictionary's values, converted once per chunk.
	dictInts   []int64
	dictFloats []float64
	dictBools  []bool
}

// errCorrupt marks decoding failures caused by the file's content.
var errCorrupt = errors.New("corrupt column chunk")

// decodeChunk reads every page of cc into a new Column of rows values.
func decodeChunk(cc parquet.ColumnChunk, l *leaf, cv conv, name string, rows int) (*Column, error) {
	d := chunkDecoder{conv: cv, maxDef: byte(l.maxDef), col: newColumn(name, cv.want, rows), rows: rows}
	pages := cc.Pages()
	defer pages.Close()
	for n := 0; ; n++ {
		p, err := pages.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading page %d: %w", n, err)
		}
		err = d.page(p)
		parquet.Release(p)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", n, err)
		}
	}
	if d.row != rows {
		return nil, fmt.Errorf("column chunk holds %d values, want %d (the row group's row count): %w", d.row, rows, errCorrupt)
	}
	return d.col, nil
}

func (d *chunkDecoder) page(p parquet.Page) error {
	n := int(p.NumValues())
	start := d.row
	if n < 0 || start+n > d.rows {
		return fmt.Errorf("page holds %d values after row %d, but the row group has %d rows: %w", n, start, d.rows, errCorrupt)
	}
	defs := p.DefinitionLevels()
	nn := n // non-null values in the page
	if d.maxDef > 0 {
		if len(defs) != n {
			return fmt.Errorf("page has %d definition levels for %d values: %w", len(defs), n, errCorrupt)
		}
		nn = 0
		for _, l := range defs {
			if l == d.maxDef {
				nn++
			}
		}
	}
	data := p.Data()
	dict := p.Dictionary()

	var err error
	c := d.col
	switch c.Kind {
	case KindString:
		err = d.strings(c.Codes[start:start+nn], &data, dict)
	case KindFloat64:
		err = d.floatsOf(c.Float[start:start+nn], &data, dict)
	case KindInt64, KindTimestamp:
		err = d.intsOf(c.Int[start:start+nn], &data, dict)
	case KindBool:
		err = d.boolsOf(c.Bool[start:start+nn], &data, dict)
	}
	if err != nil {
		return err
	}

	if nn < n {
		if c.Null == nil {
			c.Null = make([]bool, d.rows)
		}
		null := c.Null[start : start+n]
		switch c.Kind {
		case KindString:
			spread(c.Codes[start:start+n], nn, defs, d.maxDef, null)
		case KindFloat64:
			spread(c.Float[start:start+n], nn, defs, d.maxDef, null)
		case KindInt64, KindTimestamp:
			spread(c.Int[start:start+n], nn, defs, d.maxDef, null)
		case KindBool:
			spread(c.Bool[start:start+n], nn, defs, d.maxDef, null)
		}
	}
	d.row += n
	return nil
}

// spread moves the nn non-null values packed at the front of vals to the
// rows whose definition level says they are present, walking backwards so
// it works in place, and marks the other rows null.
func spread[T any](vals []T, nn int, defs []byte, maxDef byte, null []bool) {
	var zero T
	k := nn - 1
	for j := len(vals) - 1; j >= 0; j-- {
		if defs[j] == maxDef {
			vals[j] = vals[k]
			k--
		} else {
			vals[j] = zero
			null[j] = true
		}
	}
}

// indices returns the dictionary indices of an RLE_DICTIONARY page,
// checked against the dictionary size so a corrupt index cannot make a
// scorer panic later.
func indices(v *encoding.Values, n, dictLen int) ([]int32, error) {
	if v.Kind() != encoding.Int32 {
		return nil, fmt.Errorf("dictionary page data is %s, want INT32 indices: %w", v.Kind(), errCorrupt)
	}
	idx := v.Int32()
	if len(idx) < n {
		return nil, fmt.Errorf("page has %d dictionary indices for %d values: %w", len(idx), n, errCorrupt)
	}
	idx = idx[:n]
	for _, j := range idx {
		if uint32(j) >= uint32(dictLen) {
			return nil, fmt.Errorf("dictionary index %d out of range (dictionary has %d values): %w", j, dictLen, errCorrupt)
		}
	}
	return idx, nil
}

func (d *chunkDecoder) intsOf(dst []int64, v *encoding.Values, dict parquet.Dictionary) error {
	if dict == nil {
		return d.conv.ints(dst, v)
	}
	if dict != d.dict {
		dv := dict.Page().Data()
		vals := make([]int64, dict.Len())
		if err := d.conv.ints(vals, &dv); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		d.dict, d.dictInts = dict, vals
	}
	idx, err := indices(v, len(dst), len(d.dictInts))
	if err != nil {
		return err
	}
	for i, j := range idx {
		dst[i] = d.dictInts[j]
	}
	return nil
}

func (d *chunkDecoder) floatsOf(dst []float64, v *encoding.Values, dict parquet.Dictionary) error {
	if dict == nil {
		return d.conv.floats(dst, v)
	}
	if dict != d.dict {
		dv := dict.Page().Data()
		vals := make([]float64, dict.Len())
		if err := d.conv.floats(vals, &dv); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		d.dict, d.dictFloats = dict, vals
	}
	idx, err := indices(v, len(dst), len(d.dictFloats))
	if err != nil {
		return err
	}
	for i, j := range idx {
		dst[i] = d.dictFloats[j]
	}
	return nil
}

func (d *chunkDecoder) boolsOf(dst []bool, v *encoding.Values, dict parquet.Dictionary) error {
	if dict == nil {
		return bools(dst, v)
	}
	if dict != d.dict {
		dv := dict.Page().Data()
		vals := make([]bool, dict.Len())
		if err := bools(vals, &dv); err != nil {
			return fmt.Errorf("dictionary: %w", err)
		}
		d.dict, d.dictBools = dict, vals
	}
	idx, err := indices(v, len(dst), len(d.dictBools))
	if err != nil {
		return err
	}
	for i, j := range idx {
		dst[i] = d.dictBools[j]
	}
	return nil
}

// ints converts len(dst) plain integer or timestamp values.
func (c *conv) ints(dst []int64, v *encoding.Values) error {
	n := len(dst)
	switch v.Kind() {
	case encoding.Int32:
		src := v.Int32()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		switch {
		case c.date:
			for i, x := range src[:n] {
				dst[i] = dateNanos(x)
			}
		case c.unsigned:
			for i, x := range src[:n] {
				dst[i] = int64(uint32(x))
			}
		default:
			for i, x := range src[:n] {
				dst[i] = int64(x)
			}
		}
	case encoding.Int64:
		src := v.Int64()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		switch {
		case c.tsMul != 0:
			for i, x := range src[:n] {
				dst[i] = c.toNanos(x)
			}
		case c.unsigned:
			for i, x := range src[:n] {
				if x < 0 {
					return fmt.Errorf("unsigned value %d does not fit in int64", uint64(x))
				}
				dst[i] = x
			}
		default:
			copy(dst, src[:n])
		}
	case encoding.Int96:
		src := v.Int96()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		for i, x := range src[:n] {
			dst[i] = int96Nanos(x)
		}
	default:
		return fmt.Errorf("page holds %s values, want integers: %w", v.Kind(), errCorrupt)
	}
	return nil
}

// floats converts len(dst) plain values to float64, widening integers
// (and scaling decimals).
func (c *conv) floats(dst []float64, v *encoding.Values) error {
	n := len(dst)
	switch v.Kind() {
	case encoding.Double:
		src := v.Double()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		copy(dst, src[:n])
	case encoding.Float:
		src := v.Float()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		for i, x := range src[:n] {
			dst[i] = float64(x)
		}
	case encoding.Int32:
		src := v.Int32()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		for i, x := range src[:n] {
			if c.unsigned {
				dst[i] = float64(uint32(x)) / c.scale
			} else {
				dst[i] = float64(x) / c.scale
			}
		}
	case encoding.Int64:
		src := v.Int64()
		if len(src) < n {
			return shortPage(len(src), n)
		}
		for i, x := range src[:n] {
			if c.unsigned {
				dst[i] = float64(uint64(x)) / c.scale
			} else {
				dst[i] = float64(x) / c.scale
			}
		}
	default:
		return fmt.Errorf("page holds %s values, want numbers: %w", v.Kind(), errCorrupt)
	}
	return nil
}

// bools unpacks len(dst) bit-packed booleans (LSB first, as Parquet's
// PLAIN encoding stores them).
func bools(dst []bool, v *encoding.Values) error {
	if v.Kind() != encoding.Boolean {
		return fmt.Errorf("page holds %s values, want BOOLEAN: %w", v.Kind(), errCorrupt)
	}
	bits := v.Boolean()
	if len(bits)*8 < len(dst) {
		return shortPage(len(bits)*8, len(dst))
	}
	for i := range dst {
		dst[i] = bits[i>>3]>>(i&7)&1 != 0
	}
	return nil
}

func shortPage(have, want int) error {
	return fmt.Errorf("page holds %d values, its levels say %d: %w", have, want, errCorrupt)
}

// strings fills dst with Column codes for a page of string values.
func (d *chunkDecoder) strings(dst []int32, v *encoding.Values, dict parquet.Dictionary) error {
	if dict != nil {
		if dict != d.dict {
			if err := d.addDictionary(dict); err != nil {
				return err
			}
		}
		idx, err := indices(v, len(dst), d.dictLen)
		if err != nil {
			return err
		}
		if d.dictCodes == nil {
			copy(dst, idx)
		} else {
			for i, j := range idx {
				dst[i] = d.dictCodes[j]
			}
		}
		return nil
	}
	switch v.Kind() {
	case encoding.ByteArray:
		data, offs := v.ByteArray()
		if len(offs) < len(dst)+1 {
			return shortPage(len(offs)-1, len(dst))
		}
		for i := range dst {
			a, b := offs[i], offs[i+1]
			if a > b || int(b) > len(data) {
				return fmt.Errorf("value %d has offsets %d..%d outside the page's %d bytes: %w", i, a, b, len(data), errCorrupt)
			}
			dst[i] = d.intern(data[a:b])
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size < len(dst) {
			return shortPage(len(data)/max(size, 1), len(dst))
		}
		for i := range dst {
			b := data[i*size : (i+1)*size]
			if d.conv.uuid {
				dst[i] = d.internString(uuid.UUID(b).String())
			} else {
				dst[i] = d.intern(b)
			}
		}
	default:
		return fmt.Errorf("page holds %s values, want BYTE_ARRAY: %w", v.Kind(), errCorrupt)
	}
	return nil
}

// addDictionary makes the chunk's dictionary part of Column.Dict. The
// first dictionary of a chunk becomes Dict itself (codes = indices); a
// dictionary arriving after PLAIN values were interned is interned too.
func (d *chunkDecoder) addDictionary(dict parquet.Dictionary) error {
	vals, err := d.dictStrings(dict)
	if err != nil {
		return fmt.Errorf("dictionary: %w", err)
	}
	d.dict, d.dictLen = dict, len(vals)
	if len(d.col.Dict) == 0 && d.index == nil {
		d.col.Dict, d.dictCodes = vals, nil
		return nil
	}
	d.dictCodes = make([]int32, len(vals))
	for i, s := range vals {
		d.dictCodes[i] = d.internString(s)
	}
	return nil
}

// dictStrings copies a dictionary's values into Go strings backed by one
// allocation (the page buffers are pooled by parquet-go and reused).
func (d *chunkDecoder) dictStrings(dict parquet.Dictionary) ([]string, error) {
	n := dict.Len()
	v := dict.Page().Data()
	out := make([]string, n)
	switch v.Kind() {
	case encoding.ByteArray:
		data, offs := v.ByteArray()
		if len(offs) < n+1 {
			return nil, shortPage(len(offs)-1, n)
		}
		if n == 0 {
			return out, nil
		}
		base, end := offs[0], offs[n]
		if base > end || int(end) > len(data) {
			return nil, fmt.Errorf("offsets %d..%d outside %d bytes: %w", base, end, len(data), errCorrupt)
		}
		blob := string(data[base:end])
		for i := range out {
			a, b := offs[i]-base, offs[i+1]-base
			if a > b || b > end-base {
				return nil, fmt.Errorf("value %d has offsets %d..%d outside %d bytes: %w", i, a, b, end-base, errCorrupt)
			}
			out[i] = blob[a:b]
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size < n {
			return nil, shortPage(len(data)/max(size, 1), n)
		}
		if d.conv.uuid {
			for i := range out {
				out[i] = uuid.UUID(data[i*size : (i+1)*size]).String()
			}
			break
		}
		blob := string(data[:n*size])
		for i := range out {
			out[i] = blob[i*size : (i+1)*size]
		}
	default:
		return nil, fmt.Errorf("dictionary holds %s values, want BYTE_ARRAY: %w", v.Kind(), errCorrupt)
	}
	return out, nil
}

func (d *chunkDecoder) buildIndex() {
	d.index = make(map[string]int32, len(d.col.Dict)+64)
	for i, s := range d.col.Dict {
		if _, dup := d.index[s]; !dup {
			d.index[s] = int32(i)
		}
	}
}

// intern returns the code of b, adding it to Dict when new. The lookup
// with string(b) does not allocate; only new values are copied.
func (d *chunkDecoder) intern(b []byte) int32 {
	if d.index == nil {
		d.buildIndex()
	}
	if c, ok := d.index[string(b)]; ok {
		return c
	}
	return d.add(string(b))
}

func (d *chunkDecoder) internString(s string) int32 {
	if d.index == nil {
		d.buildIndex()
	}
	if c, ok := d.index[s]; ok {
		return c
	}
	return d.add(s)
}

func (d *chunkDecoder) add(s string) int32 {
	c := int32(len(d.col.Dict))
	d.col.Dict = append(d.col.Dict, s)
	d.index[s] = c
	return c
}
