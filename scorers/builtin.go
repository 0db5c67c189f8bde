package scorers

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
)

// FieldColumns returns the columns holding a field's legacy and AI values
// as scorers see them: the configured columns, or for a JSON field the
// derived columns eval materialises with JSONFields.Extract.
func FieldColumns(fd *config.Field) (legacy, ai string) {
	if fd.Path != "" {
		return fd.LegacyJSON + "#" + fd.Path, fd.AIJSON + "#" + fd.Path
	}
	return fd.Legacy, fd.AI
}

// FieldKind is the column kind a field is read as.
func FieldKind(fd *config.Field) datasets.Kind {
	if fd.Comparator == "numeric" && fd.Path == "" {
		return datasets.KindFloat64
	}
	return datasets.KindString
}

// Comparator decides whether two values of a field are the same answer.
type Comparator struct {
	Kind     string
	Abs, Rel float64
	Sep      string
}

// NewComparator builds the comparator of a field.
func NewComparator(fd *config.Field) Comparator {
	return Comparator{Kind: fd.Comparator, Abs: fd.AbsTolerance, Rel: fd.RelTolerance, Sep: fd.Separator}
}

// EqualStrings compares two string values.
func (c Comparator) EqualStrings(a, b string) bool {
	switch c.Kind {
	case "case_insensitive":
		return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
	case "numeric":
		x, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
		y, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
		if err1 != nil || err2 != nil {
			return false
		}
		return c.EqualFloats(x, y)
	case "set":
		return equalSets(a, b, c.Sep)
	default:
		return a == b
	}
}

// EqualFloats compares numbers with the absolute and relative tolerance.
// NaN never equals anything: a NaN answer is a wrong answer.
func (c Comparator) EqualFloats(x, y float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) {
		return false
	}
	if x == y {
		return true
	}
	d := math.Abs(x - y)
	// The larger magnitude, as math.Max gives it for these non-NaN,
	// non-negative values (math.Max is not inlined).
	m := math.Abs(x)
	if ay := math.Abs(y); ay > m {
		m = ay
	}
	if c.Abs == 0 && c.Rel == 0 {
		return false
	}
	// Tolerances are written in decimal ("abs_tolerance: 0.01") and so
	// are the values, but neither is exact in binary: 1.01 - 1.00 is
	// 0.010000000000000009, which would miss a tolerance of 0.01 that
	// 10.01 - 10.00 meets. The bound is widened by the subtraction's
	// rounding error, a few units in the last place of the larger
	// magnitude (2^-50 relative, 4 ulps), far below any tolerance a
	// decimal figure states.
	eps := (m + c.Abs) * 0x1p-50
	return d <= c.Abs+eps || d <= c.Rel*m+eps
}

func equalSets(a, b, sep string) bool {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, sep) {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		sort.Strings(out)
		// dedupe: a set
		w := 0
		for i, p := range out {
			if i == 0 || p != out[w-1] {
				out[w] = p
				w++
			}
		}
		return out[:w]
	}
	x, y := split(a), split(b)
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] != y[i] {
			return false
		}
	}
	return true
}

// valueEq compares row i of two columns of a field. ok is false when
// both are null (nothing to compare); one null side is a divergence.
func (c Comparator) valueEq(a, b *datasets.Column, i int) (eq, ok bool) {
	an, bn := a.IsNull(i), b.IsNull(i)
	if an && bn {
		return false, false
	}
	if an || bn {
		return false, true
	}
	if a.Kind == datasets.KindFloat64 && b.Kind == datasets.KindFloat64 {
		return c.EqualFloats(a.Float[i], b.Float[i]), true
	}
	return c.EqualStrings(cellString(a, i), cellString(b, i)), true
}

func cellString(c *datasets.Column, i int) string {
	switch c.Kind {
	case datasets.KindString:
		return c.Dict[c.Codes[i]]
	case datasets.KindFloat64:
		return strconv.FormatFloat(c.Float[i], 'g', -1, 64)
	case datasets.KindInt64:
		return strconv.FormatInt(c.Int[i], 10)
	case datasets.KindBool:
		return strconv.FormatBool(c.Bool[i])
	}
	return ""
}

// FieldAgreement scores whether AI and legacy agree on one field.
type FieldAgreement struct {
	Field      string
	LegacyCol  string
	AICol      string
	Comparator Comparator
	ColKind    datasets.Kind
}

// NewFieldAgreement builds the agreement scorer of a field.
func NewFieldAgreement(fd *config.Field) *FieldAgreement {
	l, a := FieldColumns(fd)
	return &FieldAgreement{Field: fd.Name, LegacyCol: l, AICol: a, Comparator: NewComparator(fd), ColKind: FieldKind(fd)}
}

func (s *FieldAgreement) Name() string { return "agreement." + s.Field }
func (s *FieldAgreement) Kind() Kind   { return Agreement }
func (s *FieldAgreement) Needs() []Need {
	return []Need{{Column: s.LegacyCol, Kind: s.ColKind}, {Column: s.AICol, Kind: s.ColKind}}
}
func (s *FieldAgreement) overwrites() uint8 { return 1 << outValue }
func (s *FieldAgreement) Score(in *Input, out *Out) error {
	v := out.Value[:in.Rows]
	for i, c := range s.codes(in)[:len(v)] {
		v[i] = agreementValue[c&3]
	}
	return nil
}

// A field's agreement on one row, as FieldAgreement.codes records it.
// The order makes CriticalAgreement's rule a minimum: a row agrees only
// when every field with something to compare agrees (any disagreement
// is the least code), and has nothing to compare when no field has.
const (
	disagrees uint8 = 0
	agrees    uint8 = 1
	noCompare uint8 = 2 // both sides null; one null side is a divergence
)

// agreementValue is the Value of each code (indexed by code&3, which
// the compiler knows is in range).
var agreementValue = [4]float64{0, 1, math.NaN(), math.NaN()}

// agreeKey identifies a field's comparison within a batch: the same
// columns compared the same way give the same codes.
type agreeKey struct {
	legacy, ai string
	cmp        Comparator
}

// codes returns the field's per-row agreement codes for this batch,
// computed on first use and shared by the batch's scorers: a critical
// field is compared for CriticalAgreement and again for its own
// agreement scorer, and used to be compared twice.
func (s *FieldAgreement) codes(in *Input) []uint8 {
	key := agreeKey{s.LegacyCol, s.AICol, s.Comparator}
	if c, ok := in.agreed[key]; ok && len(c) == in.Rows {
		return c
	}
	c := make([]uint8, in.Rows)
	s.agree(in, c)
	if in.agreed == nil {
		in.agreed = map[agreeKey][]uint8{}
	}
	in.agreed[key] = c
	return c
}

// agree writes the field's per-row agreement codes into codes, which
// holds disagrees (0) on entry.
//
// The loops are specialised per column shape, with the per-batch work
// done once: the columns are looked up once, and a numeric comparison of
// two string columns parses each dictionary entry a row uses once per
// batch, shared with the other scorers of the batch, instead of both
// values on every row (JSON amounts are strings).
func (s *FieldAgreement) agree(in *Input, codes []uint8) {
	l, a := in.Col(s.LegacyCol), in.Col(s.AICol)
	c := s.Comparator
	n := in.Rows
	codes = codes[:n]
	switch {
	case c.Kind == "numeric" && l != nil && a != nil && l.Kind == datasets.KindString && a.Kind == datasets.KindString:
		lv, av := in.numbers(l), in.numbers(a)
		for i := range codes {
			ln, an := l.IsNull(i), a.IsNull(i)
			if ln || an {
				if ln && an {
					codes[i] = noCompare
				}
				continue
			}
			// numDict.at, inline: an entry is parsed on first use.
			lc, ac := l.Codes[i], a.Codes[i]
			if lv.st[lc] == 0 {
				lv.parse(lc)
			}
			if av.st[ac] == 0 {
				av.parse(ac)
			}
			if lv.st[lc] == 1 && av.st[ac] == 1 {
				// Equal numbers are equal under any tolerance: most rows
				// skip EqualFloats' call.
				if x, y := lv.val[lc], av.val[ac]; x == y || c.EqualFloats(x, y) {
					codes[i] = agrees
				}
			}
		}
	case l.Kind == datasets.KindString && a.Kind == datasets.KindString && (len(l.Dict)+1)*(len(a.Dict)+1) <= max(n, 1<<12):
		// Few pairs of dictionary entries (categories, a JSON path's few
		// values): each pair is compared once, on first use.
		t := newPairTable(l, a)
		lCodes, lNulls, lNull := rawCodes(l, n)
		aCodes, aNulls, aNull := rawCodes(a, n)
		for i := range codes {
			lc, ac := lCodes[i], aCodes[i]
			if lNulls != nil && lNulls[i] {
				lc = lNull
			}
			if aNulls != nil && aNulls[i] {
				ac = aNull
			}
			k := int(lc)*t.w + int(ac)
			r := t.cells[k]
			if r == 0 {
				lc, ac := t.codes(k)
				r = 1 + agreementOf(c, l, a, lc, ac)
				t.cells[k] = r
			}
			codes[i] = r - 1
		}
	case l.Kind == datasets.KindString && a.Kind == datasets.KindString:
		for i := range codes {
			ln, an := l.IsNull(i), a.IsNull(i)
			if ln || an {
				if ln && an {
					codes[i] = noCompare
				}
				continue
			}
			if c.EqualStrings(l.Dict[l.Codes[i]], a.Dict[a.Codes[i]]) {
				codes[i] = agrees
			}
		}
	default:
		for i := range codes {
			eq, ok := c.valueEq(l, a, i)
			switch {
			case !ok:
				codes[i] = noCompare
			case eq:
				codes[i] = agrees
			}
		}
	}
}

// agreementOf is the agreement code of legacy entry lc and AI entry ac
// (a column's null code is len(Dict), see pairTable).
func agreementOf(c Comparator, l, a *datasets.Column, lc, ac int32) uint8 {
	ln, an := int(lc) == len(l.Dict), int(ac) == len(a.Dict)
	switch {
	case ln && an:
		return noCompare
	case ln || an:
		return disagrees
	case c.EqualStrings(l.Dict[lc], a.Dict[ac]):
		return agrees
	}
	return disagrees
}

// CriticalAgreement scores agreement on all critical fields together: a
// row agrees only when every critical field agrees.
type CriticalAgreement struct{ Fields []*FieldAgreement }

func (s *CriticalAgreement) Name() string { return "agreement.critical" }
func (s *CriticalAgreement) Kind() Kind   { return Agreement }
func (s *CriticalAgreement) Needs() []Need {
	var n []Need
	for _, f := range s.Fields {
		n = append(n, f.Needs()...)
	}
	return n
}
func (s *CriticalAgreement) overwrites() uint8 { return 1 << outValue }
func (s *CriticalAgreement) Score(in *Input, out *Out) error {
	v := out.Value[:in.Rows]
	switch len(s.Fields) {
	case 0:
		fillNaN(v)
	case 1:
		for i, c := range s.Fields[0].codes(in)[:len(v)] {
			v[i] = agreementValue[c&3]
		}
	case 2:
		c0, c1 := s.Fields[0].codes(in)[:len(v)], s.Fields[1].codes(in)[:len(v)]
		for i := range v {
			v[i] = agreementValue[min(c0[i], c1[i])&3]
		}
	default:
		m := slices.Clone(s.Fields[0].codes(in)[:len(v)])
		for _, f := range s.Fields[1:] {
			for i, c := range f.codes(in)[:len(m)] {
				m[i] = min(m[i], c)
			}
		}
		for i, c := range m {
			v[i] = agreementValue[c&3]
		}
	}
	return nil
}

// FieldAccuracy judges both systems against the label of a field, on the
// same rows: the paired data McNemar and the non-inferiority test need.
type FieldAccuracy struct {
	*FieldAgreement
	LabelCol string
}

func (s *FieldAccuracy) Name() string { return "accuracy." + s.Field }
func (s *FieldAccuracy) Kind() Kind   { return PairedCorrect }
func (s *FieldAccuracy) Needs() []Need {
	// The label may live in the labels dataset; eval resolves it there
	// first, so the log column is optional.
	return append(s.FieldAgreement.Needs(), Need{Column: s.LabelCol, Kind: datasets.KindString, Optional: true})
}
func (s *FieldAccuracy) overwrites() uint8 { return 1<<outLegacy | 1<<outAI }
func (s *FieldAccuracy) Score(in *Input, out *Out) error {
	l, a := in.Col(s.LegacyCol), in.Col(s.AICol)
	labels := in.LabelColumn(s.LabelCol)
	// Labels from the log column and string predictions are all
	// dictionary codes: each (prediction, label) pair of entries, null
	// included, is judged once per batch, while the pairs fit a small
	// table; a row is then two table reads, with no branch on whether it
	// is labelled (labelled rows are interleaved at random).
	lab := labels.Col
	if isString(l) && isString(a) && isString(lab) &&
		(len(l.Dict)+1)*(len(lab.Dict)+1) <= maxPairMemo && (len(a.Dict)+1)*(len(lab.Dict)+1) <= maxPairMemo {
		lt, at := newPairTable(l, lab), newPairTable(a, lab)
		n := in.Rows
		lv, av := out.Legacy[:n], out.AI[:n]
		// The loop reads locals only (no field of a struct it might write).
		lCodes, lNulls, lNull := rawCodes(l, n)
		aCodes, aNulls, aNull := rawCodes(a, n)
		labCodes, labNulls, labNull := rawCodes(lab, n)
		lNulls, aNulls, labNulls = nullFlags(lNulls, n), nullFlags(aNulls, n), nullFlags(labNulls, n)
		joined := labels.Joined
		for i := range lv {
			if joined != nil && joined[i] != nil {
				s.judge(l, a, *joined[i], out, i)
				continue
			}
			lc, ac, labc := pick(lCodes[i], lNulls[i], lNull), pick(aCodes[i], aNulls[i], aNull), pick(labCodes[i], labNulls[i], labNull)
			k := int(lc)*lt.w + int(labc)
			r := lt.cells[k]
			if r == 0 {
				pc, lc := lt.codes(k)
				r = 1 + correctOf(s.Comparator, l, lab, pc, lc)
				lt.cells[k] = r
			}
			lv[i] = agreementValue[(r-1)&3]
			k = int(ac)*at.w + int(labc)
			if r = at.cells[k]; r == 0 {
				pc, lc := at.codes(k)
				r = 1 + correctOf(s.Comparator, a, lab, pc, lc)
				at.cells[k] = r
			}
			av[i] = agreementValue[(r-1)&3]
		}
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		if lab, ok := labels.At(i); ok {
			s.judge(l, a, lab, out, i)
		} else {
			out.Legacy[i], out.AI[i] = math.NaN(), math.NaN()
		}
	}
	return nil
}

// judge writes row i's correctness of both systems against label lab.
func (s *FieldAccuracy) judge(l, a *datasets.Column, lab string, out *Out, i int) {
	out.Legacy[i] = b2f(!l.IsNull(i) && s.Comparator.EqualStrings(cellString(l, i), lab))
	out.AI[i] = b2f(!a.IsNull(i) && s.Comparator.EqualStrings(cellString(a, i), lab))
}

// correctOf is the code of prediction entry pc against label entry lc
// (null codes are len(Dict), see pairTable): noCompare when unlabelled,
// agrees when right, disagrees when wrong or missing.
func correctOf(c Comparator, pred, lab *datasets.Column, pc, lc int32) uint8 {
	switch {
	case int(lc) == len(lab.Dict):
		return noCompare
	case int(pc) == len(pred.Dict):
		return disagrees
	case c.EqualStrings(pred.Dict[pc], lab.Dict[lc]):
		return agrees
	}
	return disagrees
}

func isString(c *datasets.Column) bool { return c != nil && c.Kind == datasets.KindString }

// pairTable memoises a result per pair of dictionary entries of two
// string columns a and b (agreement's two systems, or a prediction and
// its label), null counting as one more entry of each (code len(Dict)):
// cells holds the result + 1 per pair, 0 until computed. Row i's pair
// is cell a's code * w + b's code, codes as rawCodes gives them.
type pairTable struct {
	cells []uint8
	w     int // b's codes: len(b.Dict) + 1
}

// maxPairMemo bounds a pairTable (64 KiB) where no batch size does.
const maxPairMemo = 1 << 16

func newPairTable(a, b *datasets.Column) pairTable {
	return pairTable{cells: make([]uint8, (len(a.Dict)+1)*(len(b.Dict)+1)), w: len(b.Dict) + 1}
}

// codes is the pair of codes of cell k.
func (t *pairTable) codes(k int) (int32, int32) { return int32(k / t.w), int32(k % t.w) }

// rawCodes returns a string column's codes and null flags for n rows
// (nil: none), and its null code (len(Dict), as in pairTable): a row's
// code is codes[i], or nullCode when null[i].
func rawCodes(c *datasets.Column, n int) (codes []int32, null []bool, nullCode int32) {
	return c.Codes[:n], c.Null, int32(len(c.Dict))
}

// nullFlags is null for n rows, all false when nil: a loop then reads
// flag i with no nil check.
func nullFlags(null []bool, n int) []bool {
	if null == nil {
		return noNulls(n)
	}
	return null[:n]
}

// noNullsBuf holds a slice of false flags that nobody writes, shared by
// every goroutine and grown by replacement, so that a column without
// null flags costs no allocation per batch.
var noNullsBuf atomic.Pointer[[]bool]

// noNulls returns n false flags, read-only.
func noNulls(n int) []bool {
	if p := noNullsBuf.Load(); p != nil && len(*p) >= n {
		return (*p)[:n]
	}
	s := make([]bool, max(n, 1<<17))
	noNullsBuf.Store(&s)
	return s[:n]
}

// pick is code, or nullCode when null, by arithmetic: accuracy's loop
// had a branch there, mispredicted on every other row as labels come
// at random. (In agreement's and quality's loops, whose columns rarely
// have nulls, the branch measured faster.)
func pick(code int32, null bool, nullCode int32) int32 {
	m := -int32(b2i(null))
	return code&^m | nullCode&m
}

// BoolRate is the rate of true values of a boolean column (errors).
type BoolRate struct{ Metric, Column string }

func (s *BoolRate) Name() string { return s.Metric }
func (s *BoolRate) Kind() Kind   { return Rate }
func (s *BoolRate) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindBool, Optional: true}}
}
func (s *BoolRate) overwrites() uint8 { return 1 << outValue }
func (s *BoolRate) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	v := out.Value[:in.Rows]
	if c == nil {
		fillNaN(v)
		return nil
	}
	b := c.Bool[:len(v)]
	if c.Null == nil {
		for i, x := range b {
			v[i] = b2f(x)
		}
		return nil
	}
	null := c.Null[:len(b)]
	for i, x := range b {
		// One table read, no branch: NaN for a null row.
		v[i] = boolValue[b2i(null[i])<<1|b2i(x)]
	}
	return nil
}

// boolValue is BoolRate's value of (null<<1 | true).
var boolValue = [4]float64{0, 1, math.NaN(), math.NaN()}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ValueRate is the rate of rows whose string column equals Value
// (served_by = "ai" gives the AI traffic share).
type ValueRate struct{ Metric, Column, Value string }

func (s *ValueRate) Name() string { return s.Metric }
func (s *ValueRate) Kind() Kind   { return Rate }
func (s *ValueRate) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindString, Optional: true}}
}
func (s *ValueRate) overwrites() uint8 { return 1 << outValue }
func (s *ValueRate) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		fillNaN(out.Value[:in.Rows])
		return nil
	}
	// Each dictionary entry a row uses is compared once: 0 not yet,
	// 1 equal, 2 not.
	memo := make([]uint8, len(c.Dict))
	for i, code := range c.Codes[:in.Rows] {
		if c.Null != nil && c.Null[i] {
			out.Value[i] = math.NaN()
			continue
		}
		if memo[code] == 0 {
			memo[code] = 2
			if strings.EqualFold(c.Dict[code], s.Value) {
				memo[code] = 1
			}
		}
		out.Value[i] = b2f(memo[code] == 1)
	}
	return nil
}

// PerSystemValue reads a numeric measurement per system (latency, cost).
// NaN and ±Inf are not measurements: they are skipped and counted by eval
// as invalid values.
type PerSystemValue struct{ Metric, LegacyCol, AICol string }

func (s *PerSystemValue) Name() string { return s.Metric }
func (s *PerSystemValue) Kind() Kind   { return PerSystem }
func (s *PerSystemValue) Needs() []Need {
	return []Need{{Column: s.LegacyCol, Kind: datasets.KindFloat64, Optional: true}, {Column: s.AICol, Kind: datasets.KindFloat64, Optional: true}}
}
func (s *PerSystemValue) overwrites() uint8 { return 1<<outLegacy | 1<<outAI }
func (s *PerSystemValue) Score(in *Input, out *Out) error {
	copyFinite(in.Col(s.LegacyCol), out.Legacy[:in.Rows])
	copyFinite(in.Col(s.AICol), out.AI[:in.Rows])
	return nil
}

// copyFinite copies the values of a float column (nil: absent) into
// every row of dst, NaN for null rows and ±Inf (NaN is copied: skipped
// too). Without null flags the loop reads no flag per row.
func copyFinite(c *datasets.Column, dst []float64) {
	if c == nil {
		fillNaN(dst)
		return
	}
	nan := math.NaN()
	f := c.Float[:len(dst)]
	if c.Null == nil {
		for i, x := range f {
			if math.IsInf(x, 0) {
				x = nan
			}
			dst[i] = x
		}
		return
	}
	null := c.Null[:len(f)]
	for i, x := range f {
		if null[i] || math.IsInf(x, 0) {
			x = nan
		}
		dst[i] = x
	}
}

// NumericValue is a single numeric column as a Score (AI confidence, a
// numeric input column for drift).
type NumericValue struct {
	Metric, Column string
	Optional       bool
}

func (s *NumericValue) Name() string { return s.Metric }
func (s *NumericValue) Kind() Kind   { return Score }
func (s *NumericValue) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindFloat64, Optional: s.Optional}}
}
func (s *NumericValue) overwrites() uint8 { return 1 << outValue }
func (s *NumericValue) Score(in *Input, out *Out) error {
	copyFinite(in.Col(s.Column), out.Value[:in.Rows])
	return nil
}

// CategoryValue is a string column as categories (model version, AI
// output for drift).
type CategoryValue struct {
	Metric, Column string
	Optional       bool
}

func (s *CategoryValue) Name() string { return s.Metric }
func (s *CategoryValue) Kind() Kind   { return Category }
func (s *CategoryValue) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindString, Optional: s.Optional}}
}

// Score writes the coded form: the column's dictionary is the keys and
// its codes the rows' codes (-1 where null), so no string is touched per
// row.
func (s *CategoryValue) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		return nil
	}
	code := out.UseCodes(in.Rows, c.Dict)
	copy(code, c.Codes)
	if c.Null != nil {
		for i, null := range c.Null {
			if null {
				code[i] = -1
			}
		}
	}
	return nil
}

// Builtins returns the built-in scorers of a feature, in output order.
func Builtins(f *config.Feature, cols *config.Columns) []Scorer {
	var out []Scorer
	var crit []*FieldAgreement
	for i := range f.Fields {
		fd := &f.Fields[i]
		ag := NewFieldAgreement(fd)
		out = append(out, ag)
		if fd.Critical {
			crit = append(crit, ag)
		}
	}
	if len(crit) > 0 {
		out = append([]Scorer{&CriticalAgreement{Fields: crit}}, out...)
	}
	for i := range f.Fields {
		fd := &f.Fields[i]
		if fd.Label != "-" {
			out = append(out, &FieldAccuracy{FieldAgreement: NewFieldAgreement(fd), LabelCol: fd.Label})
		}
	}
	for i := range f.Fields {
		fd := &f.Fields[i]
		if fd.Comparator == "exact" || fd.Comparator == "case_insensitive" {
			_, ai := FieldColumns(fd)
			if FieldKind(fd) == datasets.KindString {
				out = append(out, &CategoryValue{Metric: "output." + fd.Name, Column: ai})
			}
		}
	}
	out = append(out,
		&BoolRate{Metric: "error_rate.legacy", Column: cols.LegacyError},
		&BoolRate{Metric: "error_rate.ai", Column: cols.AIError},
		&PerSystemValue{Metric: "latency_ms", LegacyCol: cols.LegacyLatencyMS, AICol: cols.AILatencyMS},
		&PerSystemValue{Metric: "cost", LegacyCol: cols.LegacyCost, AICol: cols.AICost},
		&ValueRate{Metric: "ai_share", Column: cols.ServedBy, Value: "ai"},
		&NumericValue{Metric: "confidence", Column: cols.AIConfidence, Optional: true},
		&CategoryValue{Metric: "model_version", Column: cols.AIModelVersion, Optional: true},
		&AuditComplete{Columns: []string{cols.RequestID, cols.InputHash, cols.AIModelVersion, cols.AIConfidence, cols.TS}, NoneOnError: cols.AIConfidence, ErrorColumn: cols.AIError},
	)
	out = append(out, QualityScorers(f, cols)...)
	return out
}

// AuditComplete is the share of records carrying every audit field
// (request id, input hash, model version, confidence, timestamp): one of
// the decommission-readiness items. A column absent from the file makes
// every row incomplete.
//
// NoneOnError names the field an errored AI call has no value for (its
// confidence): a row whose ErrorColumn is true is complete without it,
// since the record of the error is the audit trail of that request, and
// a share of failed calls must not make "audit trail complete"
// unreachable.
type AuditComplete struct {
	Columns     []string
	NoneOnError string
	ErrorColumn string
}

// errored returns, per row, whether the AI call errored (ErrorColumn
// true), or nil when NoneOnError is unset or the column is absent.
func (s *AuditComplete) errored(in *Input) []bool {
	if s.NoneOnError == "" || s.ErrorColumn == "" {
		return nil
	}
	c := in.Col(s.ErrorColumn)
	if c == nil || c.Kind != datasets.KindBool {
		return nil
	}
	return c.Bool[:in.Rows]
}

// erroredAt reports whether row i's AI call errored (a null error flag
// is not an error).
func erroredAt(c *datasets.Column, bs []bool, i int) bool {
	return bs[i] && (c.Null == nil || !c.Null[i])
}

func (s *AuditComplete) Name() string { return "audit.complete" }
func (s *AuditComplete) Kind() Kind   { return Rate }
func (s *AuditComplete) Needs() []Need {
	// Kinds are only a request for the decoder: request the audit fields
	// with the kinds the data contract gives them.
	kinds := []datasets.Kind{datasets.KindString, datasets.KindString, datasets.KindString, datasets.KindFloat64, datasets.KindTimestamp}
	var n []Need
	for i, c := range s.Columns {
		// Only presence is checked: a column no other scorer reads (the
		// input hash, unique per row) is not decoded into strings.
		n = append(n, Need{Column: c, Kind: kinds[i], Optional: true, PresenceOnly: true})
	}
	if s.NoneOnError != "" && s.ErrorColumn != "" {
		n = append(n, Need{Column: s.ErrorColumn, Kind: datasets.KindBool, Optional: true})
	}
	return n
}
func (s *AuditComplete) overwrites() uint8 { return 1 << outValue }
func (s *AuditComplete) Score(in *Input, out *Out) error {
	cols := make([]*datasets.Column, len(s.Columns))
	for i, name := range s.Columns {
		cols[i] = in.Col(name)
	}
	// Column at a time: every row starts complete and each column clears
	// the rows it lacks, which is one tight loop per column rather than a
	// loop over columns per row.
	v := out.Value[:in.Rows]
	for i := range v {
		v[i] = 1
	}
	errs := s.errored(in)
	for k, c := range cols {
		if c == nil {
			clear(v)
			break
		}
		if c.Null != nil {
			excused := errs != nil && s.Columns[k] == s.NoneOnError
			for i, null := range c.Null[:in.Rows] {
				if null && !(excused && erroredAt(in.Col(s.ErrorColumn), errs, i)) {
					v[i] = 0
				}
			}
		}
		if c.Kind == datasets.KindString && (len(c.Dict) > in.Rows || slices.Contains(c.Dict, "")) {
			// (A dictionary no larger than the rows and without an empty
			// entry, the usual case, clears no row.)
			for i, code := range c.Codes[:in.Rows] {
				// A null row's code is a placeholder (its Dict may be empty).
				if (c.Null == nil || !c.Null[i]) && c.Dict[code] == "" {
					v[i] = 0
				}
			}
		}
	}
	return nil
}

// Validate checks a scorer's metadata once, so eval can trust it.
func Validate(s Scorer) error {
	if s.Name() == "" {
		return fmt.Errorf("scorer with empty name")
	}
	if s.Kind() < Agreement || s.Kind() > Classification {
		return fmt.Errorf("scorer %q: unknown kind %d", s.Name(), s.Kind())
	}
	return nil
}

// OverBound is the rate of rows whose numeric column exceeds a bound: an
// exact count for "P95 <= bound" (P95 <= B exactly when at most 5% of
// values exceed B), so the test needs no quantile approximation.
//
// The column is a latency: null, NaN and negative values (−Inf among
// them) are not latencies and are skipped, since counting them as under
// the bound would let bad rows pass a class whose real latencies fail
// it; +Inf (a request that never finished) is over any bound.
type OverBound struct {
	Metric, Column string
	Bound          float64
}

func (s *OverBound) Name() string { return s.Metric }
func (s *OverBound) Kind() Kind   { return Rate }
func (s *OverBound) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindFloat64, Optional: true}}
}
func (s *OverBound) overwrites() uint8 { return 1 << outValue }
func (s *OverBound) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		fillNaN(out.Value[:in.Rows])
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		v := math.NaN()
		if !c.IsNull(i) && c.Float[i] >= 0 {
			v = b2f(c.Float[i] > s.Bound)
		}
		out.Value[i] = v
	}
	return nil
}
