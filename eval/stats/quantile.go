package stats

import (
	"math"
	"sort"
)

// Quantile is the q-quantile of the (expanded) weighted sample by
// Hyndman & Fan (1996, Am Stat 50:361) definition 7 — linear interpolation
// between order statistics at 0-based position h = (n−1)q, the default of R
// and numpy (numpy.quantile(np.repeat(X, W), q, method="linear")), and the
// same interpolation formula numpy uses so results agree to the last bit.
// Returns NaN for an empty sample or q outside [0, 1].
func Quantile(s Weighted, q float64) float64 {
	ws, _ := s.prepare()
	return ws.quantile7(q)
}

func (s wsample) quantile7(q float64) float64 {
	if s.n == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	h := float64(s.n-1) * q
	j := math.Floor(h)
	g := h - j
	a := s.at(int64(j))
	if g == 0 {
		return a
	}
	b := s.at(int64(j) + 1)
	// numpy's _lerp: a + (b−a)t, or b − (b−a)(1−t) for t >= ½ (monotone and exact at t = 1).
	d := b - a
	if g >= 0.5 {
		return b - d*(1-g)
	}
	return a + d*g
}

// QuantileCI is the distribution-free confidence interval for the
// q-quantile ξ_q from order statistics: [X_(l), X_(u)] with
// l = max{l : P(B <= l−1) <= α/2} and u = min{u : P(B >= u) <= α/2},
// B ~ Binomial(n, q), α = 1 − level, so coverage is >= level for continuous
// data (Conover 1999, Practical Nonparametric Statistics §3.2; Hahn &
// Meeker 1991, Statistical Intervals §5.2). An end that no order statistic
// can reach at this n is ±Inf. Method "order-statistic".
func QuantileCI(s Weighted, q, level float64) Interval {
	ws, _ := s.prepare()
	lo, hi := quantileCIRanks(ws.n, q, level)
	iv := Interval{Lo: math.Inf(-1), Hi: math.Inf(1), Level: level, Method: "order-statistic"}
	if ws.n == 0 || !(q > 0 && q < 1) || !(level > 0 && level < 1) {
		iv.Lo, iv.Hi = math.NaN(), math.NaN()
		return iv
	}
	if lo >= 1 {
		iv.Lo = ws.at(lo - 1)
	}
	if hi <= ws.n {
		iv.Hi = ws.at(hi - 1)
	}
	return iv
}

// quantileCIRanks returns the 1-based ranks (l, u) of QuantileCI; l = 0 or
// u = n+1 mean that end is unbounded.
func quantileCIRanks(n int64, q, level float64) (int64, int64) {
	a := (1 - level) / 2
	// P(B <= l−1) is increasing in l: largest l in [1, n] with it <= a.
	l := int64(sort.Search(int(n), func(i int) bool { return binomCDF(int64(i), n, q) > a }))
	// sort.Search gives the first i with CDF(i) > a, so l−1 = i−1 is the last
	// with CDF <= a, i.e. l = i.
	// P(B >= u) is decreasing in u: smallest u in [1, n] with it <= a.
	u := int64(sort.Search(int(n), func(i int) bool { return binomSF(int64(i+1), n, q) <= a })) + 1
	return l, u
}
