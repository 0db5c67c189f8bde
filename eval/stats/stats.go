// Package stats is parity's opinionated statistics layer: the caller says what
// the data are (counts, paired 2×2 tables, weighted samples) and the package
// picks the test, in the manner of golang.org/x/perf/benchmath.
//
// Nothing here fails on awkward data. Every Result carries Warnings (ties,
// small expected counts, zero discordant pairs, too few samples) so the eval
// engine can show them next to a verdict instead of aborting a run.
//
// Which function for which data:
//
//	k of n events vs a bound            RateBelow (graduate) / RateAbove (rollback)
//	paired right/wrong, both systems    NonInferiority (Tango score), McNemar, McNemarMidP
//	paired continuous differences       WilcoxonSignedRank, HodgesLehmannPaired
//	two independent continuous samples  MannWhitney, HodgesLehmannShift, KS2 (drift)
//	latency-style quantile vs a bound   QuantileBelow (counts above bound), Quantile, QuantileCI
//	category mix drift                  ChiSquareHomogeneity, PSI
//	many cells tested at once           Adjust (Holm or BH)
//	looking every day                   ConfidenceSequence (anytime-valid)
//	planning                            RateBelowN, NonInferiorityN; Result.NNeeded
//
// Continuous inputs are Weighted samples (value, integer count), so
// mergeable histogram buckets feed the rank tests and quantiles directly;
// equal values are ties and nothing is expanded in memory.
//
// Distributions come from gonum (stat, stat/distuv, mathext). What gonum
// lacks is written here, each with a comment naming the method and its
// reference. testdata/reference.py recomputes every function with
// scipy/statsmodels (or an independent brute-force implementation) and the
// tests compare against the committed testdata/golden.json.
package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a confidence interval. Level is the nominal coverage
// (e.g. 0.95); Method names how it was built ("wilson", "clopper-pearson",
// "tango", "hodges-lehmann", "order-statistic", "asymptotic-cs").
type Interval struct {
	Lo, Hi, Level float64
	Method        string
}

// Result is the outcome of one test. Fields that do not apply are NaN
// (floats) or 0 (NNeeded).
type Result struct {
	Test      string // human name, e.g. "exact binomial, one-sided (H1: p < 0.05)"
	Estimate  float64
	CI        Interval
	Statistic float64 // NaN when none
	P         float64 // p-value (NaN when no test)
	N         int64
	NNeeded   int64 // n needed to detect the planned effect at the requested power; 0 when N suffices or not applicable
	Warnings  []string
}

// Enough reports whether the sample was as large as the power calculation
// asked for (NNeeded == 0). A non-rejection with Enough() == false is
// "not enough data", not "no effect".
func (r Result) Enough() bool { return r.NNeeded == 0 }

func (r *Result) warn(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

func newResult(test string) Result {
	nan := math.NaN()
	return Result{
		Test:      test,
		Estimate:  nan,
		CI:        Interval{Lo: nan, Hi: nan},
		Statistic: nan,
		P:         nan,
	}
}

// zQuantile is the standard normal quantile Φ⁻¹(p).
func zQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// normalSF is the standard normal upper tail 1−Φ(z) = ½·erfc(z/√2).
// gonum's Normal.Survival is 1−CDF, which underflows to 0 beyond z ≈ 8;
// erfc keeps full relative precision into the far tail, as scipy's norm.sf does.
func normalSF(z float64) float64 { return 0.5 * math.Erfc(z/math.Sqrt2) }

// binomCDF is P(X ≤ k) for X ~ Binomial(n, p). It uses gonum's
// distuv.Binomial.CDF (the regularized incomplete beta I_{1−p}(n−k, k+1)),
// with the degenerate p ∈ {0, 1} handled explicitly.
func binomCDF(k, n int64, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	case p <= 0:
		return 1
	case p >= 1:
		return 0
	}
	return distuv.Binomial{N: float64(n), P: p}.CDF(float64(k))
}

// binomSF is P(X ≥ k) for X ~ Binomial(n, p). gonum's Binomial.Survival is
// 1−CDF, which loses every digit in the far upper tail, so this evaluates
// the identity P(X ≥ k) = I_p(k, n−k+1) directly (Abramowitz & Stegun 26.5.24).
func binomSF(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	return mathext.RegIncBeta(float64(k), float64(n-k+1), p)
}

// binomPMF is P(X = k) for X ~ Binomial(n, p).
func binomPMF(k, n int64, p float64) float64 {
	if k < 0 || k > n {
		return 0
	}
	return distuv.Binomial{N: float64(n), P: p}.Prob(float64(k))
}
