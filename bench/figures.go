package bench

import (
	"fmt"
	"strings"

	"github.com/parity-eval/parity/eval"
)

// The figures both sides compute, per feature × class × window: every
// count, sum, extreme and category count in parity's aggregates that a
// SQL aggregate can state, each as DuckDB's expression next to where
// parity keeps it. What DuckDB does not compute is parity's own: the
// log-bucket sketches behind quantiles and rank tests, the per-label and
// per-confidence-threshold pairs, and the statistical tests themselves.
//
// The SQL reads the CTE of Query: one row per log row with the class and
// window resolved and both invoice documents parsed once (lj, aj).
//
// Comparators are written for the generated log's values: exact for
// categories and currencies, a trimmed lower-case match for vendors
// (ASCII, where it equals parity's strings.EqualFold), and |a−b| ≤ 0.01
// for amounts (which are equal or differ by ≥ 1, so the 4-ulp allowance
// of parity's decimal tolerance never decides a row).

// catField is the field name of the two categorical features' decision
// (their metrics are agreement.<field>, accuracy.<field>, ...).
var catField = map[string]string{
	"ticket_routing":  "category",
	"refund_approval": "decision",
}

// Feature filters and per-row comparisons used by the figures.
const (
	onCat     = `feature IN ('ticket_routing', 'refund_approval')`
	onInvoice = `feature = 'invoice_extraction'`
	labelled  = `label_category IS NOT NULL`
	// A categorical answer is right when it equals the label (a missing
	// answer is wrong).
	legacyRight = `coalesce(legacy_category = label_category, false)`
	aiRight     = `coalesce(ai_category = label_category, false)`
	// The AI latency bound of each feature (Config's max_p95_latency_ms).
	aiBound = `CASE feature WHEN 'invoice_extraction' THEN 2500 ELSE 2000 END`
	// A confidence that enters calibration and the Brier score.
	calibrated = labelled + ` AND ai_confidence BETWEEN 0 AND 1`
	// Its calibration bin (eval.CalibBins = 10; 1.0 is in the last bin).
	calibBin = `least(floor(ai_confidence * 10), 9)::BIGINT::VARCHAR`
)

// field is one compared field of a feature, as SQL over the CTE.
type field struct{ legacy, ai, equal string }

var (
	catPair  = field{"legacy_category", "ai_category", "legacy_category = ai_category"}
	amount   = field{"lj.amount", "aj.amount", "abs(lj.amount - aj.amount) <= 0.01"}
	currency = field{"lj.currency", "aj.currency", "lj.currency = aj.currency"}
	vendor   = field{"lj.vendor", "aj.vendor", "lower(trim(lj.vendor)) = lower(trim(aj.vendor))"}
)

// compared: at least one side answered (both null is nothing to compare;
// one null side is a divergence).
func (f field) compared() string {
	return fmt.Sprintf("(%s IS NOT NULL OR %s IS NOT NULL)", f.legacy, f.ai)
}

// agrees: both answered the same.
func (f field) agrees() string { return "coalesce(" + f.equal + ", false)" }

// notDiverging: nothing to compare, or the same answer (a critical
// row agrees when none of its fields diverges and one was compared).
func (f field) notDiverging() string {
	return fmt.Sprintf("((%s IS NULL AND %s IS NULL) OR %s)", f.legacy, f.ai, f.agrees())
}

// Metrics is the part of parity's group a figure reads.
type Metrics = map[string]*eval.Acc

type countFigure struct {
	name   string
	sql    string // a BIGINT aggregate
	parity func(feature string, rows int64, m Metrics) int64
}

type sumFigure struct {
	name   string
	sql    string // a DOUBLE aggregate, NULL when there is nothing to aggregate
	parity func(feature string, m Metrics) (float64, bool)
}

type catFigure struct {
	name   string
	sql    string // a histogram(): MAP(VARCHAR, count), NULL when empty
	parity func(feature string, m Metrics) map[string]int64
}

// Set is a list of figures DuckDB computes and Compare checks.
type Set struct {
	Name   string
	counts []countFigure
	sums   []sumFigure
	cats   []catFigure
	json   bool // the figures read the invoice documents (lj, aj)
}

// Full is every figure: what the benchmark's ratio is measured against.
var Full = Set{Name: "full", counts: countFigures, sums: sumFigures, cats: catFigures, json: true}

// Narrow is the 13 figures earlier versions of the benchmark compared
// (row count, categorical agreement, error rates, latency counts and
// sums, AI share over 11 columns), kept to show the ratio against that
// narrower query too.
var Narrow = Set{Name: "narrow", counts: pick(countFigures, narrowNames), sums: pick(sumFigures, narrowNames)}

var narrowNames = map[string]bool{
	"rows": true, "agreement.<decision> n": true, "agreement.<decision> k": true,
	"error_rate.legacy n": true, "error_rate.legacy k": true, "error_rate.ai n": true, "error_rate.ai k": true,
	"ai_share n": true, "ai_share k": true,
	"latency_ms.legacy n": true, "latency_ms.ai n": true, "latency_ms.legacy sum": true, "latency_ms.ai sum": true,
}

type named interface{ figureName() string }

func (f countFigure) figureName() string { return f.name }
func (f sumFigure) figureName() string   { return f.name }

func pick[F named](fs []F, names map[string]bool) []F {
	var out []F
	for _, f := range fs {
		if names[f.figureName()] {
			out = append(out, f)
		}
	}
	return out
}

// Len is the number of figures compared per group.
func (s Set) Len() int { return len(s.counts) + len(s.sums) + len(s.cats) }

// acc returns the metric, or an empty one when the group has none.
func acc(m Metrics, name string) *eval.Acc {
	if a := m[name]; a != nil {
		return a
	}
	return &eval.Acc{}
}

// filter counts the rows where cond holds. (count_if, and CASE inside
// sum/min/max/histogram below, measured 2-3× faster in DuckDB 1.5 than
// the equivalent FILTER clauses: a FILTER is a selection per aggregate.)
func filter(cond string) string { return "count_if(" + cond + ")" }

// where is expr on the rows where cond holds, NULL elsewhere (which
// every aggregate skips).
func where(cond, expr string) string { return "CASE WHEN " + cond + " THEN " + expr + " END" }

// rateFigures are N and K of a Count metric named per feature.
func rateFigures(name string, metric func(feature string) string, n, k string) []countFigure {
	return []countFigure{
		{name + " n", n, func(f string, _ int64, m Metrics) int64 { return acc(m, metric(f)).N }},
		{name + " k", k, func(f string, _ int64, m Metrics) int64 { return acc(m, metric(f)).K }},
	}
}

func metricNamed(metric string) func(string) string { return func(string) string { return metric } }

// catMetric is prefix + the categorical feature's field ("" for others,
// which then have no such metric).
func catMetric(prefix string) func(string) string {
	return func(f string) string {
		if catField[f] == "" {
			return ""
		}
		return prefix + catField[f]
	}
}

func fieldAgreement(name string, on string, f field) []countFigure {
	return rateFigures("agreement."+name, metricNamed("agreement."+name),
		filter(on+" AND "+f.compared()), filter(on+" AND "+f.agrees()))
}

var countFigures = func() []countFigure {
	fs := []countFigure{{"rows", "count(*)", func(_ string, rows int64, _ Metrics) int64 { return rows }}}
	fs = append(fs, rateFigures("agreement.<decision>", catMetric("agreement."),
		filter(onCat+" AND "+catPair.compared()), filter(onCat+" AND "+catPair.agrees()))...)
	fs = append(fs, fieldAgreement("amount", onInvoice, amount)...)
	fs = append(fs, fieldAgreement("currency", onInvoice, currency)...)
	fs = append(fs, fieldAgreement("vendor", onInvoice, vendor)...)
	// Critical fields: the decision alone, or the invoice's amount and
	// currency together.
	invCompared := "(" + amount.compared() + " OR " + currency.compared() + ")"
	fs = append(fs, rateFigures("agreement.critical", metricNamed("agreement.critical"),
		filter(fmt.Sprintf("(%s AND %s) OR (%s AND %s)", onCat, catPair.compared(), onInvoice, invCompared)),
		filter(fmt.Sprintf("(%s AND %s) OR (%s AND %s AND %s AND %s)", onCat, catPair.agrees(),
			onInvoice, invCompared, amount.notDiverging(), currency.notDiverging())))...)
	// Paired correctness against the inline labels.
	for _, p := range []struct {
		name, legacy, ai string
		get              func(*eval.Acc) int64
	}{
		{"both_right", legacyRight, aiRight, func(a *eval.Acc) int64 { return a.BothRight }},
		{"legacy_only", legacyRight, "NOT " + aiRight, func(a *eval.Acc) int64 { return a.LegacyOnly }},
		{"ai_only", "NOT " + legacyRight, aiRight, func(a *eval.Acc) int64 { return a.AIOnly }},
		{"both_wrong", "NOT " + legacyRight, "NOT " + aiRight, func(a *eval.Acc) int64 { return a.BothWrong }},
	} {
		metric := catMetric("accuracy.")
		fs = append(fs, countFigure{"accuracy.<decision> " + p.name,
			filter(strings.Join([]string{onCat, labelled, p.legacy, p.ai}, " AND ")),
			func(f string, _ int64, m Metrics) int64 { return p.get(acc(m, metric(f))) }})
	}
	fs = append(fs, rateFigures("error_rate.legacy", metricNamed("error_rate.legacy"), "count(legacy_error)", filter("legacy_error"))...)
	fs = append(fs, rateFigures("error_rate.ai", metricNamed("error_rate.ai"), "count(ai_error)", filter("ai_error"))...)
	fs = append(fs, rateFigures("ai_share", metricNamed("ai_share"), "count(served_by)", filter("lower(served_by) = 'ai'"))...)
	// "P95 ≤ bound" is tested exactly as the share of AI latencies over
	// the bound (NaN is no latency; DuckDB orders NaN above every number).
	fs = append(fs, rateFigures("latency_ms.ai.over_bound", metricNamed("latency_ms.ai.over_bound"),
		filter("NOT isnan(ai_latency_ms)"), filter("NOT isnan(ai_latency_ms) AND ai_latency_ms > "+aiBound))...)
	// Every audit field present and non-empty; an errored AI call has no
	// confidence to record. (request_id and ts are required by the WHERE.)
	fs = append(fs, rateFigures("audit.complete", metricNamed("audit.complete"), "count(*)",
		filter("coalesce(input_hash, '') <> '' AND coalesce(ai_model_version, '') <> '' AND (ai_confidence IS NOT NULL OR coalesce(ai_error, false))"))...)
	// Finite measurements per system.
	for _, s := range []struct{ metric, legacy, ai string }{
		{"latency_ms", "legacy_latency_ms", "ai_latency_ms"},
		{"cost", "legacy_cost", "ai_cost"},
	} {
		fs = append(fs,
			countFigure{s.metric + ".legacy n", filter("isfinite(" + s.legacy + ")"), sketchCount(s.metric, legacySide)},
			countFigure{s.metric + ".ai n", filter("isfinite(" + s.ai + ")"), sketchCount(s.metric, aiSide)})
	}
	fs = append(fs, countFigure{"confidence n", filter("isfinite(ai_confidence)"), sketchCount("confidence", valueSide)})
	return fs
}()

var sumFigures = func() []sumFigure {
	var fs []sumFigure
	for _, s := range []struct{ metric, legacy, ai string }{
		{"latency_ms", "legacy_latency_ms", "ai_latency_ms"},
		{"cost", "legacy_cost", "ai_cost"},
	} {
		for _, side := range []struct {
			name, col string
			side      sketchSide
		}{{"legacy", s.legacy, legacySide}, {"ai", s.ai, aiSide}} {
			fin := "(" + where("isfinite("+side.col+")", side.col) + ")"
			fs = append(fs,
				sumFigure{s.metric + "." + side.name + " sum", "sum" + fin, sketchFloat(s.metric, side.side, func(k *eval.Sketch) float64 { return k.Sum })},
				sumFigure{s.metric + "." + side.name + " min", "min" + fin, sketchFloat(s.metric, side.side, func(k *eval.Sketch) float64 { return k.Min })},
				sumFigure{s.metric + "." + side.name + " max", "max" + fin, sketchFloat(s.metric, side.side, func(k *eval.Sketch) float64 { return k.Max })})
		}
	}
	fs = append(fs, sumFigure{"confidence sum", "sum(" + where("isfinite(ai_confidence)", "ai_confidence") + ")",
		sketchFloat("confidence", valueSide, func(k *eval.Sketch) float64 { return k.Sum })})
	// Σ (confidence − AI correct)² over labelled rows with a confidence.
	fs = append(fs, sumFigure{"quality.<decision> brier_sum",
		"sum(" + where(onCat+" AND "+calibrated, "(ai_confidence - "+aiRight+"::INT) ** 2") + ")",
		func(f string, m Metrics) (float64, bool) {
			q := acc(m, catMetric("quality.")(f)).Quality
			if q == nil {
				return 0, false
			}
			return q.BrierSum, true
		}})
	return fs
}()

var catFigures = func() []catFigure {
	cats := func(metric func(string) string) func(string, Metrics) map[string]int64 {
		return func(f string, m Metrics) map[string]int64 { return acc(m, metric(f)).Cats }
	}
	quality := func(get func(*eval.QualityAcc) map[string]int64) func(string, Metrics) map[string]int64 {
		return func(f string, m Metrics) map[string]int64 {
			q := acc(m, catMetric("quality.")(f)).Quality
			if q == nil {
				return nil
			}
			out := map[string]int64{}
			for k, v := range get(q) {
				out[strings.ReplaceAll(k, "\x00", "|")] = v
			}
			return out
		}
	}
	calib := func(get func(eval.CalBin) int64) func(string, Metrics) map[string]int64 {
		return quality(func(q *eval.QualityAcc) map[string]int64 {
			out := map[string]int64{}
			for i, b := range q.Calib {
				if n := get(b); n != 0 {
					out[fmt.Sprint(i)] = n
				}
			}
			return out
		})
	}
	// An empty string is no category (parity skips it, as it does null).
	return []catFigure{
		{"output.<decision>", "histogram(" + where(onCat, "nullif(ai_category, '')") + ")", cats(catMetric("output."))},
		{"output.currency", "histogram(" + where(onInvoice, "nullif(aj.currency, '')") + ")", cats(metricNamed("output.currency"))},
		{"output.vendor", "histogram(" + where(onInvoice, "nullif(aj.vendor, '')") + ")", cats(metricNamed("output.vendor"))},
		{"model_version", "histogram(nullif(ai_model_version, ''))", cats(metricNamed("model_version"))},
		// Confusion per system: label|prediction, a missing prediction
		// being "(none)".
		{"quality.<decision> legacy", "histogram(" + where(onCat+" AND "+labelled, "label_category || '|' || coalesce(legacy_category, '(none)')") + ")",
			quality(func(q *eval.QualityAcc) map[string]int64 { return q.Legacy })},
		{"quality.<decision> ai", "histogram(" + where(onCat+" AND "+labelled, "label_category || '|' || coalesce(ai_category, '(none)')") + ")",
			quality(func(q *eval.QualityAcc) map[string]int64 { return q.AI })},
		{"quality.<decision> calibration n", "histogram(" + where(onCat+" AND "+calibrated, calibBin) + ")",
			calib(func(b eval.CalBin) int64 { return b.N })},
		{"quality.<decision> calibration correct", "histogram(" + where(onCat+" AND "+calibrated+" AND "+aiRight, calibBin) + ")",
			calib(func(b eval.CalBin) int64 { return b.Correct })},
	}
}()

type sketchSide int

const (
	legacySide sketchSide = iota
	aiSide
	valueSide
)

func sketchOf(m Metrics, metric string, side sketchSide) *eval.Sketch {
	a := acc(m, metric)
	return [...]*eval.Sketch{a.Legacy, a.AI, a.Value}[side]
}

func sketchCount(metric string, side sketchSide) func(string, int64, Metrics) int64 {
	return func(_ string, _ int64, m Metrics) int64 {
		if k := sketchOf(m, metric, side); k != nil {
			return k.Count
		}
		return 0
	}
}

// sketchFloat reads a figure of a sketch with values (an empty sketch's
// sum is 0 and its extremes ±Inf, where SQL has NULL).
func sketchFloat(metric string, side sketchSide, get func(*eval.Sketch) float64) func(string, Metrics) (float64, bool) {
	return func(_ string, m Metrics) (float64, bool) {
		if k := sketchOf(m, metric, side); k != nil && k.Count > 0 {
			return get(k), true
		}
		return 0, false
	}
}
