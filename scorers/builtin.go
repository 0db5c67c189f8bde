package scorers

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

// FieldColumns returns the columns holding a field's legacy and AI values
// as scorers see them: the configured columns, or for a JSON field the
// derived columns eval materialises with ExtractJSON.
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

// ExtractJSON derives the column of one JSON path from a JSON string
// column. It works on the dictionary, so each distinct document is parsed
// once per batch; rows whose document lacks the path are null.
func ExtractJSON(src *datasets.Column, path jsonpath.Path) *datasets.Column {
	out := &datasets.Column{Name: src.Name + "#" + path.String(), Kind: datasets.KindString}
	dict := make([]string, 0, len(src.Dict))
	remap := make([]int32, len(src.Dict))
	index := map[string]int32{}
	key, flat := flatKey(path)
	for i, doc := range src.Dict {
		var v string
		var ok, sure bool
		if flat {
			v, ok, sure = lookupFlat(doc, key)
		}
		if !sure {
			v, ok = path.Lookup(doc)
		}
		if !ok {
			remap[i] = -1
			continue
		}
		code, seen := index[v]
		if !seen {
			code = int32(len(dict))
			dict = append(dict, v)
			index[v] = code
		}
		remap[i] = code
	}
	out.Dict = dict
	out.Codes = make([]int32, len(src.Codes))
	for i, c := range src.Codes {
		if src.IsNull(i) || remap[c] < 0 {
			if out.Null == nil {
				out.Null = make([]bool, len(src.Codes))
			}
			out.Null[i] = true
			continue
		}
		out.Codes[i] = remap[c]
	}
	return out
}

// flatKey reports whether path is a single top-level key ($.name), the
// shape of almost every decision field, and returns the key.
func flatKey(path jsonpath.Path) (string, bool) {
	src := path.String()
	if len(src) < 3 || src[:2] != "$." || strings.ContainsAny(src[2:], ".[") {
		return "", false
	}
	return src[2:], true
}

// lookupFlat is jsonpath's Lookup of $.key for the common document: a
// flat JSON object of ASCII keys and values (strings without escapes,
// numbers, booleans, null). It scans the bytes instead of decoding with
// encoding/json, which made JSON fields 40% of a full evaluation's CPU
// time. sure is false whenever the document is anything else (nested
// values, escapes, non-ASCII, trailing data, invalid JSON); the caller
// then uses Lookup, so results are always Lookup's: numbers in source
// form, booleans as true/false, null and a missing key not ok, and the
// last of duplicate keys wins.
func lookupFlat(doc, key string) (val string, ok, sure bool) {
	i := 0
	ws := func() {
		for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\n' || doc[i] == '\r') {
			i++
		}
	}
	// str reads a string without escapes; i is at its opening quote.
	str := func() (string, bool) {
		start := i + 1
		for j := start; j < len(doc); j++ {
			switch c := doc[j]; {
			case c == '"':
				i = j + 1
				return doc[start:j], true
			case c == '\\' || c < 0x20 || c >= 0x80:
				return "", false
			}
		}
		return "", false
	}
	digits := func() int {
		n := 0
		for i < len(doc) && doc[i] >= '0' && doc[i] <= '9' {
			i++
			n++
		}
		return n
	}
	ws()
	if i >= len(doc) || doc[i] != '{' {
		return "", false, false
	}
	i++
	ws()
	if i < len(doc) && doc[i] == '}' {
		i++
	} else {
		for {
			ws()
			if i >= len(doc) || doc[i] != '"' {
				return "", false, false
			}
			k, good := str()
			if !good {
				return "", false, false
			}
			ws()
			if i >= len(doc) || doc[i] != ':' {
				return "", false, false
			}
			i++
			ws()
			if i >= len(doc) {
				return "", false, false
			}
			var v string
			var vok bool
			switch c := doc[i]; {
			case c == '"':
				if v, vok = str(); !vok {
					return "", false, false
				}
			case c == '-' || (c >= '0' && c <= '9'):
				// JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
				start := i
				if doc[i] == '-' {
					i++
				}
				if i < len(doc) && doc[i] == '0' {
					i++
				} else if digits() == 0 {
					return "", false, false
				}
				if i < len(doc) && doc[i] == '.' {
					i++
					if digits() == 0 {
						return "", false, false
					}
				}
				if i < len(doc) && (doc[i] == 'e' || doc[i] == 'E') {
					i++
					if i < len(doc) && (doc[i] == '+' || doc[i] == '-') {
						i++
					}
					if digits() == 0 {
						return "", false, false
					}
				}
				v, vok = doc[start:i], true
			case strings.HasPrefix(doc[i:], "true"):
				v, vok = "true", true
				i += 4
			case strings.HasPrefix(doc[i:], "false"):
				v, vok = "false", true
				i += 5
			case strings.HasPrefix(doc[i:], "null"):
				i += 4
			default:
				return "", false, false
			}
			if k == key {
				val, ok = v, vok
			}
			ws()
			if i >= len(doc) {
				return "", false, false
			}
			if doc[i] == ',' {
				i++
				continue
			}
			if doc[i] != '}' {
				return "", false, false
			}
			i++
			break
		}
	}
	ws()
	if i != len(doc) {
		return "", false, false
	}
	return val, ok, true
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
	return d <= c.Abs || d <= c.Rel*math.Max(math.Abs(x), math.Abs(y))
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
func (s *FieldAgreement) Score(in *Input, out *Out) error {
	eq := s.rowEq(in)
	for i := 0; i < in.Rows; i++ {
		if e, ok := eq(i); ok {
			out.Value[i] = b2f(e)
		}
	}
	return nil
}

// rowEq returns valueEq for row i of the field's columns in this batch,
// with the per-batch work done once: the columns are looked up, and a
// numeric comparison of two string columns parses each dictionary entry
// once instead of both values on every row (JSON amounts are strings).
func (s *FieldAgreement) rowEq(in *Input) func(i int) (eq, ok bool) {
	l, a := in.Col(s.LegacyCol), in.Col(s.AICol)
	c := s.Comparator
	if c.Kind == "numeric" && l != nil && a != nil && l.Kind == datasets.KindString && a.Kind == datasets.KindString {
		lv, lok := parseDict(l.Dict)
		av, aok := parseDict(a.Dict)
		return func(i int) (bool, bool) {
			ln, an := l.IsNull(i), a.IsNull(i)
			if ln || an {
				return false, !(ln && an)
			}
			x, y := l.Codes[i], a.Codes[i]
			return lok[x] && aok[y] && c.EqualFloats(lv[x], av[y]), true
		}
	}
	return func(i int) (bool, bool) { return c.valueEq(l, a, i) }
}

// parseDict parses every entry of a dictionary as EqualStrings' numeric
// comparison does.
func parseDict(dict []string) ([]float64, []bool) {
	v, ok := make([]float64, len(dict)), make([]bool, len(dict))
	for i, d := range dict {
		x, err := strconv.ParseFloat(strings.TrimSpace(d), 64)
		v[i], ok[i] = x, err == nil
	}
	return v, ok
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
func (s *CriticalAgreement) Score(in *Input, out *Out) error {
	eqs := make([]func(int) (bool, bool), len(s.Fields))
	for j, f := range s.Fields {
		eqs[j] = f.rowEq(in)
	}
	for i := 0; i < in.Rows; i++ {
		any := false
		all := true
		for _, eqf := range eqs {
			eq, ok := eqf(i)
			if ok {
				any = true
				all = all && eq
			}
		}
		if any {
			out.Value[i] = b2f(all)
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
func (s *FieldAccuracy) Score(in *Input, out *Out) error {
	l, a := in.Col(s.LegacyCol), in.Col(s.AICol)
	labels := in.LabelColumn(s.LabelCol)
	for i := 0; i < in.Rows; i++ {
		lab, ok := labels.At(i)
		if !ok {
			continue
		}
		out.Legacy[i] = b2f(!l.IsNull(i) && s.Comparator.EqualStrings(cellString(l, i), lab))
		out.AI[i] = b2f(!a.IsNull(i) && s.Comparator.EqualStrings(cellString(a, i), lab))
	}
	return nil
}

// BoolRate is the rate of true values of a boolean column (errors).
type BoolRate struct{ Metric, Column string }

func (s *BoolRate) Name() string { return s.Metric }
func (s *BoolRate) Kind() Kind   { return Rate }
func (s *BoolRate) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindBool, Optional: true}}
}
func (s *BoolRate) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		if !c.IsNull(i) {
			out.Value[i] = b2f(c.Bool[i])
		}
	}
	return nil
}

// ValueRate is the rate of rows whose string column equals Value
// (served_by = "ai" gives the AI traffic share).
type ValueRate struct{ Metric, Column, Value string }

func (s *ValueRate) Name() string { return s.Metric }
func (s *ValueRate) Kind() Kind   { return Rate }
func (s *ValueRate) Needs() []Need {
	return []Need{{Column: s.Column, Kind: datasets.KindString, Optional: true}}
}
func (s *ValueRate) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		if !c.IsNull(i) {
			out.Value[i] = b2f(strings.EqualFold(c.Str(i), s.Value))
		}
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
func (s *PerSystemValue) Score(in *Input, out *Out) error {
	fill := func(name string, dst []float64) {
		c := in.Col(name)
		if c == nil {
			return
		}
		for i := 0; i < in.Rows; i++ {
			if !c.IsNull(i) && !math.IsInf(c.Float[i], 0) {
				dst[i] = c.Float[i] // NaN stays NaN: skipped
			}
		}
	}
	fill(s.LegacyCol, out.Legacy)
	fill(s.AICol, out.AI)
	return nil
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
func (s *NumericValue) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		if !c.IsNull(i) && !math.IsInf(c.Float[i], 0) {
			out.Value[i] = c.Float[i]
		}
	}
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
		n = append(n, Need{Column: c, Kind: kinds[i], Optional: true})
	}
	return n
}
func (s *AuditComplete) Score(in *Input, out *Out) error {
	cols := make([]*datasets.Column, len(s.Columns))
	for i, name := range s.Columns {
		cols[i] = in.Col(name)
	}
	for i := 0; i < in.Rows; i++ {
		ok := true
		for _, c := range cols {
			if c == nil || c.IsNull(i) || (c.Kind == datasets.KindString && c.Dict[c.Codes[i]] == "") {
				ok = false
				break
			}
		}
		out.Value[i] = b2f(ok)
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
func (s *OverBound) Score(in *Input, out *Out) error {
	c := in.Col(s.Column)
	if c == nil {
		return nil
	}
	for i := 0; i < in.Rows; i++ {
		if !c.IsNull(i) && !math.IsNaN(c.Float[i]) {
			out.Value[i] = b2f(c.Float[i] > s.Bound)
		}
	}
	return nil
}
