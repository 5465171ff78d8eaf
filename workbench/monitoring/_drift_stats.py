"""Per-table statistics for drift and data quality: each column reduced once to distinct values and counts.

Private: import the public names from :mod:`workbench.monitoring.drift`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, ParameterError

pd = lazy("pandas")

_FORMAT, _FORMAT_VERSION = "workbench-table-stats", 1


# -- per-table statistics, computed once ------------------------------------------------
@dataclass(frozen=True, eq=False)
class ColumnStats:
    """One column reduced to its distinct non-missing values and their counts.

    ``type`` is the column's role in the spec (numeric or categorical); ``dtype``
    what its values are in this table (numeric, text, boolean, datetime, mixed,
    missing). Numeric values are float64, categories text labels; both sorted.
    ``n_missing`` counts NaN/None; ±inf (numeric) is counted in ``n_infinite``
    and, like missing values, left out of the tests as Evidently does.
    """

    name: str
    type: str
    dtype: str
    n_rows: int
    n_missing: int
    values: np.ndarray
    counts: np.ndarray
    std: float | None = None
    integer: bool = False
    n_infinite: int = 0

    @property
    def n(self) -> int:
        """Rows that take part in the tests (not missing, finite)."""
        return self.n_rows - self.n_missing - self.n_infinite

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else 0.0

    @property
    def numeric(self) -> bool:
        return self.values.dtype.kind == "f"

    def mean(self) -> float | None:
        if not self.numeric or self.n == 0:
            return None
        return float(np.dot(self.values, self.counts) / self.n)

    def meta(self) -> dict:
        """Every field but the values and their counts."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("values", "counts")}


@dataclass(frozen=True, eq=False)
class TableStats:
    """What the drift and quality analyses need from one table, computed once.

    Build it with :func:`compute_table_stats` (alias
    :func:`compute_reference_stats`), keep it with :meth:`save`/:meth:`load`
    (``.npz`` with a JSON header, no pickle) and pass it as ``reference_stats``
    so repeated runs against the same reference skip all reference-side work.
    """

    n_rows: int
    columns: dict[str, ColumnStats]
    dtypes: dict[str, str]
    target: str | None = None
    prediction: ColumnStats | None = None
    model_name: str | None = None
    duplicate_share: float | None = None

    def save(self, path: str | Path) -> Path:
        """Write one ``.npz`` file (arrays plus a JSON header), atomically; return its path."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        cols = list(self.columns.values()) + ([self.prediction] if self.prediction is not None else [])
        meta = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "n_rows": self.n_rows,
            "dtypes": self.dtypes,
            "target": self.target,
            "model_name": self.model_name,
            "duplicate_share": self.duplicate_share,
            "columns": [c.meta() for c in cols],
            "prediction": self.prediction is not None,
        }
        arrays = {"__meta__": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        for i, c in enumerate(cols):
            arrays[f"v{i}"] = c.values if c.numeric else np.asarray(c.values, dtype=str)
            arrays[f"c{i}"] = c.counts
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        try:
            np.savez_compressed(tmp, **arrays)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TableStats:
        """Read statistics written by :meth:`save` (never unpickles anything)."""
        path = Path(path)
        if not path.is_file():
            raise DataError(f"the statistics file '{path}' does not exist")
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["__meta__"].tobytes().decode())
                arrays = {k: z[k] for k in z.files if k != "__meta__"}
        except (OSError, ValueError, KeyError, json.JSONDecodeError):
            raise DataError(f"'{path}' is not a workbench statistics file") from None
        if meta.get("format") != _FORMAT or meta.get("version") != _FORMAT_VERSION:
            raise DataError(f"'{path}' is not a workbench statistics file of version {_FORMAT_VERSION}")
        cols = [
            ColumnStats(values=arrays[f"v{i}"], counts=arrays[f"c{i}"].astype(np.int64), **m)
            for i, m in enumerate(meta["columns"])
        ]
        pred = cols.pop() if meta["prediction"] else None
        return cls(
            n_rows=meta["n_rows"],
            columns={c.name: c for c in cols},
            dtypes=meta["dtypes"],
            target=meta["target"],
            prediction=pred,
            model_name=meta["model_name"],
            duplicate_share=meta["duplicate_share"],
        )


ReferenceStats = TableStats


def compute_table_stats(
    data: pd.DataFrame,
    spec: DatasetSpec,
    *,
    model: Any = None,
    columns: Sequence[str] | None = None,
    duplicates: bool = False,
    where: str = "the reference data",
) -> TableStats:
    """Reduce a table to per-column distinct values and counts (features, target, predictions).

    `model` adds its predictions (binary: positive-class score; multiclass:
    predicted class; regression: prediction). `duplicates` adds the share of
    duplicated rows (features and target), which data quality reports.
    """
    _check_spec(spec)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame, not {type(data).__name__}")
    if len(data) == 0:
        raise DataError(f"{where} has no rows: there is nothing to compare")
    if data.columns.duplicated().any():
        dup = sorted({str(c) for c in data.columns[data.columns.duplicated()]})
        raise DataError(f"{where} has duplicate column names: {', '.join(map(repr, dup))}")
    names = list(columns) if columns is not None else list(spec.features)
    if spec.target and spec.target not in names:
        names.append(spec.target)
    keys: dict[str, np.ndarray] = {}  # per-row value codes, for the duplicate count
    stats = {
        c: _profile(data[c], c, _role_type(spec, c), keys if duplicates else None)
        for c in names
        if c in data.columns
    }
    dtypes = {str(c): (stats[c].dtype if c in stats else _cheap_kind(data[c])) for c in data.columns}
    pred, model_name = None, None
    if model is not None:
        pred, model_name = _prediction_stats(model, data, spec), getattr(model, "name", None)
    elif spec.prediction and spec.prediction in data.columns:  # scores logged with the data
        s = data[spec.prediction]
        kind = "numeric" if _value_kind(s) == "numeric" and s.nunique() > 2 else "categorical"
        pred = _profile(s, "prediction", kind)
    dup = None
    if duplicates:
        keep = [c for c in [*spec.features, spec.target] if c and c in data.columns]
        for c in keep:
            if c not in keys:
                _profile(data[c], c, _role_type(spec, c), keys)
        dup = _duplicate_share([keys[c] for c in keep], len(data))
    return TableStats(
        n_rows=len(data),
        columns=stats,
        dtypes=dtypes,
        target=spec.target if spec.target in stats else None,
        prediction=pred,
        model_name=model_name,
        duplicate_share=dup,
    )


compute_reference_stats = compute_table_stats


# -- helpers ----------------------------------------------------------------------------
def _profile(s: pd.Series, name: str, col_type: str, keys: dict | None = None) -> ColumnStats:
    """Distinct values and counts of one column; with `keys`, also store its per-row value codes there."""
    kind = _value_kind(s)
    n_rows = len(s)
    if col_type == "numeric" and kind in ("numeric", "boolean"):
        integer = pd.api.types.is_integer_dtype(
            s.dtype.categories.dtype if isinstance(s.dtype, pd.CategoricalDtype) else s.dtype
        )
        x = (
            s.to_numpy(dtype="float64", na_value=np.nan)
            if kind == "numeric" and s.dtype != object
            else pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        )
        nan, inf = np.isnan(x), np.isinf(x)
        n_nan, n_inf = int(nan.sum()), int(inf.sum())
        ok = x[~(nan | inf)] if n_nan or n_inf else x
        values, counts = np.unique(ok, return_counts=True)
        std = float(np.std(ok)) if len(ok) else None  # as Evidently norms the Wasserstein distance
        if keys is not None:  # one bit pattern per value: -0.0 is 0.0, every NaN the same
            keys[name] = np.where(nan, np.nan, x + 0.0).view(np.uint64)
        return ColumnStats(
            name,
            col_type,
            "missing" if len(ok) == 0 else kind,
            n_rows,
            n_nan,
            values,
            counts.astype(np.int64),
            std,
            integer,
            n_inf,
        )
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)  # one hash pass; missing -> -1
    per_code = (
        np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, np.int64)
    )
    if kind == "datetime" and len(uniques):
        labels = _datetime_labels(pd.DatetimeIndex(uniques))
    else:
        labels = (
            np.array([_label(v) for v in uniques], dtype=str) if len(uniques) else np.array([], dtype=str)
        )
    values, inverse = np.unique(labels, return_inverse=True)  # 1 and 1.0 are one category, as in pandas
    counts = np.bincount(inverse, weights=per_code, minlength=len(values)).astype(np.int64)
    values, counts = values[counts > 0], counts[counts > 0]
    if keys is not None:
        keys[name] = (
            codes.astype(np.uint64)
            if len(values) == len(uniques)
            else np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1).astype(np.uint64)
        )
    n_missing = n_rows - int(counts.sum())
    return ColumnStats(
        name, col_type, "missing" if len(values) == 0 else kind, n_rows, n_missing, values, counts
    )


def _duplicate_share(keys: list[np.ndarray], n: int) -> float:
    """Share of rows equal to an earlier row, from per-column value codes mixed into one 64-bit key.

    Hashing the codes the profile already has is ~10x faster than
    ``pd.util.hash_pandas_object`` on the text columns again; two different
    rows share a key with probability ~n²/2^65 (1e-8 at a million rows).
    """
    if not keys or n == 0:
        return 0.0
    h = np.full(n, 0x9E3779B97F4A7C15, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in keys:  # splitmix64-style mixing, one column at a time
            h ^= k
            h *= np.uint64(0xBF58476D1CE4E5B9)
            h ^= h >> np.uint64(31)
    h.sort()  # (np.unique hashes 64-bit keys, ~15x slower than sorting them)
    return float(np.count_nonzero(h[1:] == h[:-1])) / n


def _value_kind(s: pd.Series) -> str:
    """What the values are, whatever the storage: a categorical is the kind of its categories.

    Parquet text columns are read as categoricals (workbench.data.io), CSV text
    as objects: both are text. Categories of integers are numbers, etc. Only
    the (few) categories are inspected, never the rows.
    """
    dt = s.dtype
    values = s
    if isinstance(dt, pd.CategoricalDtype):
        dt, values = dt.categories.dtype, dt.categories
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dt):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return {
        "string": "text",
        "empty": "missing",
        "integer": "numeric",
        "floating": "numeric",
        "mixed-integer-float": "numeric",
        "decimal": "numeric",
        "boolean": "boolean",
        "datetime": "datetime",
        "datetime64": "datetime",
        "date": "datetime",
    }.get(kind, "mixed")


#: A text/categorical column with at least this many values, (nearly) all distinct, identifies rows.
ID_MIN_ROWS = 20
ID_DISTINCT_SHARE = 0.9
#: What reports say instead of an identifier-like column's values.
ID_HIDDEN = "identifier-like column: values not shown"


def _identifier_like(*stats: ColumnStats | None) -> bool:
    """Whether a column identifies rows (SSN-like): its values must never be listed in a result.

    A text/categorical column whose non-missing values are at least 90%
    distinct over 20 or more rows, in either table. (The spec's ``id`` column
    is hidden whatever its values; callers check that role themselves.)
    """
    return any(
        s is not None and not s.numeric and s.n >= ID_MIN_ROWS and len(s.values) >= ID_DISTINCT_SHARE * s.n
        for s in stats
    )


def _cheap_kind(s: pd.Series) -> str:
    dt = s.dtype.categories.dtype if isinstance(s.dtype, pd.CategoricalDtype) else s.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dt):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    return "text"


def _datetime_labels(values: pd.DatetimeIndex) -> np.ndarray:
    """Dates as a CSV holds them (pandas writes a column of midnights as dates, others with their time):
    the same data read from CSV (text) and from Parquet (datetimes) has the same categories."""
    if (values.dropna() == values.dropna().normalize()).all():
        return np.array([v.strftime("%Y-%m-%d") if v is not pd.NaT else "NaT" for v in values], dtype=str)
    return np.array([str(v) for v in values], dtype=str)


def _same_kind(a: ColumnStats, b: ColumnStats) -> bool:
    """Whether two tables hold the same kind of values in a column, whatever their files stored.

    Kinds already see through storage (a categorical of text is text); dates
    are the one kind a CSV cannot store: text there, datetimes in Parquet. Text
    whose every distinct value reads as a date is the same kind as dates.
    """
    if a.dtype == b.dtype and a.numeric == b.numeric:
        return True
    if {a.dtype, b.dtype} != {"datetime", "text"} or a.numeric or b.numeric:
        return False
    text = a if a.dtype == "text" else b
    try:
        parsed = pd.to_datetime(pd.Index(text.values, dtype=object), errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        return False
    return bool(len(parsed)) and not parsed.isna().any()


def _label(v: Any) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _role_type(spec: DatasetSpec, col: str) -> str:
    if col == spec.target:
        return "numeric" if spec.task == "regression" else "categorical"
    return "numeric" if col in spec.numeric else "categorical"


def _prediction_stats(model: Any, data: pd.DataFrame, spec: DatasetSpec) -> ColumnStats:
    from workbench.data._values import reject_infinite

    # a sentence instead of scikit-learn's "Input X contains infinity" from deep inside the prediction
    reject_infinite(data, getattr(getattr(model, "spec", None), "numeric", spec.numeric), "the data")
    task = getattr(model, "task", None) or spec.task
    if task in ("binary", "regression"):
        scores = np.asarray(model.predict_score(data), dtype="float64")
        return _profile(pd.Series(scores), "prediction", "numeric")
    return _profile(pd.Series(np.asarray(model.predict(data))), "prediction", "categorical")


def _with_prediction(stats: TableStats, model: Any, data: pd.DataFrame, spec: DatasetSpec) -> TableStats:
    return replace(
        stats, prediction=_prediction_stats(model, data, spec), model_name=getattr(model, "name", None)
    )


def _check_spec(spec: Any) -> None:
    if not isinstance(spec, DatasetSpec):
        raise ParameterError("spec must be a DatasetSpec (see workbench.infer_spec)")


def _mismatch(name: str, issue: str, ref_kind: str | None, cur_kind: str | None, message: str) -> dict:
    return {"column": name, "issue": issue, "reference": ref_kind, "current": cur_kind, "message": message}


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def _short(x: Any) -> str:
    """A number for a sentence: 3 significant digits, thousands separated."""
    if x is None:
        return "—"
    x = float(x)
    if x != 0 and (abs(x) >= 1e12 or abs(x) < 1e-3):
        return f"{x:.3g}"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def _pct(share: float) -> str:
    """A share as a percentage, never rounding a few rows down to 0%."""
    if share == 0:
        return "0%"
    if 0 < share < 0.001:
        return "<0.1%"
    return f"{share:.1%}" if share < 0.1 else f"{share:.0%}"


def _float(x: Any) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None
