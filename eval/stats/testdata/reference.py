#!/usr/bin/python3
"""Reference values for parity's eval/stats package -> golden.json.

Run with Debian's python3 (needs python3-scipy, python3-statsmodels):

    /usr/bin/python3 eval/stats/testdata/reference.py > eval/stats/testdata/golden.json

or `go test ./eval/stats -run TestGolden -update`, which does the same.

Where the reference comes from, per section:

  wilson, clopper_pearson  statsmodels proportion_confint(method="wilson"|"beta")
  rate_below, rate_above,  scipy.stats.binomtest (exact, one-sided);
  quantile_below           CI: statsmodels "beta" at 1-2*alpha.
  rate_below.nneeded       vectorized scan over n with scipy.stats.binom.ppf/cdf
                           (critical value from ppf, not the Go incremental scan).
  mcnemar                  statsmodels.stats.contingency_tables.mcnemar
                           (exact when b+c < 25, else chi2 with correction).
  mcnemar_midp             scipy.stats.binom cdf/pmf.
  tango (CI), noninf       NOT in scipy/statsmodels. Computed independently:
                           the restricted MLE of p21 under pAI-pLegacy = delta
                           is found by brentq on the derivative of the
                           multinomial log-likelihood (no closed form used),
                           then the interval ends by brentq on Z(delta) = +-z.
  noninf.p                 scipy.stats.norm.sf(z); with no discordant pair at
                           least scipy.stats.binom.pmf(0, n, margin).
  noninf.nneeded           Nam (1997) formula with the limiting restricted MLE
                           found the same numerical way.
  wilcoxon                 scipy.stats.wilcoxon(zero_method="wilcox",
                           correction=True, method="approx") on the expanded
                           sample; W+ from alternative="greater".
  hl_paired, hl_shift      NOT in scipy. Brute force: all Walsh averages /
                           pairwise differences of the expanded sample with
                           numpy, median with numpy.median, CI order statistics
                           from critical values computed here independently
                           (exact null by numpy convolution / DP; normal
                           otherwise).
  mannwhitney              scipy.stats.mannwhitneyu(use_continuity=True,
                           alternative="two-sided", method="asymptotic").
  quantile                 numpy.quantile(np.repeat(x, w), q, method="linear")
                           (Hyndman-Fan type 7).
  quantile_ci              order-statistic ranks from scipy.stats.binom arrays.
  ks2                      scipy.stats.ks_2samp(method="exact") when
                           m*n <= 1e7; otherwise D from ks_2samp and
                           p = scipy.special.kolmogorov(sqrt(mn/(m+n))*D).
                           ks2.asymp_scipy additionally records
                           ks_2samp(method="asymp") (uses kstwo at round(en)),
                           which the Go test compares loosely.
  chi2                     scipy.stats.chi2_contingency(correction=False).
  psi                      numpy, same eps-floor definition.
  adjust                   statsmodels multipletests (holm, fdr_bh, bonferroni).
  cs                       closed form of Waudby-Smith et al. (2021) in numpy;
                           cs_rho_opt also records the numerically optimal rho^2
                           (scipy minimize_scalar) to bound the closed form's
                           sub-optimality.

Non-finite numbers are written as the strings "NaN", "Inf", "-Inf".
"""

import json
import math
import sys

import numpy as np
import scipy
import scipy.special
import statsmodels
from scipy import optimize, stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

EXACT_RANK_MAX_N = 50
KS_EXACT_MAX_PRODUCT = 10_000_000
MCNEMAR_EXACT_CUTOFF = 25


def fl(x):
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    return x


# ---------------------------------------------------------------- proportions


def cp(k, n, level):
    lo, hi = proportion_confint(k, n, alpha=1 - level, method="beta")
    if k == 0:
        lo = 0.0
    if k == n:
        hi = 1.0
    return lo, hi


def proportions():
    cases = [(0, 10, .95), (1, 10, .95), (5, 10, .95), (10, 10, .95), (0, 1, .9), (1, 1, .9),
             (1, 2, .8), (3, 1000, .95), (997, 1000, .95), (499, 500, .95), (0, 100000, .99),
             (50, 100000, .9), (12345, 1000000, .95), (7, 30, .5)]
    w, c = [], []
    for k, n, level in cases:
        lo, hi = proportion_confint(k, n, alpha=1 - level, method="wilson")
        w.append(dict(k=k, n=n, level=level, lo=fl(lo), hi=fl(hi)))
        lo, hi = cp(k, n, level)
        c.append(dict(k=k, n=n, level=level, lo=fl(lo), hi=fl(hi)))
    return w, c


def rate_below_n(bound, planned, alpha, power):
    """Smallest n with power >= target for the one-sided exact test, by a
    vectorized scan. k_c(n) = max{k: cdf(k; n, bound) <= alpha} is derived
    from binom.ppf (smallest k with cdf >= alpha)."""
    za, zb = stats.norm.ppf(1 - alpha), stats.norm.ppf(power)
    approx = (za * math.sqrt(bound * (1 - bound)) + zb * math.sqrt(planned * (1 - planned))) / (bound - planned)
    napprox = math.ceil(approx * approx)
    limit = 4 * napprox + 1000
    n = np.arange(1, limit + 1)
    k = stats.binom.ppf(alpha, n, bound)
    k = np.where(stats.binom.cdf(k, n, bound) > alpha, k - 1, k)
    pw = np.where(k >= 0, stats.binom.cdf(k, n, planned), 0.0)
    hit = np.nonzero(pw >= power)[0]
    return int(n[hit[0]]) if hit.size else napprox


def rates():
    below, above, qbelow = [], [], []
    cases = [(0, 10, .05, .05, .8, .025), (3, 100, .05, .05, .8, .025), (10, 400, .05, .05, .8, .025),
             (50, 2000, .05, .05, .8, .025), (0, 60, .05, .05, .8, .025), (1, 1, .05, .05, .8, .025),
             (20, 10000, .01, .05, .8, .005), (995, 1000, .999, .05, .9, .995), (0, 1000, .001, .01, .8, 0),
             (30, 500, .05, .025, .9, .02), (2, 5000, .002, .05, .8, .0005)]
    for k, n, bound, alpha, power, planned in cases:
        p = stats.binomtest(k, n, bound, alternative="less").pvalue
        lo, hi = cp(k, n, 1 - 2 * alpha)
        below.append(dict(k=k, n=n, bound=bound, alpha=alpha, power=power, planned=planned,
                          p=fl(p), lo=fl(lo), hi=fl(hi), nneeded_total=rate_below_n(bound, planned, alpha, power)))
    for k, n, bound, alpha in [(0, 10, .05, .05), (3, 10, .05, .05), (10, 100, .05, .05), (60, 1000, .05, .01),
                               (1, 1, .5, .05), (100, 100, .9, .05), (25, 100000, .0001, .05), (400, 1000, .3, .001)]:
        p = stats.binomtest(k, n, bound, alternative="greater").pvalue
        lo, hi = cp(k, n, 1 - 2 * alpha)
        above.append(dict(k=k, n=n, bound=bound, alpha=alpha, p=fl(p), lo=fl(lo), hi=fl(hi)))
    for e, n, q, alpha in [(0, 10, .9, .05), (0, 59, .95, .05), (3, 100, .95, .05), (50, 1000, .99, .05),
                           (9, 1000, .99, .05), (500, 1000, .5, .05), (0, 3000, .999, .05)]:
        p = stats.binomtest(e, n, 1 - q, alternative="less").pvalue
        lo, hi = cp(e, n, 1 - 2 * alpha)
        qbelow.append(dict(exceed=e, n=n, q=q, alpha=alpha, p=fl(p), lo=fl(lo), hi=fl(hi)))
    return below, above, qbelow


# ------------------------------------------------------------ paired 2x2 / Tango


def restricted_p21(n12, n21, n, delta):
    """Restricted MLE of p21 under p12 - p21 = delta by root-finding the
    log-likelihood derivative (monotone decreasing in p21)."""
    m = n - n12 - n21
    lo = max(0.0, -delta)
    hi = (1.0 - delta) / 2.0

    def g(p):
        s = 0.0
        if n12:
            s += n12 / (p + delta)
        if n21:
            s += n21 / p
        if m:
            s -= 2 * m / (1 - 2 * p - delta)
        return s

    eps = 1e-15
    a, b = lo + eps * max(1, abs(lo)), hi - eps * max(1, abs(hi))
    if a >= b:
        return lo
    if g(a) <= 0:
        return lo
    if g(b) >= 0:
        return hi
    return optimize.brentq(g, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)


def tango_z(n12, n21, n, delta):
    num = n12 - n21 - n * delta
    if num == 0:
        return 0.0
    p21 = restricted_p21(n12, n21, n, delta)
    v = n * (2 * p21 + delta * (1 - delta))
    if v <= 0:
        return math.copysign(math.inf, num)
    return num / math.sqrt(v)


def tango_ci(n12, n21, n, level):
    z = stats.norm.ppf(1 - (1 - level) / 2)
    est = (n12 - n21) / n
    tiny = 1e-13
    if n21 == n:
        lo = -1.0
    else:
        f = lambda d: tango_z(n12, n21, n, d) - z
        a = -1 + tiny
        lo = -1.0 if f(a) <= 0 else optimize.brentq(f, a, est, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    if n12 == n:
        hi = 1.0
    else:
        f = lambda d: tango_z(n12, n21, n, d) + z
        b = 1 - tiny
        hi = 1.0 if f(b) >= 0 else optimize.brentq(f, est, b, xtol=1e-15, rtol=4 * np.finfo(float).eps)
    return lo, hi


def noninf_n(margin, psi, alpha, power):
    """Nam (1997): limiting restricted MLE under delta0 = -margin with
    n12/N = n21/N = psi/2, found numerically."""
    d0 = -margin
    half = psi / 2

    def g(p):
        s = 0.0
        if half:
            s += half / (p + d0) + half / p
        s -= 2 * (1 - psi) / (1 - 2 * p - d0)
        return s

    lo, hi = max(0.0, -d0), (1 - d0) / 2
    a, b = lo + 1e-15, hi - 1e-15
    if g(a) <= 0:
        p21 = lo
    elif g(b) >= 0:
        p21 = hi
    else:
        p21 = optimize.brentq(g, a, b, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    s0 = math.sqrt(2 * p21 + d0 * (1 - d0))
    s1 = math.sqrt(psi)
    x = (stats.norm.ppf(1 - alpha) * s0 + stats.norm.ppf(power) * s1) / margin
    return math.ceil(x * x)


TABLES = [(50, 0, 0, 50), (5, 3, 1, 2), (100, 12, 5, 20), (1000, 30, 45, 200), (400, 24, 0, 10),
          (0, 25, 25, 0), (0, 10, 0, 0), (0, 0, 7, 0), (9000, 120, 80, 800), (3, 1, 0, 0),
          (200, 11, 13, 30), (20, 2, 9, 1), (45000, 2600, 2400, 5000)]


def paired():
    mc, mid, tg, ni = [], [], [], []
    for t in TABLES:
        a, b, c, d = t  # BothRight, LegacyOnly, AIOnly, BothWrong
        n = sum(t)
        res = mcnemar([[a, b], [c, d]], exact=(b + c) < MCNEMAR_EXACT_CUTOFF, correction=True)
        mc.append(dict(table=t, statistic=fl(res.statistic), p=fl(res.pvalue)))
        m = min(b, c)
        midp = min(1.0, 2 * (stats.binom.cdf(m, b + c, .5) - .5 * stats.binom.pmf(m, b + c, .5)))
        mid.append(dict(table=t, p=fl(midp)))
        for level in (.95, .9):
            lo, hi = tango_ci(c, b, n, level)
            tg.append(dict(table=t, level=level, lo=fl(lo), hi=fl(hi)))
        for margin, alpha, power in ((.02, .05, .8), (.05, .025, .9), (.1, .05, .8)):
            z = tango_z(c, b, n, -margin)
            lo, hi = tango_ci(c, b, n, 1 - 2 * alpha)
            need = noninf_n(margin, (b + c) / n, alpha, power)
            p = stats.norm.sf(z)
            if b + c == 0:
                # No discordant pair: p is at least the chance of that at
                # the H0 boundary, P(Bin(n, margin) = 0).
                p = max(p, stats.binom.pmf(0, n, margin))
            ni.append(dict(table=t, margin=margin, alpha=alpha, power=power, z=fl(z),
                           p=fl(p), lo=fl(lo), hi=fl(hi), nneeded_total=need))
    nn = []
    for margin, psi, alpha, power in ((.02, .1, .05, .8), (.01, .05, .05, .9), (.05, 0.0, .05, .8), (.1, .5, .025, .8)):
        nn.append(dict(margin=margin, psi=psi, alpha=alpha, power=power, n=noninf_n(margin, psi, alpha, power)))
    return mc, mid, tg, ni, nn


# --------------------------------------------------------------------- ranks


def expand(x, w):
    x = np.asarray(x, dtype=float)
    if w is None:
        return x
    return np.repeat(x, np.asarray(w, dtype=np.int64))


def signed_rank_cdf(n):
    # Exact null counts of W+ as the product polynomial prod_k (1 + q^k).
    f = np.array([1.0])
    for k in range(1, n + 1):
        g = np.zeros(len(f) + k)
        g[:len(f)] += f
        g[k:] += f
        f = g
    return np.cumsum(f) / 2.0 ** n


def mw_cdf(m, n):
    # Exact null counts of U by the Gaussian binomial coefficient
    # [m+n choose m]_q built with integer (Python int) arithmetic.
    poly = [1]
    for i in range(1, m + 1):
        # multiply by (1 - q^(n+i)) then divide by (1 - q^i)
        p2 = poly + [0] * (n + i)
        for j in range(len(poly)):
            p2[j + n + i] -= poly[j]
        out = p2[:]
        for j in range(i, len(out)):
            out[j] += out[j - i]
        while out and out[-1] == 0:
            out.pop()
        poly = out
    total = math.comb(m + n, m)
    cum, res = 0, []
    for v in poly:
        cum += v
        res.append(cum / total)
    return np.array(res)


def critical(cdf, a):
    idx = np.nonzero(cdf <= a * (1 + 1e-12))[0]
    return int(idx[-1]) if idx.size else -1


def hl_paired(d, level):
    n = len(d)
    wa = np.add.outer(d, d)[np.triu_indices(n)] / 2.0
    wa.sort()
    est = np.median(wa)
    if n <= EXACT_RANK_MAX_N:
        c = critical(signed_rank_cdf(n), (1 - level) / 2)
    else:
        mu = n * (n + 1) / 4
        sd = math.sqrt(n * (n + 1) * (2 * n + 1) / 24)
        c = math.floor(mu - stats.norm.ppf(1 - (1 - level) / 2) * sd - 0.5)
    if c < 0:
        return est, -math.inf, math.inf
    return est, wa[c], wa[len(wa) - 1 - c]


def hl_shift(a, b, level):
    m, n = len(a), len(b)
    dd = np.subtract.outer(b, a).ravel()
    dd.sort()
    est = np.median(dd)
    if m <= EXACT_RANK_MAX_N and n <= EXACT_RANK_MAX_N:
        c = critical(mw_cdf(m, n), (1 - level) / 2)
    else:
        sd = math.sqrt(m * n * (m + n + 1) / 12)
        c = math.floor(m * n / 2 - stats.norm.ppf(1 - (1 - level) / 2) * sd - 0.5)
    if c < 0:
        return est, -math.inf, math.inf
    return est, dd[c], dd[len(dd) - 1 - c]


def samples():
    rng = np.random.default_rng(20261122)
    out = {}
    out["tiny"] = ([0.5, -1.25, 2.0, 3.5, -0.1], None)
    out["tiny_ties_zeros"] = ([0, 0, 1, -1, 2, 2, -2, 3, 0, 1], None)
    out["int_ties"] = (list(rng.integers(-3, 6, size=40).astype(float)), None)
    out["normal60"] = (list(np.round(rng.normal(0.3, 1, size=60), 6)), None)
    out["normal2000"] = (list(rng.normal(0.05, 1, size=2000)), None)
    out["all_equal"] = ([1.5] * 12, None)
    out["weighted_hist"] = ([-0.8, -0.2, 0.0, 0.1, 0.4, 0.9, 2.5], [3, 40, 25, 60, 33, 20, 2])
    xs = np.round(np.exp(rng.normal(0, 1, size=300)) - 1.2, 4)
    out["weighted_big"] = (list(xs), list(rng.integers(1, 9, size=300)))
    out["single"] = ([2.0], None)
    out["skewed30"] = (list(np.round(rng.exponential(1, size=30) - 0.4, 5)), None)
    return {k: (list(map(float, x)), None if w is None else list(map(int, w))) for k, (x, w) in out.items()}


def two_samples():
    rng = np.random.default_rng(7)
    out = {}
    out["tiny"] = (([1.0, 2.0, 3.5], None), ([2.5, 4.0, 5.0, 6.0], None))
    out["ties"] = (([1, 2, 2, 3, 3, 3, 4], None), ([2, 3, 3, 4, 4, 5, 5, 6], None))
    out["equal_n_shift"] = ((list(rng.normal(0, 1, 40)), None), (list(rng.normal(0.8, 1, 40)), None))
    out["unequal"] = ((list(rng.normal(0, 1, 35)), None), (list(rng.normal(0.2, 1.5, 52)), None))
    out["large"] = ((list(rng.normal(0, 1, 700)), None), (list(rng.normal(0.1, 1, 900)), None))
    xa = [0.001 * 2 ** (i / 4) for i in range(40)]
    wa = list(rng.integers(0, 30, 40))
    wb = list(rng.integers(0, 30, 40))
    out["log_buckets"] = ((xa, wa), (xa, wb))
    out["far_apart"] = ((list(rng.normal(0, 1, 200)), None), (list(rng.normal(3, 1, 200)), None))
    out["identical"] = (([1, 2, 3, 4, 5], None), ([1, 2, 3, 4, 5], None))
    out["one_each"] = (([1.0], None), ([2.0], None))
    return {k: tuple((list(map(float, x)), None if w is None else list(map(int, w))) for x, w in v)
            for k, v in out.items()}


def big_ks_samples():
    # m*n > 1e7 via histogram counts, so the asymptotic path is used.
    rng = np.random.default_rng(11)
    xa = [0.001 * 2 ** (i / 8) for i in range(120)]
    pa = stats.lognorm.pdf(xa, 1, scale=0.02)
    pb = stats.lognorm.pdf(xa, 1.05, scale=0.021)
    wa = rng.multinomial(6000, pa / pa.sum())
    wb = rng.multinomial(5000, pb / pb.sum())
    return (list(map(float, xa)), list(map(int, wa))), (list(map(float, xa)), list(map(int, wb)))


def ranks():
    wil, hlp, qt, qci = [], [], [], []
    for name, (x, w) in samples().items():
        d = expand(x, w)
        entry = dict(name=name)
        nz = d[d != 0]
        if len(nz) > 0:
            r = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="approx")
            rp = stats.wilcoxon(d, zero_method="wilcox", correction=True, method="approx",
                                alternative="greater")
            wil.append(dict(entry, p=fl(r.pvalue), wplus=fl(rp.statistic)))
        for level in (.95, .8):
            est, lo, hi = hl_paired(d, level)
            hlp.append(dict(entry, level=level, est=fl(est), lo=fl(lo), hi=fl(hi)))
        for q in (0, .01, .25, .5, .9, .99, 1):
            qt.append(dict(entry, q=q, value=fl(np.quantile(d, q, method="linear"))))
        n = len(d)
        ds = np.sort(d)
        for q, level in ((.5, .95), (.9, .9), (.99, .95), (.05, .99)):
            a = (1 - level) / 2
            ks = np.arange(0, n + 1)
            cdf = stats.binom.cdf(ks, n, q)       # P(B <= k)
            sf = stats.binom.sf(ks - 1, n, q)     # P(B >= k)
            ls = [l for l in range(1, n + 1) if cdf[l - 1] <= a]
            us = [u for u in range(1, n + 1) if sf[u] <= a]
            lo = ds[ls[-1] - 1] if ls else -math.inf
            hi = ds[us[0] - 1] if us else math.inf
            qci.append(dict(entry, q=q, level=level, lo=fl(lo), hi=fl(hi)))
    mw, hls, ks = [], [], []
    for name, ((xa, wa), (xb, wb)) in two_samples().items():
        a, b = expand(xa, wa), expand(xb, wb)
        entry = dict(name=name)
        if not (np.all(a == a[0]) and np.all(b == a[0])):
            r = stats.mannwhitneyu(a, b, use_continuity=True, alternative="two-sided", method="asymptotic")
            mw.append(dict(entry, p=fl(r.pvalue), u=fl(r.statistic)))
        for level in (.95, .9):
            est, lo, hi = hl_shift(a, b, level)
            hls.append(dict(entry, level=level, est=fl(est), lo=fl(lo), hi=fl(hi)))
        ks.append(ks_entry(entry, a, b))
    (xa, wa), (xb, wb) = big_ks_samples()
    ks.append(ks_entry(dict(name="big_hist"), expand(xa, wa), expand(xb, wb)))
    return wil, hlp, qt, qci, mw, hls, ks


def ks_entry(entry, a, b):
    m, n = len(a), len(b)
    e = dict(entry)
    if m * n <= KS_EXACT_MAX_PRODUCT:
        r = stats.ks_2samp(a, b, method="exact")
        e.update(method="exact", d=fl(r.statistic), p=fl(r.pvalue))
    else:
        r = stats.ks_2samp(a, b, method="asymp")
        en = m * n / (m + n)
        e.update(method="asymp", d=fl(r.statistic),
                 p=fl(scipy.special.kolmogorov(math.sqrt(en) * r.statistic)),
                 asymp_scipy=fl(r.pvalue))
    return e


# ---------------------------------------------------------------- categorical


def categorical():
    chi, psi = [], []
    cases = [
        ({"a": 10, "b": 20, "c": 30}, {"a": 12, "b": 18, "c": 35}),
        ({"ok": 950, "timeout": 30, "error": 20}, {"ok": 900, "timeout": 70, "error": 25, "refused": 5}),
        ({"x": 3, "y": 1}, {"x": 1, "y": 4}),
        ({"x": 500, "y": 0, "z": 2}, {"x": 480, "y": 0, "z": 9}),
        ({"p": 100000, "q": 2500}, {"p": 99000, "q": 3100}),
    ]
    for a, b in cases:
        keys = sorted(set(a) | set(b))
        keys = [k for k in keys if a.get(k, 0) + b.get(k, 0) > 0]
        table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]])
        x2, p, dof, _ = stats.chi2_contingency(table, correction=False)
        chi.append(dict(a=a, b=b, statistic=fl(x2), p=fl(p), df=int(dof)))
        for eps in (1e-4, 1e-6):
            nb, nc = sum(a.values()), sum(b.values())
            allk = sorted(set(a) | set(b))
            bb = np.maximum(np.array([a.get(k, 0) / nb for k in allk]), eps)
            cc = np.maximum(np.array([b.get(k, 0) / nc for k in allk]), eps)
            psi.append(dict(a=a, b=b, eps=eps, psi=fl(np.sum((cc - bb) * np.log(cc / bb)))))
    return chi, psi


def adjust():
    out = []
    vecs = [
        [0.01, 0.04, 0.03, 0.2, 0.005],
        [0.5, "NaN", 0.001, 0.02, "NaN", 0.04],
        [0.9, 0.9, 0.9],
        [1e-10, 0.049, 0.051, 0.5, 0.99, 0.0001, 0.03, 0.03],
        ["NaN"],
    ]
    for v in vecs:
        arr = np.array([float("nan") if x == "NaN" else x for x in v])
        ok = ~np.isnan(arr)
        for meth, name in (("holm", "holm"), ("fdr_bh", "bh"), ("bonferroni", "bonferroni")):
            res = arr.copy()
            if ok.any():
                res[ok] = multipletests(arr[ok], method=meth)[1]
            out.append(dict(p=[fl(x) for x in arr], method=name, adj=[fl(x) for x in res]))
    return out


def cs():
    out = []
    for n, mean, var, alpha, planned in ((100, 0.1, 1.0, .05, 100), (5000, -0.01, 0.09, .05, 7000),
                                         (10, 0, 4, .1, 1000), (1_000_000, 0.5, 0.25, .01, 500_000),
                                         (14000, -0.005, 0.1, .05, 14000)):
        l = -2 * math.log(alpha)
        rho2 = (l + math.log(l + 1)) / planned
        half = math.sqrt(var * 2 * (n * rho2 + 1) / (n * n * rho2) * math.log(math.sqrt(n * rho2 + 1) / alpha))
        width = lambda r2, t=planned: math.sqrt(2 * (t * r2 + 1) / (t * t * r2) * math.log(math.sqrt(t * r2 + 1) / alpha))
        opt = optimize.minimize_scalar(lambda u: width(u / planned), bounds=(1e-6, 1e3), method="bounded",
                                       options=dict(xatol=1e-12))
        out.append(dict(n=n, mean=mean, var=var, alpha=alpha, planned=planned, lo=fl(mean - half), hi=fl(mean + half),
                        width_ratio_to_opt=fl(width(rho2) / width(opt.x / planned))))
    return out


def main():
    wil, cpi = proportions()
    below, above, qbelow = rates()
    mc, mid, tg, ni, nn = paired()
    wx, hlp, qt, qci, mw, hls, ks = ranks()
    chi, psi = categorical()
    g = dict(
        generator="eval/stats/testdata/reference.py",
        versions=dict(python=sys.version.split()[0], numpy=np.__version__, scipy=scipy.__version__,
                      statsmodels=statsmodels.__version__),
        samples={k: dict(x=x, w=w) for k, (x, w) in samples().items()},
        two_samples=dict({k: dict(a=xa, wa=wa, b=xb, wb=wb) for k, ((xa, wa), (xb, wb)) in two_samples().items()},
                         big_hist=dict(zip(("a", "wa", "b", "wb"), (*big_ks_samples()[0], *big_ks_samples()[1])))),
        wilson=wil, clopper_pearson=cpi, rate_below=below, rate_above=above, quantile_below=qbelow,
        mcnemar=mc, mcnemar_midp=mid, tango=tg, noninf=ni, noninf_n=nn,
        wilcoxon=wx, hl_paired=hlp, quantile=qt, quantile_ci=qci, mannwhitney=mw, hl_shift=hls, ks2=ks,
        chi2=chi, psi=psi, adjust=adjust(), cs=cs(),
    )
    json.dump(g, sys.stdout, indent=1, allow_nan=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
