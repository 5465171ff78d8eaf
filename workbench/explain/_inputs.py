"""The explanation functions' argument checks (shared by the local and global explanation functions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import TASKS, target_values
from workbench.errors import DataError, ParameterError, SpecError
from workbench.explain._local import explain_rows, find_errors
from workbench.validation import check_number

#: kinds of error :func:`~workbench.explain.explain_worst_errors` can look for, per task
ERROR_KINDS = {
    "binary": ("any", "false_negative", "false_positive"),
    "multiclass": ("any",),
    "regression": ("any", "overestimate", "underestimate"),
}


# -- validation ------------------------------------------------------------------------
def _explain(
    model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
):
    _check_sizes(num_features, num_samples)
    _check_frame(reference, model.spec, "the reference data")
    return explain_rows(
        model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
    )


def worst_errors(
    model, data: pd.DataFrame, kind: str, n: int, threads: int | None, caller: str
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """The `n` most confident errors of `kind` in labelled `data`: (chosen rows, labelled rows, selection).

    Shared by the LIME and the SHAP explanations of the worst errors, so both pick the same rows.
    """
    spec = model.spec
    _check_frame(data, spec, "the data to explain")
    kinds = ERROR_KINDS[spec.task]
    if kind not in kinds:
        raise ParameterError(
            f"the error kind '{kind}' does not apply to {spec.task} models; use one of "
            f"{', '.join(repr(k) for k in kinds)}"
        )
    n = check_number(n, "n", low=1, high=100, integer=True)
    if spec.target is None or spec.target not in data.columns:
        raise DataError(
            f"{caller} needs the true labels, but the target column '{spec.target}' is missing from the data"
        )
    y = target_values(data, spec, where="the data to explain")
    keep = y.notna().to_numpy()
    labelled, y = data.loc[keep], y[keep].to_numpy()
    if not len(y):
        raise DataError(
            f"every value of the target column '{spec.target}' is missing, so there are no errors to find"
        )
    mask, confidence, label = find_errors(model, labelled, y, kind, threads)
    order = np.argsort(-confidence[mask], kind="stable")[:n]
    chosen = labelled.iloc[np.flatnonzero(mask)[order]]
    selection = {
        "method": "worst_errors",
        "error_kind": kind,
        "label": label,
        "n_errors": int(mask.sum()),
        "n_rows": int(len(y)),
    }
    return chosen, labelled, selection


def _check_model(model: Any) -> None:
    spec = getattr(model, "spec", None)
    if spec is None or not hasattr(model, "predict"):
        raise ParameterError("explanations need a workbench model (from train() or load_model())")
    if spec.task not in TASKS:
        raise SpecError("the model's spec has no task, so there is no prediction to explain")


def _check_frame(data: Any, spec, where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame with the original column names")
    if data.empty:
        raise DataError(f"{where} has no rows")
    spec.check_columns(data, where=where)


def _check_sizes(num_features: int, num_samples: int) -> None:
    check_number(num_features, "num_features", low=1, integer=True)
    check_number(num_samples, "num_samples", low=20, high=100_000, integer=True)


def _pair(x: Any, name: str) -> tuple:
    try:
        low, high = x
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be two numbers (low, high), not {x!r}") from None
    return low, high


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
