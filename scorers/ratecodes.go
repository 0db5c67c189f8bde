package scorers

import (
	"slices"
	"strings"

	"github.com/parity-eval/parity/datasets"
)

// RateCoder is implemented by parity's own Agreement and Rate scorers:
// RateCodes is Score in one byte per row instead of a float64, for eval
// to count per group without the float round trip (writing 8 bytes per
// row, then reading them back and branching on NaN, had been most of
// the cost of every count metric). eval uses it only for its built-in
// scorers (a scorer configured or embedding a built-in one keeps the
// Score contract of docs/scorers.md), and a test holds each built-in's
// RateCodes to its Score.
type RateCoder interface {
	// RateCodes returns row i's outcome as codes[i]&3: 0 where Score
	// writes 0, 1 where it writes 1, 2 or 3 where it writes NaN. The
	// result is buf[:in.Rows] (buf has at least in.Rows entries) or a
	// slice shared with the batch's other scorers, which the caller must
	// not modify; it is valid while the Input is.
	RateCodes(in *Input, buf []uint8) []uint8
}

// Outcome codes of RateCodes.
const (
	rateFalse uint8 = 0
	rateTrue  uint8 = 1
	rateNaN   uint8 = 2
)

// fillBytes sets every element of s to v (fillCopies on bytes).
func fillBytes(s []uint8, v uint8) { fillCopies(s, v) }

// RateCodes returns the field's agreement codes, which are already
// 0 (disagrees), 1 (agrees) and 2 (nothing to compare): the slice
// shared with the batch's other scorers of the field.
func (s *FieldAgreement) RateCodes(in *Input, _ []uint8) []uint8 { return s.codes(in)[:in.Rows] }

// RateCodes: with one critical field, that field's shared codes.
func (s *CriticalAgreement) RateCodes(in *Input, buf []uint8) []uint8 {
	v := buf[:in.Rows]
	switch len(s.Fields) {
	case 0:
		fillBytes(v, rateNaN)
	case 1:
		return s.Fields[0].codes(in)[:in.Rows]
	default:
		copy(v, s.Fields[0].codes(in)[:len(v)])
		for _, f := range s.Fields[1:] {
			for i, c := range f.codes(in)[:len(v)] {
				v[i] = min(v[i], c)
			}
		}
	}
	return v
}

func (s *BoolRate) RateCodes(in *Input, buf []uint8) []uint8 {
	c := in.Col(s.Column)
	v := buf[:in.Rows]
	if c == nil {
		fillBytes(v, rateNaN)
		return v
	}
	b := c.Bool[:len(v)]
	if c.Null == nil {
		for i, x := range b {
			v[i] = uint8(b2i(x))
		}
		return v
	}
	null := c.Null[:len(b)]
	for i, x := range b {
		v[i] = uint8(b2i(null[i])<<1 | b2i(x)) // 2, 3: NaN
	}
	return v
}

func (s *ValueRate) RateCodes(in *Input, buf []uint8) []uint8 {
	c := in.Col(s.Column)
	v := buf[:in.Rows]
	if c == nil {
		fillBytes(v, rateNaN)
		return v
	}
	// Each dictionary entry is compared once per batch.
	memo := make([]uint8, len(c.Dict))
	for k, e := range c.Dict {
		memo[k] = uint8(b2i(strings.EqualFold(e, s.Value)))
	}
	codes := c.Codes[:len(v)]
	if c.Null == nil {
		for i, code := range codes {
			v[i] = memo[code]
		}
		return v
	}
	// A null row's code is a placeholder, not read (its Dict may be empty).
	null := c.Null[:len(v)]
	for i, code := range codes {
		if null[i] {
			v[i] = rateNaN
			continue
		}
		v[i] = memo[code]
	}
	return v
}

func (s *AuditComplete) RateCodes(in *Input, buf []uint8) []uint8 {
	v := buf[:in.Rows]
	fillBytes(v, rateTrue)
	errs := s.errored(in)
	// Column at a time, as Score.
	for _, name := range s.Columns {
		c := in.Col(name)
		if c == nil {
			clear(v)
			break
		}
		if c.Null != nil {
			if errs != nil && name == s.NoneOnError {
				ec := in.Col(s.ErrorColumn)
				for i, null := range c.Null[:len(v)] {
					if null && !erroredAt(ec, errs, i) {
						v[i] = rateFalse
					}
				}
			} else {
				for i, null := range c.Null[:len(v)] {
					if null {
						v[i] = rateFalse
					}
				}
			}
		}
		// A column the decoder saw no empty string in (NoEmpty) needs no
		// look at its strings: reading a request id's or a document's
		// string header per row had been most of this scorer's time.
		if c.Kind == datasets.KindString && !c.NoEmpty && (len(c.Dict) > in.Rows || slices.Contains(c.Dict, "")) {
			for i, code := range c.Codes[:len(v)] {
				if (c.Null == nil || !c.Null[i]) && c.Dict[code] == "" {
					v[i] = rateFalse
				}
			}
		}
	}
	return v
}

func (s *OverBound) RateCodes(in *Input, buf []uint8) []uint8 {
	c := in.Col(s.Column)
	v := buf[:in.Rows]
	if c == nil {
		fillBytes(v, rateNaN)
		return v
	}
	for i, x := range c.Float[:len(v)] {
		code := rateNaN
		if !c.IsNull(i) && x >= 0 { // see OverBound: NaN and negatives are no latency
			code = uint8(b2i(x > s.Bound))
		}
		v[i] = code
	}
	return v
}
