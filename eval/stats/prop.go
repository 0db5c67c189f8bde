package stats

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/stat/distuv"
)

// Wilson is the Wilson score interval for a binomial proportion k/n at the
// given two-sided level (Wilson 1927, JASA 22:209; Agresti & Coull 1998,
// Am Stat 52:119), without continuity correction — the same as
// statsmodels proportion_confint(method="wilson"). n == 0 gives [0, 1].
func Wilson(k, n int64, level float64) Interval {
	iv := Interval{Lo: 0, Hi: 1, Level: level, Method: "wilson"}
	if n <= 0 || k < 0 || k > n || !(level > 0 && level < 1) {
		if k < 0 || k > n || !(level > 0 && level < 1) {
			iv.Lo, iv.Hi = math.NaN(), math.NaN()
		}
		return iv
	}
	z := zQuantile(1 - (1-level)/2)
	nf := float64(n)
	p := float64(k) / nf
	z2 := z * z
	denom := 1 + z2/nf
	center := (p + z2/(2*nf)) / denom
	half := z * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / denom
	iv.Lo = math.Max(0, center-half)
	iv.Hi = math.Min(1, center+half)
	return iv
}

// ClopperPearson is the exact (conservative) binomial interval from beta
// quantiles (Clopper & Pearson 1934, Biometrika 26:404), using gonum's
// distuv.Beta. k == 0 gives Lo = 0 and k == n gives Hi = 1, as in
// statsmodels proportion_confint(method="beta").
func ClopperPearson(k, n int64, level float64) Interval {
	iv := Interval{Lo: 0, Hi: 1, Level: level, Method: "clopper-pearson"}
	if n <= 0 || k < 0 || k > n || !(level > 0 && level < 1) {
		if k < 0 || k > n || !(level > 0 && level < 1) {
			iv.Lo, iv.Hi = math.NaN(), math.NaN()
		}
		return iv
	}
	a := (1 - level) / 2
	if k > 0 {
		iv.Lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(a)
	}
	if k < n {
		iv.Hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - a)
	}
	return iv
}

func checkCounts(r *Result, k, n int64) bool {
	if n < 0 || k < 0 || k > n {
		r.warn("invalid counts k=%d n=%d: need 0 <= k <= n", k, n)
		return false
	}
	if n == 0 {
		r.warn("no observations (n = 0): no test")
		return false
	}
	return true
}

// RateBelow is the evidence that a true rate p is below bound
// (H0: p >= bound, H1: p < bound) from k events in n trials: the one-sided
// exact binomial test, P = P(X <= k | n, bound) — scipy
// binomtest(k, n, bound, alternative="less").
//
// Estimate is k/n. CI is the two-sided Clopper–Pearson interval at level
// 1−2α, so CI.Hi is the exact one-sided (1−α) upper bound on p that matches
// the test. NNeeded is RateBelowN(bound, planned, alpha, power) when n is
// smaller than that, else 0.
func RateBelow(k, n int64, bound, alpha, power, planned float64) Result {
	r := newResult(fmt.Sprintf("exact binomial, one-sided (H1: p < %.10g)", bound))
	r.N = n
	if !(bound > 0 && bound < 1) || !(alpha > 0 && alpha < 0.5) {
		r.warn("invalid bound %g or alpha %g", bound, alpha)
		return r
	}
	if !(planned >= 0 && planned < bound) || !(power > 0 && power < 1) {
		r.warn("no power calculation: need 0 <= planned (%g) < bound and 0 < power (%g) < 1", planned, power)
	} else if need := RateBelowN(bound, planned, alpha, power); need > n {
		r.NNeeded = need
		r.warn("too few samples: n=%d, the exact test needs n >= %d for power %.3g when p = %.3g", n, need, power, planned)
	}
	if !checkCounts(&r, k, n) {
		return r
	}
	r.Estimate = float64(k) / float64(n)
	r.Statistic = float64(k)
	r.P = binomCDF(k, n, bound)
	r.CI = ClopperPearson(k, n, 1-2*alpha)
	if k == 0 {
		r.warn("zero events: the estimate 0 is a boundary; rely on the exact one-sided upper confidence bound %.3g", r.CI.Hi)
	}
	return r
}

// RateAbove is the evidence that a true rate p exceeds bound
// (H0: p <= bound, H1: p > bound): one-sided exact binomial,
// P = P(X >= k | n, bound) — scipy binomtest(..., alternative="greater").
// Used for immediate rollback triggers, so there is no power planning
// (NNeeded is always 0). CI is Clopper–Pearson at level 1−2α; CI.Lo is the
// exact one-sided (1−α) lower bound.
func RateAbove(k, n int64, bound, alpha float64) Result {
	r := newResult(fmt.Sprintf("exact binomial, one-sided (H1: p > %.10g)", bound))
	r.N = n
	if !(bound > 0 && bound < 1) || !(alpha > 0 && alpha < 0.5) {
		r.warn("invalid bound %g or alpha %g", bound, alpha)
		return r
	}
	if !checkCounts(&r, k, n) {
		return r
	}
	r.Estimate = float64(k) / float64(n)
	r.Statistic = float64(k)
	r.P = binomSF(k, n, bound)
	r.CI = ClopperPearson(k, n, 1-2*alpha)
	return r
}

// RateAboveP is RateAbove(k, n, bound, alpha).P, bit for bit, without
// the rest of the result: the evaluation asks several rollback triggers
// only for their p-value, and RateAbove's Clopper–Pearson interval (two
// inverse incomplete betas) and test name were most of its cost, once per
// trigger per class per window (TestRateAboveP holds it to RateAbove).
// NaN wherever RateAbove gives no test.
func RateAboveP(k, n int64, bound, alpha float64) float64 {
	if !(bound > 0 && bound < 1) || !(alpha > 0 && alpha < 0.5) || n <= 0 || k < 0 || k > n {
		return math.NaN()
	}
	return binomSF(k, n, bound)
}

// QuantileBelow is the evidence that the q-quantile of a distribution is
// below bound, from exceed = #{observations > bound} out of n. Under
// H0: P(X > bound) >= 1−q, exceed is stochastically at least
// Binomial(n, 1−q), so P = P(Binomial(n, 1−q) <= exceed) (the exact
// binomial "sign test" for a quantile; Conover 1999, Practical
// Nonparametric Statistics §3.2). Rejecting means P(X > bound) < 1−q, i.e.
// F(bound) > q, so the q-quantile is at most bound.
//
// Estimate is the exceedance fraction exceed/n and CI its Clopper–Pearson
// interval at level 1−2α.
func QuantileBelow(exceed, n int64, q, bound, alpha float64) Result {
	r := newResult(fmt.Sprintf("exact binomial on exceedances, one-sided (H1: q%.10g < %.10g, i.e. P(X > %.10g) < %.10g)", q, bound, bound, 1-q))
	r.N = n
	if !(q > 0 && q < 1) || !(alpha > 0 && alpha < 0.5) {
		r.warn("invalid quantile %g or alpha %g", q, alpha)
		return r
	}
	if !checkCounts(&r, exceed, n) {
		return r
	}
	r.Estimate = float64(exceed) / float64(n)
	r.Statistic = float64(exceed)
	r.P = binomCDF(exceed, n, 1-q)
	r.CI = ClopperPearson(exceed, n, 1-2*alpha)
	if math.Pow(q, float64(n)) > alpha {
		// Even zero exceedances cannot reject: P(Bin(n,1-q) <= 0) = q^n.
		r.warn("too few samples: with n=%d even zero exceedances give p = q^n = %.3g > alpha", n, math.Pow(q, float64(n)))
	}
	return r
}

// RateBelowN is the smallest n at which the one-sided exact binomial test
// of H0: p >= bound at level alpha has power >= power when the true rate is
// planned (0 <= planned < bound).
//
// Method: for each n the critical value k_c(n) = max{k : P(X <= k | n, bound)
// <= alpha} and the power is P(X <= k_c(n) | n, planned) (Chernick & Liu
// 2002, Am Stat 56:149, "The saw-toothed behavior of power versus sample
// size"). k_c is non-decreasing in n and grows by at most one per step,
// so a linear scan costs two incomplete-beta evaluations per n. Because of
// the saw-tooth, power at n+1 can dip below the target again; this returns
// the first n that reaches it. The scan stops at 4× the normal-approximation
// n plus 1000 and then returns that approximation,
// n ≈ ((z_{1−α}√(p0(1−p0)) + z_{power}√(p1(1−p1))) / (p0−p1))².
// Returns 0 for invalid arguments.
func RateBelowN(bound, planned, alpha, power float64) int64 {
	if !(bound > 0 && bound < 1) || !(planned >= 0 && planned < bound) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return 0
	}
	// Memoised: a pure function of its arguments, which a run asks about
	// the same few criteria for every class of every window, at hundreds
	// to thousands of incomplete-beta evaluations each time. The memo
	// stops growing at rateBelowNMemoMax distinct questions.
	key := [4]float64{bound, planned, alpha, power}
	if n, ok := rateBelowNMemo.Load(key); ok {
		return n.(int64)
	}
	n := rateBelowN(bound, planned, alpha, power)
	if rateBelowNMemoSize.Add(1) <= rateBelowNMemoMax {
		rateBelowNMemo.Store(key, n)
	}
	return n
}

var (
	rateBelowNMemo     sync.Map // [4]float64 → int64
	rateBelowNMemoSize atomic.Int64
)

const rateBelowNMemoMax = 4096

func rateBelowN(bound, planned, alpha, power float64) int64 {
	za, zb := zQuantile(1-alpha), zQuantile(power)
	approx := (za*math.Sqrt(bound*(1-bound)) + zb*math.Sqrt(planned*(1-planned))) / (bound - planned)
	nApprox := int64(math.Ceil(approx * approx))
	limit := 4*nApprox + 1000
	kc := int64(-1)
	for n := int64(1); n <= limit; n++ {
		if binomCDF(kc+1, n, bound) <= alpha {
			kc++
		}
		if kc >= 0 && binomCDF(kc, n, planned) >= power {
			return n
		}
	}
	return nApprox
}
