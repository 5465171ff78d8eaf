"""What bias analysis takes in, checked and coded.

The task, the options, the sensitive columns, groups, predictions.
Private to :mod:`workbench.monitoring.bias` and its modules.
"""

from __future__ import annotations

import numpy as np

from workbench._lazy import lazy
from workbench.errors import DataError, ParameterError, SpecError
from workbench.monitoring._bias_definitions import _MISSING
from workbench.monitoring._bias_numbers import _native

pd = lazy("pandas")


def _require_binary(task: str | None, model_task: str | None) -> None:
    for t in (task, model_task):
        if t == "multiclass":
            raise SpecError(
                "bias analysis needs a binary classifier; for multiclass, evaluate per-group "
                "accuracy with workbench.evaluate(model, data, slices=[...])"
            )
        if t == "regression":
            raise SpecError(
                "bias analysis needs a binary classifier; for a regression model, compare "
                "per-group errors with workbench.evaluate(model, data, slices=[...])"
            )
    if task != "binary":
        raise SpecError(f"bias analysis needs a spec with a binary target (the task is {task or 'not set'})")


def _sensitive_columns(spec, sensitive) -> list[str]:
    if sensitive is None:
        sens = list(spec.sensitive or [])
    elif isinstance(sensitive, str):
        sens = [sensitive]
    else:
        sens = list(dict.fromkeys(sensitive))
    if not sens:
        raise ParameterError(
            "bias analysis needs sensitive columns: declare them in the spec or pass sensitive=[...]"
        )
    return sens


def _group_codes(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer group codes and group names (as text); missing values form the group "missing"."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    names = [str(_native(u)) for u in uniques]
    if (codes < 0).any():
        codes = np.where(codes < 0, len(names), codes)
        names.append(_MISSING)
    return codes.astype(np.int64), names


def _as_positive(pred, spec, where: str) -> np.ndarray:
    """Predicted labels as booleans (positive class), from class labels or 0/1/bool."""
    codes, uniques = pd.factorize(pd.Series(pred).to_numpy(dtype=object), use_na_sentinel=True)
    if (codes < 0).any():
        raise DataError(f"the predictions for {where} have missing values")
    positive, classes = spec.positive_label, list(spec.classes or [])
    values = [_native(v) for v in uniques]
    if all(str(v) in {str(c) for c in classes} for v in values):
        hit = np.array([str(v) == str(positive) for v in values], dtype=bool)
    elif all(isinstance(v, bool | int | float) and v in (0, 1) for v in values):  # also True/False
        hit = np.array([bool(v) for v in values], dtype=bool)
    else:
        shown = ", ".join(repr(v) for v in values[:4])
        raise DataError(
            f"the predictions for {where} must be class labels ({', '.join(map(repr, classes))}) or "
            f"0/1, not values such as {shown}"
        )
    return hit[codes] if len(hit) else np.zeros(len(codes), dtype=bool)


def _unravel(v: int, sizes: list[int]) -> list[int]:
    out = []
    for size in reversed(sizes):
        v, r = divmod(v, size)
        out.append(r)
    return out[::-1]


def _group_order(g: str):
    return (g == _MISSING, g)
