package datasets

import (
	"fmt"
	"math"
	"strings"

	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// leaf is one leaf column of a file's schema. parquet-go has the same
// information on *parquet.Column, but not the raw SchemaElement, and the
// conversion rules below need the exact physical, logical and converted
// types the writer recorded, so the schema is walked here from the footer.
type leaf struct {
	path   string // dotted path from the root, e.g. "meta.model_version"
	index  int    // position of the leaf's column chunk in every row group
	elem   *format.SchemaElement
	maxDef int
	maxRep int
}

// leavesOf flattens the depth-first schema list of a footer into its leaf
// columns, in column-chunk order.
func leavesOf(md *format.FileMetaData) ([]leaf, error) {
	if len(md.Schema) == 0 {
		return nil, fmt.Errorf("footer has no schema")
	}
	var out []leaf
	pos := 1
	var walk func(prefix string, children int, def, rep int) error
	walk = func(prefix string, children int, def, rep int) error {
		for range children {
			if pos >= len(md.Schema) {
				return fmt.Errorf("schema is truncated (a group declares more children than the footer lists)")
			}
			e := &md.Schema[pos]
			pos++
			d, r := def, rep
			if e.RepetitionType.Valid {
				switch e.RepetitionType.V {
				case format.Optional:
					d++
				case format.Repeated:
					d++
					r++
				}
			}
			name := e.Name
			if prefix != "" {
				name = prefix + "." + e.Name
			}
			if e.NumChildren.Valid && e.NumChildren.V > 0 {
				if err := walk(name, int(e.NumChildren.V), d, r); err != nil {
					return err
				}
				continue
			}
			out = append(out, leaf{path: name, index: len(out), elem: e, maxDef: d, maxRep: r})
		}
		return nil
	}
	root := md.Schema[0]
	n := 0
	if root.NumChildren.Valid {
		n = int(root.NumChildren.V)
	}
	if err := walk("", n, 0, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// findLeaf returns the leaf a ColumnSpec name addresses: the dotted path of
// a leaf, so "latency_ms" is a top-level column and "meta.model_version" is
// the model_version field of struct column meta.
func findLeaf(leaves []leaf, name string) *leaf {
	for i := range leaves {
		if leaves[i].path == name {
			return &leaves[i]
		}
	}
	return nil
}

func leafNames(leaves []leaf) string {
	names := make([]string, len(leaves))
	for i, l := range leaves {
		names[i] = l.path
	}
	return strings.Join(names, ", ")
}

// describeType renders a leaf's type the way parquet tools print it, e.g.
// "BYTE_ARRAY (STRING)" or "INT64 (TIMESTAMP(isAdjustedToUTC=true,unit=MICROS))".
func describeType(e *format.SchemaElement) string {
	phys := "?"
	if e.Type.Valid {
		phys = e.Type.V.String()
		if e.Type.V == format.FixedLenByteArray && e.TypeLength.Valid {
			phys = fmt.Sprintf("FIXED_LEN_BYTE_ARRAY(%d)", e.TypeLength.V)
		}
	}
	switch {
	case e.LogicalType.Value != nil:
		return phys + " (" + e.LogicalType.Value.String() + ")"
	case e.ConvertedType.Valid:
		return phys + " (" + convertedName(e.ConvertedType.V) + ")"
	}
	return phys
}

// convertedName names a legacy converted type as the format spec does;
// parquet-go's deprecated.ConvertedType has no String method.
func convertedName(ct deprecated.ConvertedType) string {
	names := [...]string{"UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL", "DATE",
		"TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
		"UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64",
		"JSON", "BSON", "INTERVAL"}
	if ct >= 0 && int(ct) < len(names) {
		return names[ct]
	}
	return fmt.Sprintf("converted type %d", int32(ct))
}

// conv is how one file's leaf is turned into one Kind. It is chosen once per
// (file, column) by plan, so the per-value loops only switch on what was
// decided here.
type conv struct {
	want     Kind
	phys     format.Type
	unsigned bool    // INT32/INT64 holding an unsigned integer
	tsMul    int64   // INT64 timestamps: nanoseconds per stored unit
	date     bool    // INT32 DATE (days) as a timestamp
	int96    bool    // INT96 timestamp
	scale    float64 // DECIMAL stored in INT32/INT64: divide by this (1 when not a decimal)
	uuid     bool    // FIXED_LEN_BYTE_ARRAY(16) UUID rendered as text
	presence bool    // strings as present/empty codes (ColumnSpec.PresenceOnly)
	typeName string  // describeType, for errors
}

// plan decides how the leaf converts to want, or says why it cannot.
func plan(l *leaf, want Kind) (conv, error) {
	e := l.elem
	c := conv{want: want, scale: 1, typeName: describeType(e)}
	if l.maxRep > 0 {
		return c, fmt.Errorf("is a repeated (list or map) column of %s; only flat and struct leaves can be scanned", c.typeName)
	}
	if !e.Type.Valid {
		return c, fmt.Errorf("has no physical type")
	}
	c.phys = e.Type.V
	bad := func() (conv, error) { return c, fmt.Errorf("has type %s, want %s", c.typeName, want) }
	lt := e.LogicalType.Value
	ct := deprecated.ConvertedType(-1)
	if e.ConvertedType.Valid {
		ct = e.ConvertedType.V
	}

	switch c.phys {
	case format.Boolean:
		if want != KindBool {
			return bad()
		}
		return c, nil

	case format.Float, format.Double:
		if want != KindFloat64 {
			return bad()
		}
		return c, nil

	case format.Int96:
		// INT96 is only ever written as the legacy Impala/Hive/Spark
		// timestamp (nanoseconds of day + Julian day); the format
		// deprecated it for everything else.
		if want != KindTimestamp {
			return bad()
		}
		c.int96 = true
		return c, nil

	case format.Int32, format.Int64:
		isTS := false
		switch t := lt.(type) {
		case *format.TimestampType:
			isTS = true
			if t.Unit.Value == nil {
				return c, fmt.Errorf("is a timestamp with an unknown unit (%s); want MILLIS, MICROS or NANOS", c.typeName)
			}
			c.tsMul = int64(t.Unit.Value.Duration())
		case *format.DateType:
			c.date = true
		case *format.IntType:
			c.unsigned = !t.IsSigned
		case *format.DecimalType:
			c.scale = math.Pow10(int(t.Scale))
		case nil:
			switch ct {
			case deprecated.TimestampMillis:
				isTS, c.tsMul = true, 1e6
			case deprecated.TimestampMicros:
				isTS, c.tsMul = true, 1e3
			case deprecated.Date:
				c.date = true
			case deprecated.Uint8, deprecated.Uint16, deprecated.Uint32, deprecated.Uint64:
				c.unsigned = true
			case deprecated.Decimal:
				c.scale = math.Pow10(int(e.Scale.V))
			case deprecated.TimeMillis, deprecated.TimeMicros, deprecated.Interval:
				return bad()
			}
		default: // TIME and anything newer: not an instant, not a count
			return bad()
		}
		if isTS && c.phys != format.Int64 {
			return c, fmt.Errorf("is a timestamp stored as %s; want INT64", c.typeName)
		}
		switch want {
		case KindTimestamp:
			if !isTS && !c.date {
				return c, fmt.Errorf("has type %s, want timestamp (an integer without a TIMESTAMP or DATE annotation has no known unit)", c.typeName)
			}
		case KindInt64:
			if isTS || c.date || c.scale != 1 {
				return bad()
			}
		case KindFloat64:
			if isTS || c.date {
				return bad()
			}
		default:
			return bad()
		}
		return c, nil

	case format.ByteArray, format.FixedLenByteArray:
		if want != KindString {
			return bad()
		}
		switch lt.(type) {
		case nil:
			switch ct {
			case -1, deprecated.UTF8, deprecated.Enum, deprecated.Json:
				// Unannotated BYTE_ARRAY is accepted: older Hive/Spark
				// writers store strings without the UTF8 annotation.
				return c, nil
			}
			return bad()
		case *format.StringType, *format.EnumType, *format.JsonType:
			return c, nil
		case *format.UUIDType:
			if c.phys == format.FixedLenByteArray && e.TypeLength.V == 16 {
				c.uuid = true
				return c, nil
			}
		}
		return bad()
	}
	return bad()
}

// toNanos converts a stored INT64 timestamp to Unix nanoseconds, clamping
// to the int64 range: sentinel dates such as 9999-12-31 in milliseconds do
// not fit in nanoseconds, and a clamped value still sorts outside every
// evaluation window, which is what such a row means.
func (c *conv) toNanos(v int64) int64 {
	if c.tsMul == 1 {
		return v
	}
	return clampMul(v, c.tsMul, math.MaxInt64/c.tsMul, math.MinInt64/c.tsMul)
}

// toNanosSlice is toNanos over a page: the clamping bounds are divided
// out once rather than per value (two integer divisions per timestamp were
// ~5% of a scan's CPU).
func (c *conv) toNanosSlice(dst, src []int64) {
	mul := c.tsMul
	if mul == 1 {
		copy(dst, src)
		return
	}
	hi, lo := math.MaxInt64/mul, math.MinInt64/mul
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = clampMul(v, mul, hi, lo)
	}
}

// clampMul is v·mul clamped to the int64 range, with hi and lo that range
// divided by mul (mul > 0).
func clampMul(v, mul, hi, lo int64) int64 {
	switch {
	case v > hi:
		return math.MaxInt64
	case v < lo:
		return math.MinInt64
	}
	return v * mul
}

const nanosPerDay = 86400 * int64(1e9)

// julianUnixEpoch is the Julian day number of 1970-01-01.
const julianUnixEpoch = 2440588

// int96Nanos decodes a legacy INT96 timestamp: the first 8 bytes are the
// nanoseconds within the day, the last 4 the Julian day number. parquet-go
// exposes no conversion for it, hence this function.
func int96Nanos(v deprecated.Int96) int64 {
	nod := int64(uint64(v[1])<<32 | uint64(v[0]))
	days := int64(v[2]) - julianUnixEpoch
	return clampDays(days, nod)
}

func dateNanos(days int32) int64 { return clampDays(int64(days), 0) }

func clampDays(days, plus int64) int64 {
	const maxDays = math.MaxInt64/nanosPerDay - 1
	switch {
	case days > maxDays:
		return math.MaxInt64
	case days < -maxDays:
		return math.MinInt64
	}
	return days*nanosPerDay + plus
}
