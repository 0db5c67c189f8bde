package scorers

// Declarative scorers: configured in YAML under features[].scorers with a
// `type:` and `params:`, no code. Each type is one of three shapes, which
// fixes its Kind:
//
//   - comparison (numeric_tolerance, json_equal, normalized_equal): is the
//     AI's value the same answer as legacy's? Agreement; with `label:` each
//     system is judged against the label instead (PairedCorrect).
//     One null side is a divergence, as for built-in fields.
//   - similarity (token_f1, edit_similarity, jaccard): how close is the
//     AI's value to legacy's, 0..1? Score, with an optional per-row pass
//     `threshold` and a `min_pass_rate` criterion; with `label:` both
//     systems are scored against the label (PairedScore). One null side
//     scores 0: a missing answer is not a similar one.
//   - predicate (regex, numeric_range): does the AI's value have a
//     property? Rate; with `legacy:` too, both systems are judged on the
//     same rows (PairedCorrect). Null values are not applicable (the
//     error rate already counts missing outputs).
//
// Factories validate every parameter and name the offending key
// (ParamError), and config validation runs them at load (ScorerCheck), so
// a bad regex is a config error with a line number, not a failed run.

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/agnivade/levenshtein"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/scorers/jsonpath"
)

func init() {
	Register("numeric_tolerance", newNumericTolerance)
	Register("json_equal", newJSONEqual)
	Register("normalized_equal", newNormalizedEqual)
	Register("token_f1", newTokenF1)
	Register("edit_similarity", newEditSimilarity)
	Register("jaccard", newJaccard)
	Register("regex", newRegex)
	Register("numeric_range", newNumericRange)
	// Build every configured scorer at config load: bad parameters are
	// reported with the line of the key, before any data is read.
	config.ScorerCheck = func(def config.ScorerDef, f *config.Feature) error {
		if err := checkName(def, f); err != nil {
			return err
		}
		_, err := New(def, f)
		return err
	}
}

// reservedRoots are the metric-name roots of parity's own metrics: a
// scorer named like one would be merged into (or hidden by) a built-in.
var reservedRoots = []string{"agreement", "accuracy", "output", "quality", "input", "drift", "divergence",
	"latency_ms", "cost", "error_rate", "audit", "model_version", "confidence", "ai_share"}

// checkName rejects scorer names that collide with a built-in metric or
// with another scorer of the feature (their rows would be aggregated
// into one metric).
func checkName(def config.ScorerDef, f *config.Feature) error {
	for _, r := range reservedRoots {
		if def.Name == r || strings.HasPrefix(def.Name, r+".") {
			return &ParamError{Key: "name", Msg: fmt.Sprintf("%q is reserved for parity's own metrics (%s.*); choose another name", def.Name, r)}
		}
	}
	n := 0
	for _, d := range f.Scorers {
		if d.Name == def.Name {
			n++
		}
	}
	if n > 1 {
		return &ParamError{Key: "name", Msg: fmt.Sprintf("duplicate scorer %q in feature %q", def.Name, f.Name)}
	}
	return nil
}

// ParamError is a configuration error of one key of a scorer definition
// ("params.pattern", "ai", "threshold"). Config validation reports it at
// that key's line.
type ParamError struct {
	Key string
	Msg string
}

func (e *ParamError) Error() string { return e.Key + ": " + e.Msg }

// ConfigKey is the key, relative to the scorer definition, the error is about.
func (e *ParamError) ConfigKey() string { return e.Key }

// Params reads a scorer's params with validation; every key read is
// remembered so Done can reject unknown (misspelt) keys.
type Params struct {
	def  config.ScorerDef
	used map[string]bool
	errs []error
}

// NewParams starts reading def's params.
func NewParams(def config.ScorerDef) *Params { return &Params{def: def, used: map[string]bool{}} }

func (p *Params) fail(key, format string, a ...any) {
	p.errs = append(p.errs, &ParamError{Key: key, Msg: fmt.Sprintf(format, a...)})
}

// Fail records an error about key (relative to the scorer definition).
func (p *Params) Fail(key, format string, a ...any) { p.fail(key, format, a...) }

// String returns params[key], or def when absent.
func (p *Params) String(key, def string) string {
	p.used[key] = true
	if v, ok := p.def.Params[key]; ok {
		return v
	}
	return def
}

// Required returns params[key], recording an error when it is absent or empty.
func (p *Params) Required(key, what string) string {
	v := strings.TrimSpace(p.String(key, ""))
	if v == "" {
		p.fail("params."+key, "required: %s", what)
	}
	return v
}

// Float returns params[key] as a number, or def when absent.
func (p *Params) Float(key string, def float64) float64 {
	s, ok := p.def.Params[key]
	p.used[key] = true
	if !ok {
		return def
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) {
		p.fail("params."+key, "%q is not a number", s)
		return def
	}
	return v
}

// Bool returns params[key] as a boolean, or def when absent.
func (p *Params) Bool(key string, def bool) bool {
	s, ok := p.def.Params[key]
	p.used[key] = true
	if !ok {
		return def
	}
	v, err := strconv.ParseBool(strings.TrimSpace(s))
	if err != nil {
		p.fail("params."+key, "%q: want true or false", s)
		return def
	}
	return v
}

// OneOf returns params[key], which must be one of allowed (default allowed[0]).
func (p *Params) OneOf(key string, allowed ...string) string {
	v := p.String(key, allowed[0])
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail("params."+key, "%q: want one of %s", v, strings.Join(allowed, ", "))
	return allowed[0]
}

// Done returns the errors found, plus one per unknown param key.
func (p *Params) Done() error {
	var unknown []string
	for k := range p.def.Params {
		if !p.used[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		known := make([]string, 0, len(p.used))
		for u := range p.used {
			known = append(known, u)
		}
		sort.Strings(known)
		if len(known) == 0 {
			p.fail("params."+k, "unknown parameter (type %s takes no params)", p.def.Type)
		} else {
			p.fail("params."+k, "unknown parameter (type %s takes %s)", p.def.Type, strings.Join(known, ", "))
		}
	}
	return errors.Join(p.errs...)
}

// declScorer is a configured scorer: a name, a kind, the columns it reads
// and a per-batch function. Configured scorers are Isolated: a failure is
// their own metric's "error", not a failed run.
type declScorer struct {
	name  string
	kind  Kind
	needs []Need
	run   func(in *Input, out *Out) error
}

func (s *declScorer) Name() string                    { return s.name }
func (s *declScorer) Kind() Kind                      { return s.kind }
func (s *declScorer) Needs() []Need                   { return s.needs }
func (s *declScorer) Score(in *Input, out *Out) error { return s.run(in, out) }
func (s *declScorer) Isolated()                       {}

// thresholdScorer is a Score-kind declScorer with a per-row pass threshold.
type thresholdScorer struct {
	*declScorer
	threshold, minPassRate float64
}

func (s *thresholdScorer) Threshold() (float64, float64) { return s.threshold, s.minPassRate }

// columns checks the legacy/ai/label columns a shape needs.
type columns struct{ legacy, ai, label string }

func requireCols(def config.ScorerDef, p *Params, legacy, ai bool) columns {
	if ai && def.AI == "" {
		p.fail("ai", "required: the column holding the AI's value")
	}
	if legacy && def.Legacy == "" {
		p.fail("legacy", "required: the column holding legacy's value")
	}
	return columns{def.Legacy, def.AI, def.Label}
}

// noThreshold rejects threshold on shapes whose per-row output is already
// pass/fail; min_pass_rate alone is their criterion.
func noThreshold(def config.ScorerDef, p *Params) {
	if def.Threshold != 0 {
		p.fail("threshold", "type %s scores each row 1 or 0; drop threshold and use min_pass_rate for the criterion", def.Type)
	}
}

// cell is a row's value of a column as a string (ok false when null or
// the column is absent).
func cell(c *datasets.Column, i int) (string, bool) {
	if c == nil || c.IsNull(i) {
		return "", false
	}
	return cellString(c, i), true
}

// label returns the row's label (labels dataset first, then log column).
func label(in *Input, name string, i int) (string, bool) {
	if name == "" {
		return "", false
	}
	return in.Label(name, i)
}

// comparison builds a comparison-shaped scorer from an equality on strings.
// eq reports whether a and b are the same answer; ok false means the
// pair is not applicable (both JSON documents lack the value).
// Values are read from columns of colKind and compared as strings
// (numbers print exactly: strconv's shortest form parses back to the
// same float64).
func comparison(def config.ScorerDef, p *Params, colKind datasets.Kind, eq func(a, b string) (same, ok bool)) (Scorer, error) {
	cols := requireCols(def, p, true, true)
	noThreshold(def, p)
	if err := p.Done(); err != nil {
		return nil, err
	}
	s := &declScorer{name: def.Name, kind: Agreement,
		needs: []Need{{Column: cols.legacy, Kind: colKind}, {Column: cols.ai, Kind: colKind}}}
	if cols.label != "" {
		s.kind = PairedCorrect
		s.needs = append(s.needs, Need{Column: cols.label, Kind: datasets.KindString, Optional: true})
	}
	s.run = func(in *Input, out *Out) error {
		l, a := in.Col(cols.legacy), in.Col(cols.ai)
		for i := 0; i < in.Rows; i++ {
			lv, lok := cell(l, i)
			av, aok := cell(a, i)
			if cols.label != "" {
				ref, ok := label(in, cols.label, i)
				if !ok {
					continue
				}
				le, _ := eq(lv, ref)
				ae, _ := eq(av, ref)
				out.Legacy[i] = b2f(lok && le)
				out.AI[i] = b2f(aok && ae)
				continue
			}
			switch {
			case !lok && !aok:
			case lok != aok:
				out.Value[i] = 0
			default:
				if same, ok := eq(lv, av); ok {
					out.Value[i] = b2f(same)
				}
			}
		}
		return nil
	}
	return s, nil
}

// similarity builds a similarity-shaped scorer from a 0..1 similarity.
// prep, when set, maps each distinct value once per batch (tokenising a
// dictionary entry once, not once per row).
func similarity[T any](def config.ScorerDef, p *Params, prep func(string) T, sim func(a, b T) float64) (Scorer, error) {
	cols := requireCols(def, p, true, true)
	if def.Threshold < 0 || def.Threshold > 1 {
		p.fail("threshold", "%g out of range: similarities are 0..1", def.Threshold)
	}
	if def.MinPassRate > 0 && def.Threshold == 0 {
		p.fail("threshold", "required with min_pass_rate: the per-row similarity a row needs to pass (e.g. 0.5)")
	}
	if cols.label != "" && (def.Threshold != 0 || def.MinPassRate != 0) {
		p.fail("label", "with a label both systems are scored against it and compared by a paired test; threshold and min_pass_rate apply only to AI-against-legacy similarity")
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	d := &declScorer{name: def.Name, kind: Score,
		needs: []Need{{Column: cols.legacy, Kind: datasets.KindString}, {Column: cols.ai, Kind: datasets.KindString}}}
	if cols.label != "" {
		d.kind = PairedScore
		d.needs = append(d.needs, Need{Column: cols.label, Kind: datasets.KindString, Optional: true})
	}
	d.run = func(in *Input, out *Out) error {
		l, a := in.Col(cols.legacy), in.Col(cols.ai)
		memo := map[string]T{}
		get := func(s string) T {
			v, ok := memo[s]
			if !ok {
				v = prep(s)
				memo[s] = v
			}
			return v
		}
		score := func(x string, xok bool, y string, yok bool) float64 {
			switch {
			case !xok && !yok:
				return math.NaN()
			case xok != yok:
				return 0
			}
			return sim(get(x), get(y))
		}
		for i := 0; i < in.Rows; i++ {
			lv, lok := cell(l, i)
			av, aok := cell(a, i)
			if cols.label != "" {
				ref, ok := label(in, cols.label, i)
				if !ok {
					continue
				}
				out.Legacy[i] = score(lv, lok, ref, true)
				out.AI[i] = score(av, aok, ref, true)
				continue
			}
			out.Value[i] = score(av, aok, lv, lok)
		}
		return nil
	}
	if def.Threshold > 0 {
		return &thresholdScorer{declScorer: d, threshold: def.Threshold, minPassRate: def.MinPassRate}, nil
	}
	return d, nil
}

// predicate builds a predicate-shaped scorer.
func predicate(def config.ScorerDef, p *Params, kind datasets.Kind, pred func(c *datasets.Column, i int) bool) (Scorer, error) {
	cols := requireCols(def, p, false, true)
	noThreshold(def, p)
	if def.Label != "" {
		p.fail("label", "type %s checks a property of each system's value; it takes no label", def.Type)
	}
	if err := p.Done(); err != nil {
		return nil, err
	}
	s := &declScorer{name: def.Name, kind: Rate, needs: []Need{{Column: cols.ai, Kind: kind}}}
	if cols.legacy != "" {
		s.kind = PairedCorrect
		s.needs = append(s.needs, Need{Column: cols.legacy, Kind: kind})
	}
	s.run = func(in *Input, out *Out) error {
		a := in.Col(cols.ai)
		if cols.legacy == "" {
			for i := 0; i < in.Rows; i++ {
				if a != nil && !a.IsNull(i) {
					out.Value[i] = b2f(pred(a, i))
				}
			}
			return nil
		}
		l := in.Col(cols.legacy)
		for i := 0; i < in.Rows; i++ {
			// Paired: only rows where both systems produced a value.
			if a == nil || l == nil || a.IsNull(i) || l.IsNull(i) {
				continue
			}
			out.Legacy[i] = b2f(pred(l, i))
			out.AI[i] = b2f(pred(a, i))
		}
		return nil
	}
	return s, nil
}

// numeric_tolerance: the two values are the same number within abs or
// rel (relative to the larger magnitude). params.input says how the
// columns are stored: number (default: double, float or integer columns)
// or text (numbers written as strings, parsed per row). A label is text.
func newNumericTolerance(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	colKind := datasets.KindFloat64
	if p.OneOf("input", "number", "text") == "text" {
		colKind = datasets.KindString
	}
	c := Comparator{Kind: "numeric", Abs: p.Float("abs", 0), Rel: p.Float("rel", 0)}
	if c.Abs < 0 {
		p.fail("params.abs", "must be >= 0")
	}
	if c.Rel < 0 {
		p.fail("params.rel", "must be >= 0")
	}
	return comparison(def, p, colKind, func(a, b string) (bool, bool) { return c.EqualStrings(a, b), true })
}

// json_equal: the value at params.path of two JSON documents is the same,
// by params.comparator (exact, case_insensitive, numeric with abs/rel,
// set with separator). With a label, the label holds the expected value
// itself (not a document).
func newJSONEqual(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	path, err := jsonpath.Parse(p.Required("path", "the JSON path of the value to compare, e.g. $.amount"))
	if err != nil && p.def.Params["path"] != "" {
		p.fail("params.path", "%v", err)
	}
	c := Comparator{Kind: p.OneOf("comparator", config.Comparators...), Abs: p.Float("abs", 0), Rel: p.Float("rel", 0), Sep: p.String("separator", ",")}
	if c.Abs < 0 || c.Rel < 0 {
		p.fail("params", "abs and rel must be >= 0")
	}
	labelled := def.Label != ""
	// Parse each distinct document once per batch: documents repeat.
	type doc struct {
		v  string
		ok bool
	}
	var mu sync.Mutex // guards cache: batches are scored concurrently
	cache := map[string]doc{}
	lookup := func(s string) (string, bool) {
		mu.Lock()
		d, hit := cache[s]
		mu.Unlock()
		if !hit {
			d.v, d.ok = path.Lookup(s)
			mu.Lock()
			if len(cache) > 1<<16 { // bound memory: documents are often unique
				clear(cache)
			}
			cache[s] = d
			mu.Unlock()
		}
		return d.v, d.ok
	}
	eq := func(a, b string) (bool, bool) {
		av, aok := lookup(a)
		if labelled { // b is the label: compared as a value
			return aok && c.EqualStrings(av, b), true
		}
		bv, bok := lookup(b)
		if !aok && !bok {
			return false, false // neither document has the value: not applicable
		}
		return aok && bok && c.EqualStrings(av, bv), true
	}
	return comparison(def, p, datasets.KindString, eq)
}

// Normalizer canonicalises text before comparison: Unicode
// normalization, case folding, punctuation removal, whitespace collapse.
type Normalizer struct {
	Form        string // nfkc (default), nfc or none
	Fold        bool   // Unicode case folding (ß = ss, Σ = σ = ς)
	Punctuation bool   // drop Unicode punctuation
	Whitespace  bool   // collapse runs of whitespace, trim the ends
}

// normalizerParams reads the normalization params, all on by default.
func normalizerParams(p *Params) Normalizer {
	return Normalizer{
		Form:        p.OneOf("unicode", "nfkc", "nfc", "none"),
		Fold:        p.Bool("case_fold", true),
		Punctuation: p.Bool("strip_punctuation", true),
		Whitespace:  p.Bool("collapse_whitespace", true),
	}
}

// Apply normalizes s. Safe for concurrent use (the case folder is made
// per call: x/text Casers are stateful).
func (n Normalizer) Apply(s string) string {
	if isASCII(s) {
		return n.applyASCII(s)
	}
	return n.apply(s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// applyASCII is apply for ASCII text, where NFKC and NFC change nothing
// and case folding is lower-casing: most logged text, at a fraction of
// the cost of the x/text transformers (tested equal to apply).
func (n Normalizer) applyASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case n.Fold && 'A' <= c && c <= 'Z':
			b[i] = c + 'a' - 'A'
		case n.Punctuation && unicode.IsPunct(rune(c)):
			b[i] = ' '
		}
	}
	s = string(b)
	if n.Whitespace || n.Punctuation {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

func (n Normalizer) apply(s string) string {
	switch n.Form {
	case "nfkc", "":
		s = norm.NFKC.String(s)
	case "nfc":
		s = norm.NFC.String(s)
	}
	if n.Fold {
		s = cases.Fold().String(s)
	}
	if n.Punctuation {
		s = strings.Map(func(r rune) rune {
			if unicode.IsPunct(r) {
				return ' ' // "end.Next" is two words, not one
			}
			return r
		}, s)
	}
	if n.Whitespace || n.Punctuation {
		s = strings.Join(strings.Fields(s), " ")
	}
	return s
}

// normalized_equal: texts equal after normalization.
func newNormalizedEqual(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	n := normalizerParams(p)
	return comparison(def, p, datasets.KindString, func(a, b string) (bool, bool) { return n.Apply(a) == n.Apply(b), true })
}

// TokenF1 is the SQuAD-style token F1 of two token lists: the harmonic
// mean of precision and recall of the multiset of shared tokens. Two
// empty lists score 1, one empty list 0.
func TokenF1(pred, ref []string) float64 {
	if len(pred) == 0 || len(ref) == 0 {
		return b2f(len(pred) == len(ref))
	}
	counts := make(map[string]int, len(ref))
	for _, t := range ref {
		counts[t]++
	}
	common := 0
	for _, t := range pred {
		if counts[t] > 0 {
			counts[t]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	prec := float64(common) / float64(len(pred))
	rec := float64(common) / float64(len(ref))
	return 2 * prec * rec / (prec + rec)
}

// token_f1: token F1 of the AI's text against legacy's (or each against
// the label), after normalization; tokens are whitespace-separated.
func newTokenF1(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	n := normalizerParams(p)
	return similarity(def, p, func(s string) []string { return strings.Fields(n.Apply(s)) }, TokenF1)
}

// EditSimilarity is 1 − Levenshtein distance / the longer length, in
// Unicode code points: 1 for equal texts, 0 for nothing in common. Two
// empty texts score 1.
func EditSimilarity(a, b string) float64 {
	la, lb := len([]rune(a)), len([]rune(b))
	if la == 0 && lb == 0 {
		return 1
	}
	return 1 - float64(levenshtein.ComputeDistance(a, b))/float64(max(la, lb))
}

// edit_similarity: EditSimilarity after normalization. Edit distance is
// quadratic in the length, so texts are cut to params.max_runes code
// points (default 4000) first; documents longer than that need a
// different scorer.
func newEditSimilarity(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	n := normalizerParams(p)
	limit := p.Float("max_runes", 4000)
	if limit < 1 || limit != math.Trunc(limit) {
		p.fail("params.max_runes", "want a whole number >= 1")
		limit = 4000
	}
	prep := func(s string) string {
		s = n.Apply(s)
		if r := []rune(s); len(r) > int(limit) {
			s = string(r[:int(limit)])
		}
		return s
	}
	return similarity(def, p, prep, EditSimilarity)
}

// Jaccard is |A ∩ B| / |A ∪ B| of two sets; two empty sets score 1.
func Jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 && len(b) == 0 {
		return 1
	}
	inter := 0
	for k := range a {
		if b[k] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// jaccard: set overlap of two set-valued fields split on params.separator
// (default ","; "whitespace" splits into words), items trimmed and, with
// normalize: true, normalized.
func newJaccard(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	sep := p.String("separator", ",")
	if sep == "" {
		p.fail("params.separator", "must not be empty (use \"whitespace\" to split on spaces)")
		sep = ","
	}
	normalize := p.Bool("normalize", false)
	n := Normalizer{Form: "nfkc", Fold: true, Whitespace: true}
	prep := func(s string) map[string]bool {
		var parts []string
		if sep == "whitespace" {
			parts = strings.Fields(s)
		} else {
			parts = strings.Split(s, sep)
		}
		set := make(map[string]bool, len(parts))
		for _, x := range parts {
			x = strings.TrimSpace(x)
			if normalize {
				x = n.Apply(x)
			}
			if x != "" {
				set[x] = true
			}
		}
		return set
	}
	return similarity(def, p, prep, Jaccard)
}

// regex: the value matches params.pattern (RE2 syntax). match: full
// (default) anchors the pattern at both ends; partial finds it anywhere.
func newRegex(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	pat := p.Required("pattern", "an RE2 regular expression, e.g. ^[A-Z]{3}-\\d+$")
	mode := p.OneOf("match", "full", "partial")
	var re *regexp.Regexp
	if pat != "" {
		src := pat
		if mode == "full" {
			src = `^(?:` + pat + `)$`
		}
		var err error
		if re, err = regexp.Compile(src); err != nil {
			p.fail("params.pattern", "bad regular expression: %v", err)
		}
	}
	return predicate(def, p, datasets.KindString, func(c *datasets.Column, i int) bool {
		// cellString, not Dict: another scorer may have asked for the
		// same column as a number, and the scan delivers one kind.
		return re.MatchString(cellString(c, i))
	})
}

// numeric_range: the value lies in [params.min, params.max] (either may be
// omitted). NaN is out of range.
func newNumericRange(def config.ScorerDef, _ *config.Feature) (Scorer, error) {
	p := NewParams(def)
	lo, hi := p.Float("min", math.Inf(-1)), p.Float("max", math.Inf(1))
	if _, ok := def.Params["min"]; !ok {
		if _, ok := def.Params["max"]; !ok {
			p.fail("params", "give min, max or both")
		}
	}
	if lo > hi {
		p.fail("params.min", "min %g is above max %g", lo, hi)
	}
	return predicate(def, p, datasets.KindFloat64, func(c *datasets.Column, i int) bool {
		v := math.NaN()
		switch c.Kind {
		case datasets.KindFloat64:
			v = c.Float[i]
		case datasets.KindInt64:
			v = float64(c.Int[i])
		default: // the column was projected as text for another scorer
			if x, err := strconv.ParseFloat(strings.TrimSpace(cellString(c, i)), 64); err == nil {
				v = x
			}
		}
		return v >= lo && v <= hi
	})
}
