package reconcile

import (
	"encoding/binary"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers"
)

// A record is one row of one side, as partitions hold it in memory and in
// spill files:
//
//	record = uvarint(len(body)) body
//	body   = rowhash[8, little endian] uvarint(len(key)) key uvarint(len(type)) type value*
//	value  = tag[1] payload
//
// with one value per critical field, in configuration order. Tags: 0 null
// (no payload), 1 string (uvarint length + bytes), 2 float64 (8 bytes,
// IEEE bits), 3 int64 (8 bytes), 4 timestamp (int64 Unix nanoseconds), 5
// bool (1 byte).
//
// A length-prefixed format rather than Arrow IPC: records are written
// once, read back once, sequentially, within the same process, and
// processed one at a time by key; a whole partition file is read into one
// buffer and records are sliced out of it without copying. Arrow IPC would
// add a schema, column batching and a large dependency for data that live
// for seconds and never leave the machine.
//
// rowhash is xxhash64 over the key part and the values (not the type), so
// two rows with byte-identical key and critical fields hash equal whatever
// the row order or the Parquet encoding they came from.
const (
	tagNull byte = iota
	tagString
	tagFloat
	tagInt
	tagTime
	tagBool
)

// recOverhead is what one record costs in memory beyond its bytes while a
// partition is joined (the rec slice header and sort index); it is charged
// against the memory limit for every record held.
const recOverhead = 96

// rec is a parsed record; its slices point into the partition buffer.
type rec struct {
	key  []byte
	typ  []byte
	vals []byte
	hash uint64
}

var errCorrupt = errors.New("corrupt spill record")

// parseBody parses one record body.
func parseBody(b []byte) (rec, error) {
	var r rec
	if len(b) < 8 {
		return r, errCorrupt
	}
	r.hash = binary.LittleEndian.Uint64(b)
	b = b[8:]
	k, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < k {
		return r, errCorrupt
	}
	r.key = b[n : n+int(k)]
	b = b[n+int(k):]
	t, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < t {
		return r, errCorrupt
	}
	r.typ = b[n : n+int(t)]
	r.vals = b[n+int(t):]
	return r, nil
}

// nextRecord splits the first record off buf.
func nextRecord(buf []byte) (body, rest []byte, err error) {
	l, n := binary.Uvarint(buf)
	if n <= 0 || uint64(len(buf)-n) < l {
		return nil, nil, errCorrupt
	}
	return buf[n : n+int(l)], buf[n+int(l):], nil
}

// keyOf returns the key of a record body without parsing the rest.
func keyOf(body []byte) ([]byte, error) {
	if len(body) < 8 {
		return nil, errCorrupt
	}
	b := body[8:]
	k, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < k {
		return nil, errCorrupt
	}
	return b[n : n+int(k)], nil
}

// value is one encoded critical-field value.
type value struct {
	tag byte
	raw []byte // payload without the tag (and without a string's length)
}

// nextValue splits the first value off vals.
func nextValue(vals []byte) (value, []byte, error) {
	if len(vals) == 0 {
		return value{}, nil, errCorrupt
	}
	v := value{tag: vals[0]}
	b := vals[1:]
	switch v.tag {
	case tagNull:
		return v, b, nil
	case tagString:
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return v, nil, errCorrupt
		}
		v.raw = b[n : n+int(l)]
		return v, b[n+int(l):], nil
	case tagFloat, tagInt, tagTime:
		if len(b) < 8 {
			return v, nil, errCorrupt
		}
		v.raw = b[:8]
		return v, b[8:], nil
	case tagBool:
		if len(b) < 1 {
			return v, nil, errCorrupt
		}
		v.raw = b[:1]
		return v, b[1:], nil
	}
	return v, nil, errCorrupt
}

// float returns a numeric value as float64.
func (v value) float() (float64, bool) {
	switch v.tag {
	case tagFloat:
		return math.Float64frombits(binary.LittleEndian.Uint64(v.raw)), true
	case tagInt:
		return float64(int64(binary.LittleEndian.Uint64(v.raw))), true
	}
	return 0, false
}

// String renders a value for string comparators and mismatch samples.
func (v value) String() string {
	switch v.tag {
	case tagNull:
		return ""
	case tagString:
		return string(v.raw)
	case tagFloat:
		f, _ := v.float()
		return strconv.FormatFloat(f, 'g', -1, 64)
	case tagInt:
		return strconv.FormatInt(int64(binary.LittleEndian.Uint64(v.raw)), 10)
	case tagTime:
		return time.Unix(0, int64(binary.LittleEndian.Uint64(v.raw))).UTC().Format(time.RFC3339Nano)
	case tagBool:
		return strconv.FormatBool(v.raw[0] == 1)
	}
	return ""
}

// sample renders a value for a mismatch sample: null stays distinguishable
// from an empty string.
func (v value) sample() *string {
	if v.tag == tagNull {
		return nil
	}
	s := v.String()
	return &s
}

// equalValues compares two values of a critical field with its
// comparator. Unlike a scorer comparing answers, two nulls are equal here
// (both stores agree there is no value) and one null is a mismatch —
// except under case_insensitive, which already normalises case and
// surrounding space and here also treats null as the empty string: one
// store writing NULL where the other writes ” is the commonest harmless
// difference between two stores' exports. (The checksum still tells
// them apart.)
func equalValues(c scorers.Comparator, a, b value) bool {
	if a.tag == tagNull || b.tag == tagNull {
		if a.tag != b.tag && c.Kind == "case_insensitive" {
			return strings.TrimSpace(a.String()) == "" && strings.TrimSpace(b.String()) == ""
		}
		return a.tag == b.tag
	}
	if c.Kind == "numeric" {
		x, ok1 := a.float()
		y, ok2 := b.float()
		if ok1 && ok2 {
			return c.EqualFloats(x, y)
		}
	}
	if a.tag == b.tag && a.tag != tagString && a.tag != tagFloat {
		// ints, timestamps and bools: the comparators other than numeric
		// reduce to exact equality
		return string(a.raw) == string(b.raw)
	}
	return c.EqualStrings(a.String(), b.String())
}

// encoder turns rows of a batch into records; one per scan worker.
type encoder struct {
	body []byte
	d    *xxhash.Digest
}

func newEncoder() *encoder { return &encoder{d: xxhash.New()} }

// encode builds the body of row i and returns it (valid until the next
// call) with its row hash.
func (e *encoder) encode(key, typ []byte, cols []*datasets.Column, i int) []byte {
	b := e.body[:0]
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0) // row hash, filled in below
	ks := len(b)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	ke := len(b)
	b = binary.AppendUvarint(b, uint64(len(typ)))
	b = append(b, typ...)
	vs := len(b)
	for _, c := range cols {
		b = appendValue(b, c, i)
	}
	e.d.Reset()
	_, _ = e.d.Write(b[ks:ke])
	_, _ = e.d.Write(b[vs:])
	binary.LittleEndian.PutUint64(b, e.d.Sum64())
	e.body = b
	return b
}

func appendValue(b []byte, c *datasets.Column, i int) []byte {
	if c.IsNull(i) {
		return append(b, tagNull)
	}
	switch c.Kind {
	case datasets.KindString:
		s := c.Dict[c.Codes[i]]
		b = append(b, tagString)
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	case datasets.KindFloat64:
		f := c.Float[i]
		if f == 0 {
			f = 0 // -0 and +0 are the same amount
		}
		b = append(b, tagFloat)
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
	case datasets.KindInt64:
		b = append(b, tagInt)
		return binary.LittleEndian.AppendUint64(b, uint64(c.Int[i]))
	case datasets.KindTimestamp:
		b = append(b, tagTime)
		return binary.LittleEndian.AppendUint64(b, uint64(c.Int[i]))
	case datasets.KindBool:
		v := byte(0)
		if c.Bool[i] {
			v = 1
		}
		return append(b, tagBool, v)
	}
	return append(b, tagNull)
}

// appendKey appends row i of the key column as bytes: strings as they
// are, integers in decimal.
func appendKey(b []byte, c *datasets.Column, i int) []byte {
	switch c.Kind {
	case datasets.KindString:
		return append(b, c.Dict[c.Codes[i]]...)
	case datasets.KindInt64:
		return strconv.AppendInt(b, c.Int[i], 10)
	}
	return b
}
