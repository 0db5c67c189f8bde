package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// KSExactMaxProduct is the largest n_a·n_b for which KS2 computes the exact
// p-value; above it the asymptotic Kolmogorov distribution is used.
const KSExactMaxProduct = 10_000_000

// KS2 is the two-sample Kolmogorov–Smirnov test, two-sided. D comes from
// gonum's stat.KolmogorovSmirnov (weights are the counts). The p-value is
//
//   - exact, P(D_{m,n} >= d) for continuous data, when m·n <=
//     KSExactMaxProduct — the same quantity as scipy.stats.ks_2samp(
//     method="exact"), computed here as the probability that a uniformly
//     random lattice path from (0,0) to (m,n) touches the band
//     |i/m − j/n| >= d (Hodges 1958, Ark Mat 3:469), summed forward as
//     absorbed mass so small p-values keep full relative precision;
//   - otherwise asymptotic, Q_KS(√(mn/(m+n))·d) with the Kolmogorov
//     limiting distribution Q_KS(λ) = 2Σ(−1)^{k−1}e^{−2k²λ²} (Kolmogorov 1933;
//     scipy.special.kolmogorov). scipy's ks_2samp(method="asymp") uses the
//     one-sample exact law at round(mn/(m+n)) instead, which differs by
//     O(1/√n).
//
// With ties the exact/asymptotic p-values are conservative (a warning says so).
func KS2(a, b Weighted) Result {
	r := newResult("two-sample Kolmogorov-Smirnov, two-sided")
	sa, sb, ok := prepareTwo(a, b, &r)
	if !ok {
		return r
	}
	fa, fb := make([]float64, len(sa.w)), make([]float64, len(sb.w))
	for i, w := range sa.w {
		fa[i] = float64(w)
	}
	for i, w := range sb.w {
		fb[i] = float64(w)
	}
	d := stat.KolmogorovSmirnov(sa.x, fa, sb.x, fb)
	r.Statistic = d
	r.Estimate = d
	if sa.hasTies() || sb.hasTies() || shareValue(sa.x, sb.x) {
		r.warn("ties: the KS p-value assumes continuous data and is conservative with ties")
	}
	m, n := sa.n, sb.n
	if float64(m)*float64(n) <= KSExactMaxProduct {
		r.Test += " (exact p-value)"
		r.P = ksExactSF(m, n, d)
	} else {
		r.Test += " (asymptotic Kolmogorov p-value)"
		en := float64(m) * float64(n) / float64(m+n)
		r.P = KolmogorovSF(math.Sqrt(en) * d)
	}
	return r
}

func shareValue(x, y []float64) bool {
	for _, v := range x {
		i := sort.SearchFloat64s(y, v)
		if i < len(y) && y[i] == v {
			return true
		}
	}
	return false
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// ksExactSF is P(D_{m,n} >= d) under H0 for continuous data. The
// observed d is snapped to the lattice h/lcm(m,n) as scipy does. A path
// point (i, j) is outside the band when |i·n − j·m| >= h·gcd(m,n); the
// uniform random path is the urn chain that steps in i with probability
// (m−i)/(m+n−i−j). Mass stepping outside is absorbed; the absorbed total
// is the p-value (Hodges 1958 counts the same paths).
func ksExactSF(m, n int64, d float64) float64 {
	g := gcd(m, n)
	lcm := m / g * n
	h := int64(math.Round(d * float64(lcm)))
	if h <= 0 {
		return 1
	}
	thr := h * g
	if n > m {
		m, n = n, m // the statistic is symmetric; keep the row buffer short
	}
	inside := func(i, j int64) bool {
		v := i*n - j*m
		if v < 0 {
			v = -v
		}
		return v < thr
	}
	cur := make([]float64, n+1)
	next := make([]float64, n+1)
	cur[0] = 1
	var absorbed float64
	for i := int64(0); i <= m; i++ {
		for j := range next {
			next[j] = 0
		}
		for j := int64(0); j <= n; j++ {
			p := cur[j]
			if p == 0 {
				continue
			}
			left := float64(m + n - i - j)
			if left == 0 {
				continue
			}
			if i < m {
				q := p * float64(m-i) / left
				if inside(i+1, j) {
					next[j] += q
				} else {
					absorbed += q
				}
			}
			if j < n {
				q := p * float64(n-j) / left
				if inside(i, j+1) {
					cur[j+1] += q
				} else {
					absorbed += q
				}
			}
		}
		cur, next = next, cur
	}
	return math.Min(1, absorbed)
}

// KolmogorovSF is the survival function of the Kolmogorov distribution,
// Q(λ) = P(K > λ). For λ >= 1 it sums 2Σ_{k>=1}(−1)^{k−1}e^{−2k²λ²};
// for smaller λ it uses the Jacobi-theta form
// P(K <= λ) = (√(2π)/λ)Σ_{k>=1}e^{−(2k−1)²π²/(8λ²)}, which converges fast
// there (Marsaglia, Tsang & Wang 2003, J Stat Softw 8(18), §1).
func KolmogorovSF(lambda float64) float64 {
	switch {
	case math.IsNaN(lambda):
		return math.NaN()
	case lambda <= 0:
		return 1
	case lambda < 1:
		if lambda < 0.04 {
			return 1 // P(K <= λ) < 1e-300
		}
		var s float64
		c := math.Pi * math.Pi / (8 * lambda * lambda)
		for k := 1; k < 100; k++ {
			t := math.Exp(-float64((2*k-1)*(2*k-1)) * c)
			s += t
			if t < 1e-17*s {
				break
			}
		}
		return 1 - math.Sqrt(2*math.Pi)/lambda*s
	}
	var s float64
	sgn := 1.0
	for k := 1; k < 100; k++ {
		t := math.Exp(-2 * float64(k*k) * lambda * lambda)
		s += sgn * t
		if t < 1e-17*math.Abs(s) {
			break
		}
		sgn = -sgn
	}
	return math.Max(0, math.Min(1, 2*s))
}

// ChiSquareHomogeneity is Pearson's chi-square test that two samples of
// categories come from the same distribution: the 2×K contingency table
// of counts, expected counts row·column/N, statistic from gonum's
// stat.ChiSquare, p from χ²_{K−1} — scipy.stats.chi2_contingency(...,
// correction=False). Categories empty in both samples are dropped.
// Estimate is Cramér's V = √(X²/N). Warns when expected counts are below 5
// (Cochran 1954, Biometrics 10:417).
func ChiSquareHomogeneity(a, b map[string]int64) Result {
	r := newResult("Pearson chi-square homogeneity")
	keys := make([]string, 0, len(a)+len(b))
	seen := map[string]bool{}
	for k := range a {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for k := range b {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var na, nb float64
	var used []string
	for _, k := range keys {
		if a[k] < 0 || b[k] < 0 {
			r.warn("negative count for category %q: dropped", k)
			continue
		}
		if a[k]+b[k] == 0 {
			continue
		}
		used = append(used, k)
		na += float64(a[k])
		nb += float64(b[k])
	}
	r.N = int64(na + nb)
	if na == 0 || nb == 0 {
		r.warn("empty sample (n_a=%g, n_b=%g): no test", na, nb)
		return r
	}
	if len(used) < 2 {
		r.warn("fewer than two non-empty categories: no test")
		r.P = 1
		r.Statistic = 0
		r.Estimate = 0
		return r
	}
	N := na + nb
	obs := make([]float64, 0, 2*len(used))
	exp := make([]float64, 0, 2*len(used))
	small := 0
	for _, k := range used {
		col := float64(a[k] + b[k])
		for _, row := range [][2]float64{{float64(a[k]), na}, {float64(b[k]), nb}} {
			e := row[1] * col / N
			obs = append(obs, row[0])
			exp = append(exp, e)
			if e < 5 {
				small++
			}
		}
	}
	if small > 0 {
		r.warn("%d of %d expected counts below 5: the chi-square approximation may be poor", small, len(exp))
	}
	x2 := stat.ChiSquare(obs, exp)
	r.Statistic = x2
	r.P = distuv.ChiSquared{K: float64(len(used) - 1)}.Survival(x2)
	r.Estimate = math.Sqrt(x2 / N)
	return r
}

// DefaultPSIEpsilon is the proportion floor PSI uses when eps <= 0.
const DefaultPSIEpsilon = 1e-4

// PSI is the population stability index Σ_i (c_i − b_i)·ln(c_i/b_i) over
// the union of categories, where b_i and c_i are the category proportions
// of baseline and current, each floored at eps (DefaultPSIEpsilon when
// eps <= 0) without renormalizing, so an empty category contributes a
// large but finite term (Siddiqi 2006, Credit Risk Scorecards, ch. 8;
// Yurdakul 2018, "Statistical properties of population stability index").
// Returns NaN when either side has no counts.
func PSI(baseline, current map[string]int64, eps float64) float64 {
	if eps <= 0 {
		eps = DefaultPSIEpsilon
	}
	var nb, nc float64
	for _, v := range baseline {
		nb += float64(max(v, 0))
	}
	for _, v := range current {
		nc += float64(max(v, 0))
	}
	if nb == 0 || nc == 0 {
		return math.NaN()
	}
	keys := make([]string, 0, len(baseline)+len(current))
	for k := range baseline {
		keys = append(keys, k)
	}
	for k := range current {
		if _, ok := baseline[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys) // fixed summation order: reproducible to the bit
	var psi float64
	for _, k := range keys {
		b := math.Max(float64(max(baseline[k], 0))/nb, eps)
		c := math.Max(float64(max(current[k], 0))/nc, eps)
		psi += (c - b) * math.Log(c/b)
	}
	return psi
}
