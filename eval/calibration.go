package eval

import (
	"fmt"
	"math"

	"github.com/parity-eval/parity/eval/stats"
)

// Calibration summarises how well the AI's confidence predicts its
// correctness on labelled rows, over the CalibBins equal-width bins.
type Calibration struct {
	N int64
	// ECE is the expected calibration error Σ_k (n_k/N)·|acc_k − conf_k|
	// over the non-empty bins (Naeini et al. 2015; Guo et al. 2017).
	ECE float64
	// Brier is mean (confidence − correct)², scikit-learn's
	// brier_score_loss with the AI's correctness as the outcome.
	Brier float64
	// Bins are the reliability diagram: per bin the rows, accuracy and
	// mean confidence (NaN when empty).
	Bins [CalibBins]struct {
		N                  int64
		Accuracy, MeanConf float64
	}
}

// Calibration computes the calibration figures (N = 0, NaN figures when
// no labelled row has a confidence).
func (q *QualityAcc) Calibration() Calibration {
	var c Calibration
	for k, b := range q.Calib {
		c.N += b.N
		c.Bins[k].N = b.N
		c.Bins[k].Accuracy, c.Bins[k].MeanConf = math.NaN(), math.NaN()
		if b.N > 0 {
			c.Bins[k].Accuracy = float64(b.Correct) / float64(b.N)
			c.Bins[k].MeanConf = b.ConfSum / float64(b.N)
		}
	}
	if c.N == 0 {
		c.ECE, c.Brier = math.NaN(), math.NaN()
		return c
	}
	for _, b := range c.Bins {
		if b.N > 0 {
			c.ECE += float64(b.N) / float64(c.N) * math.Abs(b.Accuracy-b.MeanConf)
		}
	}
	c.Brier = q.BrierSum / float64(c.N)
	return c
}

// calibration adds calibration.ece, calibration.brier, the reliability
// diagram (calibration.bin.KK: AI accuracy in bin KK with a Wilson
// interval; calibration.bin.KK.confidence: the bin's mean confidence)
// and, with a baseline, drift.calibration.ece (ECE now − ECE in the
// baseline; positive = worse calibrated).
func calibration(feature, class string, w Window, q, base *QualityAcc, alpha float64, add func(*Metric)) {
	c := q.Calibration()
	if c.N == 0 {
		return
	}
	m := newMetric(feature, class, w, "calibration.ece")
	m.Value, m.N = c.ECE, c.N
	m.Reason = fmt.Sprintf("expected calibration error of ai_confidence over %d equal-width bins", CalibBins)
	add(m)
	b := newMetric(feature, class, w, "calibration.brier")
	b.Value, b.N = c.Brier, c.N
	add(b)
	for k, bin := range c.Bins {
		if bin.N == 0 {
			continue
		}
		name := fmt.Sprintf("calibration.bin.%02d", k)
		a := newMetric(feature, class, w, name)
		a.Value, a.N = bin.Accuracy, bin.N
		ci := stats.Wilson(q.Calib[k].Correct, bin.N, 1-alpha)
		a.CILow, a.CIHigh, a.CILevel, a.CIMethod = ci.Lo, ci.Hi, ci.Level, ci.Method
		add(a)
		mc := newMetric(feature, class, w, name+".confidence")
		mc.Value, mc.N = bin.MeanConf, bin.N
		add(mc)
	}
	if base == nil {
		return
	}
	bc := base.Calibration()
	if bc.N == 0 {
		return
	}
	d := newMetric(feature, class, w, "drift.calibration.ece")
	d.Value, d.N = c.ECE-bc.ECE, c.N
	d.Reason = fmt.Sprintf("ECE %.3f now vs %.3f in the baseline (%d labelled rows)", c.ECE, bc.ECE, bc.N)
	add(d)
}
