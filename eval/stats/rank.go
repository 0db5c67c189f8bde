package stats

import "math"

// ExactRankMaxN is the largest sample size for which the Hodges–Lehmann
// confidence intervals use the exact null distribution of the rank
// statistic (signed-rank n, or both Mann–Whitney sizes); above it they use
// the normal approximation with continuity correction. 50 is R's
// wilcox.test default for exact computation.
const ExactRankMaxN = 50

// smallRankN is the sample size below which rank-test p-values from the
// normal approximation get a warning.
const smallRankN = 20

// defaultCILevel is the level of the CIs attached to rank tests.
const defaultCILevel = 0.95

// WilcoxonSignedRank tests H0: the paired differences d are symmetric about
// 0, two-sided (Wilcoxon 1945). Zeros are dropped before ranking
// (Wilcoxon's "wilcox" zero method); |d| ties get mid-ranks. The p-value is
// the normal approximation with tie correction and continuity correction,
// z = (T − n(n+1)/4 − ½·sign(T − n(n+1)/4)) / σ, T = min(W+, W−),
// σ² = n(n+1)(2n+1)/24 − Σ(t³−t)/48 — identical to scipy.stats.wilcoxon(
// zero_method="wilcox", correction=True, method="approx").
// Statistic is W+ (sum of ranks of positive differences, R's V).
// Estimate is the Hodges–Lehmann pseudo-median of all differences
// (zeros included) with its 95% CI; see HodgesLehmannPaired.
func WilcoxonSignedRank(d Weighted) Result {
	r := newResult("Wilcoxon signed-rank, two-sided (normal approximation, tie and continuity corrected)")
	s, warns := d.prepare()
	r.Warnings = append(r.Warnings, warns...)
	r.N = s.n
	if s.n == 0 {
		r.warn("no observations: no test")
		return r
	}
	r.Estimate, r.CI = hodgesLehmannPaired(s, defaultCILevel, &r)

	// Group by |d|, splitting counts by sign; zeros are dropped.
	type grp struct {
		abs      float64
		pos, neg int64
	}
	var gs []grp
	var zeros int64
	// s.x is sorted, so negatives come first in decreasing |x|; merge the
	// two monotone halves by |x|.
	neg, pos := []int{}, []int{}
	for i, x := range s.x {
		switch {
		case x < 0:
			neg = append(neg, i)
		case x > 0:
			pos = append(pos, i)
		default:
			zeros += s.w[i]
		}
	}
	ni, pi := len(neg)-1, 0
	for ni >= 0 || pi < len(pos) {
		var g grp
		switch {
		case pi >= len(pos) || (ni >= 0 && -s.x[neg[ni]] < s.x[pos[pi]]):
			g = grp{abs: -s.x[neg[ni]], neg: s.w[neg[ni]]}
			ni--
		case ni < 0 || s.x[pos[pi]] < -s.x[neg[ni]]:
			g = grp{abs: s.x[pos[pi]], pos: s.w[pos[pi]]}
			pi++
		default:
			g = grp{abs: s.x[pos[pi]], pos: s.w[pos[pi]], neg: s.w[neg[ni]]}
			pi++
			ni--
		}
		gs = append(gs, g)
	}
	if zeros > 0 {
		r.warn("%d zero differences dropped before ranking (Wilcoxon zero method)", zeros)
	}
	var n int64
	var wPlus, wMinus, tieSum float64
	ties := false
	for _, g := range gs {
		t := g.pos + g.neg
		mid := float64(n) + float64(t+1)/2 // mid-rank of the tied group
		wPlus += mid * float64(g.pos)
		wMinus += mid * float64(g.neg)
		if t > 1 {
			ties = true
			tf := float64(t)
			tieSum += tf*tf*tf - tf
		}
		n += t
	}
	if n == 0 {
		r.warn("all differences are zero: no test")
		return r
	}
	if ties {
		r.warn("ties among |differences|: tie-corrected variance used")
	}
	if n < smallRankN {
		r.warn("too few samples: %d non-zero differences; the normal approximation is rough below %d", n, smallRankN)
	}
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - tieSum/48)
	T := math.Min(wPlus, wMinus)
	z := (T - mean - 0.5*sign(T-mean)) / sd
	r.Statistic = wPlus
	r.P = 2 * normalSF(math.Abs(z))
	return r
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// MannWhitney tests H0: the two samples come from the same distribution
// against a location shift, two-sided (Mann & Whitney 1947). Ties get
// mid-ranks; the p-value is the normal approximation with tie correction
// and continuity correction, identical to scipy.stats.mannwhitneyu(a, b,
// use_continuity=True, alternative="two-sided", method="asymptotic").
// Statistic is U for a (R_a − n_a(n_a+1)/2). Estimate is the
// Hodges–Lehmann shift b − a (median of all pairwise differences) with its
// 95% CI (Method "hodges-lehmann"; see HodgesLehmannShift).
func MannWhitney(a, b Weighted) Result {
	r := newResult("Mann-Whitney U, two-sided (normal approximation, tie and continuity corrected)")
	sa, sb, ok := prepareTwo(a, b, &r)
	if !ok {
		return r
	}
	r.Estimate, r.CI = hodgesLehmannShift(sa, sb, defaultCILevel, &r)

	// Rank the merged sample.
	var rank0 int64
	var ra, tieSum float64
	ties := false
	i, j := 0, 0
	for i < len(sa.x) || j < len(sb.x) {
		var ca, cb int64
		switch {
		case j >= len(sb.x) || (i < len(sa.x) && sa.x[i] < sb.x[j]):
			ca = sa.w[i]
			i++
		case i >= len(sa.x) || sb.x[j] < sa.x[i]:
			cb = sb.w[j]
			j++
		default:
			ca, cb = sa.w[i], sb.w[j]
			i++
			j++
		}
		t := ca + cb
		ra += (float64(rank0) + float64(t+1)/2) * float64(ca)
		if t > 1 {
			ties = true
			tf := float64(t)
			tieSum += tf*tf*tf - tf
		}
		rank0 += t
	}
	if ties {
		r.warn("ties in the pooled sample: tie-corrected variance used")
	}
	n1, n2 := float64(sa.n), float64(sb.n)
	if sa.n < smallRankN || sb.n < smallRankN {
		r.warn("too few samples: n_a=%d, n_b=%d; the normal approximation is rough below %d each", sa.n, sb.n, smallRankN)
	}
	nn := n1 + n2
	u1 := ra - n1*(n1+1)/2
	u := math.Max(u1, n1*n2-u1)
	sd := math.Sqrt(n1 * n2 / 12 * ((nn + 1) - tieSum/(nn*(nn-1))))
	r.Statistic = u1
	if sd == 0 {
		r.warn("all observations equal: no test")
		r.P = 1
		return r
	}
	z := (u - n1*n2/2 - 0.5) / sd
	r.P = math.Min(1, math.Max(0, 2*normalSF(z)))
	return r
}

// HodgesLehmannPaired is the Hodges–Lehmann one-sample location estimate
// (median of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i <= j, of all n
// observations, zeros included) with Tukey's distribution-free interval
// [W_(c+1), W_(M−c)], M = n(n+1)/2, c = max{c : P(T+ <= c) <= (1−level)/2}
// under the signed-rank null (Hodges & Lehmann 1963, Ann Math Stat 34:598;
// Hollander & Wolfe, Nonparametric Statistical Methods, 3rd ed., §3.2).
// The null distribution is exact for n <= ExactRankMaxN, otherwise normal
// with continuity correction, c = ⌊n(n+1)/4 − z·σ − ½⌋; ties are ignored
// in the critical value. When the level is unattainable (n too small) the
// ends are ±Inf. Weighted input is never expanded: the order statistics
// are selected by counting (see pairSpace.kth).
func HodgesLehmannPaired(d Weighted, level float64) (est float64, ci Interval) {
	s, _ := d.prepare()
	var r Result
	return hodgesLehmannPaired(s, level, &r)
}

func hodgesLehmannPaired(s wsample, level float64, r *Result) (float64, Interval) {
	ci := Interval{Lo: math.NaN(), Hi: math.NaN(), Level: level, Method: "hodges-lehmann"}
	if s.n == 0 || !(level > 0 && level < 1) {
		return math.NaN(), ci
	}
	if s.n > 4_000_000_000 {
		r.warn("n=%d too large for int64 Walsh-average counts", s.n)
		return math.NaN(), ci
	}
	p := newWalsh(s)
	est := p.median()
	var c int64
	if s.n <= ExactRankMaxN {
		c = exactCritical(signedRankCDF(int(s.n)), (1-level)/2)
	} else {
		nf := float64(s.n)
		mu := nf * (nf + 1) / 4
		sd := math.Sqrt(nf * (nf + 1) * (2*nf + 1) / 24)
		c = int64(math.Floor(mu - zQuantile(1-(1-level)/2)*sd - 0.5))
	}
	ci.Lo, ci.Hi = orderCI(p, c, level, r)
	return est, ci
}

// HodgesLehmannShift is the Hodges–Lehmann two-sample shift estimate of
// b − a (median of the n_a·n_b differences b_j − a_i) with the
// distribution-free interval [D_(c+1), D_(M−c)], M = n_a·n_b,
// c = max{c : P(U <= c) <= (1−level)/2} under the Mann–Whitney null
// (Hodges & Lehmann 1963; Hollander & Wolfe §4.3). Exact null distribution
// when both sizes are <= ExactRankMaxN, else normal with continuity
// correction, c = ⌊n_a n_b/2 − z·√(n_a n_b (n_a+n_b+1)/12) − ½⌋.
func HodgesLehmannShift(a, b Weighted, level float64) (est float64, ci Interval) {
	sa, _ := a.prepare()
	sb, _ := b.prepare()
	var r Result
	return hodgesLehmannShift(sa, sb, level, &r)
}

func hodgesLehmannShift(a, b wsample, level float64, r *Result) (float64, Interval) {
	ci := Interval{Lo: math.NaN(), Hi: math.NaN(), Level: level, Method: "hodges-lehmann"}
	if a.n == 0 || b.n == 0 || !(level > 0 && level < 1) {
		return math.NaN(), ci
	}
	if float64(a.n)*float64(b.n) > 9e18 {
		r.warn("n_a·n_b too large for int64 pair counts")
		return math.NaN(), ci
	}
	p := newDiffs(a, b)
	est := p.median()
	var c int64
	if a.n <= ExactRankMaxN && b.n <= ExactRankMaxN {
		c = exactCritical(mannWhitneyCDF(int(a.n), int(b.n)), (1-level)/2)
	} else {
		m, n := float64(a.n), float64(b.n)
		sd := math.Sqrt(m * n * (m + n + 1) / 12)
		c = int64(math.Floor(m*n/2 - zQuantile(1-(1-level)/2)*sd - 0.5))
	}
	ci.Lo, ci.Hi = orderCI(p, c, level, r)
	return est, ci
}

// orderCI returns the (c+1)-th smallest and (c+1)-th largest pair values,
// or ±Inf when c < 0 (level not attainable).
func orderCI(p *pairSpace, c int64, level float64, r *Result) (float64, float64) {
	if c < 0 {
		r.warn("too few samples for a %.3g%% Hodges-Lehmann interval: ends are infinite", 100*level)
		return math.Inf(-1), math.Inf(1)
	}
	return p.kth(c + 1), p.kth(p.total - c)
}

// exactCritical returns max{c : cdf[c] <= a}, or −1 when none.
func exactCritical(cdf []float64, a float64) int64 {
	c := int64(-1)
	for i, v := range cdf {
		// A relative slack of 1e-12 keeps exact-probability boundaries
		// (cdf == a in exact arithmetic) on the "reject" side.
		if v <= a*(1+1e-12) {
			c = int64(i)
		} else {
			break
		}
	}
	return c
}

// signedRankCDF is P(T+ <= t), t = 0..n(n+1)/2, for the Wilcoxon
// signed-rank statistic under H0 without ties, from the recursion
// f_n(t) = ½f_{n−1}(t) + ½f_{n−1}(t−n) (Hollander & Wolfe §3.1).
func signedRankCDF(n int) []float64 {
	m := n * (n + 1) / 2
	f := make([]float64, m+1)
	f[0] = 1
	top := 0
	for k := 1; k <= n; k++ {
		top += k
		for t := top; t >= 0; t-- {
			v := f[t] / 2
			if t >= k {
				v += f[t-k] / 2
			}
			f[t] = v
		}
	}
	for t := 1; t <= m; t++ {
		f[t] += f[t-1]
	}
	return f
}

// mannWhitneyCDF is P(U <= u), u = 0..m·n, for the Mann–Whitney statistic
// under H0 without ties, from the recursion
// p_{m,n}(u) = m/(m+n)·p_{m−1,n}(u−n) + n/(m+n)·p_{m,n−1}(u)
// (Mann & Whitney 1947, eq. 2).
func mannWhitneyCDF(m, n int) []float64 {
	// prev[j] holds p_{i−1, j}; cur[j] holds p_{i, j}.
	prev := make([][]float64, n+1)
	for j := range prev {
		prev[j] = []float64{1} // p_{0,j}: U = 0 surely
	}
	for i := 1; i <= m; i++ {
		cur := make([][]float64, n+1)
		cur[0] = []float64{1}
		for j := 1; j <= n; j++ {
			p := make([]float64, i*j+1)
			wa := float64(i) / float64(i+j)
			wb := float64(j) / float64(i+j)
			for u, v := range prev[j] { // shift by j: the new a-value exceeds all j b-values
				p[u+j] += wa * v
			}
			for u, v := range cur[j-1] {
				p[u] += wb * v
			}
			cur[j] = p
		}
		prev = cur
	}
	f := prev[n]
	for u := 1; u < len(f); u++ {
		f[u] += f[u-1]
	}
	return f
}
