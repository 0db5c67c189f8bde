package eval

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
)

// Status of a class or a criterion.
const (
	StatusPass         = "pass"
	StatusFail         = "fail"
	StatusInsufficient = "insufficient_data"
	StatusError        = "error"
	// StatusInfo marks metrics reported for context, not judged.
	StatusInfo = "info"
)

// statusRank orders statuses from best to worst.
func statusRank(s string) int {
	switch s {
	case StatusPass:
		return 0
	case StatusInsufficient:
		return 1
	case StatusFail:
		return 2
	case StatusError:
		return 3
	}
	return -1
}

// Metric is one figure of one group: a row of the scores output.
type Metric struct {
	Feature   string   `json:"-"`
	Class     string   `json:"-"`
	Window    Window   `json:"-"`
	Name      string   `json:"metric"`
	Value     float64  `json:"value"`
	CILow     float64  `json:"ci_low"`
	CIHigh    float64  `json:"ci_high"`
	CILevel   float64  `json:"ci_level,omitempty"`
	CIMethod  string   `json:"ci_method,omitempty"`
	Test      string   `json:"test,omitempty"`
	Statistic float64  `json:"statistic"`
	P         float64  `json:"p_value"`
	PAdjusted float64  `json:"p_adjusted"`
	N         int64    `json:"n"`
	NNeeded   int64    `json:"n_needed,omitempty"`
	Threshold float64  `json:"threshold"`
	Status    string   `json:"status"`
	Criterion bool     `json:"criterion,omitempty"`
	Reason    string   `json:"reason,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	viol      bool     // significant violation of the bound
	alpha     float64  // significance level the criterion is judged at
}

// ClassResult is one input class in one window.
type ClassResult struct {
	Class   string    `json:"input_class"`
	Status  string    `json:"status"`
	N       int64     `json:"n"`
	NNeeded int64     `json:"n_needed,omitempty"`
	Reasons []string  `json:"reasons"`
	Metrics []*Metric `json:"metrics"`
	// Triggers are immediate-rollback conditions met in this window.
	Triggers []string `json:"triggers,omitempty"`
	// Gate is the class's confidence gate for routers (threshold.go);
	// nil when the feature has none.
	Gate *Gate `json:"confidence_gate,omitempty"`
}

// FeatureWindow is the evaluation of one feature in one window.
type FeatureWindow struct {
	Feature string         `json:"feature"`
	Window  Window         `json:"window"`
	Status  string         `json:"status"`
	Classes []*ClassResult `json:"classes"`
	Alerts  []Alert        `json:"alerts,omitempty"`
	// Rows evaluated in the window.
	Rows int64 `json:"rows"`
	// AIShare observed from served_by (NaN when not logged).
	AIShare  Float `json:"ai_share"`
	AIShareN int64 `json:"ai_share_n"`
	// AICost total in the window (NaN when not logged).
	AICost Float `json:"ai_cost"`
	// ModelVersions seen, with counts.
	ModelVersions map[string]int64 `json:"model_versions,omitempty"`
	// Triggers are immediate rollback triggers met (any class).
	Triggers []string `json:"triggers,omitempty"`
}

// Alert is a message for people, by severity: critical, warning, info.
type Alert struct {
	Severity string `json:"severity"`
	Class    string `json:"input_class,omitempty"`
	Message  string `json:"message"`
}

// Class returns the named class result or nil.
func (fw *FeatureWindow) Class(name string) *ClassResult {
	for _, c := range fw.Classes {
		if c.Class == name {
			return c
		}
	}
	return nil
}

// Evaluate judges every feature × class of one window from its
// aggregates. baseline holds the merged aggregates of the baseline
// period per feature × class (nil when there is none yet).
func Evaluate(cfg *config.Config, features []string, w Window, aggs *Aggregates, baseline map[GroupKey]*Group) []*FeatureWindow {
	var out []*FeatureWindow
	for i := range cfg.Features {
		f := &cfg.Features[i]
		if len(features) > 0 && !containsStr(features, f.Name) {
			continue
		}
		fw := &FeatureWindow{Feature: f.Name, Window: w, AIShare: Float(math.NaN()), AICost: Float(math.NaN())}
		classes := map[string]*Group{}
		for k, g := range aggs.Groups {
			if k.Feature == f.Name && k.Window == w.Start.Unix() {
				classes[k.Class] = g
			}
		}
		for _, c := range f.ExpectedClasses {
			if classes[c] == nil {
				classes[c] = &Group{Metrics: map[string]*Acc{}}
			}
		}
		// A plug-in scorer that failed on any batch of the window failed
		// for the whole window: its figures for other classes come from a
		// broken run and must not pass. The groups are copied, not changed:
		// the aggregates are stored as they are.
		for name, bad := range failedScorers(classes) {
			for c, g := range classes {
				if a := g.Metrics[name]; a == nil || a.Errors == 0 {
					cp := &Group{Rows: g.Rows, Metrics: make(map[string]*Acc, len(g.Metrics)+1)}
					for k, v := range g.Metrics {
						cp.Metrics[k] = v
					}
					cp.Metrics[name] = &Acc{Errors: bad.Errors, Error: bad.Error}
					classes[c] = cp
				}
			}
		}
		names := make([]string, 0, len(classes))
		for c := range classes {
			names = append(names, c)
		}
		sort.Strings(names)
		var share Acc
		var cost float64
		costSeen := false
		for _, c := range names {
			g := classes[c]
			var base *Group
			if baseline != nil {
				base = baseline[GroupKey{Feature: f.Name, Class: c}]
			}
			cr := evaluateClass(cfg, f, c, w, g, base)
			fw.Classes = append(fw.Classes, cr)
			fw.Rows += g.Rows
			if a := g.Metrics["ai_share"]; a != nil {
				share.K += a.K
				share.N += a.N
			}
			if a := g.Metrics["cost"]; a != nil && a.AI != nil {
				cost += a.AI.Sum
				costSeen = true
			}
			if a := g.Metrics["model_version"]; a != nil {
				if fw.ModelVersions == nil {
					fw.ModelVersions = map[string]int64{}
				}
				for k, v := range a.Cats {
					fw.ModelVersions[k] += v
				}
			}
		}
		if share.N > 0 {
			fw.AIShare = Float(float64(share.K) / float64(share.N))
			fw.AIShareN = share.N
		}
		if costSeen {
			fw.AICost = Float(cost)
		}
		adjust(cfg.Stats.Adjust, cfg.Stats.Alpha, fw)
		judgeBeyondAccuracy(cfg, f, fw, classes, baseline)
		judgeFeature(cfg, f, fw)
		out = append(out, fw)
	}
	return out
}

// failedScorers returns, per metric, the first failed aggregate of any
// class (scorer errors are counted per batch, so per class).
func failedScorers(classes map[string]*Group) map[string]*Acc {
	out := map[string]*Acc{}
	for _, g := range classes {
		for name, a := range g.Metrics {
			if a.Errors > 0 && out[name] == nil {
				out[name] = a
			}
		}
	}
	return out
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func nan() float64 { return math.NaN() }

func newMetric(f, c string, w Window, name string) *Metric {
	return &Metric{Feature: f, Class: c, Window: w, Name: name, Value: nan(), CILow: nan(), CIHigh: nan(), Statistic: nan(), P: nan(), PAdjusted: nan(), Threshold: nan(), Status: StatusInfo}
}

func fromResult(m *Metric, r stats.Result) {
	m.Value = r.Estimate
	m.CILow, m.CIHigh, m.CILevel, m.CIMethod = r.CI.Lo, r.CI.Hi, r.CI.Level, r.CI.Method
	m.Test, m.Statistic, m.P, m.N, m.NNeeded = r.Test, r.Statistic, r.P, r.N, r.NNeeded
	m.Warnings = append(m.Warnings, r.Warnings...)
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*x) }

// complement is 1 − p for a share written as a decimal in the config
// (min_agreement: 0.9 → divergence bound 0.1). In binary 1 − 0.9 is
// 0.09999999999999998, so an observed 100 of 1000 (0.1 exactly) was
// "beyond" a 10% bound and failed, while 1 − 0.95 rounds the other way:
// identical evidence exactly at the bound was judged by how the
// subtraction rounded. The config holds decimals, so the complement is
// rounded to 12 significant digits, which recovers the decimal.
func complement(p float64) float64 {
	c, _ := strconv.ParseFloat(strconv.FormatFloat(1-p, 'g', 12, 64), 64)
	return c
}

// evaluateClass computes every metric of one class and its criteria.
func evaluateClass(cfg *config.Config, f *config.Feature, class string, w Window, g *Group, base *Group) *ClassResult {
	alpha, power := cfg.Stats.Alpha, cfg.Stats.Power
	cr := &ClassResult{Class: class, N: g.Rows}
	add := func(m *Metric) { cr.Metrics = append(cr.Metrics, m) }
	cri := f.Criteria

	// 1. Agreement on critical fields: the divergence rate must be below
	// the tolerance, shown by a one-sided exact binomial test.
	tol := complement(cri.MinAgreement)
	if a := g.Metrics["agreement.critical"]; a != nil || hasCritical(f) {
		if a == nil {
			a = &Acc{}
		}
		div := a.N - a.K
		m := newMetric(f.Name, class, w, "divergence.critical")
		r := stats.RateBelow(div, a.N, tol, alpha, power, tol/2)
		fromResult(m, r)
		m.Threshold, m.Criterion = tol, true
		// Only the triggers' p-values are read: RateAboveP skips their
		// intervals.
		m.viol = a.N > 0 && stats.RateAboveP(div, a.N, tol, alpha) < alpha
		est := float64(div) / math.Max(1, float64(a.N))
		m.Reason = fmt.Sprintf("critical-field divergence %s of %d requests (bound %s)", pct(est), a.N, pct(tol))
		add(m)
		if critP := stats.RateAboveP(div, a.N, complement(cri.CriticalAgreement), alpha); a.N > 0 && critP < alpha {
			cr.Triggers = append(cr.Triggers, fmt.Sprintf("agreement %s significantly below the critical level %s (p=%.2g)", pct(1-est), pct(cri.CriticalAgreement), critP))
		}
	}
	// Agreement per field, for context.
	for i := range f.Fields {
		fd := &f.Fields[i]
		if a := g.Metrics["agreement."+fd.Name]; a != nil {
			m := newMetric(f.Name, class, w, "agreement."+fd.Name)
			m.N = a.N
			if a.N > 0 {
				m.Value = float64(a.K) / float64(a.N)
				ci := stats.Wilson(a.K, a.N, 1-alpha)
				m.CILow, m.CIHigh, m.CILevel, m.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
			}
			add(m)
		}
	}
	// 2. Quality against labels, paired: non-inferiority of AI accuracy
	// with margin, plus McNemar for a difference.
	for i := range f.Fields {
		fd := &f.Fields[i]
		a := g.Metrics["accuracy."+fd.Name]
		required := fd.Critical && fd.Label != "-" && (cri.RequireLabels == nil || *cri.RequireLabels)
		if a == nil && !required {
			continue
		}
		if a == nil {
			a = &Acc{}
		}
		t := stats.Paired2x2{BothRight: a.BothRight, LegacyOnly: a.LegacyOnly, AIOnly: a.AIOnly, BothWrong: a.BothWrong}
		n := t.N()
		for _, sys := range []struct {
			name string
			k    int64
		}{{"legacy", t.BothRight + t.LegacyOnly}, {"ai", t.BothRight + t.AIOnly}} {
			m := newMetric(f.Name, class, w, "accuracy."+fd.Name+"."+sys.name)
			m.N = n
			if n > 0 {
				m.Value = float64(sys.k) / float64(n)
				ci := stats.Wilson(sys.k, n, 1-alpha)
				m.CILow, m.CIHigh, m.CILevel, m.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
			}
			add(m)
		}
		mc := newMetric(f.Name, class, w, "accuracy."+fd.Name+".mcnemar")
		fromResult(mc, stats.McNemar(t))
		mc.Value = t.Diff()
		add(mc)
		ni := newMetric(f.Name, class, w, "accuracy."+fd.Name+".noninferiority")
		r := stats.NonInferiority(t, cri.QualityMargin, alpha, power)
		fromResult(ni, r)
		ni.Threshold = -cri.QualityMargin
		ni.Criterion = required
		if !required {
			ni.Status = StatusInfo
		}
		// Significantly worse than the margin: the whole interval lies below -margin.
		ni.viol = n > 0 && r.CI.Hi < -cri.QualityMargin
		if n == 0 {
			ni.Reason = "no labelled requests yet (labels arrive later: re-run this window when they have)"
		} else {
			ni.Reason = fmt.Sprintf("AI accuracy %+.1f points against legacy on %d labelled requests (margin -%.1f)", 100*t.Diff(), n, 100*cri.QualityMargin)
		}
		add(ni)
	}
	// 3. Error rate of the AI against a bound.
	if e := g.Metrics["error_rate.ai"]; e != nil || cri.MaxErrorRate > 0 {
		if e == nil {
			e = &Acc{}
		}
		m := newMetric(f.Name, class, w, "error_rate.ai")
		if cri.MaxErrorRate > 0 {
			r := stats.RateBelow(e.K, e.N, cri.MaxErrorRate, alpha, power, cri.MaxErrorRate/2)
			fromResult(m, r)
			m.Threshold, m.Criterion = cri.MaxErrorRate, true
			upP := stats.RateAboveP(e.K, e.N, cri.MaxErrorRate, alpha)
			m.viol = e.N > 0 && upP < alpha
			if m.viol {
				cr.Triggers = append(cr.Triggers, fmt.Sprintf("AI error rate %s significantly above %s (p=%.2g)", pct(float64(e.K)/float64(e.N)), pct(cri.MaxErrorRate), upP))
			}
			m.Reason = fmt.Sprintf("AI error rate %s (bound %s)", pct(float64(e.K)/math.Max(1, float64(e.N))), pct(cri.MaxErrorRate))
		} else {
			rateMetric(m, e, alpha)
		}
		add(m)
	}
	if e := g.Metrics["error_rate.legacy"]; e != nil {
		m := newMetric(f.Name, class, w, "error_rate.legacy")
		rateMetric(m, e, alpha)
		add(m)
	}
	// 4. Latency quantiles per system; P95 bound as an exact test on the
	// count of requests over the bound.
	if l := g.Metrics["latency_ms"]; l != nil {
		// Each sketch's weighted sample serves its quantiles and the
		// shift test, prepared once for the quantiles.
		var ws [2]stats.Weighted
		for i, sys := range []struct {
			name string
			s    *Sketch
		}{{"legacy", l.Legacy}, {"ai", l.AI}} {
			if sys.s == nil || sys.s.Count == 0 {
				continue
			}
			x, wt := sys.s.Weighted()
			ws[i] = stats.Weighted{X: x, W: wt}
			sorted := ws[i].Sorted()
			for _, q := range []struct {
				name string
				q    float64
			}{{"p50", 0.5}, {"p95", 0.95}, {"p99", 0.99}} {
				m := newMetric(f.Name, class, w, "latency_ms."+sys.name+"."+q.name)
				m.Value = sorted.Quantile(q.q)
				ci := sorted.QuantileCI(q.q, 1-alpha)
				m.CILow, m.CIHigh, m.CILevel, m.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
				m.N = sys.s.Count
				m.Warnings = append(m.Warnings, "quantiles from a log-bucket sketch: within 0.5% relative error")
				add(m)
			}
		}
		if l.Legacy != nil && l.AI != nil && l.Legacy.Count > 0 && l.AI.Count > 0 {
			m := newMetric(f.Name, class, w, "latency_ms.shift")
			fromResult(m, stats.MannWhitney(ws[0], ws[1]))
			add(m)
		}
	}
	if o := g.Metrics["latency_ms.ai.over_bound"]; cri.MaxP95LatencyMS > 0 {
		if o == nil {
			o = &Acc{}
		}
		m := newMetric(f.Name, class, w, "latency_ms.ai.p95_bound")
		r := stats.QuantileBelow(o.K, o.N, 0.95, cri.MaxP95LatencyMS, alpha)
		fromResult(m, r)
		m.Threshold, m.Criterion = cri.MaxP95LatencyMS, true
		// Enough data: the exact test can only reject with n >= log(alpha)/log(0.95).
		if need := stats.RateBelowN(0.05, 0.025, alpha, power); o.N < need {
			m.NNeeded = need
		}
		upP := stats.RateAboveP(o.K, o.N, 0.05, alpha)
		m.viol = o.N > 0 && upP < alpha
		if m.viol {
			cr.Triggers = append(cr.Triggers, fmt.Sprintf("AI P95 latency significantly above %.0f ms (%s of requests over it, p=%.2g)", cri.MaxP95LatencyMS, pct(float64(o.K)/float64(o.N)), upP))
		}
		m.Reason = fmt.Sprintf("%s of AI requests slower than %.0f ms (P95 bound allows 5%%)", pct(float64(o.K)/math.Max(1, float64(o.N))), cri.MaxP95LatencyMS)
		add(m)
	}
	// 5. Cost per request per system.
	if c := g.Metrics["cost"]; c != nil {
		for _, sys := range []struct {
			name string
			s    *Sketch
		}{{"legacy", c.Legacy}, {"ai", c.AI}} {
			if sys.s == nil || sys.s.Count == 0 {
				continue
			}
			m := newMetric(f.Name, class, w, "cost."+sys.name+".mean")
			m.Value, m.N = sys.s.Mean(), sys.s.Count
			add(m)
			t := newMetric(f.Name, class, w, "cost."+sys.name+".total")
			t.Value, t.N = sys.s.Sum, sys.s.Count
			add(t)
		}
	}
	// 6. Traffic share, confidence, model versions: context.
	if a := g.Metrics["ai_share"]; a != nil {
		m := newMetric(f.Name, class, w, "ai_share")
		rateMetric(m, a, alpha)
		add(m)
	}
	if a := g.Metrics["confidence"]; a != nil && a.Value != nil && a.Value.Count > 0 {
		x, wt := a.Value.Weighted()
		sorted := stats.Weighted{X: x, W: wt}.Sorted()
		for _, q := range []struct {
			name string
			q    float64
		}{{"confidence.p10", 0.1}, {"confidence.p50", 0.5}, {"confidence.p90", 0.9}} {
			m := newMetric(f.Name, class, w, q.name)
			m.Value, m.N = sorted.Quantile(q.q), a.Value.Count
			add(m)
		}
		m := newMetric(f.Name, class, w, "confidence.mean")
		m.Value, m.N = a.Value.Mean(), a.Value.Count
		add(m)
	}
	if a := g.Metrics["model_version"]; a != nil {
		var tot int64
		for _, v := range a.Cats {
			tot += v
		}
		for _, k := range sortedCats(a.Cats) {
			m := newMetric(f.Name, class, w, "model_version."+k)
			m.Value, m.N = float64(a.Cats[k])/float64(tot), tot
			add(m)
		}
	}
	// 7. Custom scorers (declarative, external, Go plug-ins).
	for _, name := range sortedMetricNames(g.Metrics) {
		if builtinMetric(name, f) {
			continue
		}
		evalCustom(cfg, f, class, w, name, g.Metrics[name], add)
	}
	// A scorer with a criterion that scored no row of this class still
	// owes its criterion: insufficient data, not a silent pass.
	for _, d := range f.Scorers {
		if d.MinPassRate > 0 && g.Metrics[d.Name] == nil {
			evalCustom(cfg, f, class, w, d.Name, &Acc{}, add)
		}
	}
	// 8. Drift against the baseline.
	if base != nil {
		drift(f, class, w, g, base, alpha, add)
	}
	// 9. Quality beyond accuracy: per category, calibration, confidence
	// gate, input drift, baseline-relative criteria (quality.go).
	evalBeyondAccuracy(cfg, f, class, w, g, base, add, cr)
	return cr // judged by adjust, once p-values are adjusted
}

func hasCritical(f *config.Feature) bool {
	for _, fd := range f.Fields {
		if fd.Critical {
			return true
		}
	}
	return false
}

func rateMetric(m *Metric, a *Acc, alpha float64) {
	m.N = a.N
	if a.N == 0 {
		return
	}
	m.Value = float64(a.K) / float64(a.N)
	ci := stats.Wilson(a.K, a.N, 1-alpha)
	m.CILow, m.CIHigh, m.CILevel, m.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
}

func sortedCats(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sortedMetricNames(m map[string]*Acc) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// builtinMetric reports whether a metric is handled by evaluateClass itself.
func builtinMetric(name string, f *config.Feature) bool {
	switch name {
	case "audit.complete", "agreement.critical", "error_rate.ai", "error_rate.legacy", "latency_ms", "latency_ms.ai.over_bound", "cost", "ai_share", "confidence", "model_version":
		return true
	}
	if strings.HasPrefix(name, "quality.") || strings.HasPrefix(name, "input.") {
		return true // quality.go, inputdrift.go
	}
	for _, fd := range f.Fields {
		if name == "agreement."+fd.Name || name == "accuracy."+fd.Name || name == "output."+fd.Name {
			return true
		}
	}
	return false
}

func evalCustom(cfg *config.Config, f *config.Feature, class string, w Window, name string, a *Acc, add func(*Metric)) {
	alpha, power := cfg.Stats.Alpha, cfg.Stats.Power
	var def *config.ScorerDef
	for i := range f.Scorers {
		if f.Scorers[i].Name == name {
			def = &f.Scorers[i]
		}
	}
	if a.Errors > 0 {
		m := newMetric(f.Name, class, w, name)
		m.Status, m.Criterion = StatusError, true
		m.Reason = fmt.Sprintf("scorer %q failed on %d batch(es): %s", name, a.Errors, a.Error)
		add(m)
		return
	}
	// passRate adds the min_pass_rate criterion on k passing rows of n,
	// for every kind whose rows pass or fail (the AI side when paired).
	passRate := func(k, n int64) {
		if def == nil || def.MinPassRate <= 0 {
			return
		}
		p := newMetric(f.Name, class, w, name+".pass_rate")
		failBound := complement(def.MinPassRate)
		fromResult(p, stats.RateBelow(n-k, n, failBound, alpha, power, failBound/2))
		p.Value = float64(k) / math.Max(1, float64(n))
		if n == 0 {
			p.Value = nan()
		}
		p.Threshold, p.Criterion = def.MinPassRate, true
		p.viol = n > 0 && stats.RateAboveP(n-k, n, failBound, alpha) < alpha
		p.Reason = fmt.Sprintf("%s: %s of %d rows pass (need %s)", name, pct(float64(k)/math.Max(1, float64(n))), n, pct(def.MinPassRate))
		add(p)
	}
	switch {
	case a.Value != nil: // Score
		m := newMetric(f.Name, class, w, name+".mean")
		m.Value, m.N = a.Value.Mean(), a.Value.Count
		add(m)
		if a.N > 0 {
			p := newMetric(f.Name, class, w, name+".pass_rate")
			if def != nil && def.MinPassRate > 0 {
				failBound := complement(def.MinPassRate)
				r := stats.RateBelow(a.N-a.K, a.N, failBound, alpha, power, failBound/2)
				fromResult(p, r)
				p.Value = float64(a.K) / float64(a.N)
				p.Threshold, p.Criterion = def.MinPassRate, true
				p.viol = stats.RateAboveP(a.N-a.K, a.N, failBound, alpha) < alpha
				p.Reason = fmt.Sprintf("%s: %s of rows pass (threshold %g, need %s)", name, pct(p.Value), def.Threshold, pct(def.MinPassRate))
			} else {
				rateMetric(p, a, alpha)
			}
			add(p)
		}
	case a.Diff != nil: // PairedScore
		x, wt := a.Diff.Weighted()
		m := newMetric(f.Name, class, w, name+".paired_shift")
		fromResult(m, stats.WilcoxonSignedRank(stats.Weighted{X: x, W: wt}))
		add(m)
		for _, s := range []struct {
			n string
			k *Sketch
		}{{"legacy", a.Legacy}, {"ai", a.AI}} {
			mm := newMetric(f.Name, class, w, name+"."+s.n+".mean")
			mm.Value, mm.N = s.k.Mean(), s.k.Count
			add(mm)
		}
	case a.Legacy != nil || a.AI != nil: // PerSystem
		for _, s := range []struct {
			n string
			k *Sketch
		}{{"legacy", a.Legacy}, {"ai", a.AI}} {
			if s.k == nil {
				continue
			}
			mm := newMetric(f.Name, class, w, name+"."+s.n+".mean")
			mm.Value, mm.N = s.k.Mean(), s.k.Count
			add(mm)
		}
		if a.Legacy != nil && a.AI != nil && a.Legacy.Count > 0 && a.AI.Count > 0 {
			lx, lw := a.Legacy.Weighted()
			ax, aw := a.AI.Weighted()
			m := newMetric(f.Name, class, w, name+".shift")
			fromResult(m, stats.MannWhitney(stats.Weighted{X: lx, W: lw}, stats.Weighted{X: ax, W: aw}))
			add(m)
		}
	case a.Cats != nil:
		var tot int64
		for _, v := range a.Cats {
			tot += v
		}
		for _, k := range sortedCats(a.Cats) {
			m := newMetric(f.Name, class, w, name+"."+k)
			m.Value, m.N = float64(a.Cats[k])/float64(tot), tot
			add(m)
		}
	case a.BothRight+a.LegacyOnly+a.AIOnly+a.BothWrong > 0: // PairedCorrect
		t := stats.Paired2x2{BothRight: a.BothRight, LegacyOnly: a.LegacyOnly, AIOnly: a.AIOnly, BothWrong: a.BothWrong}
		m := newMetric(f.Name, class, w, name+".noninferiority")
		fromResult(m, stats.NonInferiority(t, f.Criteria.QualityMargin, alpha, power))
		add(m)
		for _, sys := range []struct {
			n string
			k int64
		}{{"legacy", t.BothRight + t.LegacyOnly}, {"ai", t.BothRight + t.AIOnly}} {
			mm := newMetric(f.Name, class, w, name+"."+sys.n)
			rateMetric(mm, &Acc{K: sys.k, N: t.N()}, alpha)
			add(mm)
		}
		passRate(t.BothRight+t.AIOnly, t.N())
	default: // Agreement / Rate, or no scored rows at all
		m := newMetric(f.Name, class, w, name)
		rateMetric(m, a, alpha)
		add(m)
		passRate(a.K, a.N)
	}
	if a.Invalid > 0 {
		m := newMetric(f.Name, class, w, name+".invalid")
		m.Value = float64(a.Invalid)
		add(m)
	}
}

// drift tests this window against the baseline: KS on AI confidence,
// chi-square and PSI on categorical AI outputs.
func drift(f *config.Feature, class string, w Window, g, base *Group, alpha float64, add func(*Metric)) {
	if a, b := g.Metrics["confidence"], base.Metrics["confidence"]; a != nil && b != nil && a.Value != nil && b.Value != nil && a.Value.Count > 0 && b.Value.Count > 0 {
		ax, aw := a.Value.Weighted()
		bx, bw := b.Value.Weighted()
		m := newMetric(f.Name, class, w, "drift.confidence.ks")
		fromResult(m, stats.KS2(stats.Weighted{X: bx, W: bw}, stats.Weighted{X: ax, W: aw}))
		add(m)
	}
	for _, name := range sortedMetricNames(g.Metrics) {
		if !strings.HasPrefix(name, "output.") && !strings.HasPrefix(name, "input.") {
			continue
		}
		a, b := g.Metrics[name], base.Metrics[name]
		if a == nil || b == nil || len(a.Cats) == 0 || len(b.Cats) == 0 {
			continue
		}
		m := newMetric(f.Name, class, w, "drift."+name+".chi2")
		fromResult(m, stats.ChiSquareHomogeneity(b.Cats, a.Cats))
		add(m)
		p := newMetric(f.Name, class, w, "drift."+name+".psi")
		p.Value = stats.PSI(b.Cats, a.Cats, 1e-4)
		p.Reason = "population stability index against the baseline (< 0.1 stable, 0.1–0.25 moderate, > 0.25 major shift)"
		add(p)
	}
}

// judgeClass sets each criterion's status (after adjustment) and the
// class's worst status with reasons.
func judgeClass(cr *ClassResult) {
	cr.Status = StatusPass
	criteria := 0
	for _, m := range cr.Metrics {
		if !m.Criterion {
			continue
		}
		criteria++
		p := m.PAdjusted
		if math.IsNaN(p) {
			p = m.P
		}
		est := m.Value
		switch {
		case m.Status == StatusError:
		case m.viol:
			m.Status = StatusFail
		case m.NNeeded > 0 || m.N == 0:
			m.Status = StatusInsufficient
			if m.NNeeded > 0 {
				m.Reason += fmt.Sprintf("; needs at least %d requests to judge, has %d", m.NNeeded, m.N)
			}
		case p < m.alpha:
			m.Status = StatusPass
		case beyond(m, est):
			m.Status = StatusFail
		default:
			m.Status = StatusInsufficient
			m.Reason += "; not yet significant"
		}
		if m.NNeeded > cr.NNeeded {
			cr.NNeeded = m.NNeeded
		}
		if statusRank(m.Status) > statusRank(cr.Status) {
			cr.Status = m.Status
		}
		if m.Status != StatusPass {
			cr.Reasons = append(cr.Reasons, fmt.Sprintf("%s: %s", m.Status, m.Reason))
		}
	}
	if criteria == 0 {
		cr.Status = StatusInsufficient
		cr.Reasons = append(cr.Reasons, "no criterion could be evaluated (no critical fields, labels or bounds)")
	}
	if cr.N == 0 {
		cr.Status = StatusInsufficient
		cr.Reasons = append(cr.Reasons, "no requests in this window")
	}
	if cr.Status == StatusPass {
		cr.Reasons = append(cr.Reasons, "every criterion passed")
	}
	// The worst reasons first: a reader (and the one-line summaries) sees
	// why a class failed before why it lacked data.
	sort.SliceStable(cr.Reasons, func(i, j int) bool { return reasonRank(cr.Reasons[i]) > reasonRank(cr.Reasons[j]) })
}

func reasonRank(r string) int {
	for _, s := range []string{StatusError, StatusFail, StatusInsufficient} {
		if strings.HasPrefix(r, s+":") {
			return statusRank(s)
		}
	}
	return -1
}

// beyond reports whether the point estimate is on the wrong side of the
// criterion's bound (with enough data this is a failure).
func beyond(m *Metric, est float64) bool {
	switch {
	case strings.HasSuffix(m.Name, ".noninferiority"):
		return est < m.Threshold
	case strings.HasSuffix(m.Name, ".pass_rate"):
		return est < m.Threshold
	case strings.HasPrefix(m.Name, "baseline."):
		return est < m.Threshold
	case m.Name == "latency_ms.ai.p95_bound":
		return est > 0.05
	default: // rates that must stay below the threshold
		return est > m.Threshold
	}
}

// adjust applies the multiple-comparison correction across every
// criterion p-value of the feature in this window (all classes).
func adjust(method string, alpha float64, fw *FeatureWindow) {
	var ms []*Metric
	var ps []float64
	for _, c := range fw.Classes {
		for _, m := range c.Metrics {
			if m.Criterion {
				ms = append(ms, m)
				ps = append(ps, m.P)
			}
		}
	}
	var adj []float64
	switch method {
	case "bh":
		adj = stats.Adjust(ps, stats.BH)
	case "none":
		adj = ps
	default:
		adj = stats.Adjust(ps, stats.Holm)
	}
	for i, m := range ms {
		m.PAdjusted = adj[i]
	}
	for _, m := range ms {
		m.alpha = alpha
	}
	for _, c := range fw.Classes {
		judgeClass(c)
	}
}

// judgeFeature sets the feature's window status and alerts.
func judgeFeature(cfg *config.Config, f *config.Feature, fw *FeatureWindow) {
	fw.Status = StatusPass
	if len(fw.Classes) == 0 {
		fw.Status = StatusInsufficient
		fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Message: "no requests for this feature in the window"})
	}
	for _, c := range fw.Classes {
		if statusRank(c.Status) > statusRank(fw.Status) {
			fw.Status = c.Status
		}
		for _, t := range c.Triggers {
			fw.Triggers = append(fw.Triggers, c.Class+": "+t)
			fw.Alerts = append(fw.Alerts, Alert{Severity: "critical", Class: c.Class, Message: t})
		}
		if c.Status == StatusFail {
			fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Class: c.Class, Message: strings.Join(c.Reasons, "; ")})
		}
	}
	if b := f.Criteria.CostBudgetPerWindow; b > 0 && !math.IsNaN(float64(fw.AICost)) && float64(fw.AICost) > b {
		fw.Alerts = append(fw.Alerts, Alert{Severity: "warning", Message: fmt.Sprintf("AI cost %.2f over the window budget %.2f", fw.AICost, b)})
		if k := f.Criteria.CostRollbackFactor; k > 0 && float64(fw.AICost) > b*k {
			fw.Triggers = append(fw.Triggers, fmt.Sprintf("AI cost %.2f exceeds budget %.2f × %g", fw.AICost, b, k))
		}
	}
	if len(fw.ModelVersions) > 1 {
		fw.Alerts = append(fw.Alerts, Alert{Severity: "info", Message: fmt.Sprintf("several AI model versions in this window: %v", fw.ModelVersions)})
	}
}
