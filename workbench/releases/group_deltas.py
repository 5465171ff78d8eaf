"""Fairness of the champion and the challenger on the same rows, and what changes between them.

Each model's disparities, with their intervals, come from the bias report
itself (:func:`workbench.monitoring.bias.assess_bias`, one run per model, each
sensitive column on its own). What this module adds is the *paired* change:
per group (selection rate, TPR, FPR, precision, accuracy) and per disparity,
challenger − champion, with a bootstrap interval in which both models are
judged on the same resampled rows.

Resampling rows only changes how many rows fall in each (group, label,
champion decision, challenger decision) cell, so a replicate is one
multinomial draw over those cells (12 per group), as the bias report draws
its own cells; both models' confusion counts are its two margins. The rates
and disparities of a replicate are computed by the bias report's own
functions, so a delta is exactly a difference of the numbers it reports.

Two kinds of interval: ``ci``, the pointwise percentile interval shown next to
each delta, and ``worse_by_at_least``, the lower bound of how much worse the
challenger is, holding simultaneously over every comparison of its family
(max-t over the disparities, and separately over the group rates), so that
naming a harmed group or failing a ``release.fairness.*`` gate happens by
chance in only about ``1 - confidence`` of comparisons of equal models.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench._json import finite
from workbench.checks._names import RELEASE_FAIRNESS

# the bias report's definitions of groups, rates, judged groups and disparities (reused, not re-derived)
from workbench.monitoring._bias_definitions import DISPARITIES
from workbench.monitoring._bias_groups import _disparity, _judged, _rates
from workbench.monitoring._bias_inputs import _group_codes
from workbench.monitoring._bias_numbers import _ci as _quantiles  # the bootstrap's percentile interval

#: the per-group rates compared, and the direction that is worse for the group (None: neither)
GROUP_RATES: dict[str, str | None] = {
    "selection_rate": None,
    "tpr": "lower",
    "fpr": "higher",
    "precision": "lower",
    "accuracy": "lower",
}


def compare_fairness(
    data: Any,
    spec: Any,
    champion: Any,
    challenger: Any,
    label: np.ndarray,
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    sensitive: list[str],
    *,
    min_group_size: int,
    n_bootstrap: int,
    confidence: float,
    random_state: int | None,
) -> tuple[list[dict], list[str]]:
    """Per sensitive column: both models' disparities and the paired deltas; and the bias reports' notes.

    `label` holds 0/1 for labelled rows and 2 for rows without a label;
    `pred_a`/`pred_b` the champion's and challenger's decisions (booleans).
    """
    from workbench.monitoring.bias import assess_bias

    kw = dict(
        sensitive=sensitive,
        intersections=False,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        random_state=random_state,
    )
    bias_a = assess_bias(data, spec, model=champion, **kw)
    bias_b = assess_bias(data, spec, model=challenger, **kw)
    rng = np.random.default_rng(np.random.SeedSequence(random_state).spawn(2)[1])
    records, families = [], {"disparities": [], "groups": []}
    for attr_a in bias_a.attributes:
        codes, names = _group_codes(data[attr_a.name])
        record = _attribute(
            attr_a, bias_b.attribute(attr_a.name), codes, names, label, pred_a, pred_b,
            min_group_size, n_bootstrap, confidence, rng, families,
        )  # fmt: skip
        records.append(record)
    for family in families.values():
        _simultaneous_bounds(family, confidence)
    notes = list(dict.fromkeys([*bias_a.notes, *bias_b.notes]))
    return records, notes


def _attribute(
    attr_a, attr_b, codes, names, label, pred_a, pred_b, min_size, n_boot, confidence, rng, families
):
    n_groups = len(names)
    joint = ((codes * 3 + label) * 2 + pred_a) * 2 + pred_b
    counts = np.bincount(joint, minlength=12 * n_groups).reshape(n_groups, 3, 2, 2)
    cells_a = counts.sum(axis=3).reshape(n_groups, 6)  # (label, champion decision): the bias report's cells
    cells_b = counts.sum(axis=2).reshape(n_groups, 6)
    ja, jb = _judged(cells_a, min_size), _judged(cells_b, min_size)
    judged = {m: ja[m] & jb[m] for m in ja}  # a group is compared where both reports judge it
    pa, pb = _rates(cells_a), _rates(cells_b)
    ra = rb = None
    if n_boot:
        flat = counts.ravel().astype(float)
        draws = rng.multinomial(int(flat.sum()), flat / flat.sum(), size=n_boot)
        draws = draws.reshape(n_boot, n_groups, 3, 2, 2)
        ra = _rates(draws.sum(axis=4).reshape(n_boot, n_groups, 6))
        rb = _rates(draws.sum(axis=3).reshape(n_boot, n_groups, 6))
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    disparities = []
    for metric, (_, _, worse) in DISPARITIES.items():
        da, db = attr_a.disparities[metric], attr_b.disparities[metric]
        va, _ = _disparity(pa, judged, metric)
        vb, _ = _disparity(pb, judged, metric)
        delta = None if va is None or vb is None else finite(vb - va)
        row = {
            "metric": metric,
            "champion": da.value,
            "champion_ci": da.ci,
            "challenger": db.value,
            "challenger_ci": db.ci,
            "delta": delta,
            "ci": None,
            "worsening": None if delta is None else (-delta if worse == "lower" else delta),
            "worse_by_at_least": None,
        }
        if ra is not None and delta is not None:
            reps = _disparity(rb, judged, metric)[0] - _disparity(ra, judged, metric)[0]
            row["ci"] = _quantiles(reps, lo_q, hi_q)
            if metric in RELEASE_FAIRNESS:
                families["disparities"].append((row, -reps if worse == "lower" else reps))
        disparities.append(row)
    groups = []
    for k, name in enumerate(names):
        c = counts[k]
        rates = {}
        for rate, worse in GROUP_RATES.items():
            if not judged[rate][k]:
                continue
            delta = finite(pb[rate][k] - pa[rate][k])
            worsening = None if worse is None or delta is None else (delta if worse == "higher" else -delta)
            entry = {
                "champion": finite(pa[rate][k]),
                "challenger": finite(pb[rate][k]),
                "delta": delta,
                "ci": None,
                "worsening": worsening,
                "worse_by_at_least": None,
            }
            if ra is not None and delta is not None:
                reps = rb[rate][:, k] - ra[rate][:, k]
                entry["ci"] = _quantiles(reps, lo_q, hi_q)
                if worse is not None:
                    families["groups"].append((entry, reps if worse == "higher" else -reps))
            rates[rate] = entry
        groups.append({"group": name, "count": int(c.sum()), "n_labelled": int(c[:2].sum()), "rates": rates})
    groups.sort(key=lambda g: -g["count"])
    return {
        "name": attr_a.name,
        "most_favoured": {"champion": attr_a.most_favoured, "challenger": attr_b.most_favoured},
        "disparities": disparities,
        "groups": groups,
    }


def _simultaneous_bounds(family: list[tuple[dict, np.ndarray]], confidence: float) -> None:
    """Set each entry's ``worse_by_at_least``: a lower bound holding jointly over the family (max-t).

    Each comparison's bootstrap deviations are scaled by their standard
    deviation; the `confidence` quantile of the largest scaled deviation per
    replicate widens every one-sided bound alike.
    """
    if not family:
        return
    points = np.array([entry.get("worsening", np.nan) for entry, _ in family], dtype=float)
    reps = np.column_stack([r for _, r in family]).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.nanstd(reps, axis=0)
        scaled = np.abs(reps - points) / np.where(sd > 0, sd, np.nan)
        worst = np.nanmax(np.where(np.isfinite(scaled), scaled, -np.inf), axis=1)
    worst = worst[np.isfinite(worst)]
    q = float(np.quantile(worst, confidence)) if len(worst) else 0.0
    for (entry, _), p, s in zip(family, points, sd, strict=True):
        entry["worse_by_at_least"] = finite(p - q * (s if np.isfinite(s) else 0.0))
