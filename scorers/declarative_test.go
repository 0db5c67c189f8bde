package scorers_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/datasets"
	"github.com/parity-eval/parity/eval"
	"github.com/parity-eval/parity/scorers"
	"github.com/parity-eval/parity/scorers/scorertest"
)

var nan = scorertest.NaN

func pairRows(pairs ...[2]any) []scorertest.Row {
	rows := make([]scorertest.Row, len(pairs))
	for i, p := range pairs {
		rows[i] = scorertest.Row{"l": p[0], "a": p[1]}
	}
	return rows
}

func TestTokenF1(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: f1
		type: token_f1
		legacy: l
		ai: a`)
	if kit.Scorer.Kind() != scorers.Score {
		t.Fatalf("kind %v, want score", kit.Scorer.Kind())
	}
	out := kit.Score(t, pairRows(
		[2]any{"The cat sat.", "the cat sat"},             // punctuation and case normalised away
		[2]any{"the cat sat on the mat", "the cat sat"},   // P=1, R=3/6 -> 2/3
		[2]any{"a b", "c d"},                              // nothing shared
		[2]any{"the the the", "the"},                      // multiset: P=1, R=1/3 -> 0.5
		[2]any{nil, "something"},                          // legacy missing: 0
		[2]any{nil, nil},                                  // nothing to compare
		[2]any{"", ""},                                    // both empty: identical
		[2]any{"ﬁne déjà vu", "fine de\u0301ja\u0300 vu"}, // NFKC: ligature, combining accents
	))
	scorertest.Floats(t, "f1", out.Value, []float64{1, 2.0 / 3, 0, 0.5, 0, nan, 1, 1}, 1e-12)
}

func TestEditSimilarity(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: ed
		type: edit_similarity
		legacy: l
		ai: a
		params:
		  case_fold: "false"
		  strip_punctuation: "false"`)
	out := kit.Score(t, pairRows(
		[2]any{"kitten", "sitting"}, // distance 3 over 7
		[2]any{"flaw", "lawn"},      // distance 2 over 4
		[2]any{"Same", "Same"},
		[2]any{"Same", "same"}, // case kept: 1 substitution
		[2]any{"日本語", "日本"},    // runes, not bytes: 1 over 3
	))
	scorertest.Floats(t, "edit", out.Value, []float64{1 - 3.0/7, 0.5, 1, 0.75, 1 - 1.0/3}, 1e-12)
	if got := scorers.EditSimilarity("", ""); got != 1 {
		t.Errorf("two empty texts: %v, want 1", got)
	}
}

func TestJaccard(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: tags
		type: jaccard
		legacy: l
		ai: a
		params: {separator: ";"}`)
	out := kit.Score(t, pairRows(
		[2]any{"a;b;c", "b; c ;d"}, // {b,c} of {a,b,c,d}
		[2]any{"a;a", "a"},         // sets, not lists
		[2]any{"", ""},
		[2]any{"x", "y"},
	))
	scorertest.Floats(t, "jaccard", out.Value, []float64{0.5, 1, 1, 0}, 1e-12)
}

func TestNormalizedEqual(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: same_text
		type: normalized_equal
		legacy: l
		ai: a`)
	if kit.Scorer.Kind() != scorers.Agreement {
		t.Fatalf("kind %v, want agreement", kit.Scorer.Kind())
	}
	out := kit.Score(t, pairRows(
		[2]any{"Hello,  World!", "hello world"},
		[2]any{"Straße", "STRASSE"},    // full case folding
		[2]any{"café", "cafe\u0301"},   // composed vs combining accent
		[2]any{"Ｐａｒｉｔｙ", "parity"},     // full-width forms (NFKC)
		[2]any{"approve", "deny"},      // a real difference
		[2]any{"approve", nil},         // one side missing: divergence
		[2]any{nil, nil},               // not applicable
		[2]any{"end.Next", "end next"}, // punctuation separates words
		[2]any{"tab\tand\nnewline", "tab and newline"},
	))
	scorertest.Floats(t, "equal", out.Value, []float64{1, 1, 1, 1, 0, 0, nan, 1, 1}, 0)

	// With a label each system is judged against it: paired correctness.
	lab := scorertest.Parse(t, `
		name: same_text
		type: normalized_equal
		legacy: l
		ai: a
		label: truth
		params: {strip_punctuation: "false"}`)
	if lab.Scorer.Kind() != scorers.PairedCorrect {
		t.Fatalf("kind %v, want paired_correct", lab.Scorer.Kind())
	}
	out = lab.Score(t, []scorertest.Row{
		{"l": "Yes!", "a": "yes", "truth": "YES!"},
		{"l": "no", "a": "No", "truth": "no"},
		{"l": "no", "a": "no"}, // unlabelled: not scored
	})
	scorertest.Floats(t, "legacy", out.Legacy, []float64{1, 1, nan}, 0)
	scorertest.Floats(t, "ai", out.AI, []float64{0, 1, nan}, 0)
}

func TestNumericTolerance(t *testing.T) {
	sum := func(a, b float64) float64 { return a + b } // float64 arithmetic, not exact constants
	// Number columns (the default): doubles, and integers read as doubles.
	num := scorertest.Parse(t, `
		name: amount
		type: numeric_tolerance
		legacy: l
		ai: a
		params: {abs: "0.01"}`)
	out := num.Score(t, pairRows(
		[2]any{10.0, 10.005},
		[2]any{10, 10.02},
		[2]any{sum(0.1, 0.2), 0.3}, // float noise is within any tolerance
		[2]any{1e300, 1e300},
		[2]any{nil, 3.0},
	))
	scorertest.Floats(t, "number", out.Value, []float64{1, 0, 1, 1, 0}, 0)
	// Exact (zero tolerance) equality survives the string round trip.
	exact := scorertest.Parse(t, "name: n\ntype: numeric_tolerance\nlegacy: l\nai: a")
	out = exact.Score(t, pairRows([2]any{sum(0.1, 0.2), sum(0.1, 0.2)}, [2]any{sum(0.1, 0.2), 0.3}))
	scorertest.Floats(t, "exact", out.Value, []float64{1, 0}, 0)

	// Text columns holding numbers.
	kit := scorertest.Parse(t, `
		name: amount
		type: numeric_tolerance
		legacy: l
		ai: a
		params: {abs: "0.01", rel: "0.001", input: text}`)
	out = kit.Score(t, pairRows(
		[2]any{"10.00", "10.005"},  // within a cent
		[2]any{"10", "10.02"},      // two cents off, and more than 0.1%
		[2]any{"100000", "100050"}, // 0.05% relative
		[2]any{"12.5", " 12.50 "},  // formatting
		[2]any{"n/a", "12"},        // not a number: not the same answer
		[2]any{"1e3", "1000.004"},  // exponent notation
	))
	scorertest.Floats(t, "amount", out.Value, []float64{1, 0, 1, 1, 0, 1}, 0)
}

func TestJSONEqual(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: amount
		type: json_equal
		legacy: l
		ai: a
		params: {path: $.total.amount, comparator: numeric, abs: "0.01"}`)
	out := kit.Score(t, pairRows(
		[2]any{`{"total":{"amount":12.5}}`, `{"total":{"amount":"12.50"},"x":1}`},
		[2]any{`{"total":{"amount":12.5}}`, `{"total":{"amount":13}}`},
		[2]any{`{"total":{}}`, `{"total":{"amount":13}}`}, // one lacks it: divergence
		[2]any{`{"other":1}`, `{"other":2}`},              // neither has it: not applicable
		[2]any{`not json`, `{"total":{"amount":1}}`},
	))
	scorertest.Floats(t, "amount", out.Value, []float64{1, 0, 0, nan, 0}, 0)
}

func TestRegexAndRangeKinds(t *testing.T) {
	re := scorertest.Parse(t, `
		name: ticket_id
		type: regex
		ai: a
		params: {pattern: '[A-Z]{3}-\d+'}`)
	if re.Scorer.Kind() != scorers.Rate {
		t.Fatalf("kind %v, want rate", re.Scorer.Kind())
	}
	out := re.Score(t, []scorertest.Row{{"a": "ABC-12"}, {"a": "xABC-12"}, {"a": "AB-1"}, {"a": nil}})
	// Full match by default: a prefix spoils it.
	scorertest.Floats(t, "regex", out.Value, []float64{1, 0, 0, nan}, 0)

	partial := scorertest.Parse(t, `
		name: ticket_id
		type: regex
		legacy: l
		ai: a
		params: {pattern: '[A-Z]{3}-\d+', match: partial}`)
	if partial.Scorer.Kind() != scorers.PairedCorrect {
		t.Fatalf("kind %v, want paired_correct", partial.Scorer.Kind())
	}
	out = partial.Score(t, pairRows([2]any{"see ABC-1", "no id"}, [2]any{"x", nil}))
	scorertest.Floats(t, "legacy", out.Legacy, []float64{1, nan}, 0)
	scorertest.Floats(t, "ai", out.AI, []float64{0, nan}, 0)

	rng := scorertest.Parse(t, `
		name: sane_amount
		type: numeric_range
		ai: a
		params: {min: "0", max: "10000"}`)
	out = rng.Score(t, []scorertest.Row{{"a": 0.0}, {"a": 10000}, {"a": -0.01}, {"a": 1e9}, {"a": math.NaN()}, {}})
	scorertest.Floats(t, "range", out.Value, []float64{1, 1, 0, 0, 0, nan}, 0)
}

// The criterion a pass rate sets goes through eval's statistics: enough
// passing rows pass, a clear shortfall fails, a class with no scored row
// is insufficient data (never a silent pass).
func TestPassRateCriterion(t *testing.T) {
	kit := scorertest.Parse(t, `
		name: f1
		type: token_f1
		legacy: l
		ai: a
		threshold: 0.5
		min_pass_rate: 0.8`)
	var rows []scorertest.Row
	for i := 0; i < 300; i++ {
		rows = append(rows, scorertest.Row{"input_class": "good", "l": "refund issued today", "a": "refund issued today"})
		ai := "refund issued today"
		if i%2 == 0 {
			ai = "please call us" // F1 0: fails the threshold
		}
		rows = append(rows, scorertest.Row{"input_class": "bad", "l": "refund issued today", "a": ai})
	}
	for i := 0; i < 5; i++ {
		rows = append(rows, scorertest.Row{"input_class": "empty", "l": nil, "a": nil})
	}
	res := kit.Evaluate(t, rows)

	if a := res.Acc("good", "f1"); a == nil || a.N != 300 || a.K != 300 || a.Value.Count != 300 {
		t.Fatalf("aggregate of class good: %+v", a)
	}
	good := res.Metric(t, "good", "f1.pass_rate")
	if good.Status != eval.StatusPass || !good.Criterion || good.Value != 1 || good.N != 300 {
		t.Errorf("good: %+v", good)
	}
	if m := res.Metric(t, "good", "f1.mean"); m.Value != 1 {
		t.Errorf("good mean %v", m.Value)
	}
	bad := res.Metric(t, "bad", "f1.pass_rate")
	if bad.Status != eval.StatusFail || math.Abs(bad.Value-0.5) > 1e-12 {
		t.Errorf("bad: %+v", bad)
	}
	if c := res.Class(t, "bad"); c.Status != eval.StatusFail {
		t.Errorf("class bad status %s: %v", c.Status, c.Reasons)
	}
	empty := res.Metric(t, "empty", "f1.pass_rate")
	if empty.Status != eval.StatusInsufficient || empty.N != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

// Agreement- and rate-kind scorers take min_pass_rate as their criterion
// too; paired ones report both systems and judge the AI's side.
func TestPassRateOnRateAndPairedKinds(t *testing.T) {
	eq := scorertest.Parse(t, `
		name: same
		type: normalized_equal
		legacy: l
		ai: a
		min_pass_rate: 0.9`)
	var rows []scorertest.Row
	for i := 0; i < 400; i++ {
		a := "approve"
		if i%4 == 0 {
			a = "deny"
		}
		rows = append(rows, scorertest.Row{"l": "Approve", "a": a})
	}
	res := eq.Evaluate(t, rows)
	if m := res.Metric(t, "(none)", "same"); m.Value != 0.75 || m.N != 400 {
		t.Errorf("agreement %+v", m)
	}
	if m := res.Metric(t, "(none)", "same.pass_rate"); m.Status != eval.StatusFail || !m.Criterion {
		t.Errorf("agreement criterion %+v", m)
	}

	re := scorertest.Parse(t, `
		name: well_formed
		type: regex
		legacy: l
		ai: a
		params: {pattern: '\d+'}
		min_pass_rate: 0.5`)
	rows = rows[:0]
	for i := 0; i < 200; i++ {
		rows = append(rows, scorertest.Row{"l": "12", "a": []string{"12", "x"}[i%4/3]})
	}
	res = re.Evaluate(t, rows)
	if m := res.Metric(t, "(none)", "well_formed.legacy"); m.Value != 1 {
		t.Errorf("legacy %+v", m)
	}
	if m := res.Metric(t, "(none)", "well_formed.ai"); m.Value != 0.75 {
		t.Errorf("ai %+v", m)
	}
	if m := res.Metric(t, "(none)", "well_formed.pass_rate"); m.Status != eval.StatusPass || m.Value != 0.75 {
		t.Errorf("ai pass rate %+v", m)
	}
	res.Metric(t, "(none)", "well_formed.noninferiority")
}

// Bad parameters are config errors at load, naming the key and its line.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ def, want string }{
		{"name: x\ntype: regex\nai: a\nparams: {pattern: 'a(b'}", "features[0].scorers[0].params.pattern: bad regular expression"},
		{"name: x\ntype: regex\nai: a", "features[0].scorers[0].params.pattern: required"},
		{"name: x\ntype: regex\nparams: {pattern: a}", "features[0].scorers[0].ai: required"},
		{"name: x\ntype: token_f1\nlegacy: l\nai: a\nparams: {case_folding: 'true'}", "params.case_folding: unknown parameter"},
		{"name: x\ntype: token_f1\nlegacy: l\nai: a\nmin_pass_rate: 0.9", "features[0].scorers[0].threshold: required with min_pass_rate"},
		{"name: x\ntype: edit_similarity\nlegacy: l\nai: a\nthreshold: 2", "threshold: 2 out of range"},
		{"name: x\ntype: numeric_tolerance\nlegacy: l\nai: a\nparams: {abs: ten}", "params.abs: \"ten\" is not a number"},
		{"name: x\ntype: json_equal\nlegacy: l\nai: a\nparams: {path: amount}", "params.path: JSON path \"amount\" must start with $"},
		{"name: x\ntype: json_equal\nlegacy: l\nai: a\nparams: {path: $.a, comparator: fuzzy}", "params.comparator: \"fuzzy\": want one of exact"},
		{"name: x\ntype: numeric_range\nai: a", "features[0].scorers[0].params: give min, max or both"},
		{"name: x\ntype: numeric_range\nai: a\nparams: {min: '5', max: '1'}", "params.min: min 5 is above max 1"},
		{"name: x\ntype: normalized_equal\nlegacy: l\nai: a\nthreshold: 0.5", "threshold: type normalized_equal scores each row 1 or 0"},
		{"name: x\ntype: nope\nai: a", "unknown scorer type \"nope\""},
		{"name: agreement.reply\ntype: regex\nai: a\nparams: {pattern: a}", "features[0].scorers[0].name: \"agreement.reply\" is reserved"},
		{"name: cost\ntype: regex\nai: a\nparams: {pattern: a}", "name: \"cost\" is reserved"},
	} {
		_, err := scorertest.Load(tc.def)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q:\n got %v\nwant %q", tc.def, err, tc.want)
			continue
		}
		// The error points at a line of the file (scorertest.yaml:N:).
		if !strings.Contains(err.Error(), "scorertest.yaml:") || strings.Contains(err.Error(), "scorertest.yaml: ") {
			t.Errorf("%q: error has no line: %v", tc.def, err)
		}
	}
}

// Two scorers of a feature may not share a name: their rows would be
// aggregated into one metric.
func TestDuplicateScorerName(t *testing.T) {
	cfg := scorertest.Config("name: s\ntype: regex\nai: a\nparams: {pattern: a}") +
		"      - name: s\n        type: token_f1\n        legacy: l\n        ai: a\n"
	_, err := config.Parse("dup.yaml", []byte(cfg))
	if err == nil || !strings.Contains(err.Error(), `features[0].scorers[1].name: duplicate scorer "s" in feature "f"`) {
		t.Fatalf("err = %v", err)
	}
}

// A config with a feature that has only scorers (no decision fields) is
// valid: text features such as reply drafts have nothing to mark critical.
func TestScorerOnlyFeature(t *testing.T) {
	kit := scorertest.Parse(t, fmt.Sprintf("name: reply_f1\ntype: token_f1\nlegacy: legacy_reply\nai: ai_reply\nthreshold: %g\nmin_pass_rate: %g", 0.5, 0.8))
	if f := kit.Cfg.Feature(scorertest.Feature); len(f.Fields) != 0 || len(f.Scorers) != 1 {
		t.Fatalf("feature %+v", f)
	}
}

// When two scorers need the same column as different kinds the scan
// delivers one kind; regex and numeric_range cope with either.
func TestPredicatesOnOtherColumnKinds(t *testing.T) {
	re := scorertest.Parse(t, "name: r\ntype: regex\nai: a\nparams: {pattern: '1\\d'}")
	in, err := scorertest.Input([]scorers.Need{{Column: "a", Kind: datasets.KindFloat64}}, []scorertest.Row{{"a": 12.0}, {"a": 3.0}})
	if err != nil {
		t.Fatal(err)
	}
	out := scorers.NewOut(2)
	if err := re.Scorer.Score(in, out); err != nil {
		t.Fatal(err)
	}
	scorertest.Floats(t, "regex on numbers", out.Value, []float64{1, 0}, 0)

	rng := scorertest.Parse(t, "name: n\ntype: numeric_range\nai: a\nparams: {max: '10'}")
	in, err = scorertest.Input([]scorers.Need{{Column: "a", Kind: datasets.KindString}}, []scorertest.Row{{"a": " 9.5"}, {"a": "11"}, {"a": "n/a"}})
	if err != nil {
		t.Fatal(err)
	}
	out = scorers.NewOut(3)
	if err := rng.Scorer.Score(in, out); err != nil {
		t.Fatal(err)
	}
	scorertest.Floats(t, "range on text", out.Value, []float64{1, 0, 0}, 0)
}
