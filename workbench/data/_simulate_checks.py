"""Helpers of the batch simulator that depend on the holdout: the columns and categories a change may name.

Private: import the public names from :mod:`workbench.data.simulate`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, SpecError

if TYPE_CHECKING:
    from workbench.data._simulate_changes import _Holdout


def _numeric_candidates(spec: DatasetSpec, df: pd.DataFrame | None) -> list[str]:
    nums = [c for c in spec.numeric if c not in spec.sensitive]
    if df is not None:  # a column that is mostly one value (capital-gain: 0) shows a shift poorly
        top = {c: df[c].value_counts(normalize=True).iloc[0] if df[c].notna().any() else 1 for c in nums}
        nums = [c for c in nums if top[c] < 0.5] or nums
    return nums


def _categorical_candidates(spec: DatasetSpec, df: pd.DataFrame | None) -> list[str]:
    cats = [c for c in spec.categorical if c not in spec.sensitive]
    if df is not None:  # a few levels, complete columns first
        few = [c for c in cats if 2 < df[c].nunique() <= 20] or [c for c in cats if df[c].nunique() > 1]
        cats = sorted(few, key=lambda c: bool(df[c].isna().any()))
    return cats


def _need_labels(ho: _Holdout, what: str, *, binary: bool = False) -> None:
    spec = ho.spec
    if spec.target is None or not spec.is_classification or (binary and spec.task != "binary"):
        need = "a binary target" if binary else "a classification target"
        raise SpecError(f"{what} needs {need}, but the spec's task is {spec.task or 'none'}")
    if ho.yi is None or (binary and ho.pos is None):
        raise DataError(
            f"{what} changes labels, but the holdout lacks the target '{spec.target}' "
            f"or its positive class {spec.positive_label!r}"
        )


def _column(ho: _Holdout, col: Any, kind: str) -> str:
    if col is None:
        pick = (
            _categorical_candidates(ho.spec, ho.df)
            if kind == "unseen_categories"
            else _numeric_candidates(ho.spec, ho.df) + _categorical_candidates(ho.spec, ho.df)
        )
        if not pick:
            raise SpecError(f"{kind} found no suitable feature column; pass column=")
        return pick[0]
    if col not in ho.df.columns:
        raise DataError(f"{kind} names the column '{col}', which is not in the holdout")
    if col == ho.spec.target:
        raise SpecError(
            f"'{col}' is the target; {kind} changes features (prior_shift and concept_drift change labels)"
        )
    return col


def _is_num(ho: _Holdout, col: str) -> bool:
    s = ho.df[col]
    return col in ho.spec.numeric or (
        col not in ho.spec.categorical
        and pd.api.types.is_numeric_dtype(s)
        and not pd.api.types.is_bool_dtype(s)
    )


def _present(values: Any, df: pd.DataFrame, col: str) -> list:
    values = [values] if isinstance(values, str) or not isinstance(values, Sequence) else list(values)
    present = set(df[col].dropna().unique())
    for v in values:
        if v not in present:
            raise DataError(f"the category {v!r} does not occur in column '{col}' of the holdout")
    return values


def _fresh(base: str, seen: set[str]) -> str:
    name, i = base, 1
    while name in seen:
        i += 1
        name = f"{base}-{i}"
    return name


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return round(x, 6) if np.isfinite(x) else None
    return x.isoformat() if isinstance(x, pd.Timestamp | date) else x
