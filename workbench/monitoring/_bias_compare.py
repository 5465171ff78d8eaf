"""The reference comparison of :func:`workbench.monitoring.bias.assess_bias`.

Which disparities got worse, beyond chance.
Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from workbench._json import finite as _num
from workbench.checks._names import WORSENED_CHECKS
from workbench.monitoring._bias_definitions import _PRIOR, CELLS, DISPARITIES
from workbench.monitoring._bias_groups import _bootstrap_rates, _disparity, _impact, _judged, _rates
from workbench.monitoring._bias_numbers import _basic_ci, _ci
from workbench.monitoring._bias_records import Comparison


# -- the reference comparison -----------------------------------------------------------
def _compare(records, reps, ref: BiasResult, min_size, n_boot, confidence, rng) -> Comparison:
    lo_q, hi_q = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    ref_attrs = {a.name: a for a in ref.attributes}
    out_d, out_g, skipped = [], [], []
    family: list[tuple[dict, np.ndarray]] = []
    for rec in records:
        name = rec.name
        if name not in ref_attrs:
            skipped.append(name)
            continue
        cur = reps[name]
        vocab = cur["vocab"]
        ref_by = {g.group: g for g in ref_attrs[name].groups}
        ref_counts = np.array(
            [[ref_by[g].confusion[c] if g in ref_by else 0 for c in CELLS] for g in vocab], dtype=np.int64
        )
        judged_c, judged_r = _judged(cur["counts"], min_size), _judged(ref_counts, min_size)
        judged = {m: judged_c[m] & judged_r[m] for m in judged_c}
        pc, pr = _rates(cur["counts"]), _rates(ref_counts)
        for p in (pc, pr):
            p["impact_ratio"] = _impact(p["selection_rate"], judged["selection_rate"])
        rc = rr = None
        if n_boot:
            rc = _bootstrap_rates(cur["counts"], n_boot, rng, prior=_PRIOR)
            rr = _bootstrap_rates(ref_counts, n_boot, rng, prior=_PRIOR)
            for r in (rc, rr):
                r["impact_ratio"] = _impact(r["selection_rate"], judged["selection_rate"])
        changes: dict[tuple[str, str], dict] = {}
        for k, g in enumerate(vocab):
            for m in ("selection_rate", "impact_ratio", "tpr", "fpr", "precision", "base_rate"):
                ok = judged["selection_rate" if m == "impact_ratio" else m][k]
                if not ok:
                    continue
                row = {
                    "attribute": name,
                    "group": g,
                    "measure": m,
                    "reference": _num(pr[m][k]),
                    "current": _num(pc[m][k]),
                    "change": _num(pc[m][k] - pr[m][k]),
                    "ci": None,
                    "z": None,
                }
                if rc is not None:
                    diff = rc[m][:, k] - rr[m][:, k]
                    row["ci"] = _ci(diff, lo_q, hi_q)
                    sd = float(np.nanstd(diff))
                    row["z"] = _num(row["change"] / sd) if sd > 0 and row["change"] is not None else None
                changes[(g, m)] = row
                out_g.append(row)
        for m in DISPARITIES:
            orient = -1.0 if DISPARITIES[m][2] == "lower" else 1.0
            vc, n_groups = _disparity(pc, judged, m)
            vr, _ = _disparity(pr, judged, m)
            entry = {
                "attribute": name,
                "metric": m,
                "groups": n_groups,
                "reference": None,
                "current": None,
                "worsening": None,
                "ci": None,
                "lower_bound": None,
                "significant": False,
                "driver": None,
            }
            if vc is not None and vr is not None and np.isfinite(vc) and np.isfinite(vr):
                entry.update(reference=_num(vr[()]), current=_num(vc[()]), worsening=_num(orient * (vc - vr)))
                if rc is not None:
                    w = orient * (_disparity(rc, judged, m)[0] - _disparity(rr, judged, m)[0])
                    entry["ci"] = _basic_ci(entry["worsening"], w, lo_q, hi_q)
                    if m in WORSENED_CHECKS:
                        family.append((entry, w))
                entry["driver"] = _driver(changes, m)
            out_d.append(entry)
    critical = _simultaneous(family, confidence)
    return Comparison.from_dict(
        {
            "reference_rows": ref.n_rows,
            "reference_labelled": ref.n_labelled,
            "reference_model": ref.model_name,
            "comparisons": len(family),
            "critical_value": critical,
            "disparities": out_d,
            "groups": out_g,
            "not_in_reference": skipped,
        }
    )


if TYPE_CHECKING:
    from workbench.monitoring.bias import BiasResult


def _simultaneous(family: list[tuple[dict, np.ndarray]], confidence: float) -> float | None:
    """Set each gated comparison's lower bound so that all hold together at `confidence` (max-t bootstrap).

    Checking many disparities at once would raise a false alarm on a good
    share of clean batches if each had its own 95% interval. The critical
    value is the `confidence` quantile of the largest standardised bootstrap
    deviation over all of them (Westfall-Young max-t), so a batch with no
    real change fails any ``.worsened`` check in only about 1 - confidence of
    runs. The deviations are taken around the estimate (basic bootstrap), which also
    removes the upward bias of max-minus-min statistics in small groups.
    """
    if not family:
        return None
    dev = []
    for entry, w in family:
        sd = float(np.nanstd(w))
        entry["_sd"] = sd
        dev.append((w - entry["worsening"]) / sd if sd > 0 else np.zeros_like(w))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        top = np.nanmax(np.vstack(dev), axis=0)
    top = top[np.isfinite(top)]
    if not len(top):
        return None
    critical = float(np.quantile(top, confidence))
    for entry, _ in family:
        sd = entry.pop("_sd")
        entry["lower_bound"] = entry["worsening"] - critical * sd
        entry["significant"] = bool(entry["lower_bound"] > 0)
    return critical


def _driver(changes: dict, metric: str) -> dict | None:
    """The group whose own rate moved most (in standard errors) behind a disparity's change."""
    rate = DISPARITIES[metric][0]
    measures = {"selection_rate": ("impact_ratio",), "tpr+fpr": ("tpr", "fpr")}.get(rate, (rate,))
    rows = [r for (g, m), r in changes.items() if m in measures and r["change"] is not None]
    if not rows:
        return None
    best = max(rows, key=lambda r: abs(r["z"]) if r["z"] is not None else abs(r["change"]))
    return {k: best[k] for k in ("group", "measure", "reference", "current", "change", "ci", "z")}
