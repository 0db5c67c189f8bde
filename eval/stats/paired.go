package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Paired2x2 is the paired outcome table of the two systems judged on the
// same requests. LegacyOnly counts requests where legacy was right and the
// AI wrong; AIOnly the reverse. The two off-diagonal cells are the
// discordant pairs every paired test works from.
type Paired2x2 struct{ BothRight, LegacyOnly, AIOnly, BothWrong int64 }

// N is the number of pairs.
func (t Paired2x2) N() int64 { return t.BothRight + t.LegacyOnly + t.AIOnly + t.BothWrong }

// Diff is the observed pAI − pLegacy = (AIOnly − LegacyOnly)/N.
func (t Paired2x2) Diff() float64 {
	return float64(t.AIOnly-t.LegacyOnly) / float64(t.N())
}

// McNemarExactCutoff is the number of discordant pairs below which McNemar
// uses the exact binomial test instead of the chi-square approximation.
// 25 follows the common rule that the χ² approximation is adequate once
// b+c >= 25 (Rosner, Fundamentals of Biostatistics, §10.4; statsmodels'
// documentation gives the same advice).
const McNemarExactCutoff = 25

// pairedChecks validates a table and sets r.N. With difference set (the
// McNemar tests), a table without discordant pairs is warned about: a
// difference test then has no information and p = 1 (the
// non-inferiority test words its own warning).
func pairedChecks(r *Result, t Paired2x2, difference bool) bool {
	if t.BothRight < 0 || t.LegacyOnly < 0 || t.AIOnly < 0 || t.BothWrong < 0 {
		r.warn("invalid table %+v: negative count", t)
		return false
	}
	r.N = t.N()
	if r.N == 0 {
		r.warn("no pairs: no test")
		return false
	}
	if t.LegacyOnly+t.AIOnly == 0 && difference {
		r.warn("zero discordant pairs: the systems never disagreed, so the test has no information (p = 1)")
	}
	return true
}

// McNemar tests H0: pAI = pLegacy on paired outcomes, two-sided. With
// b = LegacyOnly, c = AIOnly: when b+c < McNemarExactCutoff it is the exact
// conditional binomial test P = min(1, 2·P(Bin(b+c, ½) <= min(b,c))) with
// Statistic = min(b,c); otherwise the chi-square test with continuity
// correction X² = (|b−c|−1)²/(b+c) on 1 df (McNemar 1947, Psychometrika
// 12:153; Edwards 1948). Both match statsmodels mcnemar(exact=..., correction=True).
// Estimate is pAI − pLegacy with Tango's 95% score interval.
func McNemar(t Paired2x2) Result {
	b, c := t.LegacyOnly, t.AIOnly
	var r Result
	if b+c < McNemarExactCutoff {
		r = newResult(fmt.Sprintf("McNemar exact binomial, two-sided (b+c=%d < %d)", b+c, McNemarExactCutoff))
	} else {
		r = newResult(fmt.Sprintf("McNemar chi-square with continuity correction, two-sided (b+c=%d >= %d)", b+c, McNemarExactCutoff))
	}
	if !pairedChecks(&r, t, true) {
		return r
	}
	r.Estimate = t.Diff()
	r.CI = Tango(t, 0.95)
	if b+c < McNemarExactCutoff {
		m := min(b, c)
		r.Statistic = float64(m)
		r.P = math.Min(1, 2*binomCDF(m, b+c, 0.5))
		return r
	}
	d := math.Abs(float64(b-c)) - 1
	r.Statistic = d * d / float64(b+c)
	r.P = distuv.ChiSquared{K: 1}.Survival(r.Statistic)
	return r
}

// McNemarMidP is the mid-p McNemar test, always exact:
// P = min(1, 2·[P(Bin(b+c,½) <= m) − ½·P(Bin(b+c,½) = m)]), m = min(b,c).
// It is less conservative than the exact test and keeps its level well
// (Fagerland, Lydersen & Laake 2013, BMC Med Res Methodol 13:91).
// Statistic = min(b,c); Estimate/CI as in McNemar.
func McNemarMidP(t Paired2x2) Result {
	r := newResult("McNemar exact mid-p, two-sided")
	if !pairedChecks(&r, t, true) {
		return r
	}
	b, c := t.LegacyOnly, t.AIOnly
	m := min(b, c)
	r.Estimate = t.Diff()
	r.CI = Tango(t, 0.95)
	r.Statistic = float64(m)
	r.P = math.Min(1, 2*(binomCDF(m, b+c, 0.5)-0.5*binomPMF(m, b+c, 0.5)))
	return r
}

// tangoZ is Tango's score statistic for H0: pAI − pLegacy = delta
// (Tango 1998, Stat Med 17:891, eq. 3 and the closed-form restricted MLE in
// §2). In Tango's notation n12 = AIOnly, n21 = LegacyOnly,
// Δ = (n12 − n21)/N:
//
//	Z(Δ) = (n12 − n21 − NΔ) / √(N(2·p̃21 + Δ(1−Δ)))
//
// where p̃21 is the larger root of 2N p² + Bp + C = 0,
// B = −n12 − n21 + (2N − n12 + n21)Δ, C = −n21·Δ(1−Δ).
func tangoZ(n12, n21, n int64, delta float64) float64 {
	N := float64(n)
	a12, a21 := float64(n12), float64(n21)
	num := a12 - a21 - N*delta
	A := 2 * N
	B := -a12 - a21 + (2*N-a12+a21)*delta
	C := -a21 * delta * (1 - delta)
	disc := math.Max(0, B*B-4*A*C)
	// Larger root, written to avoid cancellation when B > 0.
	var p21 float64
	if B <= 0 {
		p21 = (-B + math.Sqrt(disc)) / (2 * A)
	} else {
		p21 = 2 * C / (-B - math.Sqrt(disc))
	}
	v := N * (2*p21 + delta*(1-delta))
	if num == 0 {
		return 0
	}
	if v <= 0 {
		return math.Copysign(math.Inf(1), num)
	}
	return num / math.Sqrt(v)
}

// Tango is Tango's score confidence interval for pAI − pLegacy from paired
// data at the given two-sided level: {Δ : |Z(Δ)| <= z_{(1+level)/2}}
// (Tango 1998, Stat Med 17:891). Z is decreasing
// in Δ, so each end is found by bisection to full float64 precision.
// It stays inside [−1, 1] and is well defined with zero discordant pairs.
// The statistic and restricted MLE are those of Fagerland, Lydersen &
// Laake (2017, Statistical Analysis of Contingency Tables, ch. 8; R
// package contingencytables, Tango_asymptotic_score_CI_paired_2x2, with
// their n12 = AIOnly, n21 = LegacyOnly).
func Tango(t Paired2x2, level float64) Interval {
	iv := Interval{Lo: math.NaN(), Hi: math.NaN(), Level: level, Method: "tango"}
	n := t.N()
	if n <= 0 || t.LegacyOnly < 0 || t.AIOnly < 0 || !(level > 0 && level < 1) {
		return iv
	}
	z := zQuantile(1 - (1-level)/2)
	n12, n21 := t.AIOnly, t.LegacyOnly
	est := t.Diff()
	f := func(d float64) float64 { return tangoZ(n12, n21, n, d) }
	// Lower end: Z(Δ) = z on [−1, est]. Z(−1) is +∞ unless all pairs are LegacyOnly.
	if n21 == n {
		iv.Lo = -1
	} else {
		iv.Lo = bisectDecreasing(f, z, -1, est)
	}
	if n12 == n {
		iv.Hi = 1
	} else {
		iv.Hi = bisectDecreasing(f, -z, est, 1)
	}
	return iv
}

// bisectDecreasing finds x in [lo, hi] with f(x) = target for f decreasing,
// assuming f(lo) >= target >= f(hi); it halves until the bracket cannot
// shrink in float64.
func bisectDecreasing(f func(float64) float64, target, lo, hi float64) float64 {
	for range 2000 {
		mid := lo + (hi-lo)/2
		if mid <= lo || mid >= hi {
			break
		}
		if f(mid) > target {
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo + (hi-lo)/2
}

// NonInferiority tests whether the AI is no worse than legacy by more than
// margin on paired outcomes: H0: pAI − pLegacy <= −margin vs
// H1: pAI − pLegacy > −margin, with Tango's score test. P is the one-sided
// score p-value 1 − Φ(Z(−margin)) (at least (1−margin)^N when no pair
// is discordant, see nonInferiorityP) and Statistic = Z(−margin). CI is Tango's
// interval at level 1−2α, so rejecting at α is the same as CI.Lo > −margin.
// NNeeded is NonInferiorityN(margin, observed discordance (b+c)/N, alpha,
// power) — the pairs needed for that power when the true difference is 0 —
// when N is smaller, else 0.
func NonInferiority(t Paired2x2, margin, alpha, power float64) Result {
	r := newResult(fmt.Sprintf("Tango score test for paired non-inferiority, one-sided (H1: pAI - pLegacy > -%g)", margin))
	if !(margin > 0 && margin < 1) || !(alpha > 0 && alpha < 0.5) {
		r.warn("invalid margin %g or alpha %g", margin, alpha)
		return r
	}
	if !pairedChecks(&r, t, false) {
		return r
	}
	n := t.N()
	r.Estimate = t.Diff()
	r.CI = Tango(t, 1-2*alpha)
	r.Statistic = tangoZ(t.AIOnly, t.LegacyOnly, n, -margin)
	r.P = nonInferiorityP(r.Statistic, t, margin)
	if t.AIOnly+t.LegacyOnly == 0 {
		r.warn("zero discordant pairs: the systems never disagreed; p is at least (1-margin)^n = %.3g, the chance of no discordant pair at the margin", r.P)
	}
	psi := float64(t.AIOnly+t.LegacyOnly) / float64(n)
	if need := NonInferiorityN(margin, psi, alpha, power); need > n {
		r.NNeeded = need
		r.warn("too few samples: %d pairs, need %d for power %g at true difference 0 with discordance %.3g", n, need, power, psi)
	}
	if t.AIOnly+t.LegacyOnly < 10 {
		r.warn("only %d discordant pairs: the score test's normal approximation is rough", t.AIOnly+t.LegacyOnly)
	}
	return r
}

// NonInferiorityP is NonInferiority(t, margin, alpha, power).P, the same
// float64, without the interval, the sample size and the warnings: a
// confidence-threshold search tests up to a hundred tables and keeps one
// (TestNonInferiorityP).
func NonInferiorityP(t Paired2x2, margin, alpha float64) float64 {
	if !(margin > 0 && margin < 1) || !(alpha > 0 && alpha < 0.5) {
		return math.NaN()
	}
	if t.BothRight < 0 || t.LegacyOnly < 0 || t.AIOnly < 0 || t.BothWrong < 0 || t.N() == 0 {
		return math.NaN() // pairedChecks fails
	}
	return nonInferiorityP(tangoZ(t.AIOnly, t.LegacyOnly, t.N(), -margin), t, margin)
}

// nonInferiorityP is the score test's p-value for statistic z, except
// that a table without discordant pairs gets at least (1−margin)^n.
// Under H0 (pAI − pLegacy ≤ −margin) the legacy-only share is at least
// margin, so no discordant pair in n has probability at most
// (1−margin)^n, and that probability is reached at the boundary: the
// p-value of what was seen cannot be smaller. The normal approximation
// gave less: with margin 0.02 it passed 133 concordant pairs at
// p = 0.0497 where (0.98)^133 = 0.068, an actual type-I error of ~7% at
// a nominal 5% (found by enumeration). Written by hand: no library has
// Tango's test.
func nonInferiorityP(z float64, t Paired2x2, margin float64) float64 {
	p := normalSF(z)
	if t.AIOnly+t.LegacyOnly == 0 {
		p = math.Max(p, math.Pow(1-margin, float64(t.N())))
	}
	return p
}

// NonInferiorityN is the number of pairs for Tango's non-inferiority score
// test at one-sided level alpha to reach power when the true difference is
// 0 and the true discordant proportion is discordance (= P(systems
// disagree)). Formula of Nam (1997, Biometrics 53:1422, eq. 5):
//
//	N = ((z_{1−α}·σ0 + z_{power}·σ1) / margin)²
//	σ1² = ψ − δ1² = ψ (true difference δ1 = 0)
//	σ0² = 2p̃21 + δ0(1−δ0), δ0 = −margin
//
// where p̃21 is the limit of Tango's restricted MLE under δ0 when
// n12/N = n21/N = ψ/2: the larger root of 2p² + (2δ0 − ψ)p − (ψ/2)δ0(1−δ0) = 0.
// Returns 0 for invalid arguments.
func NonInferiorityN(margin, discordance, alpha, power float64) int64 {
	if !(margin > 0 && margin < 1) || !(discordance >= 0 && discordance <= 1) || !(alpha > 0 && alpha < 1) || !(power > 0 && power < 1) {
		return 0
	}
	d0 := -margin
	psi := discordance
	B := 2*d0 - psi
	C := -psi / 2 * d0 * (1 - d0)
	p21 := (-B + math.Sqrt(B*B-8*C)) / 4
	s0 := math.Sqrt(2*p21 + d0*(1-d0))
	s1 := math.Sqrt(psi)
	x := (zQuantile(1-alpha)*s0 + zQuantile(power)*s1) / margin
	return int64(math.Ceil(x * x))
}
