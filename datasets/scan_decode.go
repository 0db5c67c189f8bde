package datasets

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"slices"
	"unsafe"

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

// newColumn allocates a column for rows values of kind k, or takes its
// value slice and Dict's array from sp (nil: allocate) when they are
// large enough. The values are not cleared: decoding writes every row.
func newColumn(name string, k Kind, rows int, sp *colBuf) *Column {
	c := &Column{Name: name, Kind: k}
	if sp == nil {
		sp = &colBuf{}
	}
	switch k {
	case KindString:
		c.Codes = reuse(sp.codes, rows)
		c.Dict = sp.dict[:0] // nil when there is none; release cleared it
	case KindFloat64:
		c.Float = reuse(sp.floats, rows)
	case KindInt64, KindTimestamp:
		c.Int = reuse(sp.ints, rows)
	case KindBool:
		c.Bool = reuse(sp.bools, rows)
	}
	return c
}

// reuse returns s resliced to n when it can hold n values, else a new
// slice.
func reuse[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}

// colBuf holds the slices one projected column was last decoded into by
// a scan worker, so its next row group reuses them (ScanSpec.ReuseBuffers).
// One value slice per kind, as a column's kind can differ between files
// only in how it is stored, not in the Kind asked for.
type colBuf struct {
	codes  []int32
	floats []float64
	ints   []int64
	bools  []bool
	null   []bool
	dict   []string

	// recycle (ColumnSpec.RecycleStrings): appendPage copies PLAIN values
	// into blob, reused from one row group to the next, instead of into a
	// fresh string per page. poison: release overwrites those bytes
	// (PARITY_POISON_RECYCLED); retired then keeps the blocks outgrown
	// during the row group, to poison them too.
	recycle, poison bool
	blob            []byte
	retired         [][]byte
}

// keep records the slices c was decoded into. A Null slice is kept from
// an earlier row group when c has no nulls.
func (sp *colBuf) keep(c *Column) {
	switch c.Kind {
	case KindString:
		sp.codes, sp.dict = c.Codes, c.Dict
	case KindFloat64:
		sp.floats = c.Float
	case KindInt64, KindTimestamp:
		sp.ints = c.Int
	case KindBool:
		sp.bools = c.Bool
	}
	if c.Null != nil {
		sp.null = c.Null
	}
}

// release is called once the batch is done with: Dict's array is cleared
// (all of its capacity, so no stale entry survives a shorter Dict) so
// that it does not keep the batch's strings, and the page copies they
// point into, alive while the worker waits for its next row group.
// With recycle, blob's bytes are free again: the next row group's
// strings overwrite them (poisoned first in poison mode).
func (sp *colBuf) release() {
	clear(sp.dict[:cap(sp.dict)])
	if sp.poison {
		for _, b := range sp.retired {
			poisonBytes(b)
		}
		poisonBytes(sp.blob)
		clear(sp.retired)
		sp.retired = sp.retired[:0]
	}
	sp.blob = sp.blob[:0]
}

func poisonBytes(b []byte) {
	for i := range b {
		b[i] = poisonByte
	}
}

// pageString returns a copy of b that the values of one PLAIN page are
// substrings of: a new string, or with recycle bytes of the worker's
// blob. parquet-go reuses its page buffers, so the bytes must be copied
// either way; Go has no string over reusable memory, so the recycled
// one is made with unsafe.String (hand-written: no library keeps string
// bytes per scan worker). It is safe because the bytes are written only
// here, before the string exists, and again only after release, once
// the batch's callback has returned and, as ColumnSpec.RecycleStrings
// requires, no string of the column is referenced any more; the blob is
// never moved (a larger one is allocated instead, and the strings made
// over the old one keep it alive).
func (d *chunkDecoder) pageString(b []byte) string {
	sp := d.spare
	if sp == nil || !sp.recycle || len(b) == 0 {
		return string(b)
	}
	if cap(sp.blob)-len(sp.blob) < len(b) {
		// Room for the rest of the chunk, estimated from this page's
		// bytes per row as appendPage estimates Dict's size, and at
		// least twice the last block: after a row group or two the
		// blob holds a whole column chunk's values and is not replaced.
		later := d.rows - d.row - d.pageRows
		need := len(b) + len(b)*later/max(d.pageRows, 1)
		if sp.poison && len(sp.blob) > 0 {
			sp.retired = append(sp.retired, sp.blob)
		}
		sp.blob = make([]byte, 0, max(need, 2*cap(sp.blob)))
	}
	start := len(sp.blob)
	sp.blob = append(sp.blob, b...)
	return unsafe.String(&sp.blob[start], len(b))
}

// chunkDecoder fills one Column from the pages of one column chunk.
type chunkDecoder struct {
	conv     conv
	maxDef   byte
	col      *Column
	spare    *colBuf // buffers to reuse (ScanSpec.ReuseBuffers); nil: allocate
	rows     int     // rows in the row group
	row      int     // rows filled so far
	pageRows int     // rows (nulls included) in the page being decoded

	// String columns. The chunk's dictionary (if any) becomes Column.Dict
	// as is, so dictionary pages are a straight copy of indices. PLAIN
	// pages (writers that do not dictionary-encode, or that fall back to
	// PLAIN mid-chunk when the dictionary grows too big) are handled in
	// the mode plainMode picks at the chunk's first PLAIN page: values
	// mostly distinct (request ids, JSON documents) are appended to Dict
	// under fresh codes, one string copy per page; values that repeat
	// (classes, categories from a writer that never dictionary-encodes)
	// are interned into Dict through index, built when that mode starts.
	plain     plainMode
	index     *internTable
	arena     arena
	dict      parquet.Dictionary // the dictionary the cached values below belong to
	dictCodes []int32            // parquet dictionary index -> Column code; nil = identity
	dictLen   int
	empty     bool // an empty string went into Dict (Column.NoEmpty)

	// Numeric columns: the dictionary's values, converted once per chunk.
	dictInts   []int64
	dictFloats []float64
	dictBools  []bool
}

// errCorrupt marks decoding failures caused by the file's content.
var errCorrupt = errors.New("corrupt column chunk")

// decodeChunk reads every page of one column chunk into a new Column of
// rows values, in sp's slices where they are large enough (sp nil:
// fresh ones); on success sp holds the slices the column uses.
func decodeChunk(pages parquet.Pages, l *leaf, cv conv, name string, rows int, sp *colBuf) (*Column, error) {
	d := chunkDecoder{conv: cv, maxDef: byte(l.maxDef), col: newColumn(name, cv.want, rows, sp), rows: rows, spare: sp}
	if cv.presence {
		d.col.Dict = append(d.col.Dict, PresenceDict[:]...)
	}
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
	// Every string reached Dict through dictStrings, appendPage or
	// intern, which note an empty one.
	d.col.NoEmpty = cv.want == KindString && !cv.presence && !d.empty
	if sp != nil {
		sp.keep(d.col)
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
		nn = countLevel(defs, d.maxDef)
	}
	data := p.Data()
	dict := p.Dictionary()
	d.pageRows = n

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
			if d.spare != nil && cap(d.spare.null) >= d.rows {
				// A recycled slice holds the last row group's flags;
				// spread only sets the null ones.
				c.Null = d.spare.null[:d.rows]
				clear(c.Null)
			} else {
				c.Null = make([]bool, d.rows)
			}
		}
		null := c.Null[start : start+n]
		switch c.Kind {
		case KindString:
			spread(asBits[int32, uint32](c.Codes[start:start+n]), nn, defs, d.maxDef, null)
		case KindFloat64:
			spread(asBits[float64, uint64](c.Float[start:start+n]), nn, defs, d.maxDef, null)
		case KindInt64, KindTimestamp:
			spread(asBits[int64, uint64](c.Int[start:start+n]), nn, defs, d.maxDef, null)
		case KindBool:
			spread(asBits[bool, uint8](c.Bool[start:start+n]), nn, defs, d.maxDef, null)
		}
	}
	d.row += n
	return nil
}

// countLevel returns how many of defs equal maxDef (the non-null values
// of a page), eight levels at a time: a byte-wise loop's compare and
// branch on every level were ~10% of a scan's CPU on columns with random
// nulls.
func countLevel(defs []byte, maxDef byte) int {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	m := uint64(maxDef) * 0x0101010101010101
	n := 0
	for len(defs) >= 8 {
		x := binary.LittleEndian.Uint64(defs) ^ m // zero bytes: levels equal to maxDef
		// The high bit of each byte of t is set iff that byte of x is
		// nonzero; no carry crosses bytes, so the count is exact.
		t := (x&lo7 + lo7) | x | lo7
		n += bits.OnesCount64(^t)
		defs = defs[8:]
	}
	for _, l := range defs {
		if l == maxDef {
			n++
		}
	}
	return n
}

// asBits views a slice of values as the unsigned integers of their size,
// for spread: every zero value of the kinds it is used on (0, 0.0 and
// false) is all zero bits.
func asBits[T any, U uint8 | uint32 | uint64](s []T) []U {
	if len(s) == 0 {
		return nil
	}
	var t T
	var u U
	if unsafe.Sizeof(t) != unsafe.Sizeof(u) {
		panic("asBits: size mismatch")
	}
	return unsafe.Slice((*U)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

// spread moves the nn non-null values packed at the front of vals to the
// rows whose definition level says they are present, walking backwards so
// it works in place, and marks the other rows null (null must be all
// false on entry). It is branch-free, as a page's nulls fall at random:
// the value read for a null row is masked to zero and not consumed, so a
// mispredicted branch per row no longer costs (it was ~10% of a scan's
// CPU on the JSON output columns).
func spread[U uint8 | uint32 | uint64](vals []U, nn int, defs []byte, maxDef byte, null []bool) {
	defs, null = defs[:len(vals)], null[:len(vals)]
	k := nn - 1 // the next present value to place; -1 once all are placed
	for j := len(vals) - 1; j >= 0; j-- {
		present := defs[j] == maxDef
		p := 0
		if present {
			p = 1
		}
		v := vals[max(k, 0)] // k <= j, so vals[k] has not been overwritten
		vals[j] = v & -U(p)
		null[j] = !present
		k -= p
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
			c.toNanosSlice(dst, src[:n])
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
	unpackBools(dst, bits)
	return nil
}

// unpackBools sets dst[i] to bit i of bits (LSB first), eight values per
// table lookup and 8-byte store: a shift and compare per value was most
// of decoding the benchmark log's two error columns.
func unpackBools(dst []bool, bits []byte) {
	out := asBits[bool, uint8](dst) // a Go bool is one byte, 0 or 1
	i := 0
	for ; i+8 <= len(out); i += 8 {
		binary.LittleEndian.PutUint64(out[i:], boolBytes[bits[i>>3]])
	}
	for ; i < len(out); i++ {
		out[i] = bits[i>>3] >> (i & 7) & 1
	}
}

// boolBytes[b] holds the eight bits of b, LSB first, one per byte (0 or
// 1), as stored little-endian.
var boolBytes = func() (t [256]uint64) {
	for b := range t {
		for j := range 8 {
			t[b] |= uint64(b>>j&1) << (8 * j)
		}
	}
	return t
}()

func shortPage(have, want int) error {
	return fmt.Errorf("page holds %d values, its levels say %d: %w", have, want, errCorrupt)
}

// strings fills dst with Column codes for a page of string values.
func (d *chunkDecoder) strings(dst []int32, v *encoding.Values, dict parquet.Dictionary) error {
	if d.conv.presence {
		return d.presenceCodes(dst, v, dict)
	}
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
		data, offs, err := byteArrays(*v, len(dst))
		if err != nil {
			return err
		}
		if d.plain == plainUndecided {
			d.choosePlain(data, offs, 0)
		}
		if d.plain == plainAppend {
			d.appendPage(dst, data, offs, 0)
			return nil
		}
		for i := range dst {
			dst[i] = d.intern(data[offs[i]:offs[i+1]])
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size < len(dst) {
			return shortPage(len(data)/max(size, 1), len(dst))
		}
		if d.plain == plainUndecided {
			d.choosePlain(data[:len(dst)*size], nil, size)
		}
		if d.plain == plainAppend {
			d.appendPage(dst, data[:len(dst)*size], nil, size)
			return nil
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

// presenceCodes sets dst to the page's values as PresenceDict codes (1
// for a non-empty value, 0 for an empty one) from their lengths alone:
// no value is copied (ColumnSpec.PresenceOnly). A dictionary's entries
// are coded once, when it arrives.
func (d *chunkDecoder) presenceCodes(dst []int32, v *encoding.Values, dict parquet.Dictionary) error {
	if dict != nil {
		if dict != d.dict {
			codes, err := presenceOf(dict.Page().Data(), dict.Len(), d.dictCodes)
			if err != nil {
				return fmt.Errorf("dictionary: %w", err)
			}
			d.dict, d.dictLen, d.dictCodes = dict, len(codes), codes
		}
		idx, err := indices(v, len(dst), d.dictLen)
		if err != nil {
			return err
		}
		for i, j := range idx {
			dst[i] = d.dictCodes[j]
		}
		return nil
	}
	_, err := presenceOf(*v, len(dst), dst) // fills dst itself
	return err
}

// byteArrays returns a BYTE_ARRAY page's bytes and the offsets of its
// first n values (n+1 of them), checked to lie in order inside the bytes.
func byteArrays(v encoding.Values, n int) ([]byte, []uint32, error) {
	data, offs := v.ByteArray()
	if len(offs) < n+1 {
		return nil, nil, shortPage(len(offs)-1, n)
	}
	offs = offs[:n+1]
	for i := range n {
		a, b := offs[i], offs[i+1]
		if a > b || int(b) > len(data) {
			return nil, nil, fmt.Errorf("value %d has offsets %d..%d outside the page's %d bytes: %w", i, a, b, len(data), errCorrupt)
		}
	}
	return data, offs, nil
}

// presenceOf returns the PresenceDict codes of the first n values of v,
// in dst's array when it is large enough.
func presenceOf(v encoding.Values, n int, dst []int32) ([]int32, error) {
	out := reuse(dst, n)
	switch v.Kind() {
	case encoding.ByteArray:
		_, offs, err := byteArrays(v, n)
		if err != nil {
			return nil, err
		}
		for i := range out {
			out[i] = 0
			if offs[i+1] > offs[i] {
				out[i] = 1
			}
		}
	case encoding.FixedLenByteArray:
		data, size := v.FixedLenByteArray()
		if size <= 0 || len(data)/size < n {
			return nil, shortPage(len(data)/max(size, 1), n)
		}
		for i := range out {
			out[i] = 1 // every value has size > 0 bytes
		}
	default:
		return nil, fmt.Errorf("page holds %s values, want BYTE_ARRAY: %w", v.Kind(), errCorrupt)
	}
	return out, nil
}

// addDictionary makes the chunk's dictionary part of Column.Dict. The
// first dictionary of a chunk becomes Dict itself (codes = indices); a
// dictionary arriving after PLAIN values is interned too, or appended
// when those values were (plainAppend).
func (d *chunkDecoder) addDictionary(dict parquet.Dictionary) error {
	first := len(d.col.Dict) == 0 && d.index == nil
	var dst []string
	if first {
		dst = d.col.Dict // a recycled array (ScanSpec.ReuseBuffers), or nil
	}
	vals, err := d.dictStrings(dict, dst)
	if err != nil {
		return fmt.Errorf("dictionary: %w", err)
	}
	d.dict, d.dictLen = dict, len(vals)
	if first {
		d.col.Dict, d.dictCodes = vals, nil
		return nil
	}
	d.dictCodes = make([]int32, len(vals))
	if d.plain == plainAppend {
		// Dict already repeats values; its entries need not be looked up.
		for i, s := range vals {
			d.dictCodes[i] = int32(len(d.col.Dict))
			d.col.Dict = append(d.col.Dict, s)
		}
		return nil
	}
	for i, s := range vals {
		d.dictCodes[i] = d.internString(s)
	}
	return nil
}

// dictStrings copies a dictionary's values into Go strings backed by one
// allocation (the page buffers are pooled by parquet-go and reused),
// listed in dst's array when it is large enough.
func (d *chunkDecoder) dictStrings(dict parquet.Dictionary, dst []string) ([]string, error) {
	n := dict.Len()
	v := dict.Page().Data()
	out := reuse(dst, n)
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
			d.empty = d.empty || a == b
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

// plainMode is how a chunk's PLAIN string values become Dict entries.
type plainMode uint8

const (
	plainUndecided plainMode = iota // no PLAIN page yet
	plainIntern                     // deduplicated through index
	plainAppend                     // appended under fresh codes (Column.DictRepeats)
)

// plainSample is how many values of the first PLAIN page choosePlain
// looks at.
const plainSample = 512

// choosePlain picks the chunk's plainMode from the first PLAIN page's
// values (BYTE_ARRAY with offs, or FIXED_LEN_BYTE_ARRAY of size): append
// when at least half of a sample of them are distinct.
//
// Interning a column of distinct values (request ids, input hashes, JSON
// documents) hashes, probes and copies every value to find no repeat; it
// was ~23% of a full evaluation's CPU. But a low-cardinality column
// written PLAIN (DuckDB, pyarrow with use_dictionary=False) appended
// without deduplication would give every row its own code, and the
// consumers that work per code (eval groups rows by class code, JSON and
// numeric fields are parsed per entry) would then do per-row work with
// per-row memory. Sampling costs a few hundred hashes per chunk.
func (d *chunkDecoder) choosePlain(data []byte, offs []uint32, size int) {
	n := len(offs) - 1
	if offs == nil {
		n = len(data) / size
	}
	if n == 0 {
		return // a page of nulls says nothing; decide at the next one
	}
	n = min(n, plainSample)
	// Distinct values counted by 64-bit hash (a collision only makes the
	// count one lower) in an open-addressing set; a Go map would allocate.
	var set [2 * plainSample]uint64
	distinct := 0
	for i := range n {
		var v []byte
		if offs != nil {
			v = data[offs[i]:offs[i+1]]
		} else {
			v = data[i*size : (i+1)*size]
		}
		h := maphash.Bytes(internSeed, v) | 1 // 0 marks an empty slot
		j := h & (2*plainSample - 1)
		for set[j] != 0 && set[j] != h {
			j = (j + 1) & (2*plainSample - 1)
		}
		if set[j] == 0 {
			set[j] = h
			distinct++
		}
	}
	if 2*distinct >= n {
		d.plain = plainAppend
		d.col.DictRepeats = true
	} else {
		d.plain = plainIntern
	}
}

// appendPage gives the len(dst) PLAIN values of a page (BYTE_ARRAY with
// checked offs, or FIXED_LEN_BYTE_ARRAY of size) fresh codes at the end
// of Dict, without looking for repeats. The page's value bytes are copied
// once into one string (parquet-go reuses its page buffers) and the
// values are substrings of it, so a page costs one allocation whatever
// its number of values; the strings keep that page copy alive while any
// of them is referenced. With ColumnSpec.RecycleStrings the copy goes to
// the worker's recycled bytes instead (pageString).
func (d *chunkDecoder) appendPage(dst []int32, data []byte, offs []uint32, size int) {
	c := d.col
	if cap(c.Dict)-len(c.Dict) < len(dst) {
		// Room for the values of the rest of the chunk, estimated from
		// this page's share of non-null rows: a chunk of PLAIN pages grows
		// Dict about once rather than by doubling, without reserving
		// slots for the nulls of a sparse column (JSON outputs that only
		// one feature writes).
		later := d.rows - d.row - d.pageRows
		c.Dict = slices.Grow(c.Dict, len(dst)+len(dst)*later/max(d.pageRows, 1))
	}
	next := int32(len(c.Dict))
	for i := range dst {
		dst[i] = next + int32(i)
	}
	switch {
	case offs != nil:
		base := offs[0]
		blob := d.pageString(data[base:offs[len(dst)]])
		empty := false
		for i := range dst {
			a, b := offs[i]-base, offs[i+1]-base
			c.Dict = append(c.Dict, blob[a:b])
			empty = empty || a == b
		}
		d.empty = d.empty || empty
	case d.conv.uuid:
		for i := range dst {
			c.Dict = append(c.Dict, uuid.UUID(data[i*size:(i+1)*size]).String())
		}
	default:
		blob := d.pageString(data)
		for i := range dst {
			c.Dict = append(c.Dict, blob[i*size:(i+1)*size])
		}
	}
}

func (d *chunkDecoder) buildIndex() {
	d.index = newInternTable(len(d.col.Dict))
	for i, v := range d.col.Dict {
		d.index.insert(maphash.String(internSeed, v), int32(i))
	}
}

// intern returns the code of b, adding it to Dict when new.
func (d *chunkDecoder) intern(b []byte) int32 {
	if d.index == nil {
		d.buildIndex()
	}
	h := maphash.Bytes(internSeed, b)
	if c, ok := d.index.find(h, b, d.col.Dict); ok {
		return c
	}
	d.empty = d.empty || len(b) == 0
	return d.add(h, d.arena.copy(b))
}

func (d *chunkDecoder) internString(s string) int32 {
	if d.index == nil {
		d.buildIndex()
	}
	h := maphash.String(internSeed, s)
	if c, ok := d.index.find(h, unsafe.Slice(unsafe.StringData(s), len(s)), d.col.Dict); ok {
		return c
	}
	return d.add(h, s)
}

func (d *chunkDecoder) add(h uint64, s string) int32 {
	c := int32(len(d.col.Dict))
	d.col.Dict = append(d.col.Dict, s)
	d.index.insert(h, c)
	return c
}

// internSeed is shared so a table can be rebuilt without rehashing
// strings; the tables never leave the process.
var internSeed = maphash.MakeSeed()

// internTable maps strings to their Dict codes. A Go map[string]int32
// costs two hashes per new value (lookup, then insert with an allocated
// key) and GC scanning of its keys; on high-cardinality PLAIN columns
// (request ids) that made interning ~50× slower than dictionary pages.
// This open-addressing table of uint64 slots (32-bit hash | code) hashes
// each value once, holds no pointers, and checks candidates against Dict.
// No library offers interning into caller-owned codes, so it is hand-written.
type internTable struct {
	slots []uint64 // 0 = empty, else hash32<<32 | code+1
	mask  uint64
	n     int
}

func newInternTable(hint int) *internTable {
	size := 1024
	for size < 2*hint {
		size *= 2
	}
	return &internTable{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// find looks b up; dict holds the strings the codes stand for.
func (t *internTable) find(h uint64, b []byte, dict []string) (int32, bool) {
	tag := h >> 32
	for i := tag & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if s>>32 == tag {
			c := int32(uint32(s)) - 1
			if dict[c] == string(b) {
				return c, true
			}
		}
	}
}

// insert adds code c under hash h. Callers insert only absent values,
// except when indexing a dictionary page that repeats a value: then the
// first code stays the one find returns, as it comes first in the probe.
func (t *internTable) insert(h uint64, c int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.grow()
	}
	tag := h >> 32
	i := tag & t.mask
	for t.slots[i] != 0 {
		i = (i + 1) & t.mask
	}
	t.slots[i] = tag<<32 | uint64(uint32(c)+1)
	t.n++
}

func (t *internTable) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	t.mask = uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		i := (s >> 32) & t.mask
		for t.slots[i] != 0 {
			i = (i + 1) & t.mask
		}
		t.slots[i] = s
	}
}

// arena copies new string values into shared blocks, so interning a
// column of distinct values costs one allocation per 64 KiB rather than
// one per value. A block is never written after bytes of it were handed
// out, so the strings made over it are immutable as Go requires.
type arena struct {
	block []byte
}

const arenaBlock = 64 << 10

func (a *arena) copy(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > arenaBlock/4 {
		return string(b)
	}
	if cap(a.block)-len(a.block) < len(b) {
		a.block = make([]byte, 0, arenaBlock)
	}
	start := len(a.block)
	a.block = append(a.block, b...)
	return unsafe.String(&a.block[start], len(b))
}
