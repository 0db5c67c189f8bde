package eval

import "github.com/parity-eval/parity/datasets"

// overBoundCodes is OverBound's RateCodes read from the batch's column
// c (nil: absent) through the feature's row indexes (rows, nil for
// every row), so the column is not gathered for it: code 2 where the
// value is null, NaN or negative (no latency, see scorers.OverBound),
// else 1 above the bound and 0 at or below it.
// TestDirectOverBoundMatchesRateCodes holds it to RateCodes.
func overBoundCodes(dst []uint8, c *datasets.Column, rows []int32, bound float64) []uint8 {
	if c == nil {
		for i := range dst {
			dst[i] = 2
		}
		return dst
	}
	src := c.Float
	var null []bool
	if c.Null != nil {
		null = c.Null[:len(src)]
	}
	// x > bound is false for NaN and !(x >= 0) true for NaN and
	// negatives: the code is 2·invalid + above, as arithmetic rather
	// than a branch (bounds are positive, so no invalid value is above).
	switch {
	case rows == nil && null == nil:
		for i, x := range src[:len(dst)] {
			dst[i] = uint8(b2i(!(x >= 0))<<1 | b2i(x > bound))
		}
	case rows == nil:
		null = null[:len(dst)]
		for i, x := range src[:len(dst)] {
			dst[i] = uint8((b2i(!(x >= 0))|b2i(null[i]))<<1 | b2i(x > bound)&^b2i(null[i]))
		}
	case null == nil:
		for i, j := range rows[:len(dst)] {
			x := src[j]
			dst[i] = uint8(b2i(!(x >= 0))<<1 | b2i(x > bound))
		}
	default:
		for i, j := range rows[:len(dst)] {
			x := src[j]
			dst[i] = uint8((b2i(!(x >= 0))|b2i(null[j]))<<1 | b2i(x > bound)&^b2i(null[j]))
		}
	}
	return dst
}
