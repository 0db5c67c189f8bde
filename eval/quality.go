package eval

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
	"github.com/parity-eval/parity/scorers"
)

// Quality beyond accuracy (issue 12). A scorers.Classification scorer
// ("quality.<field>") is aggregated into a QualityAcc per group; from it
// evalBeyondAccuracy derives per-category precision / recall / F1 per
// system (this file), calibration of the AI's confidence
// (calibration.go) and the per-class confidence threshold for routers
// (threshold.go); inputdrift.go tests configured input columns against
// the baseline and baseline.go judges metrics against their own baseline.
// judgeBeyondAccuracy then names, in class reasons and feature alerts,
// the categories where the AI is worse, moved inputs and calibration
// drift.

// Pair is a paired 2×2 table of correctness on the same rows: both
// right, legacy only right, AI only right, both wrong.
type Pair [4]int64

// Add counts one row.
func (p *Pair) Add(legacyRight, aiRight bool) {
	switch {
	case legacyRight && aiRight:
		p[0]++
	case legacyRight:
		p[1]++
	case aiRight:
		p[2]++
	default:
		p[3]++
	}
}

// Plus returns p + o.
func (p Pair) Plus(o Pair) Pair { return Pair{p[0] + o[0], p[1] + o[1], p[2] + o[2], p[3] + o[3]} }

// Table converts to the stats package's table.
func (p Pair) Table() stats.Paired2x2 {
	return stats.Paired2x2{BothRight: p[0], LegacyOnly: p[1], AIOnly: p[2], BothWrong: p[3]}
}

// N is the number of rows.
func (p Pair) N() int64 { return p[0] + p[1] + p[2] + p[3] }

// CalibBins is the number of equal-width calibration bins: bin k holds
// confidences in [k/10, (k+1)/10), the last bin also 1.0 (k =
// min(floor(10·c), 9)). ECE and the reliability diagram use these bins.
const CalibBins = 10

// ThresholdBins is the number of confidence bins of width 0.01 kept for
// the confidence threshold search and the risk–coverage curve: bin k
// holds [k/100, (k+1)/100), the last also 1.0.
const ThresholdBins = 100

// CalBin is one calibration bin: rows, rows the AI got right, and the
// sum of their confidences (so the mean confidence is exact).
type CalBin struct {
	N       int64   `json:"n"`
	Correct int64   `json:"correct"`
	ConfSum float64 `json:"conf_sum"`
}

// QualityAcc is the mergeable aggregate of one labelled categorical
// decision field in one group. Every part merges by addition: counts
// exactly; the float sums (ConfSum, BrierSum) up to floating-point
// summation order, as Sketch.Sum.
type QualityAcc struct {
	// Confusion counts per system, keyed ConfusionKey(label, prediction);
	// a missing prediction is scorers.NoAnswer.
	Legacy map[string]int64 `json:"legacy,omitempty"`
	AI     map[string]int64 `json:"ai,omitempty"`
	// PerLabel is the paired 2×2 of correctness on the rows whose label
	// is that category: the per-category recall of both systems.
	PerLabel map[string]Pair `json:"per_label,omitempty"`
	// Calib and BrierSum cover labelled rows with a confidence in [0, 1];
	// Brier sum is Σ (confidence − AI correct)².
	Calib    [CalibBins]CalBin `json:"calib"`
	BrierSum float64           `json:"brier_sum"`
	// Conf is the paired 2×2 per confidence bin (ThresholdBins), NoConf
	// that of labelled rows without a usable confidence (they never pass
	// a threshold: they stay on legacy).
	Conf   map[int]Pair `json:"conf,omitempty"`
	NoConf Pair         `json:"no_conf"`
}

// ConfusionKey is the key of one confusion cell.
func ConfusionKey(label, pred string) string { return label + "\x00" + pred }

func binOf(c float64, k int) int { return min(int(math.Floor(c*float64(k))), k-1) }

func newQualityAcc() *QualityAcc {
	return &QualityAcc{Legacy: map[string]int64{}, AI: map[string]int64{}, PerLabel: map[string]Pair{}, Conf: map[int]Pair{}}
}

// addQuality folds one labelled row of a Classification scorer into a:
// the Cat form (and the coded form's fallback), one key string per row;
// accumulateClassificationCodes is the same fold for the coded form.
func addQuality(a *Acc, key string, legacy, ai, conf float64) {
	label, lp, ap, ok := scorers.SplitClassificationKey(key)
	if !ok || math.IsNaN(legacy) || math.IsNaN(ai) {
		a.Invalid++
		return
	}
	q := a.Quality
	if q == nil {
		q = newQualityAcc()
		a.Quality = q
	}
	q.Legacy[ConfusionKey(label, lp)]++
	q.AI[ConfusionKey(label, ap)]++
	lr, ar := legacy != 0, ai != 0
	p := q.PerLabel[label]
	p.Add(lr, ar)
	q.PerLabel[label] = p
	if math.IsNaN(conf) || conf < 0 || conf > 1 {
		q.NoConf.Add(lr, ar)
		return
	}
	q.addCalibration(conf, ar)
	k := binOf(conf, ThresholdBins)
	t := q.Conf[k]
	t.Add(lr, ar)
	q.Conf[k] = t
}

// addCalibration counts one labelled row with a valid confidence in its
// calibration bin and the Brier sum (aiRight: the AI's answer was right).
func (q *QualityAcc) addCalibration(conf float64, aiRight bool) {
	b := &q.Calib[binOf(conf, CalibBins)]
	b.N++
	b.ConfSum += conf
	y := 0.0
	if aiRight {
		b.Correct++
		y = 1
	}
	q.BrierSum += (conf - y) * (conf - y)
}

func mergeQuality(a, b *QualityAcc) *QualityAcc {
	if b == nil {
		return a
	}
	if a == nil {
		a = &QualityAcc{}
	}
	add := func(dst *map[string]int64, src map[string]int64) {
		if len(src) > 0 && *dst == nil {
			*dst = map[string]int64{}
		}
		for k, v := range src {
			(*dst)[k] += v
		}
	}
	add(&a.Legacy, b.Legacy)
	add(&a.AI, b.AI)
	if len(b.PerLabel) > 0 && a.PerLabel == nil {
		a.PerLabel = map[string]Pair{}
	}
	for k, v := range b.PerLabel {
		a.PerLabel[k] = a.PerLabel[k].Plus(v)
	}
	for i := range a.Calib {
		a.Calib[i].N += b.Calib[i].N
		a.Calib[i].Correct += b.Calib[i].Correct
		a.Calib[i].ConfSum += b.Calib[i].ConfSum
	}
	a.BrierSum += b.BrierSum
	if len(b.Conf) > 0 && a.Conf == nil {
		a.Conf = map[int]Pair{}
	}
	for k, v := range b.Conf {
		a.Conf[k] = a.Conf[k].Plus(v)
	}
	a.NoConf = a.NoConf.Plus(b.NoConf)
	return a
}

// CategoryScore is one category of one system's classification report.
type CategoryScore struct {
	Category                  string
	TP, FP, FN, Support       int64
	Precision, Recall, F1     float64
	PrecisionCI, RecallCI     stats.Interval
	PrecisionDen, RecallDenom int64
}

// ClassReport is one system's per-category report with macro and
// support-weighted averages, defined as scikit-learn's
// precision_recall_fscore_support(labels=Categories, zero_division=0):
// a ratio with a zero denominator is 0; macro is the unweighted mean over
// Categories, weighted the mean weighted by support (true count). Rows
// whose prediction is no category (scorers.NoAnswer) count as misses of
// their label and as no category's false positive.
type ClassReport struct {
	Categories                                    []CategoryScore
	MacroPrecision, MacroRecall, MacroF1          float64
	WeightedPrecision, WeightedRecall, WeightedF1 float64
	N                                             int64
}

// Categories returns the categories seen as a label or a prediction of
// either system, sorted, without scorers.NoAnswer.
func (q *QualityAcc) Categories() []string {
	seen := map[string]bool{}
	for _, m := range []map[string]int64{q.Legacy, q.AI} {
		for k := range m {
			l, p, _ := strings.Cut(k, "\x00")
			seen[l], seen[p] = true, true
		}
	}
	delete(seen, scorers.NoAnswer)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Report computes the classification report of one confusion map over
// cats, with Wilson intervals at level on precision and recall.
func Report(confusion map[string]int64, cats []string, level float64) ClassReport {
	tp, fp, fn := map[string]int64{}, map[string]int64{}, map[string]int64{}
	var r ClassReport
	for k, v := range confusion {
		l, p, _ := strings.Cut(k, "\x00")
		r.N += v
		if l == p {
			tp[l] += v
			continue
		}
		fn[l] += v
		fp[p] += v
	}
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	var support int64
	for _, c := range cats {
		s := CategoryScore{Category: c, TP: tp[c], FP: fp[c], FN: fn[c], Support: tp[c] + fn[c]}
		s.PrecisionDen, s.RecallDenom = s.TP+s.FP, s.TP+s.FN
		s.Precision, s.Recall = ratio(s.TP, s.PrecisionDen), ratio(s.TP, s.RecallDenom)
		if s.Precision+s.Recall > 0 {
			s.F1 = 2 * s.Precision * s.Recall / (s.Precision + s.Recall)
		}
		nan := math.NaN()
		s.PrecisionCI, s.RecallCI = stats.Interval{Lo: nan, Hi: nan}, stats.Interval{Lo: nan, Hi: nan}
		if s.PrecisionDen > 0 {
			s.PrecisionCI = stats.Wilson(s.TP, s.PrecisionDen, level)
		}
		if s.RecallDenom > 0 {
			s.RecallCI = stats.Wilson(s.TP, s.RecallDenom, level)
		}
		r.Categories = append(r.Categories, s)
		r.MacroPrecision += s.Precision
		r.MacroRecall += s.Recall
		r.MacroF1 += s.F1
		r.WeightedPrecision += float64(s.Support) * s.Precision
		r.WeightedRecall += float64(s.Support) * s.Recall
		r.WeightedF1 += float64(s.Support) * s.F1
		support += s.Support
	}
	if k := float64(len(cats)); k > 0 {
		r.MacroPrecision /= k
		r.MacroRecall /= k
		r.MacroF1 /= k
	}
	if support > 0 {
		r.WeightedPrecision /= float64(support)
		r.WeightedRecall /= float64(support)
		r.WeightedF1 /= float64(support)
	} else {
		r.WeightedPrecision, r.WeightedRecall, r.WeightedF1 = 0, 0, 0
	}
	return r
}

// classificationFields are a feature's fields with a FieldQuality scorer,
// the primary one (critical first, else the first) at index 0: the
// calibration and the confidence threshold are computed on it.
func classificationFields(f *config.Feature) []*config.Field {
	var crit, other []*config.Field
	for i := range f.Fields {
		fd := &f.Fields[i]
		if !scorers.IsClassificationField(fd) {
			continue
		}
		if fd.Critical {
			crit = append(crit, fd)
		} else {
			other = append(other, fd)
		}
	}
	return append(crit, other...)
}

// recallGapTest tests, on rows whose label is one category, whether the
// AI's recall is worse than legacy's by more than margin: Tango's score
// statistic as in stats.NonInferiority, read the other way round (H1:
// recall AI − recall legacy < −margin, p = Φ(Z) = 1 − the
// non-inferiority p-value).
func recallGapTest(p Pair, margin, alpha, power float64) stats.Result {
	r := stats.NonInferiority(p.Table(), margin, alpha, power)
	r.Test = fmt.Sprintf("Tango score test on the rows of this true category, one-sided (H1: recall AI - recall legacy < -%g)", margin)
	if !math.IsNaN(r.P) {
		r.P = 1 - r.P
		r.Statistic = -r.Statistic
	}
	r.NNeeded = 0 // a guard, not a criterion: it never waits for data
	return r
}

// evalBeyondAccuracy adds the issue-12 metrics of one class: per-category
// quality, calibration and the confidence gate for each classification
// field, input drift and baseline-relative criteria.
func evalBeyondAccuracy(cfg *config.Config, f *config.Feature, class string, w Window, g, base *Group, add func(*Metric), cr *ClassResult) {
	alpha, power := cfg.Stats.Alpha, cfg.Stats.Power
	for i, fd := range classificationFields(f) {
		a := g.Metrics["quality."+fd.Name]
		var q *QualityAcc
		if a != nil {
			q = a.Quality
		}
		if i == 0 {
			gate(f, class, w, g, q, cfg, add, cr)
			if q != nil {
				var bq *QualityAcc
				if base != nil && base.Metrics["quality."+fd.Name] != nil {
					bq = base.Metrics["quality."+fd.Name].Quality
				}
				calibration(f.Name, class, w, q, bq, alpha, add)
			}
		}
		if q == nil {
			continue
		}
		qualityMetrics(f, fd.Name, class, w, q, alpha, power, add)
	}
	if base != nil {
		inputDrift(f, class, w, g, base, alpha, add)
		baselineCriteria(f, class, w, g, base, alpha, power, add)
	}
}

// qualityMetrics adds the confusion matrices, per-category precision /
// recall / F1 per system with Wilson intervals, macro and weighted
// averages, and the per-category recall gap tests (Holm-adjusted over
// the categories of the class).
func qualityMetrics(f *config.Feature, field, class string, w Window, q *QualityAcc, alpha, power float64, add func(*Metric)) {
	cats := q.Categories()
	pre := "quality." + field + "."
	for _, sys := range []struct {
		name string
		conf map[string]int64
	}{{"legacy", q.Legacy}, {"ai", q.AI}} {
		r := Report(sys.conf, cats, 1-alpha)
		if len(cats) > maxCategoryMetrics {
			// High-cardinality fields: averages only, or the scores
			// would hold k² confusion cells per class and window.
			r.Categories = nil
		}
		for _, k := range sortedCats(sys.conf) {
			if len(cats) > maxCategoryMetrics {
				break
			}
			l, p, _ := strings.Cut(k, "\x00")
			m := newMetric(f.Name, class, w, pre+sys.name+".confusion."+l+"."+p)
			m.Value, m.N = float64(sys.conf[k]), r.N
			add(m)
		}
		for _, s := range r.Categories {
			for _, x := range []struct {
				name string
				v    float64
				n    int64
				ci   stats.Interval
			}{{"precision", s.Precision, s.PrecisionDen, s.PrecisionCI}, {"recall", s.Recall, s.RecallDenom, s.RecallCI}, {"f1", s.F1, s.Support, stats.Interval{Lo: nan(), Hi: nan()}}} {
				m := newMetric(f.Name, class, w, pre+sys.name+"."+x.name+"."+s.Category)
				m.Value, m.N = x.v, x.n
				m.CILow, m.CIHigh, m.CILevel, m.CIMethod = x.ci.Lo, x.ci.Hi, x.ci.Level, x.ci.Method
				add(m)
			}
		}
		for _, x := range []struct {
			name string
			v    float64
		}{{"macro_precision", r.MacroPrecision}, {"macro_recall", r.MacroRecall}, {"macro_f1", r.MacroF1}, {"weighted_precision", r.WeightedPrecision}, {"weighted_recall", r.WeightedRecall}, {"weighted_f1", r.WeightedF1}} {
			m := newMetric(f.Name, class, w, pre+sys.name+"."+x.name)
			m.Value, m.N = x.v, r.N
			add(m)
		}
	}
	var ms []*Metric
	var ps []float64
	for _, c := range sortedPairs(q.PerLabel) {
		p := q.PerLabel[c]
		if p.N() == 0 {
			continue
		}
		m := newMetric(f.Name, class, w, pre+"recall_gap."+c)
		fromResult(m, recallGapTest(p, f.Criteria.QualityMargin, alpha, power))
		m.Value = p.Table().Diff()
		m.Threshold = -f.Criteria.QualityMargin
		t := p.Table()
		m.Reason = fmt.Sprintf("AI recall on %q %s vs legacy %s (%+.1f points) on %d labelled requests of that category", c, pct(float64(t.BothRight+t.AIOnly)/float64(p.N())), pct(float64(t.BothRight+t.LegacyOnly)/float64(p.N())), 100*m.Value, p.N())
		ms = append(ms, m)
		ps = append(ps, m.P)
	}
	adj := stats.Adjust(ps, stats.Holm)
	for i, m := range ms {
		m.PAdjusted = adj[i]
		m.viol = adj[i] < alpha
		add(m)
	}
}

// maxCategoryMetrics caps the categories of a field for which the
// confusion cells and per-category precision / recall / F1 are written
// to the scores; above it only the averages and the recall-gap tests are.
const maxCategoryMetrics = 50

func sortedPairs(m map[string]Pair) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// judgeBeyondAccuracy runs after the criteria are judged (adjust): a
// category where the AI's recall is significantly worse than legacy's by
// more than the quality margin (Holm over the class's categories) fails
// the class, and a worse point estimate that is not yet significant is
// named as "watch"; the same test pooled over the classes of the window
// gives a feature alert. Input drift and calibration drift become
// warnings: they show before the answers get worse.
func judgeBeyondAccuracy(cfg *config.Config, f *config.Feature, fw *FeatureWindow, classes map[string]*Group, base map[GroupKey]*Group) {
	alpha, power := cfg.Stats.Alpha, cfg.Stats.Power
	margin := f.Criteria.QualityMargin
	for _, c := range fw.Classes {
		for _, m := range c.Metrics {
			switch {
			case strings.HasPrefix(m.Name, "quality.") && strings.Contains(m.Name, ".recall_gap."):
				if m.viol {
					if statusRank(StatusFail) > statusRank(c.Status) {
						c.Status = StatusFail
					}
					c.Reasons = dropReason(c.Reasons, "every criterion passed")
					c.Reasons = append(c.Reasons, fmt.Sprintf("fail: %s; significantly worse than the margin -%.1f points (Holm p=%.2g)", m.Reason, 100*margin, m.PAdjusted))
				} else if m.Value < -margin {
					c.Reasons = append(c.Reasons, fmt.Sprintf("watch: %s; not significant (Holm p=%.2g)", m.Reason, m.PAdjusted))
				}
			case strings.HasPrefix(m.Name, "drift.input.") && strings.HasSuffix(m.Name, ".psi"):
				col := strings.TrimSuffix(strings.TrimPrefix(m.Name, "drift.input."), ".psi")
				if m.Value >= psiModerate && m.N >= psiMinRows && inputShiftSignificant(c, col, alpha) {
					msg := fmt.Sprintf("input %s moved from the baseline: PSI %.2f", col, m.Value)
					if o := metricNamed(c, "drift.input."+col+".out_of_range"); o != nil && !math.IsNaN(o.Value) {
						msg += fmt.Sprintf(", %s of values outside the baseline's range", pct(o.Value))
					}
					fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Class: c.Class, Message: msg + " (inputs drift before answers do: watch quality here)"})
				}
			case m.Name == "drift.calibration.ece" && m.Value > eceDriftAlert:
				fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Class: c.Class, Message: fmt.Sprintf("AI confidence calibration worse than in the baseline: ECE %+.3f (confidence no longer means what it meant)", m.Value)})
			}
		}
	}
	// Pooled over classes: rare categories have few rows per class.
	var window, baseline []*Group
	for _, g := range classes {
		window = append(window, g)
	}
	for k, g := range base {
		if k.Feature == f.Name {
			baseline = append(baseline, g)
		}
	}
	for _, fd := range classificationFields(f) {
		for _, gap := range pooledGaps(fd.Name, window, margin, alpha, power) {
			if !(gap.diff < -margin) && !gap.significant {
				continue
			}
			msg := fmt.Sprintf("%s %q: AI recall %s vs legacy %s (%+.1f points) on %d labelled requests over all classes", fd.Name, gap.cat, pct(gap.ai), pct(gap.legacy), 100*gap.diff, gap.n)
			sev := "info"
			if gap.significant {
				sev = "warning"
				msg += fmt.Sprintf(": the AI is significantly worse on this category (Holm p=%.2g)", gap.p)
			} else {
				msg += fmt.Sprintf(": worse than the margin but not yet significant (Holm p=%.2g)", gap.p)
			}
			fw.Alerts = append(fw.Alerts, Alert{Severity: sev, Message: msg})
		}
		// The baseline period has the most labelled rows (labels arrive
		// late, so the latest windows have few or none): a category the
		// AI was significantly worse on there stays named until a window
		// holds enough labels to say otherwise.
		for _, gap := range pooledGaps(fd.Name, baseline, margin, alpha, power) {
			if gap.significant {
				fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Message: fmt.Sprintf("%s %q: in the baseline period the AI's recall was %s vs legacy %s (%+.1f points) on %d labelled requests over all classes: significantly worse on this category (Holm p=%.2g)", fd.Name, gap.cat, pct(gap.ai), pct(gap.legacy), 100*gap.diff, gap.n, gap.p)})
			}
		}
	}
}

// categoryGap is one category's recall gap pooled over groups.
type categoryGap struct {
	cat                 string
	n                   int64
	ai, legacy, diff, p float64 // recalls, AI − legacy, Holm-adjusted p
	significant         bool
}

// pooledGaps tests every category's recall gap on the field's per-label
// tables summed over groups, Holm-adjusted over the categories.
func pooledGaps(field string, groups []*Group, margin, alpha, power float64) []categoryGap {
	pooled := map[string]Pair{}
	for _, g := range groups {
		if a := g.Metrics["quality."+field]; a != nil && a.Quality != nil {
			for k, v := range a.Quality.PerLabel {
				pooled[k] = pooled[k].Plus(v)
			}
		}
	}
	var out []categoryGap
	var ps []float64
	for _, k := range sortedPairs(pooled) {
		t := pooled[k].Table()
		if t.N() == 0 {
			continue
		}
		out = append(out, categoryGap{cat: k, n: t.N(), ai: float64(t.BothRight+t.AIOnly) / float64(t.N()), legacy: float64(t.BothRight+t.LegacyOnly) / float64(t.N()), diff: t.Diff()})
		ps = append(ps, recallGapTest(pooled[k], margin, alpha, power).P)
	}
	for i, p := range stats.Adjust(ps, stats.Holm) {
		out[i].p, out[i].significant = p, p < alpha
	}
	return out
}

// psiModerate is the conventional PSI level of a moderate shift; an
// input alert needs it and a significant distribution test, so a tiny
// but significant shift in a large window stays quiet.
const psiModerate = 0.1

// psiMinRows is the fewest window values for an input drift alert: a PSI
// over 10 bins from a handful of values is noise (it is still reported).
const psiMinRows = 50

// eceDriftAlert is the ECE increase over the baseline that raises an
// alert (5 points of calibration error).
const eceDriftAlert = 0.05

func inputShiftSignificant(c *ClassResult, col string, alpha float64) bool {
	for _, s := range []string{".ks", ".chi2"} {
		if m := metricNamed(c, "drift.input."+col+s); m != nil && m.P < alpha {
			return true
		}
	}
	return false
}

func metricNamed(c *ClassResult, name string) *Metric {
	for _, m := range c.Metrics {
		if m.Name == name {
			return m
		}
	}
	return nil
}

func dropReason(rs []string, r string) []string {
	out := rs[:0]
	for _, x := range rs {
		if x != r {
			out = append(out, x)
		}
	}
	return out
}
