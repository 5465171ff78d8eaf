"""Values a model cannot take, found before it is asked to: infinities and text in numeric feature columns.

Private: used by :func:`workbench.evaluate` and by the reports' pre-run
validation (:func:`workbench.reports.compute.validate_inputs`), so both refuse
the same inputs with the same sentence.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from workbench._lazy import lazy
from workbench.errors import DataError

pd = lazy("pandas")


def reject_text_in_numeric(data: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise a :class:`DataError` naming the first row whose value in a numeric column is not a number.

    Only the distinct values of a non-numeric column are parsed (a text
    column read from Parquet is a categorical: its categories).
    """
    for c in columns:
        if c not in data.columns:
            continue
        s = data[c]
        if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            continue
        values = pd.Series(s.dropna().unique(), dtype=object)
        bad = values[pd.to_numeric(values, errors="coerce").isna().to_numpy()]
        if len(bad):
            where_bad = s.isin(bad.tolist()).to_numpy()
            i = s.index[int(np.argmax(where_bad))]
            raise DataError(
                f"column '{c}' in {where} should be numeric but row {i} has the value {s.loc[i]!r}"
            )


def reject_infinite(data: pd.DataFrame, columns: Iterable[str], where: str) -> None:
    """Raise a :class:`DataError` naming a numeric column that holds ±infinity (a model cannot score it)."""
    for c in columns:
        if c not in data.columns:
            continue
        s = data[c]
        if pd.api.types.is_bool_dtype(s.dtype):
            continue
        if pd.api.types.is_numeric_dtype(s.dtype) and not isinstance(s.dtype, pd.CategoricalDtype):
            if pd.api.types.is_integer_dtype(s.dtype):
                continue  # integers cannot be infinite
            x = s.to_numpy(dtype="float64", na_value=np.nan)
        else:
            x = pd.to_numeric(s.astype(object), errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        inf = np.isinf(x)
        n = int(inf.sum())
        if n:
            i = s.index[int(np.argmax(inf))]
            them = "it" if n == 1 else "them"
            raise DataError(
                f"column '{c}' in {where} has {n:,} infinite value{'s' if n > 1 else ''} (first in row {i}); "
                f"a model cannot score infinity: replace {them} with a number, "
                f"or leave {them} empty (missing)"
            )
