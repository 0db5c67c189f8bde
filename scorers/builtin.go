package scorers

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

// FieldColumns returns the columns holding a field's legacy and AI values
// as scorers see them: the configured columns, or for a JSON field the
// derived columns eval materialises with ExtractJSONPaths.
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

// ExtractJSONPaths derives the columns of several JSON paths from one
// JSON string column, in the order of paths. Each document a row uses is
// scanned once for all paths (the flat fast path reads every top-level
// key in one pass), not once per path; rows whose document lacks a path
// are null in that path's column.
//
// A path with few distinct values in the batch (currencies, vendors)
// gets a dictionary of those values, so that category counts and
// comparisons see a handful of codes. Any other path's column (amounts,
// mostly one value per document) keeps one dictionary entry per source
// entry, the value in that document, and reuses the source's codes:
// deduplicating values that rarely repeat through a map cost more than
// anything it saved. Scorers read derived columns only as
// Dict[Codes[i]] (or parse each used entry once), never relying on
// distinct codes.
func ExtractJSONPaths(src *datasets.Column, paths []jsonpath.Path) []*datasets.Column {
	sc := &flatScanner{}
	keyOf := make([]int, len(paths)) // index in sc.keys of each flat path's key; -1 for other paths
	for p, path := range paths {
		keyOf[p] = -1
		if key, ok := flatKey(path); ok {
			keyOf[p] = sc.want(key)
		}
	}
	sc.vals = make([]span, len(sc.keys))
	outs := make([]pathValues, len(paths))
	for p := range outs {
		outs[p].remap = make([]uint8, len(src.Dict))
	}
	// Only the documents rows use are read: a gathered column shares the
	// whole row group's dictionary, most of it other features' rows.
	done := make([]bool, len(src.Dict))
	for i, c := range src.Codes {
		if (src.Null != nil && src.Null[i]) || done[c] {
			continue
		}
		done[c] = true
		doc := src.Dict[c]
		sure := len(sc.keys) > 0 && sc.scan(doc)
		for p, k := range keyOf {
			if sure && k >= 0 {
				v, pv := sc.vals[k], &outs[p]
				if v.to >= 0 && pv.remap == nil {
					pv.dict[c] = doc[v.from:v.to] // set's common case, inline
				} else {
					pv.set(c, doc[v.from:max(v.to, v.from)], v.to >= 0, done)
				}
			} else {
				v, ok := paths[p].Lookup(doc)
				outs[p].set(c, v, ok, done)
			}
		}
	}
	cols := make([]*datasets.Column, len(paths))
	for p, path := range paths {
		cols[p] = outs[p].column(src, src.Name+"#"+path.String())
	}
	return cols
}

// maxFewValues bounds the values a path may take in a batch to get its
// own dictionary of them.
const maxFewValues = 16

// pathValues collects one path's values, per source dictionary entry.
type pathValues struct {
	// While the path has at most maxFewValues distinct values, few holds
	// them and remap[c] indexes it for source entry c; both are nil
	// afterwards, when dict holds each entry's value instead.
	few   []string
	remap []uint8
	// hint[fewSlot(v)] is 1 + the index in few of a value v, found
	// with one comparison where a search of few would compare several;
	// 0 when no value has that slot yet.
	hint [64]uint8
	dict []string
	// missing[c] marks entry c as lacking the path; nil until one does,
	// as complete documents are the common case.
	missing []bool
}

// fewSlot is a value's slot in pathValues.hint: a hash of its length
// and end bytes, which tell a batch's few currencies or vendors apart.
func fewSlot(v string) int {
	if v == "" {
		return 0
	}
	return (len(v)*37 + int(v[0])*7 + int(v[len(v)-1])) & 63
}

// set records source entry c's value (ok false: the path is missing).
// done marks the entries recorded so far, c included.
func (pv *pathValues) set(c int32, v string, ok bool, done []bool) {
	if !ok {
		if pv.missing == nil {
			pv.missing = make([]bool, len(done))
		}
		pv.missing[c] = true
		return
	}
	if pv.remap == nil {
		pv.dict[c] = v
		return
	}
	slot := fewSlot(v)
	if h := int(pv.hint[slot]) - 1; h >= 0 && pv.few[h] == v {
		pv.remap[c] = uint8(h)
		return
	}
	for k, f := range pv.few {
		if f == v {
			pv.remap[c], pv.hint[slot] = uint8(k), uint8(k+1)
			return
		}
	}
	if len(pv.few) < maxFewValues {
		pv.remap[c] = uint8(len(pv.few))
		pv.few = append(pv.few, v)
		pv.hint[slot] = uint8(len(pv.few))
		return
	}
	// Too many values: one entry per source entry from now on, the
	// earlier ones filled in from few.
	pv.dict = make([]string, len(done))
	for e, d := range done {
		if d && (pv.missing == nil || !pv.missing[e]) {
			pv.dict[e] = pv.few[pv.remap[e]]
		}
	}
	pv.dict[c] = v
	pv.few, pv.remap = nil, nil
}

// column is the path's derived column over src's rows.
func (pv *pathValues) column(src *datasets.Column, name string) *datasets.Column {
	out := &datasets.Column{Name: name, Kind: datasets.KindString}
	if pv.remap == nil {
		out.Dict = pv.dict
		markRepeats(out)
		if pv.missing == nil {
			out.Codes, out.Null = src.Codes, src.Null
			return out
		}
	} else {
		out.Dict = pv.few
		if out.Dict == nil {
			out.Dict = []string{} // every row null
		}
	}
	out.Codes = make([]int32, len(src.Codes))
	for i, c := range src.Codes {
		if src.IsNull(i) || (pv.missing != nil && pv.missing[c]) {
			if out.Null == nil {
				out.Null = make([]bool, len(src.Codes))
			}
			out.Null[i] = true // its code stays 0, as for any null row
			continue
		}
		if pv.remap != nil {
			out.Codes[i] = int32(pv.remap[c])
		} else {
			out.Codes[i] = c
		}
	}
	return out
}

// markRepeats flags a derived column whose Dict may hold a value under
// several codes (two documents with the same amount).
func markRepeats(c *datasets.Column) { c.DictRepeats = true }

// flatKey reports whether path is a single top-level key ($.name), the
// shape of almost every decision field, and returns the key.
func flatKey(path jsonpath.Path) (string, bool) {
	src := path.String()
	if len(src) < 3 || src[:2] != "$." || strings.ContainsAny(src[2:], ".[") {
		return "", false
	}
	return src[2:], true
}

// flatScanner is jsonpath's Lookup of $.keys[k] for every k at once, for
// the common document: a flat JSON object of ASCII keys and values
// (strings without escapes, numbers, booleans, null). It scans the bytes
// once instead of decoding with encoding/json, which made JSON fields
// 40% of a full evaluation's CPU time; it is written by hand because no
// JSON library both validates the whole document and answers exactly as
// Lookup does. scan reports false (not sure) whenever the document is
// anything else (nested values, escapes, non-ASCII, trailing data,
// invalid JSON), and the caller then uses Lookup, so results are always
// Lookup's: numbers in source form, booleans as true/false, null and a
// missing key not ok, and the last of duplicate keys wins.
//
// The documents of one column mostly list the same keys in the same
// order, so the scanner remembers the keys of the previous document by
// position and first checks whether the next one has the same key
// there: one comparison instead of reading the key byte by byte and
// comparing it with every wanted key.
type flatScanner struct {
	keys []string // the distinct wanted keys
	// vals[k] receives keys[k]'s value when scan reports true: where it
	// is in the document, not a string, so recording it stores no
	// pointer (no write barrier).
	vals []span
	// layout[m] is the m-th key of the last document read (a key without
	// escapes, so it is the key wherever its bytes and a closing quote
	// follow an opening quote) and its index in keys (-1: not wanted).
	layout []layoutKey
}

// span is a value's bytes doc[from:to]; to is -1 when the value is
// missing or null.
type span struct{ from, to int }

type layoutKey struct {
	key string
	k   int
	// A key of at most 7 bytes and its closing quote, as the word
	// load64 reads at the key (mask selects their bytes): one
	// comparison where a string comparison calls memequal.
	word, mask uint64
}

func newLayoutKey(key string, k int) layoutKey {
	lk := layoutKey{key: key, k: k}
	if len(key) < 8 {
		q := key + `"`
		for b := range len(q) {
			lk.word |= uint64(q[b]) << (8 * b)
		}
		lk.mask = 1<<(8*len(q)) - 1
		if len(q) == 8 {
			lk.mask = ^uint64(0)
		}
	}
	return lk
}

// maxLayout bounds the key positions remembered per document.
const maxLayout = 32

// want adds key to the wanted keys (once) and returns its index.
func (sc *flatScanner) want(key string) int {
	for k, w := range sc.keys {
		if w == key {
			return k
		}
	}
	sc.keys = append(sc.keys, key)
	return len(sc.keys) - 1
}

// scan reads doc's top-level keys into vals; see flatScanner.
func (sc *flatScanner) scan(doc string) (sure bool) {
	vals := sc.vals
	for k := range vals {
		vals[k] = span{0, -1}
	}
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return false
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return skipSpace(doc, i+1) == len(doc)
	}
	for m := 0; ; m++ {
		if i >= len(doc) || doc[i] != '"' {
			return false
		}
		var k, end int
		hit := false
		if m < len(sc.layout) {
			// The key at this position in the last document, inline.
			if lk := &sc.layout[m]; lk.mask != 0 && i+9 <= len(doc) {
				hit = load64(doc, i+1)&lk.mask == lk.word
			} else {
				hit = quotedAt(doc, i+1, lk.key)
			}
		}
		if hit {
			k, end = sc.layout[m].k, i+1+len(sc.layout[m].key)
		} else {
			if end = plainStringEnd(doc, i+1); end < 0 {
				return false
			}
			key := doc[i+1 : end]
			k = -1
			for j, w := range sc.keys {
				if key == w {
					k = j
					break
				}
			}
			if m < len(sc.layout) {
				sc.layout[m] = newLayoutKey(key, k)
			} else if m < maxLayout {
				sc.layout = append(sc.layout, newLayoutKey(key, k))
			}
		}
		i = skipSpace(doc, end+1)
		if i >= len(doc) || doc[i] != ':' {
			return false
		}
		i = skipSpace(doc, i+1)
		if i >= len(doc) {
			return false
		}
		v := span{from: i}
		switch c := doc[i]; {
		case c == '"':
			end := plainStringEnd(doc, i+1)
			if end < 0 {
				return false
			}
			v, i = span{i + 1, end}, end+1
		case c == '-' || (c >= '0' && c <= '9'):
			end := numberEnd(doc, i)
			if end < 0 {
				return false
			}
			v.to, i = end, end
		case strings.HasPrefix(doc[i:], "true"):
			v.to, i = i+4, i+4
		case strings.HasPrefix(doc[i:], "false"):
			v.to, i = i+5, i+5
		case strings.HasPrefix(doc[i:], "null"):
			v.to, i = -1, i+4
		default:
			return false
		}
		if k >= 0 {
			vals[k] = v
		}
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return false
		}
		if doc[i] == ',' {
			i = skipSpace(doc, i+1)
			continue
		}
		if doc[i] != '}' {
			return false
		}
		return skipSpace(doc, i+1) == len(doc)
	}
}

// quotedAt reports whether doc holds key and a closing quote at i.
func quotedAt(doc string, i int, key string) bool {
	j := i + len(key)
	return j < len(doc) && doc[j] == '"' && doc[i:j] == key
}

// skipSpace returns the index of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(doc string, i int) int {
	// Every JSON whitespace byte is <= ' ': most calls, at a token,
	// take one comparison.
	for i < len(doc) && doc[i] <= ' ' {
		if c := doc[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			break
		}
		i++
	}
	return i
}

// stopsString marks the bytes that end scanFlat's reading of a string:
// its closing quote, and what it leaves to Lookup (escapes, control
// characters, non-ASCII).
var stopsString = func() (t [256]bool) {
	for c := range t {
		t[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80
	}
	return t
}()

// plainStringEnd returns the index of the closing quote of a string
// without escapes starting at i (just after its opening quote), or -1.
func plainStringEnd(doc string, i int) int {
	// Eight bytes at a time while eight remain (SWAR): a mask of the
	// bytes that stop the string, whose lowest set bit is the first one.
	// Each test below may also flag bytes after a byte it rightly flags
	// (a borrow carries up), never before, so that lowest bit is exact.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i+8 <= len(doc) {
		w := load64(doc, i)
		q, b := w^(ones*'"'), w^(ones*'\\')
		stop := (q-ones)&^q | (b-ones)&^b | (w-ones*0x20)&^w | w
		if stop &= highs; stop != 0 {
			i += bits.TrailingZeros64(stop) / 8
			break
		}
		i += 8
	}
	for i < len(doc) && !stopsString[doc[i]] {
		i++
	}
	if i < len(doc) && doc[i] == '"' {
		return i
	}
	return -1
}

// load64 is doc[i:i+8] as a little-endian word (one load: the compiler
// merges the byte loads).
func load64(doc string, i int) uint64 {
	s := doc[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// numberEnd returns the end of the JSON number starting at i, or -1 when
// the bytes there do not follow the number grammar
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func numberEnd(doc string, i int) int {
	if doc[i] == '-' {
		i++
	}
	if i < len(doc) && doc[i] == '0' {
		i++
	} else if j := digitsEnd(doc, i); j == i {
		return -1
	} else {
		i = j
	}
	if i < len(doc) && doc[i] == '.' {
		j := digitsEnd(doc, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(doc) && (doc[i] == 'e' || doc[i] == 'E') {
		i++
		if i < len(doc) && (doc[i] == '+' || doc[i] == '-') {
			i++
		}
		j := digitsEnd(doc, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digitsEnd(doc string, i int) int {
	for i < len(doc) && doc[i] >= '0' && doc[i] <= '9' {
		i++
	}
	return i
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
	return d <= c.Abs || d <= c.Rel*m
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

// numDict is a string column's entries parsed as EqualStrings' numeric
// comparison parses them, each on first use.
type numDict struct {
	dict []string
	val  []float64
	st   []uint8 // per entry: 0 not parsed yet, 1 a number, 2 not a number
}

// numbers returns the parsed entries of c for this batch, shared by the
// batch's scorers (a critical numeric field is compared by its own
// agreement scorer and by CriticalAgreement).
func (in *Input) numbers(c *datasets.Column) *numDict {
	if d, ok := in.nums[c]; ok {
		return d
	}
	d := &numDict{dict: c.Dict, val: make([]float64, len(c.Dict)), st: make([]uint8, len(c.Dict))}
	if in.nums == nil {
		in.nums = map[*datasets.Column]*numDict{}
	}
	in.nums[c] = d
	return d
}

// parse parses entry c and records it: st[c] becomes 1 (val[c] holds
// it) or 2 (not a number).
func (d *numDict) parse(c int32) {
	x, ok := parseNumber(d.dict[c])
	if !ok {
		d.st[c] = 2
		return
	}
	d.val[c], d.st[c] = x, 1
}

// parseNumber is strconv.ParseFloat(strings.TrimSpace(s), 64) as
// EqualStrings' numeric comparison parses, ok false on error. The common
// text of a JSON amount, a plain decimal of at most 15 digits
// (-1234.56), is converted here: its digits are an exact float64, so is
// the power of ten, and the one correctly rounded division gives exactly
// ParseFloat's result (ParseFloat's own exact fast path, which it reaches
// only after its general-purpose reading, a third of JSON agreement's
// time). Anything else goes to ParseFloat.
func parseNumber(s string) (float64, bool) {
	i, neg := 0, false
	if len(s) > 0 && s[0] == '-' {
		i, neg = 1, true
	}
	// The integer digits, then those after the point: two tight loops.
	var mant uint64
	start := i
	for ; i < len(s) && s[i]-'0' < 10; i++ {
		mant = mant*10 + uint64(s[i]-'0')
	}
	digits, frac := i-start, 0 // frac: digits after the point
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for ; i < len(s) && s[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(s[i]-'0')
		}
		if frac = i - start; frac == 0 {
			return parseFloatSlow(s)
		}
		digits += frac
	}
	if i < len(s) || digits == 0 || digits > 15 {
		return parseFloatSlow(s)
	}
	x := float64(mant)
	if frac > 0 {
		x /= exactPow10[frac]
	}
	if neg {
		x = -x
	}
	return x, true
}

// exactPow10 are the powers of ten parseNumber divides by, all exact in
// float64.
var exactPow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func parseFloatSlow(s string) (float64, bool) {
	x, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return x, err == nil
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
		&AuditComplete{Columns: []string{cols.RequestID, cols.InputHash, cols.AIModelVersion, cols.AIConfidence, cols.TS}},
	)
	out = append(out, QualityScorers(f, cols)...)
	return out
}

// AuditComplete is the share of records carrying every audit field
// (request id, input hash, model version, confidence, timestamp): one of
// the decommission-readiness items. A column absent from the file makes
// every row incomplete.
type AuditComplete struct{ Columns []string }

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
	for _, c := range cols {
		if c == nil {
			clear(v)
			break
		}
		if c.Null != nil {
			for i, null := range c.Null[:in.Rows] {
				if null {
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
		if !c.IsNull(i) && !math.IsNaN(c.Float[i]) {
			v = b2f(c.Float[i] > s.Bound)
		}
		out.Value[i] = v
	}
	return nil
}
