"""The explanation functions' argument checks (shared by the local and global explanation functions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import TASKS
from workbench.errors import DataError, ParameterError, SpecError
from workbench.explain._local import explain_rows
from workbench.validation import check_number


# -- validation ------------------------------------------------------------------------
def _explain(
    model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
):
    _check_sizes(num_features, num_samples)
    _check_frame(reference, model.spec, "the reference data")
    return explain_rows(
        model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
    )


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
