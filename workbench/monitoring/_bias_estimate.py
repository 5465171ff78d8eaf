"""Fairness before labels arrive: each group's confusion matrix expected from calibrated probabilities.

The CBPE idea (:mod:`workbench.monitoring.performance`), per group. With the
probability ``p`` that a row is positive, calibrated on a labelled reference,
a row predicted positive adds ``p`` to its group's expected true positives and
``1 - p`` to its false positives; a row predicted negative adds ``p`` to the
false negatives and ``1 - p`` to the true negatives. The expected cells give
each group's estimated TPR, FPR, precision and accuracy, and the disparities
that need labels (equalized odds, equal opportunity, ...).

**Calibration per group.** A model calibrated overall can be miscalibrated
within a group (over-confident for one sex, under-confident for the other),
and that is exactly where a fairness estimate would go wrong. So the isotonic
map is fitted per group of each sensitive column on the reference, where the
group has at least 200 labelled rows and 20 of each outcome; a smaller group
uses the map fitted on the whole reference (the result says which).

**Uncertainty.** Two sources, both drawn: the calibration maps (each is refitted
on :data:`_N_MAPS` bootstrap resamples of the reference) and the labels
themselves (given ``p``, each row's outcome is a Bernoulli draw). Each of the
``n_draws`` draws picks a map, draws every row's label from it and computes the
realised rates and disparities; the interval is the central `level` share of
those draws: where the *measured* figure will lie once labels arrive, if the
relationship between inputs and outcome has not changed since the reference
(a label-free estimate cannot see concept drift; measure when labels come).

**When it is not computed.** Without a model's probabilities (predictions
given as labels), or without a labelled reference table to calibrate them on,
the estimate is not made: raw probabilities are not trusted to be calibrated,
so the result says why rather than guess.

Private: the result carries it as :class:`~workbench.monitoring._bias_estimated.EstimatedFairness`.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from workbench.monitoring._bias_estimated import ESTIMATED, ESTIMATED_RATES, EstimatedFairness
from workbench.monitoring._performance_estimate import _apply, _fit_isotonic

N_DRAWS = 400
LEVEL = 0.9
_N_MAPS = 20  # bootstrap calibration maps behind the draws
_MIN_CAL_ROWS, _MIN_CAL_CLASS = 200, 20
_CELLS_AT_ONCE = 4_000_000  # draws x rows held at once (bounds memory on large batches)
_RATE_OF = {
    "equalized_odds_difference": ("tpr", "fpr"),
    "equal_opportunity_difference": ("tpr",),
    "false_positive_rate_difference": ("fpr",),
    "predictive_parity_difference": ("precision",),
    "accuracy_difference": ("accuracy",),
}


def unavailable(reason: str) -> EstimatedFairness:
    """An estimate that was not made, and the sentence saying why."""
    return EstimatedFairness(level=LEVEL, n_draws=0, attributes=[], reason=reason)


def estimate_fairness(
    table,
    reference_table,
    attributes: list[tuple[str, list[str]]],
    reference_result,
    min_size: int,
    confidence: float,
    rng: np.random.Generator,
    *,
    n_draws: int = N_DRAWS,
    level: float = LEVEL,
) -> EstimatedFairness:
    """Per attribute: expected confusion cells, rates and disparities of an unlabelled `table`.

    `table` and `reference_table` are :class:`~workbench.monitoring._bias_groups._Table`
    (scores from the same model; the reference labelled); `reference_result` is the
    reference's measured :class:`BiasResult`, the baseline of each change.
    """
    lab = reference_table.label < 2
    ref_score, ref_y = reference_table.score[lab], reference_table.label[lab].astype(float)
    overall = _maps(ref_score, ref_y, rng)
    records = []
    for name, cols in attributes:
        codes, vocab, values = table.groups(cols)
        ref_codes, ref_vocab, _ = reference_table.groups(cols)
        ref_codes = ref_codes[lab]
        maps_of, how = [], []
        for g in vocab:
            k = ref_vocab.index(g) if g in ref_vocab else -1
            inside = ref_codes == k
            yk = ref_y[inside]
            if k >= 0 and len(yk) >= _MIN_CAL_ROWS and min(yk.sum(), len(yk) - yk.sum()) >= _MIN_CAL_CLASS:
                maps_of.append(_maps(ref_score[inside], yk, rng))
                how.append("group")
            else:
                maps_of.append(overall)
                how.append("overall")
        record = _attribute(name, cols, table, codes, vocab, maps_of, how, min_size, n_draws, level, rng)
        _compare(record, reference_result, confidence)
        records.append(record)
    _bound_changes(records, confidence)
    return EstimatedFairness(level=level, n_draws=n_draws, attributes=records, reason=None)


def _maps(score: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> list[dict]:
    """The isotonic map on all rows, then :data:`_N_MAPS` maps on bootstrap resamples."""
    out = [_fit_isotonic(score, y, 1)]
    for _ in range(_N_MAPS):
        i = rng.integers(0, len(y), len(y))
        out.append(_fit_isotonic(score[i], y[i], 1))
    return out


def _attribute(name, cols, table, codes, vocab, maps_of, how, min_size, n_draws, level, rng) -> dict:
    n, G = table.n, len(vocab)
    pred = table.pred.astype(bool)
    # the calibrated probability of every row under each map (row: map 0 = the point estimate)
    P = np.empty((_N_MAPS + 1, n))
    for g, maps in enumerate(maps_of):
        rows = codes == g
        for m, cal in enumerate(maps):
            P[m, rows] = _apply(cal, table.score[rows])
    count = np.bincount(codes, minlength=G).astype(float)
    npp = np.bincount(codes, weights=pred, minlength=G)
    p0 = P[0]
    tp = np.bincount(codes, weights=p0 * pred, minlength=G)
    pos = np.bincount(codes, weights=p0, minlength=G)
    point = _rates(tp, pos, npp, count)
    # draws: a map, then every row's label from it; cells by (group, prediction)
    cell = codes * 2 + pred
    onehot = np.zeros((n, 2 * G))
    onehot[np.arange(n), cell] = 1.0
    chunk = max(1, min(n_draws, _CELLS_AT_ONCE // max(n, 1)))
    draws = {r: [] for r in ESTIMATED_RATES}
    done = 0
    while done < n_draws:
        k = min(chunk, n_draws - done)
        which = 1 + (np.arange(done, done + k) % _N_MAPS)
        y = (rng.random((k, n)) < P[which]).astype(float)
        by_cell = y @ onehot  # (k, 2G): positives among each group's negative / positive predictions
        d_tp, d_pos = by_cell[:, 1::2], by_cell[:, 0::2] + by_cell[:, 1::2]
        for r, v in _rates(d_tp, d_pos, npp, count).items():
            draws[r].append(v)
        done += k
    draws = {r: np.concatenate(v) for r, v in draws.items()}
    judged = {
        "accuracy": count >= min_size,
        "tpr": pos >= min_size,
        "fpr": count - pos >= min_size,
        "precision": npp >= min_size,
    }
    tail = (1 - level) / 2 * 100
    groups = []
    for g, label in enumerate(vocab):
        row = {
            "group": label,
            "count": int(count[g]),
            "n_predicted_positive": int(npp[g]),
            "expected_positive": float(pos[g]),
            "calibration": how[g],
            "unjudged": [r for r in ESTIMATED_RATES if not judged[r][g]],
        }
        for r in ESTIMATED_RATES:
            row[r] = _finite(point[r][g])
            vals = draws[r][:, g]
            vals = vals[np.isfinite(vals)]
            row[f"{r}_ci"] = (
                [float(np.percentile(vals, tail)), float(np.percentile(vals, 100 - tail))]
                if len(vals)
                else None
            )
        groups.append(row)
    disparities = {}
    for m, rates in _RATE_OF.items():
        ok = np.all([judged[r] for r in rates], axis=0) & (count >= min_size)
        if ok.sum() < 2:
            disparities[m] = {"value": None, "groups": int(ok.sum()), "ci": None, "spread": None}
            continue
        value = max(_gap(point[r][ok]) for r in rates)
        per_draw = np.max([_gap_rows(draws[r][:, ok]) for r in rates], axis=0)
        per_draw = per_draw[np.isfinite(per_draw)]
        disparities[m] = {
            "value": _finite(value),
            "groups": int(ok.sum()),
            "ci": [float(np.percentile(per_draw, tail)), float(np.percentile(per_draw, 100 - tail))],
            "spread": float(np.std(per_draw, ddof=1)),
        }
    return {"name": name, "columns": list(cols), "groups": groups, "disparities": disparities}


def _rates(tp, pos, npp, count) -> dict:
    """Rates from positives among predicted-positive rows (`tp`) and all positives (`pos`), per group."""
    fp, fn = npp - tp, pos - tp
    tn = count - npp - fn
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "tpr": tp / pos,
            "fpr": fp / (count - pos),
            "precision": np.where(npp > 0, tp / np.where(npp > 0, npp, 1), np.nan),
            "accuracy": (tp + tn) / count,
        }


def _gap(v: np.ndarray) -> float:
    return float(np.max(v) - np.min(v))


def _gap_rows(v: np.ndarray) -> np.ndarray:
    return np.max(v, axis=1) - np.min(v, axis=1)


def _finite(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def _compare(record: dict, reference_result, confidence: float) -> None:
    """Each estimated disparity beside the reference's measured one."""
    try:
        ref = reference_result.attribute(record["name"])
    except KeyError:
        ref = None
    z_ref = NormalDist().inv_cdf(0.5 + confidence / 2)
    for m, d in record["disparities"].items():
        r = ref.disparity(m) if ref is not None else None
        d["reference"] = None if r is None else r.value
        d["reference_ci"] = None if r is None or r.ci is None else list(r.ci)
        d["change"] = None if d["value"] is None or d["reference"] is None else d["value"] - d["reference"]
        d["reference_spread"] = (
            None
            if d["reference_ci"] is None or None in d["reference_ci"]
            else (d["reference_ci"][1] - d["reference_ci"][0]) / (2 * z_ref)
        )


def _bound_changes(records: list[dict], confidence: float) -> None:
    """How much worse each disparity got *at least*: a one-sided bound, Bonferroni over the run's changes."""
    changes = [
        d for r in records for m, d in r["disparities"].items() if m in ESTIMATED and d["change"] is not None
    ]
    z = NormalDist().inv_cdf(1 - (1 - confidence) / max(len(changes), 1))
    for r in records:
        for d in r["disparities"].values():
            if d["change"] is None:
                d["lower_bound"] = None
                continue
            se = float(np.hypot(d["spread"] or 0.0, d["reference_spread"] or 0.0))
            d["lower_bound"] = d["change"] - z * se
