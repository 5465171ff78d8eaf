"""Paired statistics of two binary classifiers scored on the same labelled rows.

Everything here takes arrays (labels, the two models' scores and decisions) and
returns plain numbers, so that a test can recompute each one independently.

- **ΔROC AUC** (challenger − champion) with a *paired* bootstrap interval: every
  replicate draws one multiset of rows (multinomial counts) and weighs both
  models' AUC with it, so the interval reflects the difference, not two
  independent spreads. The AUC of a weighted sample is the Mann-Whitney
  statistic with ties counted half, computed on rows sorted once. DeLong's
  variance of the paired difference is reported beside it as a cross-check;
  the verdict uses the bootstrap interval (the one the cost and fairness
  deltas also use).
- **McNemar's test** on the two models' errors at their own thresholds:
  ``b`` = rows only the champion gets wrong, ``c`` = rows only the challenger
  gets wrong. Exact (two-sided binomial on ``b`` of ``b + c`` at 1/2) when
  ``b + c < 25``, else the chi-square statistic with continuity correction
  ``(|b - c| - 1)² / (b + c)`` on one degree of freedom.
- **Δbusiness cost** per row (:class:`~workbench.modeling.evaluate.CostMatrix`)
  and Δaccuracy, ΔBrier with intervals from the same bootstrap draws.
- **Calibration** of each model: Brier score, expected calibration error
  (ten equal-width bins: Σ nₖ/n·|mean scoreₖ − share positiveₖ|) and the
  reliability curve.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Any

import numpy as np

from workbench.releases.verdict import z_value

#: discordant pairs below which McNemar's test is exact (binomial) rather than chi-square
EXACT_BELOW = 25
#: bootstrap counts held in memory at once (replicates × rows)
_MAX_DRAWS = 1 << 22


def paired_statistics(
    y: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    cost: Any,
    *,
    n_bootstrap: int,
    confidence: float,
    rng: np.random.Generator,
) -> dict:
    """ΔROC AUC, Δaccuracy, Δcost and ΔBrier with paired bootstrap intervals; McNemar; DeLong.

    `y` is 1 for the positive class, 0 otherwise (labelled rows only); `pred_*`
    are the decisions at each model's threshold; `cost` a CostMatrix.
    """
    y = np.asarray(y, dtype=np.int8)
    n = len(y)
    cost_a, cost_b = row_costs(y, pred_a, cost), row_costs(y, pred_b, cost)
    correct_a, correct_b = (pred_a == y).astype(float), (pred_b == y).astype(float)
    brier_a, brier_b = (score_a - y) ** 2, (score_b - y) ** 2
    both_classes = 0 < int(y.sum()) < n
    setup_a, setup_b = (_auc_setup(score_a), _auc_setup(score_b)) if both_classes else (None, None)
    ones = np.ones((1, n))
    point = {
        "roc_auc": (float(_auc(ones, y, setup_a)[0]), float(_auc(ones, y, setup_b)[0]))
        if both_classes
        else (None, None),
        "accuracy": (float(correct_a.mean()), float(correct_b.mean())),
        "cost": (float(cost_a.mean()), float(cost_b.mean())),
        "brier": (float(brier_a.mean()), float(brier_b.mean())),
    }
    per_row = {"accuracy": correct_b - correct_a, "cost": cost_b - cost_a, "brier": brier_b - brier_a}
    reps: dict[str, list[np.ndarray]] = {k: [] for k in point}
    for w in bootstrap_weights(n, n_bootstrap, rng):
        for k, d in per_row.items():
            reps[k].append(w @ d / n)
        if both_classes:
            reps["roc_auc"].append(_auc(w, y, setup_b) - _auc(w, y, setup_a))
    out: dict[str, Any] = {"n": n, "n_positive": int(y.sum())}
    for k, (a, b) in point.items():
        delta = None if a is None or b is None else b - a
        r = np.concatenate(reps[k]) if reps[k] else np.array([])
        out[k] = {"champion": a, "challenger": b, "delta": delta, **interval(r, confidence)}
    if both_classes:
        out["roc_auc"]["delong"] = delong(y, score_a, score_b, confidence)
    out["mcnemar"] = mcnemar(correct_a.astype(bool), correct_b.astype(bool))
    return out


def interval(replicates: np.ndarray, confidence: float) -> dict:
    """The percentile interval and standard error of bootstrap replicates (NaN replicates dropped)."""
    r = np.asarray(replicates, dtype=float)
    r = r[np.isfinite(r)]
    if len(r) < 2:
        return {"ci": None, "se": None, "replicates": int(len(r))}
    lo, hi = np.quantile(r, [(1 - confidence) / 2, 1 - (1 - confidence) / 2])
    return {"ci": [float(lo), float(hi)], "se": float(r.std(ddof=1)), "replicates": int(len(r))}


def bootstrap_weights(n: int, n_bootstrap: int, rng: np.random.Generator):
    """Chunks of bootstrap row counts, shape (replicates, n): how often each row is drawn.

    Drawing n rows with replacement is a multinomial draw of n over the rows;
    the same counts weigh both models, which is what makes the bootstrap paired.
    """
    chunk = max(1, _MAX_DRAWS // max(n, 1))
    p = np.full(n, 1.0 / n)
    for start in range(0, n_bootstrap, chunk):
        yield rng.multinomial(n, p, size=min(chunk, n_bootstrap - start)).astype(float)


def row_costs(y: np.ndarray, pred: np.ndarray, cost: Any) -> np.ndarray:
    """Each row's business cost under `cost` (a CostMatrix) for decisions `pred`."""
    y, pred = np.asarray(y, dtype=bool), np.asarray(pred, dtype=bool)
    return cost.total(y & pred, ~y & pred, y & ~pred, ~y & ~pred).astype(float)


def mcnemar(correct_a: np.ndarray, correct_b: np.ndarray) -> dict:
    """McNemar's test on paired errors: exact below :data:`EXACT_BELOW` discordant rows, else chi-square."""
    b = int(np.sum(~correct_a & correct_b))  # only the champion is wrong
    c = int(np.sum(correct_a & ~correct_b))  # only the challenger is wrong
    m = b + c
    if m == 0:
        return {"b": b, "c": c, "discordant": 0, "method": "none", "statistic": None, "p_value": 1.0}
    if m < EXACT_BELOW:
        from scipy.stats import binomtest

        p = float(binomtest(b, m, 0.5).pvalue)
        return {"b": b, "c": c, "discordant": m, "method": "exact", "statistic": float(b), "p_value": p}
    from scipy.stats import chi2

    stat = (abs(b - c) - 1) ** 2 / m
    p = float(chi2.sf(stat, 1))
    return {"b": b, "c": c, "discordant": m, "method": "chi-square", "statistic": float(stat), "p_value": p}


def delong(y: np.ndarray, score_a: np.ndarray, score_b: np.ndarray, confidence: float) -> dict:
    """DeLong's variance of the paired ΔAUC (DeLong et al. 1988, midrank form of Sun & Xu 2014)."""
    from scipy.stats import rankdata

    pos, neg = y == 1, y == 0
    m, k = int(pos.sum()), int(neg.sum())
    v10, v01 = [], []
    for s in (score_a, score_b):
        x, z = s[pos], s[neg]
        tx, tz, tall = rankdata(x), rankdata(z), rankdata(np.concatenate([x, z]))
        v10.append((tall[:m] - tx) / k)  # per positive: share of negatives ranked below it
        v01.append(1 - (tall[m:] - tz) / m)  # per negative: share of positives ranked above it
    s10, s01 = np.cov(np.vstack(v10)), np.cov(np.vstack(v01))
    contrast = np.array([-1.0, 1.0])
    var = float(contrast @ (s10 / m + s01 / k) @ contrast)
    delta = float(np.mean(v10[1]) - np.mean(v10[0]))
    se = math.sqrt(max(var, 0.0))
    if se == 0:
        return {"se": 0.0, "ci": [delta, delta], "p_value": 1.0 if delta == 0 else 0.0}
    zv = z_value(confidence)
    p = 2 * (1 - NormalDist().cdf(abs(delta) / se))
    return {"se": se, "ci": [delta - zv * se, delta + zv * se], "p_value": float(p)}


def calibration(y: np.ndarray, score: np.ndarray) -> dict:
    """Brier score, expected calibration error and the reliability curve (ten equal-width bins)."""
    from workbench.metrics import _calibration  # the reliability bins every workbench curve uses

    curve = _calibration(np.asarray(score, dtype=float), np.asarray(y, dtype=bool))
    n = max(len(y), 1)
    ece = sum(
        c / n * abs(p - f)
        for p, f, c in zip(curve["mean_predicted"], curve["fraction_positive"], curve["count"], strict=True)
    )
    return {"brier": float(np.mean((score - y) ** 2)), "ece": float(ece), "curve": curve}


# -- the AUC of a weighted sample ------------------------------------------------------
def _auc_setup(score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order by score and where each run of tied scores starts (computed once per model)."""
    order = np.argsort(score, kind="mergesort")
    s = score[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return order, starts


def _auc(w: np.ndarray, y: np.ndarray, setup) -> np.ndarray:
    """ROC AUC under row weights `w` (replicates × rows): P(score⁺ > score⁻) + ½ P(tie), per replicate."""
    order, starts = setup
    ws, ys = w[:, order], y[order].astype(float)
    pos = np.add.reduceat(ws * ys, starts, axis=1)
    neg = np.add.reduceat(ws * (1 - ys), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    with np.errstate(invalid="ignore", divide="ignore"):
        return (pos * (below + 0.5 * neg)).sum(axis=1) / (pos.sum(axis=1) * neg.sum(axis=1))
