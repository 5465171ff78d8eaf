"""What can be compared without labels: how often the two models agree, where they disagree, and each
model's label-free performance estimate.

Disagreement segments: each feature column is cut into the slices an
evaluation shows (its values, or five quantile bins of a numeric column with
many values), and the slices of at least `min_group_size` rows are ranked by
the share of rows on which the two models decide differently.

The label-free estimates are those of the performance report
(:func:`workbench.monitoring.performance.fit_estimator`, confidence-based
performance estimation): each model's probabilities are calibrated on a
labelled reference table, so they are skipped, with the reason, without one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench._json import finite

#: slices listed where the models disagree most
TOP_SEGMENTS = 10
#: the estimated metrics shown for each model
ESTIMATED = ("accuracy", "roc_auc", "precision", "recall", "f1")


def agreement(
    data: Any,
    features: list[str],
    pred_a: np.ndarray,
    pred_b: np.ndarray,
    score_a: np.ndarray,
    score_b: np.ndarray,
    *,
    min_group_size: int,
) -> dict:
    """Agreement rate, both positive rates, score correlation, and the slices with the most disagreement."""
    import pandas as pd

    from workbench.modeling.evaluate import _slice_values  # the slices an evaluation shows

    differ = np.asarray(pred_a) != np.asarray(pred_b)
    segments = []
    for column in features:
        s = data[column].reset_index(drop=True)
        slices = _slice_values(s, s.dtype.kind in "if")
        grouped = pd.Series(differ).groupby(slices.to_numpy()).agg(["sum", "count"])
        for value, row in grouped.iterrows():
            if row["count"] >= min_group_size:
                segments.append(
                    {
                        "column": column,
                        "value": str(value),
                        "count": int(row["count"]),
                        "disagreement": float(row["sum"] / row["count"]),
                    }
                )
    segments.sort(key=lambda r: (-r["disagreement"], -r["count"]))
    corr = None
    if len(score_a) > 2 and np.std(score_a) > 0 and np.std(score_b) > 0:
        corr = finite(np.corrcoef(score_a, score_b)[0, 1])
    return {
        "rate": float(1 - differ.mean()) if len(differ) else None,
        "n": int(len(differ)),
        "disagreements": int(differ.sum()),
        "positive_rate": {"champion": float(pred_a.mean()), "challenger": float(pred_b.mean())},
        "score_correlation": corr,
        "mean_abs_score_difference": float(np.mean(np.abs(score_b - score_a))) if len(score_a) else None,
        "min_group_size": int(min_group_size),
        "segments": segments[:TOP_SEGMENTS],
    }


def label_free_estimates(
    data: Any, champion: Any, challenger: Any, reference: Any
) -> tuple[dict | None, str]:
    """Both models' label-free estimates on `data` (calibrated on `reference`), or None and why not."""
    if reference is None:
        return None, (
            "The label-free performance estimates were skipped: they calibrate each model's probabilities "
            "on a labelled reference table, and none was given (reference=)."
        )
    from workbench.monitoring.performance import fit_estimator

    out = {}
    for role, model in (("champion", champion), ("challenger", challenger)):
        est = fit_estimator(reference, model)
        metrics = est.estimate(data, model)
        out[role] = {
            "estimated": {k: finite(metrics.get(k)) for k in ESTIMATED if k in metrics},
            "reference": {k: finite(est.reference.get(k)) for k in ESTIMATED if k in est.reference},
            "reference_rows": int(est.reference_rows),
        }
    return out, (
        f"The label-free estimates are calibrated on {out['champion']['reference_rows']:,} labelled "
        "reference rows."
    )
