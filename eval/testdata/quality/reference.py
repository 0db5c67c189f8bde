#!/usr/bin/python3
"""Reference values for eval's classification quality and calibration
figures (eval/quality_golden_test.go), from scikit-learn and numpy.

Run with Debian's /usr/bin/python3 (python3-sklearn, python3-numpy):

    /usr/bin/python3 eval/testdata/quality/reference.py > eval/testdata/quality/golden.json

or `go test ./eval -run TestQualityGoldenReference -update-quality`.

Each case is a battery of rows (label, legacy prediction, AI prediction,
AI confidence or null). "(none)" is a missing prediction: a miss of the
row's label and no category's false positive (it is left out of
`labels`). Per system: precision_recall_fscore_support(labels=cats,
zero_division=0) per category and with average="macro"/"weighted".
Baseline-relative criteria: statsmodels' test_proportions_2indep
(method="agresti-caffo", compare="diff") in both directions.
Calibration of the AI's confidence against the AI's correctness on rows
with a confidence: Brier = brier_score_loss; ECE over 10 equal-width bins
k = min(floor(10*c), 9), i.e. [k/10, (k+1)/10) with 1.0 in the last bin,
ECE = sum_k n_k/N * |acc_k - mean_conf_k| over non-empty bins, computed
here with numpy with the same binning.
"""
import json
import sys

import numpy as np
from statsmodels.stats.proportion import test_proportions_2indep
from sklearn.metrics import brier_score_loss, precision_recall_fscore_support

NONE = "(none)"


def case(rng, name, cats, n, p_legacy, p_ai, p_none, p_noconf, edges=False):
    labels = rng.choice(cats, size=n, p=np.linspace(2, 1, len(cats)) / np.linspace(2, 1, len(cats)).sum())

    def predict(p_right):
        out = []
        for lab in labels:
            u = rng.random()
            if u < p_none:
                out.append(NONE)
            elif u < p_none + (1 - p_none) * p_right:
                out.append(lab)
            else:
                out.append(rng.choice([c for c in cats if c != lab] or [lab]))
        return out

    leg, ai = predict(p_legacy), predict(p_ai)
    conf = []
    for lab, a in zip(labels, ai):
        if rng.random() < p_noconf:
            conf.append(None)
            continue
        if edges and rng.random() < 0.3:
            conf.append(float(rng.choice([0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0])))
            continue
        mu = 0.85 if a == lab else 0.6
        conf.append(float(np.clip(round(rng.normal(mu, 0.15), 4), 0, 1)))
    return {"name": name, "rows": [[str(l), str(x), str(y), c] for l, x, y, c in zip(labels, leg, ai, conf)]}


def expected(c):
    rows = c["rows"]
    y = [r[0] for r in rows]
    cats = sorted((set(y) | {r[1] for r in rows} | {r[2] for r in rows}) - {NONE})
    out = {"categories": cats}
    for sys_name, col in (("legacy", 1), ("ai", 2)):
        pred = [r[col] for r in rows]
        p, r_, f, s = precision_recall_fscore_support(y, pred, labels=cats, zero_division=0)
        e = {"precision": p.tolist(), "recall": r_.tolist(), "f1": f.tolist(), "support": [int(v) for v in s]}
        for avg in ("macro", "weighted"):
            pa, ra, fa, _ = precision_recall_fscore_support(y, pred, labels=cats, average=avg, zero_division=0)
            e[avg] = [float(pa), float(ra), float(fa)]
        out[sys_name] = e
    with_conf = [r for r in rows if r[3] is not None]
    if with_conf:
        conf = np.array([r[3] for r in with_conf], dtype=float)
        correct = np.array([1 if r[2] == r[0] else 0 for r in with_conf])
        out["brier"] = float(brier_score_loss(correct, conf))
        b = np.minimum(np.floor(conf * 10).astype(int), 9)
        ece, bins = 0.0, []
        for k in range(10):
            m = b == k
            nk = int(m.sum())
            if nk == 0:
                bins.append([0, None, None])
                continue
            acc, mc = float(correct[m].mean()), float(conf[m].mean())
            ece += nk / len(conf) * abs(acc - mc)
            bins.append([nk, acc, mc])
        out["ece"] = ece
        out["bins"] = bins
    c["expected"] = out
    return c


def main():
    rng = np.random.default_rng(20261122)
    cases = [
        case(rng, "binary-small", ["approve", "deny"], 7, 0.8, 0.7, 0.0, 0.0),
        case(rng, "five-rare", ["billing", "technical", "account", "sales", "fraud"], 1000, 0.9, 0.85, 0.02, 0.05),
        case(rng, "three-edges", ["a", "b", "c"], 200, 0.7, 0.75, 0.05, 0.1, edges=True),
        case(rng, "one-row", ["x", "y"], 1, 1.0, 0.0, 0.0, 0.0),
        case(rng, "all-none-ai", ["p", "q", "r"], 40, 0.9, 0.5, 0.6, 0.0),
        case(rng, "many-cats", [f"c{i:02d}" for i in range(12)], 500, 0.6, 0.65, 0.01, 0.0, edges=True),
    ]
    # A category only ever predicted, never true (precision 0, recall 0/0).
    cases[0]["rows"].append(["approve", "escalate", "approve", 0.95])
    # Baseline-relative criterion (eval.BaselineTest, absolute drop):
    # statsmodels' Agresti-Caffo Wald test of p_now - p_base against -d.
    baseline = []
    for kw, nw, kb, nb, d in [(90, 100, 950, 1000, 0.02), (370, 400, 2900, 3000, 0.02), (0, 10, 5, 50, 0.1),
                              (49, 50, 699, 700, 0.01), (1, 3, 2000, 2100, 0.05), (480, 600, 3500, 4200, 0.03)]:
        hi = test_proportions_2indep(kw, nw, kb, nb, value=-d, method="agresti-caffo", compare="diff", alternative="larger")
        lo = test_proportions_2indep(kw, nw, kb, nb, value=-d, method="agresti-caffo", compare="diff", alternative="smaller")
        baseline.append({"kw": kw, "nw": nw, "kb": kb, "nb": nb, "d": d, "z": float(hi.statistic), "p_pass": float(hi.pvalue), "p_fail": float(lo.pvalue)})
    json.dump({"generator": "eval/testdata/quality/reference.py", "cases": [expected(c) for c in cases], "baseline": baseline}, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
