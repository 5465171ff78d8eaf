"""What the training data looked like, feature by feature: the profile a model's ``meta.json`` keeps.

A served model is asked about records one at a time; a guard in front of it
(:mod:`workbench.serving`) can only refuse an age of 400 or a region it never
saw if the model file says what training saw. The profile is small (ranges,
medians, at most :data:`MAX_CATEGORIES` categories per column, missing shares,
the class shares) and JSON-safe, so it travels inside ``meta.json`` with every
variant compressed from the model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.data._spec import MISSING, DatasetSpec, prepare_frame, target_values

pd = lazy("pandas")

PROFILE_SCHEMA = 1
#: a categorical column with more distinct values than this keeps none (its categories are not checked)
MAX_CATEGORIES = 500


def feature_profile(data: pd.DataFrame, spec: DatasetSpec, *, max_categories: int = MAX_CATEGORIES) -> dict:
    """The training profile of `data` under `spec`: per feature, what values were seen.

    Numeric features: ``min``, ``max``, ``median`` and whether every value was
    an integer; categorical features: the ``values`` seen (sorted; None when
    there were more than `max_categories`) and the most frequent (``mode``);
    every feature: the share of missing values (``missing``). With a target:
    the class shares (classification) or the mean (regression), which a
    serving fallback answers with.

    Parameters
    ----------
    data : DataFrame
        The training table (original column names).
    spec : DatasetSpec
        Its column roles.
    max_categories : int
        Categorical columns with more distinct values keep none.

    Returns
    -------
    dict
        JSON-safe: ``{"schema", "rows", "numeric": {...}, "categorical": {...}, "target": {...} or None}``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [25, 40, 31, 58], "sex": ["F", "M", "F", None],
    ...                    "approved": ["no", "yes", "no", "yes"]})
    >>> from workbench.data import infer_spec
    >>> profile = feature_profile(df, infer_spec(df, target="approved"))
    >>> profile["numeric"]["age"]["min"], profile["categorical"]["sex"]["values"]
    (25.0, ['F', 'M'])
    """
    frame = prepare_frame(data, spec, where="the training data")
    numeric: dict[str, dict] = {}
    for c in spec.numeric:
        x = frame[c].to_numpy(dtype="float64")
        seen = x[np.isfinite(x)]
        missing = 1.0 - len(seen) / len(x) if len(x) else 0.0
        if len(seen):
            numeric[c] = {
                "min": float(seen.min()),
                "max": float(seen.max()),
                "median": float(np.median(seen)),
                "integer": bool(np.all(seen == np.round(seen))),
                "missing": round(missing, 6),
            }
        else:
            numeric[c] = {"min": None, "max": None, "median": None, "integer": False, "missing": 1.0}
    categorical: dict[str, dict] = {}
    for c in spec.categorical:
        counts = pd.Series(frame[c].to_numpy(dtype=object)).value_counts()
        n_missing = int(counts.get(MISSING, 0))
        counts = counts.drop(MISSING, errors="ignore")
        values = sorted(map(str, counts.index)) if len(counts) <= max_categories else None
        categorical[c] = {
            "values": values,
            "mode": str(counts.index[0]) if len(counts) else None,
            "missing": round(n_missing / len(frame), 6) if len(frame) else 0.0,
        }
    return {
        "schema": PROFILE_SCHEMA,
        "rows": int(len(frame)),
        "numeric": numeric,
        "categorical": categorical,
        "target": _target_profile(data, spec),
    }


def _target_profile(data: pd.DataFrame, spec: DatasetSpec) -> dict | None:
    if spec.target is None or spec.target not in data.columns or spec.task is None:
        return None
    y = target_values(data, spec, where="the training data").dropna()
    if not len(y):
        return None
    if spec.task == "regression":
        mean = float(y.astype(float).mean())
        return {"mean": mean if math.isfinite(mean) else None}
    shares = y.map(_native).value_counts(normalize=True)
    # pairs, not a mapping: labels need not be text, and JSON keys are
    return {"classes": [[_native(label), round(float(shares.get(label, 0.0)), 6)] for label in spec.classes]}


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
