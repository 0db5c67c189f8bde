package eval

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/parity-eval/parity/config"
	"github.com/parity-eval/parity/eval/stats"
)

// Gate is a class's confidence gate for routers: the AI may answer a
// request of the class only when its confidence is at least Threshold;
// requests below it stay on legacy. A NaN Threshold means no threshold
// could be established (not enough labelled data): the AI is not allowed
// in the class on confidence grounds.
type Gate struct {
	// Threshold is the lowest tested confidence t at which the AI's
	// accuracy on labelled requests with confidence >= t is non-inferior
	// to legacy's on the same requests (NaN when none).
	Threshold Float `json:"confidence_threshold"`
	// Coverage is the share of labelled requests with confidence >=
	// Threshold (NaN when no threshold).
	Coverage Float `json:"coverage"`
	// N is the labelled requests the gate was chosen on.
	N int64 `json:"n"`
	// Method names the procedure, for the report.
	Method string `json:"method"`
}

// OptFloat is a number in a JSON document that may be absent (the zero
// OptFloat, omitted with the omitzero tag), null (Set with a NaN V) or a
// number. The verdicts document uses it for confidence_threshold and
// coverage: absent when the feature has no confidence gate, null when the
// gate has no threshold.
type OptFloat struct {
	Set bool
	V   float64
}

// Opt returns a set OptFloat.
func Opt(x Float) OptFloat { return OptFloat{Set: true, V: float64(x)} }

// IsZero reports absence (for omitzero).
func (o OptFloat) IsZero() bool { return !o.Set }

// MarshalJSON writes null for NaN.
func (o OptFloat) MarshalJSON() ([]byte, error) { return Float(o.V).MarshalJSON() }

// UnmarshalJSON reads a number or null.
func (o *OptFloat) UnmarshalJSON(b []byte) error {
	var f Float
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*o = OptFloat{Set: true, V: float64(f)}
	return nil
}

// thresholdMinRows is the fewest labelled requests above a threshold for
// it to enter the test sequence (with the near-total agreement of a
// shadow deployment, Tango's test at a 2-3 point margin rarely rejects
// on fewer). The sequence starts at the highest
// threshold with that many rows: a choice made from the confidences
// alone, never from correctness, so the fixed-sequence error control
// holds conditionally on the confidences.
const thresholdMinRows = 100

// ThresholdSearch is the outcome of the threshold procedure.
type ThresholdSearch struct {
	Threshold float64 // NaN when no threshold was accepted
	Coverage  float64 // share of labelled rows at or above Threshold
	Above     stats.Paired2x2
	Result    stats.Result // the last accepted test
	Tested    int          // hypotheses tested (accepted + the stopping one)
	N         int64        // labelled rows (with or without a confidence)
}

// thresholdMethod describes ChooseThreshold for reports.
const thresholdMethod = "fixed-sequence testing (FWER <= alpha without adjustment): thresholds k/100 (bins holding labelled rows) from the highest with >= 100 labelled rows at or above it downward, Tango non-inferiority of AI vs legacy accuracy on the rows at or above each; the lowest threshold before the first non-rejection"

// ChooseThreshold picks the confidence threshold of a class from its
// labelled rows binned by confidence (bins of width 1/ThresholdBins, the
// paired 2×2 per bin; noConf are labelled rows without a confidence).
// Hypothesis H_t: on rows with confidence >= t, pAI − pLegacy <= −margin.
// The H_t are tested at level alpha each in the pre-specified order t =
// 0.99, 0.98, … over the bins that hold labelled rows (starting at the
// highest t with >= thresholdMinRows rows at or above it) and testing stops at the first non-rejection; this
// fixed-sequence procedure (Maurer, Hothorn & Lehmacher 1995; Westfall &
// Krishen 2001) controls the familywise error rate at alpha, so the
// chosen threshold's non-inferiority claim needs no multiplicity
// adjustment. The threshold is the last t rejected; NaN when the first
// test does not reject.
func ChooseThreshold(bins map[int]Pair, noConf Pair, margin, alpha, power float64) ThresholdSearch {
	s := ThresholdSearch{Threshold: math.NaN(), Coverage: math.NaN()}
	s.N = noConf.N()
	for _, p := range bins {
		s.N += p.N()
	}
	var cum Pair
	for k := ThresholdBins - 1; k >= 0; k-- {
		if bins[k].N() == 0 {
			// No row at this confidence: the test would repeat the
			// previous one, and accepting it would claim a lower
			// threshold than any labelled row supports.
			continue
		}
		cum = cum.Plus(bins[k])
		if cum.N() < thresholdMinRows {
			continue
		}
		// Only the p-value decides; the full result (its interval by
		// bisection) is computed once, for the threshold kept.
		p := stats.NonInferiorityP(cum.Table(), margin, alpha)
		s.Tested++
		if !(p < alpha) {
			break
		}
		s.Threshold = float64(k) / ThresholdBins
		s.Coverage = float64(cum.N()) / float64(s.N)
		s.Above = cum.Table()
	}
	if !math.IsNaN(s.Threshold) {
		s.Result = stats.NonInferiority(s.Above, margin, alpha, power)
	}
	return s
}

// gate sets the class's confidence gate from the primary classification
// field's aggregate q (nil when the window has no labelled rows) and adds
// the confidence_threshold metrics and the risk–coverage curve. The gate
// applies when the feature has a classification field and the class
// logged AI confidences in the window.
func gate(f *config.Feature, class string, w Window, g *Group, q *QualityAcc, cfg *config.Config, add func(*Metric), cr *ClassResult) {
	conf := g.Metrics["confidence"]
	if conf == nil || conf.Value == nil || conf.Value.Count == 0 {
		return
	}
	alpha, power := cfg.Stats.Alpha, cfg.Stats.Power
	margin := f.Criteria.QualityMargin
	cr.Gate = &Gate{Threshold: Float(math.NaN()), Coverage: Float(math.NaN()), Method: thresholdMethod}
	m := newMetric(f.Name, class, w, "confidence_threshold")
	m.Threshold = -margin
	if q == nil {
		m.Reason = "no labelled requests: no confidence threshold (the AI is not allowed in this class on confidence grounds)"
		add(m)
		return
	}
	s := ChooseThreshold(q.Conf, q.NoConf, margin, alpha, power)
	cr.Gate.N = s.N
	m.N = s.N
	m.Test = thresholdMethod
	if math.IsNaN(s.Threshold) {
		m.Reason = fmt.Sprintf("no confidence threshold: AI accuracy was not shown non-inferior to legacy (margin %.1f points) at any tested threshold on %d labelled requests", 100*margin, s.N)
		add(m)
	} else {
		cr.Gate.Threshold, cr.Gate.Coverage = Float(s.Threshold), Float(s.Coverage)
		m.Value = s.Threshold
		m.P, m.Statistic = s.Result.P, s.Result.Statistic
		m.CILow, m.CIHigh, m.CILevel, m.CIMethod = s.Result.CI.Lo, s.Result.CI.Hi, s.Result.CI.Level, s.Result.CI.Method
		m.Reason = fmt.Sprintf("AI may answer requests with confidence >= %.2f (%s of labelled requests): accuracy AI %s vs legacy %s on them", s.Threshold, pct(s.Coverage), pct(float64(s.Above.BothRight+s.Above.AIOnly)/float64(s.Above.N())), pct(float64(s.Above.BothRight+s.Above.LegacyOnly)/float64(s.Above.N())))
		add(m)
		c := newMetric(f.Name, class, w, "confidence_threshold.coverage")
		c.Value, c.N = s.Coverage, s.N
		add(c)
	}
	// Risk–coverage curve: the AI's error rate on the requests at or
	// above each tenth, and the share of requests that is.
	var cum Pair
	k := ThresholdBins - 1
	for t := 9; t >= 0; t-- {
		for ; k >= t*ThresholdBins/10; k-- {
			cum = cum.Plus(q.Conf[k])
		}
		if s.N == 0 {
			break
		}
		name := fmt.Sprintf("risk_coverage.t%02d", t*10)
		r := newMetric(f.Name, class, w, name+".risk")
		tab := cum.Table()
		r.N = tab.N()
		if r.N > 0 {
			wrong := tab.LegacyOnly + tab.BothWrong
			r.Value = float64(wrong) / float64(r.N)
			ci := stats.Wilson(wrong, r.N, 1-alpha)
			r.CILow, r.CIHigh, r.CILevel, r.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
		}
		add(r)
		c := newMetric(f.Name, class, w, name+".coverage")
		c.Value, c.N = float64(r.N)/float64(s.N), s.N
		add(c)
	}
}
