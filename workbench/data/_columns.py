"""What a column's values look like, for inferring a spec: numeric, integer-valued, constant, identifier-like.

Private helpers of :mod:`workbench.data._spec`.
"""

from __future__ import annotations

import numpy as np

from workbench._lazy import lazy
from workbench.errors import DataError

pd = lazy("pandas")


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _integer_valued(s: pd.Series) -> bool:
    if pd.api.types.is_integer_dtype(s):
        return True
    v = s.to_numpy(dtype=float)
    return bool(np.all(np.isfinite(v)) and np.all(v == np.round(v)))


def _single_value(s: pd.Series) -> bool:
    """Whether every non-missing value is the same (``nunique() <= 1`` without hashing every row).

    ``nunique`` hashes a million-row numeric column in ~0.25 s; a min/max or a
    comparison with the first value is one cheap pass, and categoricals only
    look at their codes.
    """
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes = s.cat.codes.to_numpy()
        codes = codes[codes >= 0]
        return len(codes) == 0 or bool((codes == codes[0]).all())
    if _is_numeric(s):
        x = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            lo, hi = np.nanmin(x, initial=np.inf), np.nanmax(x, initial=-np.inf)
        return not lo < hi
    values = s.dropna()
    return len(values) == 0 or bool((values == values.iloc[0]).all())


def _looks_like_identifier(s: pd.Series) -> bool:
    if len(s) < 20:
        return False
    if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
        return s.nunique(dropna=True) == len(s)
    if isinstance(s.dtype, pd.CategoricalDtype) and not pd.api.types.is_numeric_dtype(
        s.dtype.categories.dtype
    ):
        # Parquet text is read as categoricals: an identifier read from Parquet is still an identifier
        return len(s.dtype.categories) == len(s) and s.nunique(dropna=True) == len(s)
    return False


def _reject_mostly_numeric(s: pd.Series, name: str) -> None:
    """A text column that is numbers but for a few values is a data error, not a category.

    Parses the distinct values only (weighted by their counts): a category
    column of a million rows has a few dozen of them.
    """
    counts = s.value_counts(dropna=True)
    if counts.empty:
        return
    parsed = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce").notna().to_numpy()
    share_ok = counts.to_numpy()[parsed].sum() / counts.sum()
    if share_ok >= 0.95 and not parsed.all():
        bad_value = counts.index[~parsed][0]
        bad_idx = s.index[(s == bad_value).to_numpy()][0]
        raise DataError(
            f"column '{name}' holds numbers but row {bad_idx} has the non-numeric value "
            f"{bad_value!r}; fix the value or declare the column categorical"
        )


def _to_numeric(s: pd.Series, name: str, where: str) -> pd.Series:
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    parsed = pd.to_numeric(s, errors="coerce")
    bad = parsed.isna() & s.notna()
    if bad.any():
        i = bad[bad].index[0]
        raise DataError(
            f"column '{name}' in {where} should be numeric but row {i} has the value {s.loc[i]!r}"
        )
    return parsed
