"""Constants, validation and formatting shared by :mod:`workbench.monitoring.bias` and its private modules.

Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.errors import DataError, SpecError, WorkbenchError

pd = lazy("pandas")

#: Per-group rates, in display order.
RATES = ("selection_rate", "base_rate", "tpr", "fpr", "precision", "accuracy")
#: disparity -> (per-group rate, kind, the direction that is worse)
DISPARITIES: dict[str, tuple[str, str, str]] = {
    "demographic_parity_ratio": ("selection_rate", "ratio", "lower"),
    "demographic_parity_difference": ("selection_rate", "difference", "higher"),
    "equalized_odds_difference": ("tpr+fpr", "difference", "higher"),
    "equal_opportunity_difference": ("tpr", "difference", "higher"),
    "false_positive_rate_difference": ("fpr", "difference", "higher"),
    "predictive_parity_difference": ("precision", "difference", "higher"),
    "accuracy_difference": ("accuracy", "difference", "higher"),
    "base_rate_difference": ("base_rate", "difference", "higher"),
}
#: absolute checks: metric -> (op, default threshold)
ABSOLUTE_CHECKS: dict[str, tuple[str, float]] = {
    "demographic_parity_ratio": (">=", 0.8),
    "demographic_parity_difference": ("<=", 0.1),
    "equalized_odds_difference": ("<=", 0.1),
    "equal_opportunity_difference": ("<=", 0.1),
}
#: metrics compared with the reference (check ``bias.<metric>.<attr>.worsened``, default <= 0)
WORSENED_CHECKS = ("demographic_parity_ratio", "demographic_parity_difference", "equalized_odds_difference",
                   "equal_opportunity_difference", "predictive_parity_difference", "base_rate_difference")

# confusion cells per group: (label, prediction) with label negative / positive / unknown
CELLS = ("tn", "fp", "fn", "tp", "unlabelled_negative", "unlabelled_positive")
_MISSING = "missing"
_SEP = " & "
_MAX_DRAWS = 1 << 22  # multinomial counts held at once (bounds the bootstrap's memory)
_PRIOR = 0.5  # Jeffreys pseudo-count per cell in the comparison's Bayesian bootstrap
_WORDS = {
    "selection_rate": "share predicted {pos}",
    "base_rate": "share actually {pos}",
    "tpr": "share of actual {pos} cases predicted {pos} (true positive rate)",
    "fpr": "share of actual {neg} cases wrongly predicted {pos} (false positive rate)",
    "precision": "share of {pos} predictions that are right (precision)",
    "accuracy": "accuracy",
    "impact_ratio": "selection rate relative to the most-favoured group",
    "demographic_parity_ratio": "ratio of the lowest to the highest share predicted {pos}",
    "demographic_parity_difference": "gap between the highest and lowest share predicted {pos}",
    "equalized_odds_difference": "largest gap in true or false positive rates",
    "equal_opportunity_difference": "gap in true positive rates",
    "false_positive_rate_difference": "gap in false positive rates",
    "predictive_parity_difference": "gap in precision",
    "accuracy_difference": "gap in accuracy",
    "base_rate_difference": "gap in actual {pos} rates",
}


# -- validation and helpers ------------------------------------------------------------
def _require_binary(task: str | None, model_task: str | None) -> None:
    for t in (task, model_task):
        if t == "multiclass":
            raise WorkbenchError("bias analysis needs a binary classifier; for multiclass, evaluate per-group "
                                 "accuracy with workbench.evaluate(model, data, slices=[...])")
        if t == "regression":
            raise WorkbenchError("bias analysis needs a binary classifier; for a regression model, compare "
                                 "per-group errors with workbench.evaluate(model, data, slices=[...])")
    if task != "binary":
        raise SpecError("bias analysis needs a spec with a binary target (the task is "
                        f"{task or 'not set'})")


def _check_options(min_group_size, n_bootstrap, confidence) -> None:
    if isinstance(min_group_size, bool) or not isinstance(min_group_size, int | np.integer) or min_group_size < 1:
        raise WorkbenchError(f"min_group_size must be a whole number of 1 or more, not {min_group_size!r}")
    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int | np.integer) or n_bootstrap < 0:
        raise WorkbenchError(f"n_bootstrap must be a whole number of 0 or more, not {n_bootstrap!r}")
    if not isinstance(confidence, int | float) or not 0 < confidence < 1:
        raise WorkbenchError(f"confidence must be between 0 and 1 (e.g. 0.95), not {confidence!r}")


def _sensitive_columns(spec, sensitive) -> list[str]:
    if sensitive is None:
        sens = list(spec.sensitive or [])
    elif isinstance(sensitive, str):
        sens = [sensitive]
    else:
        sens = list(dict.fromkeys(sensitive))
    if not sens:
        raise WorkbenchError("bias analysis needs sensitive columns: declare them in the spec or pass "
                             "sensitive=[...]")
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
        raise DataError(f"the predictions for {where} must be class labels ({', '.join(map(repr, classes))}) or "
                        f"0/1, not values such as {shown}")
    return hit[codes] if len(hit) else np.zeros(len(codes), dtype=bool)


def _unravel(v: int, sizes: list[int]) -> list[int]:
    out = []
    for size in reversed(sizes):
        v, r = divmod(v, size)
        out.append(r)
    return out[::-1]


def _group_order(g: str):
    return (g == _MISSING, g)


def _ci(x: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return None
    lo, hi = np.quantile(x, [lo_q, hi_q])
    return [float(lo), float(hi)]


def _basic_ci(estimate: float, reps: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    """The basic (pivot) bootstrap interval: the bootstrap deviations reflected around the estimate."""
    q = _ci(reps, lo_q, hi_q)
    return None if q is None else [2 * estimate - q[1], 2 * estimate - q[0]]


def _num(v: Any) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if math.isfinite(v) else None


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _jsonable(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def _f(v: float | None) -> str:
    return "—" if v is None else f"{v:.3g}"


def _fmt_ci(ci: Sequence | None) -> str:
    if not ci or ci[0] is None:
        return "—"
    return f"{ci[0]:.2f} to {ci[1]:.2f}"


def _driver_text(d) -> str:
    """The group behind a disparity's change (a :class:`~workbench.monitoring._bias_records.RateChange`), in words."""
    if d is None or d.change is None:
        return ""
    what = {"impact_ratio": "selection rate relative to the most-favoured group", "tpr": "true positive rate",
            "fpr": "false positive rate", "precision": "precision", "base_rate": "actual positive rate",
            "selection_rate": "selection rate"}[d.measure]
    verb = "fell" if d.change < 0 else "rose"
    return f"; mostly {d.group}: its {what} {verb} from {_f(d.reference)} to {_f(d.current)}"
