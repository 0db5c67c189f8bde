package scorers

// JSON fields: the values at a field's paths, extracted from each logged
// document in one pass (ExtractJSONPaths), and the numeric reading of
// extracted values (numDict, parseNumber).

import (
	"math"
	"math/bits"
	"strconv"
	"strings"

	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

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
//
// It allocates the columns' buffers afresh; a scan worker uses
// JSONFields.Extract, which recycles them from one batch to the next.
func ExtractJSONPaths(src *datasets.Column, paths []jsonpath.Path) []*datasets.Column {
	return new(JSONFields).Extract(src, paths)
}

// JSONFields derives JSON fields (see ExtractJSONPaths) for one scan
// worker and keeps their buffers for its next batch: per-source-entry
// values, codes and numbers had been more than a quarter of the bytes a
// full evaluation allocated, each of them once per JSON column per row
// group. The columns Extract returns are valid until Reset, which the
// worker calls once the batch's scorers are done with them (scorers
// keep no column slice past Score, docs/scorers.md). Set as Input.JSON,
// it also gives numeric comparisons the numbers read while each
// document was scanned (Input.numbers). Not safe for concurrent use.
type JSONFields struct {
	pvs  []*pathValues // pvs[:used] hold this batch's paths
	used int
	done []bool
	cols []*datasets.Column
	sc   flatScanner
}

// Reset makes the buffers of every column derived since the last Reset
// free for the next ones.
func (x *JSONFields) Reset() { x.used = 0 }

// numbers returns the numbers parsed for derived column c while its
// documents were scanned, or nil when c is not such a column.
func (x *JSONFields) numbers(c *datasets.Column) *numDict {
	for _, pv := range x.pvs[:x.used] {
		if pv.col == c && pv.nums.dict != nil {
			return &pv.nums
		}
	}
	return nil
}

// Extract is ExtractJSONPaths in buffers recycled since the last Reset.
// The returned slice (not the columns it holds) is overwritten by the
// next Extract: copy it to keep it.
func (x *JSONFields) Extract(src *datasets.Column, paths []jsonpath.Path) []*datasets.Column {
	n := len(src.Dict)
	// The scanner starts afresh: its layout refers to the last call's
	// keys, and holds keys that are substrings of its documents, which
	// may be recycled bytes by now.
	sc := &x.sc
	sc.keys, sc.layout, sc.tmpl = sc.keys[:0], sc.layout[:0], sc.tmpl[:0]
	keyOf := make([]int, len(paths)) // index in sc.keys of each flat path's key; -1 for other paths
	for p, path := range paths {
		keyOf[p] = -1
		if key, ok := flatKey(path); ok {
			keyOf[p] = sc.want(key)
		}
	}
	sc.vals = resize(sc.vals, len(sc.keys))
	sc.pred = resize(sc.pred, len(sc.keys))
	clear(sc.pred)
	outs := x.take(len(paths))
	for p, pv := range outs {
		pv.reset(n)
		if k := keyOf[p]; k >= 0 && sc.pred[k] == nil {
			sc.pred[k] = pv
		}
	}
	// Only the documents rows use are read: a gathered column shares the
	// whole row group's dictionary, most of it other features' rows.
	x.done = resize(x.done, n)
	done := x.done
	clear(done)
	for i, c := range src.Codes {
		if (src.Null != nil && src.Null[i]) || done[c] {
			continue
		}
		done[c] = true
		doc := src.Dict[c]
		sure := len(sc.keys) > 0 && sc.scan(doc)
		for p, k := range keyOf {
			pv := outs[p]
			if sure && k >= 0 {
				v := sc.vals[k]
				if v.few != 0 && sc.pred[k] == pv {
					pv.remap[c] = uint8(v.few - 1) // scan found it among pv's values
					continue
				}
				if v.to >= 0 && pv.many {
					pv.dict[c] = doc[v.from:v.to] // set's common case, inline
				} else {
					pv.set(c, doc[v.from:max(v.to, v.from)], v.to >= 0, done)
				}
				if pv.many {
					// The number scan read at the value, if any (st 0:
					// not read, parsed on use). Only a path with many
					// values has its numbers read (numbers).
					pv.nums.val[c], pv.nums.st[c] = v.num, numRead(v.num)
				}
			} else {
				v, ok := paths[p].Lookup(doc)
				pv.set(c, v, ok, done)
				if pv.many {
					pv.nums.st[c] = 0
				}
			}
		}
	}
	x.cols = x.cols[:0]
	for p, path := range paths {
		x.cols = append(x.cols, outs[p].column(src, src.Name+"#"+path.String(), done))
	}
	return x.cols
}

// numRead is numDict.st of a number span.num holds: 1 (parsed), or 0
// (not read: parsed on use) for its NaN.
func numRead(x float64) uint8 {
	if x != x {
		return 0
	}
	return 1
}

// take returns n recycled pathValues for this batch.
func (x *JSONFields) take(n int) []*pathValues {
	for len(x.pvs) < x.used+n {
		x.pvs = append(x.pvs, new(pathValues))
	}
	out := x.pvs[x.used : x.used+n]
	x.used += n
	return out
}

// resize returns s with length n, reusing its array when large enough.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// maxFewValues bounds the values a path may take in a batch to get its
// own dictionary of them.
const maxFewValues = 16

// pathValues collects one path's values, per source dictionary entry.
// Its slices are recycled from one batch to the next (reset).
type pathValues struct {
	// While the path has at most maxFewValues distinct values (many
	// false), few holds them and remap[c] indexes it for source entry c;
	// afterwards dict holds each entry's value instead.
	many  bool
	few   []string
	remap []uint8
	// hint[fewSlot(v)] is 1 + the index in few of a value v, found
	// with one comparison where a search of few would compare several;
	// 0 when no value has that slot yet.
	hint [64]uint8
	// quoted[h] is few[h] for flatScanner's comparison at a document's
	// bytes, and first[b] 1 + the index in few of the latest value
	// starting with byte b ('"' for the empty string) that such a
	// comparison may find: one without bytes that stop a plain string,
	// so its bytes and a quote are the whole string wherever they
	// follow an opening quote. 0 when no value qualifies.
	quoted []quotedText
	first  [256]uint8
	dict   []string
	// missing[c] marks entry c as lacking the path; valid only when
	// anyMissing, as complete documents are the common case.
	missing    []bool
	anyMissing bool
	// nums holds, per source entry a row uses, the number the flat scan
	// read at the path (st 1), else st 0: Input.numbers' table for the
	// derived column when it keeps the source's codes (col, with many).
	// Written only once the path has many values: the only columns
	// whose numbers are read.
	nums numDict
	col  *datasets.Column
	// codes, null and out are the derived column's recycled parts.
	codes []int32
	null  []bool
	out   datasets.Column
}

// reset empties pv for a source column of n dictionary entries.
func (pv *pathValues) reset(n int) {
	pv.many, pv.anyMissing, pv.col = false, false, nil
	pv.few, pv.quoted = pv.few[:0], pv.quoted[:0]
	pv.hint, pv.first = [64]uint8{}, [256]uint8{}
	pv.remap = resize(pv.remap, n)
	pv.nums.val = resize(pv.nums.val, n)
	pv.nums.st = resize(pv.nums.st, n)
	pv.nums.dict = nil
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
		if !pv.anyMissing {
			pv.missing = resize(pv.missing, len(done))
			clear(pv.missing)
			pv.anyMissing = true
		}
		pv.missing[c] = true
		return
	}
	if pv.many {
		pv.dict[c] = v
		return
	}
	slot := fewSlot(v)
	if h := int(pv.hint[slot]) - 1; h >= 0 && pv.few[h] == v {
		pv.found(c, h)
		return
	}
	for k, f := range pv.few {
		if f == v {
			pv.found(c, k)
			pv.hint[slot] = uint8(k + 1)
			return
		}
	}
	if len(pv.few) < maxFewValues {
		pv.few = append(pv.few, v)
		pv.quoted = append(pv.quoted, newQuotedText(v))
		pv.hint[slot] = uint8(len(pv.few))
		pv.found(c, len(pv.few)-1)
		return
	}
	// Too many values: one entry per source entry from now on, the
	// earlier ones filled in from few. Entries no row uses are set to ""
	// by column.
	pv.dict = resize(pv.dict, len(done))
	// Numbers are recorded from now on; the entries before are parsed
	// on use.
	clear(pv.nums.st)
	for e, d := range done {
		if d && (!pv.anyMissing || !pv.missing[e]) {
			pv.dict[e] = pv.few[pv.remap[e]]
		}
	}
	pv.dict[c] = v
	pv.many = true
}

// found records few[h] as source entry c's value, and as the value
// flatScanner tries first for a string starting with its first byte:
// the latest one, as a batch's values that share a first byte tend to
// come in runs.
func (pv *pathValues) found(c int32, h int) {
	pv.remap[c] = uint8(h)
	v := pv.few[h]
	if !plain(v) {
		return
	}
	b := byte('"')
	if v != "" {
		b = v[0]
	}
	pv.first[b] = uint8(h + 1)
}

// plain reports whether v holds no byte that stops a plain string.
func plain(v string) bool {
	for i := range len(v) {
		if stopsString[v[i]] {
			return false
		}
	}
	return true
}

// column is the path's derived column over src's rows; done marks the
// source entries rows use.
func (pv *pathValues) column(src *datasets.Column, name string, done []bool) *datasets.Column {
	out := &pv.out
	*out = datasets.Column{Name: name, Kind: datasets.KindString}
	pv.col = out
	if pv.many {
		// Entries no row uses, or without the path, keep no value of an
		// earlier batch: they read "" as in a fresh dictionary, and pin
		// no old document.
		dict := pv.dict[:len(done)]
		for e, d := range done {
			if !d || (pv.anyMissing && pv.missing[e]) {
				dict[e] = ""
			}
		}
		out.Dict = dict
		pv.nums.dict = dict
		markRepeats(out)
		if !pv.anyMissing {
			out.Codes, out.Null = src.Codes, src.Null
			return out
		}
	} else {
		out.Dict = pv.few
		if out.Dict == nil {
			out.Dict = []string{} // every row null
		}
	}
	pv.codes = resize(pv.codes, len(src.Codes))
	out.Codes = pv.codes
	var null []bool // allocated (recycled) on the first null row
	for i, c := range src.Codes {
		if src.IsNull(i) || (pv.anyMissing && pv.missing[c]) {
			if null == nil {
				pv.null = resize(pv.null, len(src.Codes))
				null = pv.null
				clear(null)
			}
			null[i] = true
			out.Codes[i] = 0 // a null row's code is 0
			continue
		}
		if !pv.many {
			out.Codes[i] = int32(pv.remap[c])
		} else {
			out.Codes[i] = c
		}
	}
	out.Null = null
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
	// pred[k] is the pathValues whose few values scan compares with a
	// string value of keys[k] at its first bytes (the first path reading
	// the key): a match is that value, found without reading the string
	// to its end or comparing it again (span.few). Nil entries, and
	// values past a path's few, are read as any other string.
	pred []*pathValues
	// layout[m] is the m-th key of the last document read (a key without
	// escapes, so it is the key wherever its bytes and a closing quote
	// follow an opening quote) and its index in keys (-1: not wanted).
	layout []layoutKey
	// tmpl[m] is, when the last document was read in full (sure), the
	// bytes from the end of its (m-1)-th value (the document's start for
	// m 0) to the start of its m-th value, and that key's index in keys:
	// `{"amount":`, `,"currency":`, .... A document with the same bytes
	// there reads as the same keys, punctuation and whitespace, so
	// scanTemplate compares them a word at a time and reads only the
	// values. Empty when the last document was not sure, or a gap was
	// longer than gapText holds.
	tmpl []tmplKey
	// tmplGaps collects the gaps of the document being read, which
	// becomes tmpl when it is sure.
	tmplGaps []tmplKey
}

// tmplKey is one key position of flatScanner.tmpl.
type tmplKey struct {
	gap gapText
	k   int
}

// span is a value's bytes doc[from:to]; to is -1 when the value is
// missing or null. few is 1 + the value's index in the few values of
// pred[k] when scan found it there, else 0. num is the value as
// parseNumber reads its text when it is a number parseNumber converts
// itself (read while the document is in cache), else NaN, which
// parseNumber never gives: a fifth field would keep the compiler from
// holding a span in registers, which cost more than the parse saved.
type span struct {
	from, to, few int32
	num           float64
}

// noNumber is span.num's NaN.
var noNumber = math.NaN()

type layoutKey struct {
	key quotedText
	k   int
}

// quotedText is a string followed by its closing quote, for comparison
// with a document's bytes at a position: as the words load64 reads
// there (under eight bytes: one word, its bytes selected by mask; eight
// or more: every full word and the overlapping last one), a comparison
// per eight bytes where a string comparison calls memequal.
type quotedText struct {
	s     string
	w     [4]uint64
	mask  uint64
	words int // words holding s and its quote, 1 to 4; 0 when longer (compared as a string)
	// last is the final eight bytes of s and its quote when they are
	// eight or more: compared where they end, so a string and its quote
	// near a document's end need no bytes past it.
	last uint64
}

func newQuotedText(s string) quotedText {
	q := quotedText{s: s}
	t := s + `"`
	if len(t) > 8*len(q.w) {
		return q
	}
	q.words = (len(t) + 7) / 8
	for b := range len(t) {
		q.w[b/8] |= uint64(t[b]) << (8 * (b % 8))
	}
	q.mask = ^uint64(0)
	if r := len(t) % 8; r != 0 {
		q.mask = 1<<(8*r) - 1
	}
	if len(t) >= 8 {
		q.last = load64(t, len(t)-8)
	}
	return q
}

// at reports whether doc holds q's string and a closing quote at i.
// Too big to be inlined: scan does its one-word case inline (short
// keys and values, the common case) and calls at for the others.
func (q *quotedText) at(doc string, i int) bool {
	t := len(q.s) + 1 // its bytes and the quote
	switch {
	case q.words == 0:
		return quotedAt(doc, i, q.s) // too long for its words
	case i < 0 || i+t > len(doc):
		return false
	case t >= 8:
		// Whole words from i, then the last eight bytes where they end
		// (overlapping the previous word unless t is a multiple of 8).
		n := t / 8
		for j := range n {
			if load64(doc, i+8*j) != q.w[j&3] {
				return false
			}
		}
		return t%8 == 0 || load64(doc, i+t-8) == q.last
	case i+8 <= len(doc):
		return load64(doc, i)&q.mask == q.w[0]
	case len(doc) >= 8:
		// Fewer than eight bytes from i to the end: the word ending
		// there, shifted down to start at i.
		return load64(doc, len(doc)-8)>>(8*(8-(len(doc)-i)))&q.mask == q.w[0]
	}
	return quotedAt(doc, i, q.s) // a document shorter than a word
}

// gapText is up to 32 bytes of a document, for comparison at a position
// of another one a word at a time, as quotedText is without a string
// (the bytes may be recycled by the next comparison).
type gapText struct {
	w    [4]uint64
	mask uint64 // of w[0] when n < 8
	last uint64 // the final eight bytes when n >= 8
	n    int    // 1 to 32; 0: too long (never matches)
}

func newGapText(t string) gapText {
	if len(t) == 0 || len(t) > 32 {
		return gapText{}
	}
	g := gapText{n: len(t)}
	for b := range len(t) {
		g.w[b/8] |= uint64(t[b]) << (8 * (b % 8))
	}
	g.mask = ^uint64(0)
	if len(t) < 8 {
		g.mask = 1<<(8*len(t)) - 1
	} else {
		g.last = load64(t, len(t)-8)
	}
	return g
}

// at reports whether doc holds g's bytes at i (0 <= i <= len(doc)).
func (g *gapText) at(doc string, i int) bool {
	n := g.n
	switch {
	case n == 0 || i+n > len(doc):
		return false
	case n <= 16 && n >= 8:
		// One or two words: the first, and the last eight bytes where
		// they end (overlapping the first unless n is 16).
		return load64(doc, i) == g.w[0] && load64(doc, i+n-8) == g.last
	case n >= 8:
		for j := 0; j+8 <= n; j += 8 {
			if load64(doc, i+j) != g.w[(j/8)&3] {
				return false
			}
		}
		return load64(doc, i+n-8) == g.last
	case i+8 <= len(doc):
		return load64(doc, i)&g.mask == g.w[0]
	}
	for j := range n { // fewer than eight bytes left in doc
		if doc[i+j] != byte(g.w[0]>>(8*j)) {
			return false
		}
	}
	return true
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
		vals[k] = span{to: -1, num: noNumber}
	}
	if len(doc) > math.MaxInt32 {
		return false // beyond span's offsets
	}
	if len(sc.tmpl) > 0 {
		if sure, ok := sc.scanTemplate(doc); ok {
			return sure
		}
		for k := range vals {
			vals[k] = span{to: -1, num: noNumber}
		}
	}
	sc.tmplGaps = sc.tmplGaps[:0]
	sc.tmpl = sc.tmpl[:0] // until doc proves sure
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return false
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return skipSpace(doc, i+1) == len(doc)
	}
	gapFrom := 0 // where the bytes before the next value start
	for m := 0; ; m++ {
		if i >= len(doc) || doc[i] != '"' {
			return false
		}
		var k, end int
		hit := false
		if m < len(sc.layout) {
			// The key at this position in the last document.
			if q := &sc.layout[m].key; q.words == 1 && i+9 <= len(doc) {
				hit = load64(doc, i+1)&q.mask == q.w[0] // at, inline
			} else {
				hit = q.at(doc, i+1)
			}
		}
		if hit {
			k, end = sc.layout[m].k, i+1+len(sc.layout[m].key.s)
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
				sc.layout[m] = layoutKey{newQuotedText(key), k}
			} else if m < maxLayout {
				sc.layout = append(sc.layout, layoutKey{newQuotedText(key), k})
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
		if m < maxLayout {
			// The gap's offsets for now (in gap.w[0], w[1]): the words
			// are made once the document proves sure.
			sc.tmplGaps = append(sc.tmplGaps, tmplKey{gap: gapText{w: [4]uint64{uint64(gapFrom), uint64(i)}}, k: k})
		}
		var v span
		if v, i = sc.value(doc, i, k); i < 0 {
			return false
		}
		if k >= 0 {
			vals[k] = v
		}
		gapFrom = i
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return false
		}
		if doc[i] == ',' {
			i = skipSpace(doc, i+1)
			continue
		}
		if doc[i] != '}' || skipSpace(doc, i+1) != len(doc) {
			return false
		}
		// Sure: doc's gaps are the next document's template, when it
		// has no more keys than are remembered.
		if m < maxLayout {
			gaps := sc.tmplGaps
			for j := range gaps {
				g := &gaps[j]
				from, to := int(g.gap.w[0]), int(g.gap.w[1])
				if g.gap = newGapText(doc[from:to]); g.gap.n == 0 {
					return true // a gap too long for a template
				}
			}
			sc.tmpl = append(sc.tmpl, gaps...)
		}
		return true
	}
}

// scanTemplate reads doc as scan does when doc has the bytes of the
// last sure document's template (sc.tmpl) around its values: ok false
// as soon as it does not (vals then hold part of doc's values), and
// scan reads it afresh. Otherwise sure is scan's answer: the bytes
// scan would have read before each value are those it read in the last
// document, so a value that ends the scan here ends scan's too.
func (sc *flatScanner) scanTemplate(doc string) (sure, ok bool) {
	vals := sc.vals
	i := 0
	for m := range sc.tmpl {
		t := &sc.tmpl[m]
		g := &t.gap
		// gapText.at's common case inline: 8 to 16 bytes.
		if g.n >= 8 && g.n <= 16 && i+g.n <= len(doc) {
			if load64(doc, i) != g.w[0] || load64(doc, i+g.n-8) != g.last {
				return false, false
			}
		} else if !g.at(doc, i) {
			return false, false
		}
		if i += g.n; i >= len(doc) {
			return false, true // no value after the colon
		}
		var v span
		if v, i = sc.value(doc, i, t.k); i < 0 {
			return false, true
		}
		if t.k >= 0 {
			vals[t.k] = v
		}
	}
	i = skipSpace(doc, i)
	if i >= len(doc) || doc[i] != '}' {
		return false, false // more keys, or another document
	}
	return skipSpace(doc, i+1) == len(doc), true
}

// value reads the value at i (a non-space byte, i < len(doc)) of keys[k] (k -1: a key
// not wanted) and returns it and where it ends, or -1 when it is not a
// value scan reads.
func (sc *flatScanner) value(doc string, i, k int) (span, int) {
	switch c := doc[i]; {
	case c == '"':
		if h, n := sc.predicted(doc, i+1, k); h >= 0 {
			end := i + 1 + n
			return span{from: int32(i + 1), to: int32(end), few: int32(h + 1), num: noNumber}, end + 1
		}
		end := plainStringEnd(doc, i+1)
		if end < 0 {
			return span{}, -1
		}
		return span{from: int32(i + 1), to: int32(end), num: noNumber}, end + 1
	case c == '-' || (c >= '0' && c <= '9'):
		end, x, ok := numberAt(doc, i)
		if end < 0 {
			return span{}, -1
		}
		if !ok {
			x = noNumber
		}
		return span{from: int32(i), to: int32(end), num: x}, end
	case strings.HasPrefix(doc[i:], "true"):
		return span{from: int32(i), to: int32(i + 4), num: noNumber}, i + 4
	case strings.HasPrefix(doc[i:], "false"):
		return span{from: int32(i), to: int32(i + 5), num: noNumber}, i + 5
	case strings.HasPrefix(doc[i:], "null"):
		return span{from: int32(i), to: -1, num: noNumber}, i + 4
	}
	return span{}, -1
}

// predicted returns the index in pred[k]'s few values of the value
// doc has at i, just after a string's opening quote, and its length,
// when it is the value pred[k] tries first for its first byte; else -1
// (and the string is read as any other).
func (sc *flatScanner) predicted(doc string, i, k int) (h, n int) {
	if k < 0 || i >= len(doc) {
		return -1, 0
	}
	pv := sc.pred[k]
	if pv == nil || pv.many {
		return -1, 0
	}
	h = int(pv.first[doc[i]]) - 1
	if h < 0 {
		return -1, 0
	}
	q := &pv.quoted[h]
	// at's cases of one and two words inline (currencies, vendors).
	switch t := len(q.s) + 1; {
	case t < 8 && i+8 <= len(doc):
		if load64(doc, i)&q.mask == q.w[0] {
			return h, len(q.s)
		}
	case t >= 8 && t <= 16 && i+t <= len(doc):
		if load64(doc, i) == q.w[0] && load64(doc, i+t-8) == q.last {
			return h, len(q.s)
		}
	default:
		if q.at(doc, i) {
			return h, len(q.s)
		}
	}
	return -1, 0
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

// stopsString marks the bytes that end flatScanner's reading of a string:
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

// numberAt returns the end of the JSON number starting at i, or -1 when
// the bytes there do not follow the number grammar
// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?. When the number is one
// parseNumber converts itself (no exponent, at most 15 digits) it also
// returns that value, ok true, computed as parseNumber does while the
// digits are read (the mantissa, then one division by an exact power of
// ten), so the bits are the same: the document is in cache here, and no
// longer when a numeric comparison first reads the value.
func numberAt(doc string, i int) (end int, x float64, ok bool) {
	neg := doc[i] == '-'
	if neg {
		i++
	}
	var mant uint64
	start := i
	if i < len(doc) && doc[i] == '0' {
		i++
	} else {
		for ; i < len(doc) && doc[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(doc[i]-'0')
		}
		if i == start {
			return -1, 0, false
		}
	}
	digits, frac := i-start, 0
	if i < len(doc) && doc[i] == '.' {
		i++
		start = i
		for ; i < len(doc) && doc[i]-'0' < 10; i++ {
			mant = mant*10 + uint64(doc[i]-'0')
		}
		if frac = i - start; frac == 0 {
			return -1, 0, false
		}
		digits += frac
	}
	if i < len(doc) && doc[i]|0x20 == 'e' {
		i++
		if i < len(doc) && (doc[i] == '+' || doc[i] == '-') {
			i++
		}
		j := digitsEnd(doc, i)
		if j == i {
			return -1, 0, false
		}
		return j, 0, false
	}
	if digits > 15 {
		return i, 0, false
	}
	x = float64(mant)
	if frac > 0 {
		x /= exactPow10[frac]
	}
	if neg {
		x = -x
	}
	return i, x, true
}

func digitsEnd(doc string, i int) int {
	for i < len(doc) && doc[i] >= '0' && doc[i] <= '9' {
		i++
	}
	return i
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
	if in.JSON != nil {
		if d := in.JSON.numbers(c); d != nil {
			return d
		}
	}
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
