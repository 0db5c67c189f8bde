package stats

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// randWeighted draws m values (rounded to grid so ties occur) with counts in [1, maxW].
func randWeighted(rng *rand.Rand, m, maxW int, grid float64) Weighted {
	x := make([]float64, m)
	w := make([]float64, m)
	for i := range x {
		x[i] = math.Round(rng.NormFloat64()/grid) * grid
		w[i] = float64(1 + rng.IntN(maxW))
	}
	return Weighted{X: x, W: w}
}

func expandW(s Weighted) Weighted {
	var x []float64
	for i, v := range s.X {
		for range int(s.W[i]) {
			x = append(x, v)
		}
	}
	return Weighted{X: x}
}

func TestWeightedEqualsExpanded(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 20 {
		a := randWeighted(rng, 5+rng.IntN(40), 1+rng.IntN(6), 0.05)
		b := randWeighted(rng, 5+rng.IntN(40), 1+rng.IntN(6), 0.05)
		ea, eb := expandW(a), expandW(b)
		pairs := []struct {
			name string
			w, e Result
		}{
			{"wilcoxon", WilcoxonSignedRank(a), WilcoxonSignedRank(ea)},
			{"mann-whitney", MannWhitney(a, b), MannWhitney(ea, eb)},
			{"ks2", KS2(a, b), KS2(ea, eb)},
		}
		for _, p := range pairs {
			for _, f := range [][3]float64{{p.w.P, p.e.P, 0}, {p.w.Statistic, p.e.Statistic, 1}, {p.w.Estimate, p.e.Estimate, 2}, {p.w.CI.Lo, p.e.CI.Lo, 3}, {p.w.CI.Hi, p.e.CI.Hi, 4}} {
				if !closeTo(f[0], f[1], 1e-12, 1e-15) {
					t.Errorf("trial %d %s field %g: weighted %.17g != expanded %.17g", trial, p.name, f[2], f[0], f[1])
				}
			}
			if p.w.N != p.e.N {
				t.Errorf("trial %d %s: N %d != %d", trial, p.name, p.w.N, p.e.N)
			}
		}
		for _, q := range []float64{0, 0.1, 0.5, 0.77, 0.99, 1} {
			if x, y := Quantile(a, q), Quantile(ea, q); x != y {
				t.Errorf("Quantile(%g): weighted %g != expanded %g", q, x, y)
			}
			if x, y := QuantileCI(a, q, 0.9), QuantileCI(ea, q, 0.9); x != y && q > 0 && q < 1 {
				t.Errorf("QuantileCI(%g): weighted %+v != expanded %+v", q, x, y)
			}
		}
	}
}

// TestPairSpaceKth checks the counting/bisection selection of Walsh
// averages and pairwise differences against sorting the expanded set,
// including heavy ties (where the bracket cannot be split) and enough
// distinct pairs to force the bisection path.
func TestPairSpaceKth(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	cases := []struct {
		name string
		a, b Weighted
	}{
		{"all-equal", Weighted{X: []float64{2.5}, W: []float64{40}}, Weighted{X: []float64{2.5, 2.5}, W: []float64{3, 4}}},
		{"small", randWeighted(rng, 7, 3, 0.5), randWeighted(rng, 5, 3, 0.5)},
		{"bisection", randWeighted(rng, 300, 4, 1e-6), randWeighted(rng, 250, 4, 1e-6)},
		{"coarse-ties", randWeighted(rng, 400, 9, 0.5), randWeighted(rng, 300, 9, 0.5)},
	}
	for _, c := range cases {
		sa, _ := c.a.prepare()
		sb, _ := c.b.prepare()
		ea, eb := expandW(c.a).X, expandW(c.b).X
		var walsh, diffs []float64
		for i := range ea {
			for j := i; j < len(ea); j++ {
				walsh = append(walsh, (ea[i]+ea[j])/2)
			}
		}
		for _, x := range ea {
			for _, y := range eb {
				diffs = append(diffs, y-x)
			}
		}
		slices.Sort(walsh)
		slices.Sort(diffs)
		for _, sp := range []struct {
			name string
			p    *pairSpace
			all  []float64
		}{{"walsh", newWalsh(sa), walsh}, {"diffs", newDiffs(sa, sb), diffs}} {
			if sp.p.total != int64(len(sp.all)) {
				t.Fatalf("%s/%s: total %d, want %d", c.name, sp.name, sp.p.total, len(sp.all))
			}
			ks := []int64{1, 2, sp.p.total / 3, sp.p.total / 2, sp.p.total/2 + 1, sp.p.total - 1, sp.p.total}
			for range 10 {
				ks = append(ks, 1+rng.Int64N(sp.p.total))
			}
			for _, k := range ks {
				if k < 1 {
					continue
				}
				if got, want := sp.p.kth(k), sp.all[k-1]; got != want {
					t.Errorf("%s/%s: kth(%d) = %g, want %g", c.name, sp.name, k, got, want)
				}
			}
		}
	}
}

// TestDualities: each test rejects at α exactly when its reported
// 1−2α interval excludes the null boundary.
func TestDualities(t *testing.T) {
	const alpha = 0.05
	for _, n := range []int64{1, 7, 40, 300} {
		for k := int64(0); k <= n; k += 1 + n/25 {
			for _, bound := range []float64{0.01, 0.05, 0.3} {
				r := RateBelow(k, n, bound, alpha, 0.8, bound/2)
				if (r.P < alpha) != (r.CI.Hi < bound) {
					t.Errorf("RateBelow(%d,%d,%g): P=%g but CI.Hi=%g", k, n, bound, r.P, r.CI.Hi)
				}
				r = RateAbove(k, n, bound, alpha)
				if (r.P < alpha) != (r.CI.Lo > bound) {
					t.Errorf("RateAbove(%d,%d,%g): P=%g but CI.Lo=%g", k, n, bound, r.P, r.CI.Lo)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for range 300 {
		tb := Paired2x2{rng.Int64N(500), rng.Int64N(40), rng.Int64N(40), rng.Int64N(100)}
		if tb.N() == 0 {
			continue
		}
		margin := []float64{0.01, 0.02, 0.05}[rng.IntN(3)]
		r := NonInferiority(tb, margin, alpha, 0.8)
		// Skip draws whose P lies within rounding of α.
		if math.Abs(r.P-alpha) < 1e-9 {
			continue
		}
		if (r.P < alpha) != (r.CI.Lo > -margin) {
			t.Errorf("NonInferiority(%+v, %g): P=%g but CI.Lo=%g", tb, margin, r.P, r.CI.Lo)
		}
		if !(r.CI.Lo <= r.Estimate && r.Estimate <= r.CI.Hi && r.CI.Lo >= -1 && r.CI.Hi <= 1) {
			t.Errorf("Tango CI %+v does not bracket estimate %g inside [-1,1]", r.CI, r.Estimate)
		}
	}
}

// TestRateBelowNIsFirst recomputes the exact power by brute force (critical
// value by scanning k) at the returned n and every smaller n.
func TestRateBelowNIsFirst(t *testing.T) {
	power := func(n int64, bound, planned, alpha float64) float64 {
		kc := int64(-1)
		for k := int64(0); k <= n; k++ {
			if binomCDF(k, n, bound) <= alpha {
				kc = k
			}
		}
		if kc < 0 {
			return 0
		}
		return binomCDF(kc, n, planned)
	}
	for _, c := range [][4]float64{{0.05, 0.025, 0.05, 0.8}, {0.1, 0.02, 0.05, 0.9}, {0.2, 0.1, 0.01, 0.8}} {
		n := RateBelowN(c[0], c[1], c[2], c[3])
		if n <= 0 {
			t.Fatalf("RateBelowN%v = %d", c, n)
		}
		if p := power(n, c[0], c[1], c[2]); p < c[3] {
			t.Errorf("RateBelowN%v = %d but power there is %g", c, n, p)
		}
		for m := int64(1); m < n; m++ {
			if p := power(m, c[0], c[1], c[2]); p >= c[3] {
				t.Errorf("RateBelowN%v = %d but n=%d already has power %g", c, n, m, p)
				break
			}
		}
	}
}

func hasWarning(r Result, sub string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

func TestWarningsInsteadOfFailure(t *testing.T) {
	cases := []struct {
		name   string
		r      Result
		warn   string
		wantP  func(float64) bool
		enough bool
	}{
		{"no discordant pairs", McNemar(Paired2x2{BothRight: 90, BothWrong: 10}), "zero discordant", func(p float64) bool { return p == 1 }, true},
		{"midp no discordant", McNemarMidP(Paired2x2{BothRight: 90}), "zero discordant", func(p float64) bool { return p == 1 }, true},
		{"empty table", McNemar(Paired2x2{}), "no pairs", math.IsNaN, true},
		{"negative count", McNemar(Paired2x2{LegacyOnly: -1}), "negative", math.IsNaN, true},
		{"rate n=0", RateBelow(0, 0, 0.05, 0.05, 0.8, 0.025), "no observations", math.IsNaN, false},
		{"rate k>n", RateAbove(5, 3, 0.05, 0.05), "invalid counts", math.IsNaN, true},
		{"rate too few", RateBelow(0, 20, 0.05, 0.05, 0.8, 0.025), "too few samples", func(p float64) bool { return p > 0.05 }, false},
		{"noninf too few", NonInferiority(Paired2x2{100, 5, 5, 10}, 0.02, 0.05, 0.8), "too few samples", func(p float64) bool { return p > 0 && p < 1 }, false},
		{"chi2 small expected", ChiSquareHomogeneity(map[string]int64{"a": 3, "b": 1}, map[string]int64{"a": 1, "b": 4}), "below 5", func(p float64) bool { return p > 0 && p < 1 }, true},
		{"chi2 one category", ChiSquareHomogeneity(map[string]int64{"a": 3}, map[string]int64{"a": 9}), "fewer than two", func(p float64) bool { return p == 1 }, true},
		{"wilcoxon zeros", WilcoxonSignedRank(Unweighted([]float64{0, 0, 1, 2, -1, 3, 4, 5})), "zero differences dropped", func(p float64) bool { return p > 0 && p < 1 }, true},
		{"wilcoxon ties", WilcoxonSignedRank(Unweighted([]float64{1, 1, 2, 2, -1, 3})), "ties", func(p float64) bool { return p > 0 && p < 1 }, true},
		{"wilcoxon small n", WilcoxonSignedRank(Unweighted([]float64{1, 2, -3})), "too few samples", func(p float64) bool { return p > 0 && p <= 1 }, true},
		{"wilcoxon all zero", WilcoxonSignedRank(Unweighted([]float64{0, 0})), "all differences are zero", math.IsNaN, true},
		{"wilcoxon NaN input", WilcoxonSignedRank(Unweighted([]float64{math.NaN(), 1, 2})), "dropped", func(p float64) bool { return p > 0 }, true},
		{"mw empty", MannWhitney(Unweighted(nil), Unweighted([]float64{1})), "empty sample", math.IsNaN, true},
		{"mw all equal", MannWhitney(Unweighted([]float64{1, 1}), Unweighted([]float64{1, 1, 1})), "all observations equal", func(p float64) bool { return p == 1 }, true},
		{"ks ties", KS2(Unweighted([]float64{1, 2, 2}), Unweighted([]float64{2, 3})), "ties", func(p float64) bool { return p > 0 && p <= 1 }, true},
		{"quantile-below too few", QuantileBelow(0, 10, 0.99, 1, 0.05), "too few samples", func(p float64) bool { return p > 0.05 }, true},
	}
	for _, c := range cases {
		if !hasWarning(c.r, c.warn) {
			t.Errorf("%s: warnings %q lack %q", c.name, c.r.Warnings, c.warn)
		}
		if !c.wantP(c.r.P) {
			t.Errorf("%s: unexpected P = %g", c.name, c.r.P)
		}
		if c.r.Enough() != c.enough {
			t.Errorf("%s: Enough() = %v (NNeeded %d), want %v", c.name, c.r.Enough(), c.r.NNeeded, c.enough)
		}
	}
	// With plenty of data the same test needs nothing more.
	if r := NonInferiority(Paired2x2{90000, 5000, 5000, 10000}, 0.02, 0.05, 0.8); !r.Enough() || hasWarning(r, "too few") {
		t.Errorf("large table: NNeeded %d, warnings %q", r.NNeeded, r.Warnings)
	}
}

func TestKolmogorovSF(t *testing.T) {
	// Both series agree where they meet, and Q decreases from 1 to 0.
	if a, b := KolmogorovSF(math.Nextafter(1, 0)), KolmogorovSF(1); math.Abs(a-b) > 1e-14 {
		t.Errorf("branches disagree at λ=1: %.17g vs %.17g", a, b)
	}
	prev := 1.0
	for l := 0.01; l < 5; l += 0.01 {
		q := KolmogorovSF(l)
		if q > prev || q < 0 || q > 1 {
			t.Fatalf("Q(%g) = %g not in [0, previous %g]", l, q, prev)
		}
		prev = q
	}
}

// TestKSExactVersusAsymptotic: for moderately large samples the exact
// two-sample law approaches the Kolmogorov limit.
func TestKSExactVersusAsymptotic(t *testing.T) {
	m, n := int64(400), int64(600)
	en := float64(m*n) / float64(m+n)
	for _, lambda := range []float64{0.6, 1.0, 1.36, 1.8} {
		d := lambda / math.Sqrt(en)
		ex, as := ksExactSF(m, n, d), KolmogorovSF(lambda)
		if math.Abs(ex-as) > 0.02 {
			t.Errorf("λ=%g: exact %g vs asymptotic %g", lambda, ex, as)
		}
	}
}

func TestAdjustProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for range 50 {
		p := make([]float64, 1+rng.IntN(20))
		for i := range p {
			p[i] = rng.Float64() * rng.Float64()
			if rng.IntN(5) == 0 {
				p[i] = math.NaN()
			}
		}
		holm, bh := Adjust(p, Holm), Adjust(p, BH)
		for i := range p {
			if math.IsNaN(p[i]) {
				if !math.IsNaN(holm[i]) || !math.IsNaN(bh[i]) {
					t.Fatalf("NaN did not pass through at %d", i)
				}
				continue
			}
			if holm[i] < p[i] || bh[i] < p[i] || bh[i] > holm[i]+1e-15 || holm[i] > 1 {
				t.Fatalf("p=%g holm=%g bh=%g violate p <= BH <= Holm <= 1", p[i], holm[i], bh[i])
			}
			for j := range p {
				if !math.IsNaN(p[j]) && p[j] < p[i] && (holm[j] > holm[i] || bh[j] > bh[i]) {
					t.Fatalf("adjusted p-values not monotone in raw p")
				}
			}
		}
	}
	if got := Adjust([]float64{0.01, 0.04}, Adjustment(99)); !math.IsNaN(got[0]) {
		t.Errorf("unknown method: got %v, want NaN", got)
	}
}

func TestConfidenceSequence(t *testing.T) {
	prevHalf := math.Inf(1)
	for _, n := range []int64{10, 100, 1000, 10000} {
		iv := ConfidenceSequence(n, 0.3, 2, 0.05, 1000)
		half := (iv.Hi - iv.Lo) / 2
		if !(iv.Lo < 0.3 && iv.Hi > 0.3) || half >= prevHalf {
			t.Errorf("n=%d: %+v not centred on 0.3 or not shrinking (prev half %g)", n, iv, prevHalf)
		}
		// Wider than the fixed-n normal interval: the price of monitoring.
		if z := zQuantile(0.975) * math.Sqrt(2/float64(n)); half <= z {
			t.Errorf("n=%d: CS half-width %g not wider than fixed-n %g", n, half, z)
		}
		prevHalf = half
	}
	if iv := ConfidenceSequence(0, 0, 1, 0.05, 10); !math.IsInf(iv.Lo, -1) || !math.IsInf(iv.Hi, 1) {
		t.Errorf("n=0: %+v, want infinite", iv)
	}
}

// TestQuantileCICoverage: the order-statistic interval covers the true
// median of a continuous distribution at least at its nominal level.
func TestQuantileCICoverage(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	const reps, level = 3000, 0.9
	cover := 0
	x := make([]float64, 25)
	for range reps {
		for i := range x {
			x[i] = rng.ExpFloat64()
		}
		iv := QuantileCI(Unweighted(x), 0.5, level)
		if iv.Lo <= math.Ln2 && math.Ln2 <= iv.Hi {
			cover++
		}
	}
	rate := float64(cover) / reps
	if se := math.Sqrt(level * (1 - level) / reps); rate < level-3*se {
		t.Errorf("coverage %g < %g - 3 s.e.", rate, level)
	}
	if iv := QuantileCI(Unweighted([]float64{1, 2, 3}), 0.99, 0.95); !math.IsInf(iv.Hi, 1) {
		t.Errorf("n=3, q=0.99: Hi = %g, want +Inf (unattainable)", iv.Hi)
	}
}

func TestPSI(t *testing.T) {
	same := map[string]int64{"a": 10, "b": 30}
	if v := PSI(same, map[string]int64{"a": 20, "b": 60}, 0); v != 0 {
		t.Errorf("PSI of identical proportions = %g, want 0", v)
	}
	v := PSI(same, map[string]int64{"a": 10, "b": 30, "c": 5}, 1e-4)
	if !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("PSI with a new category = %g, want finite > 0", v)
	}
	if v := PSI(map[string]int64{}, same, 0); !math.IsNaN(v) {
		t.Errorf("PSI with empty baseline = %g, want NaN", v)
	}
}

// TestSelectWeighted holds the weighted quickselect to the definition:
// sort by value and walk the cumulative counts to k. Every k at and
// around each value's cumulative edges is checked, on items with many
// ties (so a pivot equal to many items is common), few values, and all
// values equal.
func TestSelectWeighted(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 200 {
		n := 1 + rng.IntN(300)
		levels := 1 + rng.IntN(max(1, n/(1+trial%4)))
		items := make([]weightedValue, n)
		var total int64
		for i := range items {
			items[i] = weightedValue{float64(rng.IntN(levels)) - float64(levels)/3, 1 + rng.Int64N(5)}
			total += items[i].w
		}
		sorted := slices.Clone(items)
		slices.SortFunc(sorted, func(a, b weightedValue) int { return cmp.Compare(a.v, b.v) })
		want := func(k int64) float64 {
			var cum int64
			for _, it := range sorted {
				if cum += it.w; cum >= k {
					return it.v
				}
			}
			return math.NaN()
		}
		var ks []int64
		var cum int64
		for _, it := range sorted {
			ks = append(ks, cum+1, cum+it.w)
			cum += it.w
		}
		for range 5 {
			ks = append(ks, 1+rng.Int64N(total))
		}
		for _, k := range ks {
			work := slices.Clone(items)
			if got := selectWeighted(work, k, rand.New(rand.NewPCG(uint64(k), 0))); got != want(k) {
				t.Fatalf("trial %d: k=%d of %d: got %g, want %g", trial, k, total, got, want(k))
			}
		}
	}
}

// TestReadableWarnings: warnings and test names are read by people in
// reports, so bounds computed as 1 − x (0.050000000000000044) are printed
// as the number meant and no internal field name (CI.Hi) appears.
func TestReadableWarnings(t *testing.T) {
	minAgreement, nine := 0.95, 0.9
	tol := 1 - minAgreement // 0.050000000000000044, as evaluate derives it from min_agreement
	for _, r := range []Result{
		RateBelow(0, 7, tol, 0.05, 0.8, tol/2),
		RateBelow(0, 81, 1-nine, 0.05, 0.8, (1-nine)/2),
		RateAbove(1, 7, tol, 0.05),
		QuantileBelow(0, 7, 0.95, 2000, 0.05),
		WilcoxonSignedRank(Unweighted([]float64{1, 2})),
	} {
		for _, s := range append([]string{r.Test}, r.Warnings...) {
			if strings.Contains(s, "CI.") || strings.Contains(s, "0000000") || strings.Contains(s, "9999999") {
				t.Errorf("not written for people: %q", s)
			}
		}
	}
	r := RateBelow(0, 7, tol, 0.05, 0.8, tol/2)
	for _, want := range []string{"when p = 0.025", "upper confidence bound 0.3"} {
		if !hasWarning(r, want) {
			t.Errorf("warnings %q lack %q", r.Warnings, want)
		}
	}
	if want := "exact binomial, one-sided (H1: p < 0.05)"; r.Test != want {
		t.Errorf("test %q, want %q", r.Test, want)
	}
}
