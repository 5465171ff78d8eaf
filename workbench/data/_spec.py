"""Column roles, declared once: the dataset spec every stage reads."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import numpy as np

from workbench._lazy import lazy
from workbench.data._columns import (
    _integer_valued,
    _is_numeric,
    _looks_like_identifier,
    _reject_mostly_numeric,
    _single_value,
    _to_numeric,
)
from workbench.errors import DataError, SpecError
from workbench.validation import check_choice, check_columns

pd = lazy("pandas")

Task = Literal["binary", "multiclass", "regression"]
TASKS = ("binary", "multiclass", "regression")

#: Categorical missing values become this category before modelling: string
#: NaNs do not survive ONNX conversion, and an explicit category is what most
#: models should learn from anyway.
MISSING = "__missing__"

_POSITIVE_WORDS = {
    "1",
    "yes",
    "y",
    "true",
    "t",
    "positive",
    "pos",
    ">50k",
    "approved",
    "default",
    "churn",
    "fraud",
}
_MAX_CLASSES = 50
_MAX_INT_CLASSES = 10


@dataclass(frozen=True)
class DatasetSpec:
    """The roles of a table's columns and the learning task.

    Build one with :func:`infer_spec` (clear defaults, every role overridable),
    or from a stored dict with :meth:`from_dict`. Every stage of the workbench
    reads roles from here; nothing re-guesses them.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"age": [25, 40, 31, 58], "sex": ["F", "M", "F", "M"],
    ...                    "approved": ["no", "yes", "no", "yes"]})
    >>> spec = infer_spec(df, target="approved", sensitive=["sex"])
    >>> spec.task, spec.positive_label, spec.numeric, spec.categorical
    ('binary', 'yes', ['age'], ['sex'])
    """

    target: str | None
    task: Task | None
    features: list[str]
    numeric: list[str]
    categorical: list[str]
    sensitive: list[str] = field(default_factory=list)
    time: str | None = None
    id: str | None = None
    prediction: str | None = None
    positive_label: Any = None
    classes: list[Any] | None = None
    excluded: dict[str, str] = field(default_factory=dict)

    # -- conversions ---------------------------------------------------------
    def to_dict(self) -> dict:
        """The roles as a JSON-safe dict (NumPy labels as Python values), as ``meta.json`` stores them."""
        d = asdict(self)
        d["positive_label"] = _native(self.positive_label)
        d["classes"] = None if self.classes is None else [_native(c) for c in self.classes]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DatasetSpec:
        """A spec from :meth:`to_dict`'s output; keys it does not know are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in d.items() if k in known})

    def replace(self, **changes: Any) -> DatasetSpec:
        """A copy with some roles changed (the spec itself is immutable)."""
        return replace(self, **changes)

    # -- derived -------------------------------------------------------------
    @property
    def is_classification(self) -> bool:
        """True for binary and multiclass tasks."""
        return self.task in ("binary", "multiclass")

    @property
    def model_names(self) -> dict[str, str]:
        """Original feature name -> a name safe for every model format.

        ONNX converters sanitise input names (`education-num` becomes
        `education_num`) and then fail to match ColumnTransformer columns, so
        models are built on safe names and the model wrapper renames at the
        boundary: users only ever see the original names.
        """
        return safe_names(self.features)

    def describe(self) -> pd.DataFrame:
        """One row per column with its role (what a panel shows and edits)."""
        rows = []
        for c in self.features:
            kind = "numeric" if c in self.numeric else "categorical"
            rows.append({"column": c, "role": "feature", "type": kind, "sensitive": c in self.sensitive})
        for role in ("target", "time", "id", "prediction"):
            col = getattr(self, role)
            if col:
                rows.append({"column": col, "role": role, "type": "", "sensitive": col in self.sensitive})
        for c in self.sensitive:
            if c not in self.features and c not in (self.target, self.time, self.id, self.prediction):
                rows.append({"column": c, "role": "sensitive only", "type": "", "sensitive": True})
        for c, why in self.excluded.items():
            rows.append({"column": c, "role": f"excluded: {why}", "type": "", "sensitive": False})
        return pd.DataFrame(rows)

    def check_columns(self, df: pd.DataFrame, *, where: str = "the data", need_target: bool = False) -> None:
        """Raise a :class:`DataError` naming the columns `df` lacks."""
        check_columns(df, self.features, where=where, what="feature column")
        if need_target:
            check_columns(df, [self.target], where=where, what="the target column")


def infer_spec(
    data: pd.DataFrame,
    target: str | None = None,
    *,
    sensitive: Iterable[str] = (),
    features: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    time: str | None = None,
    id: str | None = None,
    prediction: str | None = None,
    task: Task | None = None,
    positive: Any = None,
    sensitive_as_features: bool = True,
) -> DatasetSpec:
    """Infer column roles and the task from a table; every guess is overridable.

    Defaults: features are all columns but the target/time/id/prediction
    columns; all-missing, constant and identifier-like columns are excluded
    (with the reason in ``spec.excluded``) unless named in `features`. Numeric
    dtypes are numeric features, everything else categorical. The task is
    regression for a non-integer numeric target, or an integer one with more
    than 10 values; binary for two classes; multiclass otherwise. The
    positive class is 1/True/"yes"-like when present, else the minority class.
    Sensitive attributes stay features unless ``sensitive_as_features=False``.

    Parameters
    ----------
    data : DataFrame
        The table (column names as the user knows them).
    target : str, optional
        The column to predict (none: a spec for unlabelled data, without a task).
    sensitive : list of str
        Sensitive attributes (for bias analyses and slices).
    features, categorical : list of str, optional
        The feature columns, and which of them are categorical, instead of the guesses.
    time, id, prediction : str, optional
        Columns with those roles (a single datetime column is the time column by default).
    task : {"binary", "multiclass", "regression"}, optional
        The task instead of the guess.
    positive : optional
        The positive class (binary only).
    sensitive_as_features : bool
        Whether sensitive attributes are also features.

    Returns
    -------
    DatasetSpec

    Raises
    ------
    DataError
        When `data` is not a non-empty DataFrame, a named column is missing or has no values,
        or a mostly numeric column holds text.
    SpecError
        When the roles contradict each other or the data (no feature left, a column in two
        roles, too many classes for a classifier, a positive class that is not a value).

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> table = load_demo("adult").train.sample(500, random_state=0)
    >>> spec = infer_spec(table, target="income", sensitive=["sex", "race"], positive=">50K")
    >>> spec.task, spec.positive_label, spec.classes
    ('binary', '>50K', ['<=50K', '>50K'])
    >>> spec.numeric
    ['age', 'fnlwgt', 'education-num', 'capital-gain', 'capital-loss', 'hours-per-week']
    >>> infer_spec(table, target="occupation").task
    'multiclass'
    """
    if not isinstance(data, pd.DataFrame):
        raise DataError("expected a pandas DataFrame")
    if data.empty or len(data.columns) == 0:
        raise DataError("the table is empty")
    cols = list(map(str, data.columns))
    if len(set(cols)) != len(cols):
        dup = sorted({c for c in cols if cols.count(c) > 1})
        raise DataError(f"the table has duplicate column names: {_names(dup)}")
    sensitive = list(dict.fromkeys(sensitive))
    for role, col in [("target", target), ("time", time), ("id", id), ("prediction", prediction)]:
        if col is not None and col not in data.columns:
            raise DataError(f"the {role} column '{col}' is not in the table (columns: {_names(cols, 12)})")
    for col in sensitive:
        if col not in data.columns:
            raise DataError(f"the sensitive column '{col}' is not in the table (columns: {_names(cols, 12)})")

    if time is None:
        dt_cols = [c for c in cols if pd.api.types.is_datetime64_any_dtype(data[c])]
        time = dt_cols[0] if len(dt_cols) == 1 else None

    reserved = {c for c in (target, time, id, prediction) if c}
    excluded: dict[str, str] = {}
    if features is not None:
        features = list(features)
        bad = [c for c in features if c not in data.columns]
        if bad:
            raise DataError(f"feature column {_names(bad)} not in the table")
        both = [c for c in features if c in reserved]
        if both:
            raise SpecError(
                f"column {_names(both)} cannot be both a feature and the target/time/id/prediction"
            )
        for c in features:
            if data[c].isna().all():
                raise DataError(f"feature column '{c}' has no values at all (every row is missing)")
    else:
        features = []
        for c in cols:
            if c in reserved:
                continue
            if c in sensitive and not sensitive_as_features:
                continue
            s = data[c]
            if pd.api.types.is_datetime64_any_dtype(s):
                excluded[c] = "a date/time column (declare it as the time column)"
            elif s.isna().all():
                excluded[c] = "every value is missing"
            elif len(s) > 1 and _single_value(s):
                excluded[c] = "a single value in every row"
            elif _looks_like_identifier(s) and c not in sensitive:
                # numbers with a stray text value are unique per row too: that is a
                # data error to report, not an identifier to drop silently
                if s.dtype == object and c not in (categorical or ()):
                    _reject_mostly_numeric(s, c)
                excluded[c] = "a unique value per row (an identifier?)"
            else:
                features.append(c)
    if not features:
        raise SpecError(
            "no usable feature columns are left once the target and excluded columns are set aside"
        )

    categorical_set = set(categorical or [])
    unknown = categorical_set - set(features)
    if unknown:
        raise SpecError(f"categorical column {_names(sorted(unknown))} is not a feature")
    numeric, cats = [], []
    for c in features:
        s = data[c]
        if c in categorical_set or not _is_numeric(s):
            if c not in categorical_set and s.dtype == object:
                _reject_mostly_numeric(s, c)
            cats.append(c)
        else:
            numeric.append(c)

    spec_task, classes, pos = None, None, None
    if target is not None:
        spec_task, classes, pos = _infer_task(data[target], target, task, positive)
    elif task is not None or positive is not None:
        raise SpecError("a task or positive class was given but no target column")
    return DatasetSpec(
        target=target,
        task=spec_task,
        features=features,
        numeric=numeric,
        categorical=cats,
        sensitive=sensitive,
        time=time,
        id=id,
        prediction=prediction,
        positive_label=pos,
        classes=classes,
        excluded=excluded,
    )


def prepare_frame(data: pd.DataFrame, spec: DatasetSpec, *, where: str = "the data") -> pd.DataFrame:
    """The feature columns of `data`, typed the way models expect them.

    Numeric features become float64 (a non-numeric value is a
    :class:`DataError` naming the column, the row and the value); categorical
    features become strings with missing values as the explicit category
    ``"__missing__"``. Other columns (the target included) are ignored.
    """
    spec.check_columns(data, where=where)
    out = {}
    for c in spec.features:
        s = data[c]
        if c in spec.numeric:
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                s = _to_numeric(s, c, where)
            out[c] = s.to_numpy(dtype="float64", na_value=np.nan)
        else:
            # numpy-level conversion: pandas' per-column astype costs ~0.3 ms
            # even on one row, which dominates single-row latency.
            vals = s.to_numpy(dtype=object)
            mask = pd.isna(vals)
            arr = vals.astype(str).astype(object) if len(vals) else vals
            if mask.any():
                arr[mask] = MISSING
            out[c] = arr
    return pd.DataFrame(out, index=data.index, columns=spec.features)


def target_values(data: pd.DataFrame, spec: DatasetSpec, *, where: str = "the data") -> pd.Series:
    """The target column, checked against the spec (labels as the spec knows them)."""
    if spec.target is None:
        raise SpecError("the spec has no target column")
    if spec.target not in data.columns:
        raise DataError(f"the target column '{spec.target}' is missing from {where}")
    y = data[spec.target]
    if spec.task == "regression":
        if not pd.api.types.is_numeric_dtype(y):
            y = _to_numeric(y, spec.target, where)
        return y.astype(float)
    if spec.classes is not None:
        y = _align_labels(y, spec.classes)
        unknown = set(y.dropna().unique()) - set(spec.classes)
        if unknown:
            raise DataError(
                f"the target column '{spec.target}' in {where} has labels the model never saw: "
                f"{_names(sorted(map(str, unknown)), 5)}"
            )
    return y


def safe_names(names: Sequence[str]) -> dict[str, str]:
    """Map names to unique identifiers made of letters, digits and underscores."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for n in names:
        base = re.sub(r"[^0-9A-Za-z_]", "_", str(n)) or "col"
        if base[0].isdigit():
            base = "c_" + base
        cand, i = base, 1
        while cand in used:
            i += 1
            cand = f"{base}_{i}"
        used.add(cand)
        out[n] = cand
    return out


# -- helpers ------------------------------------------------------------------
def _infer_task(y: pd.Series, name: str, task: Task | None, positive: Any):
    if task is not None:
        check_choice(task, "task", TASKS)
    y = y.dropna()
    if y.empty:
        raise DataError(f"the target column '{name}' has no values")
    n_unique = y.nunique()
    numeric = _is_numeric(y)
    if task is None:
        if numeric and not _integer_valued(y):
            task = "regression"
        elif numeric and n_unique > _MAX_INT_CLASSES:
            task = "regression"
        else:
            task = "binary" if n_unique <= 2 else "multiclass"
    if task == "regression":
        if not numeric:
            raise SpecError(f"the target column '{name}' is not numeric, so it cannot be a regression target")
        if n_unique < 2:
            raise DataError(f"the target column '{name}' has a single value; there is nothing to learn")
        return task, None, None
    if n_unique < 2:
        raise DataError(
            f"the target column '{name}' has a single class ({_native(y.iloc[0])!r}); "
            "a classifier needs at least two"
        )
    if n_unique > _MAX_CLASSES:
        raise SpecError(
            f"the target column '{name}' has {n_unique} distinct values: too many classes "
            "(pass task='regression' if it is a quantity)"
        )
    if task == "binary" and n_unique != 2:
        raise SpecError(f"task 'binary' needs two classes but '{name}' has {n_unique}")
    classes = sorted((_native(c) for c in y.unique()), key=lambda v: (str(type(v)), v))
    pos = None
    if task == "binary":
        pos = _pick_positive(y, classes, positive, name)
    elif positive is not None:
        raise SpecError("a positive class only applies to binary targets")
    return task, classes, pos


def _pick_positive(y: pd.Series, classes: list, positive: Any, name: str):
    if positive is not None:
        for c in classes:
            if c == positive or str(c) == str(positive):
                return c
        raise SpecError(
            f"the positive class {positive!r} is not a value of '{name}' "
            f"(its values: {_names(map(str, classes))})"
        )
    for c in classes:
        if isinstance(c, bool | np.bool_) and c:
            return c
    if set(classes) == {0, 1}:
        return 1
    words = [c for c in classes if str(c).strip().lower() in _POSITIVE_WORDS]
    if len(words) == 1:
        return words[0]
    counts = y.map(_native).value_counts()
    return min(classes, key=lambda c: (counts.get(c, 0), -classes.index(c)))


def _align_labels(y: pd.Series, classes: list) -> pd.Series:
    """Match labels read from a file (e.g. ints as strings) to the spec's classes."""
    if y.dropna().isin(classes).all():
        return y
    by_str = {str(c): c for c in classes}
    mapped = y.map(lambda v: by_str.get(str(v), v) if pd.notna(v) else v)
    return mapped


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _names(names: Iterable[str], limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
