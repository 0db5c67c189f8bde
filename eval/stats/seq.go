package stats

import "math"

// CSRho is the mixing parameter ρ of the asymptotic confidence sequence
// tuned so the boundary is (nearly) tightest at n = plannedN:
//
//	ρ² = (−2 ln α + ln(−2 ln α + 1)) / plannedN
//
// (Waudby-Smith, Arbel, Howard, Ramdas et al. 2021, "Time-uniform central
// limit theory and asymptotic confidence sequences", arXiv:2103.06476; the
// closed form is best_rho2_approx in the authors' R package drconfseq and
// the tuning GrowthBook uses). It is one fixed-point step towards the
// exact minimizer of the half-width at plannedN, u = 2 ln(1/α) + ln(u+1)
// with u = plannedN·ρ².
func CSRho(alpha float64, plannedN int64) float64 {
	l := -2 * math.Log(alpha)
	return math.Sqrt((l + math.Log(l+1)) / float64(plannedN))
}

// ConfidenceSequence is the two-sided (1−α) asymptotic confidence sequence
// for a mean after n observations with sample mean and (per-observation)
// sample variance:
//
//	mean ± √(variance · 2(nρ²+1)/(n²ρ²) · ln(√(nρ²+1)/α)),  ρ = CSRho(α, plannedN)
//
// (Waudby-Smith et al. 2021, Theorem 2.2 — Robbins' normal-mixture boundary
// applied to the CLT-coupled partial sums). Unlike a fixed-n interval it
// holds simultaneously over all n, so it may be checked after every daily
// look without inflating the error rate; it is "asymptotic" in that the
// guarantee needs n large enough for the CLT. plannedN <= 0 tunes for the
// current n. Method "asymptotic-cs".
//
// The normal-mixture martingale is symmetric in the sign of the deviation,
// so this boundary at α is a valid two-sided (1−α) sequence, and each side
// alone errs with probability <= α. (drconfseq spends α/2 per side, which
// is more conservative; GrowthBook uses α as here.)
func ConfidenceSequence(n int64, mean, variance, alpha float64, plannedN int64) Interval {
	iv := Interval{Lo: math.Inf(-1), Hi: math.Inf(1), Level: 1 - alpha, Method: "asymptotic-cs"}
	if n <= 0 || math.IsNaN(mean) || math.IsNaN(variance) || variance < 0 || !(alpha > 0 && alpha < 1) {
		return iv
	}
	if plannedN <= 0 {
		plannedN = n
	}
	rho := CSRho(alpha, plannedN)
	nf := float64(n)
	r2 := rho * rho
	half := math.Sqrt(variance * 2 * (nf*r2 + 1) / (nf * nf * r2) * math.Log(math.Sqrt(nf*r2+1)/alpha))
	iv.Lo, iv.Hi = mean-half, mean+half
	return iv
}
