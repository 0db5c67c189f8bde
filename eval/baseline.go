package eval

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/parity-eval/parity/config"
)

// proportionOf resolves a metric name to a proportion's counts in a
// group: an Agreement / Rate / thresholded Score aggregate by its own
// name (agreement.critical, error_rate.ai, my_scorer.pass_rate), or one
// system's accuracy from a paired aggregate (accuracy.<field>.ai,
// accuracy.<field>.legacy). ok is false when the group has no such
// aggregate.
func proportionOf(g *Group, metric string) (k, n int64, ok bool) {
	if a := g.Metrics[metric]; a != nil && a.Quality == nil && a.BothRight+a.LegacyOnly+a.AIOnly+a.BothWrong == 0 {
		return a.K, a.N, true
	}
	if base, ok := strings.CutSuffix(metric, ".pass_rate"); ok {
		if a := g.Metrics[base]; a != nil {
			return a.K, a.N, true
		}
	}
	for _, sys := range []string{".ai", ".legacy"} {
		base, ok := strings.CutSuffix(metric, sys)
		if !ok {
			continue
		}
		if a := g.Metrics[base]; a != nil {
			n = a.BothRight + a.LegacyOnly + a.AIOnly + a.BothWrong
			if sys == ".ai" {
				return a.BothRight + a.AIOnly, n, true
			}
			return a.BothRight + a.LegacyOnly, n, true
		}
	}
	return 0, 0, false
}

// BaselineTest compares a proportion now (kw of nw) with the same
// proportion in the baseline period (kb of nb), independent samples.
// With c = 1 and d = maxDrop (absolute) or c = 1 − maxRelativeDrop and
// d = 0 (relative), θ = p_now − c·p_base and
// H0: θ <= −d (dropped by at least the bound) vs H1: θ > −d.
// Wald z-test on Agresti–Caffo adjusted proportions (one success and one
// failure added to each sample: p̃ = (k+1)/(n+2), Agresti & Caffo 2000),
// z = (p̃w − c·p̃b + d)/sqrt(p̃w(1−p̃w)/(nw+2) + c²·p̃b(1−p̃b)/(nb+2)).
// pPass = 1 − Φ(z) (small: the drop is shown smaller than the bound),
// pFail = Φ(z) (small: shown larger). With c = 1 it is statsmodels'
// test_proportions_2indep(method="agresti-caffo", compare="diff").
func BaselineTest(kw, nw, kb, nb int64, c, d float64) (z, pPass, pFail float64) {
	pw := float64(kw+1) / float64(nw+2)
	pb := float64(kb+1) / float64(nb+2)
	se := math.Sqrt(pw*(1-pw)/float64(nw+2) + c*c*pb*(1-pb)/float64(nb+2))
	z = (pw - c*pb + d) / se
	return z, distuv.UnitNormal.Survival(z), distuv.UnitNormal.CDF(z)
}

// baselineCriteria judges criteria.baseline entries: each metric against
// its own value in the baseline period (metric "baseline.<metric>",
// value = change now − baseline (absolute) or now/baseline − 1
// (relative), threshold = −bound). The criterion passes when the drop is
// significantly smaller than the bound and fails when significantly
// larger (or, with enough data, when the estimate is beyond it).
func baselineCriteria(f *config.Feature, class string, w Window, g, base *Group, alpha, power float64, add func(*Metric)) {
	for _, bc := range f.Criteria.Baseline {
		kb, nb, okb := proportionOf(base, bc.Metric)
		if !okb || nb == 0 {
			continue // no baseline figure: nothing to compare against
		}
		kw, nw, _ := proportionOf(g, bc.Metric)
		m := newMetric(f.Name, class, w, "baseline."+bc.Metric)
		m.Criterion, m.N = true, nw
		pb := float64(kb) / float64(nb)
		c, d, bound := 1.0, bc.MaxDrop, bc.MaxDrop
		kind := "absolute"
		if bc.MaxRelativeDrop > 0 {
			c, d, bound, kind = 1-bc.MaxRelativeDrop, 0, bc.MaxRelativeDrop, "relative"
		}
		m.Threshold = -bound
		m.Test = fmt.Sprintf("Wald z-test, Agresti-Caffo adjusted, two independent proportions (H1: p_now - %.10g*p_baseline > -%.10g)", c, d)
		if nw == 0 {
			m.Reason = fmt.Sprintf("%s: no requests in this window to compare with the baseline", bc.Metric)
			add(m)
			continue
		}
		pw := float64(kw) / float64(nw)
		z, pPass, pFail := BaselineTest(kw, nw, kb, nb, c, d)
		m.Statistic, m.P = z, pPass
		if kind == "absolute" {
			m.Value = pw - pb
			// Agresti–Caffo interval at 1−2α, matching the one-sided test.
			aw, ab := float64(kw+1)/float64(nw+2), float64(kb+1)/float64(nb+2)
			se := math.Sqrt(aw*(1-aw)/float64(nw+2) + ab*(1-ab)/float64(nb+2))
			zc := distuv.UnitNormal.Quantile(1 - alpha)
			m.CILow, m.CIHigh, m.CILevel, m.CIMethod = aw-ab-zc*se, aw-ab+zc*se, 1-2*alpha, "agresti-caffo"
		} else {
			m.Value = pw/pb - 1
		}
		m.viol = pFail < alpha
		// Enough data: the window size at which a true change of 0 is
		// shown smaller than the bound with the configured power (the
		// window's variance only; the baseline is usually much larger).
		dAbs := bound
		if kind == "relative" {
			dAbs = bound * pb
		}
		za := distuv.UnitNormal.Quantile(1-alpha) + distuv.UnitNormal.Quantile(power)
		if need := int64(math.Ceil(za * za * math.Max(pb*(1-pb), 0.25/float64(nb+2)) / (dAbs * dAbs))); nw < need {
			m.NNeeded = need
		}
		m.Reason = fmt.Sprintf("%s %s now vs %s in the baseline (%s drop allowed: %s)", bc.Metric, pct(pw), pct(pb), kind, pct(bound))
		add(m)
	}
}
