"""Drift: has each column's distribution moved away from the reference?

Column by column, with **Evidently 0.7's tests, thresholds and default choice of
test** (the rule of ``evidently.legacy.calculations.stattests.registry.
_get_default_stattest``, on the column's non-missing reference rows and the
number of distinct values in both tables together):

==========================  ===============================  ==============================
non-missing reference rows  numeric column                   categorical column
==========================  ===============================  ==============================
1,000 or fewer              K-S p-value (more than 5 values)  chi-square p-value (3 or more)
                            chi-square (3-5), Z-test (1-2)    Z-test p-value (1-2 values)
more than 1,000             Wasserstein distance normed by    Jensen-Shannon distance
                            the reference std (more than 5),
                            Jensen-Shannon (5 or fewer)
==========================  ===============================  ==============================

A p-value test flags drift below 0.05 (K-S: at or below), a distance at or above
0.1. The dataset has drifted when at least half of the feature columns have
(``drift_share_threshold``, Evidently's ``drift_share``). Missing values are left
out of the tests, as Evidently does (data quality reports them).

Why not call Evidently: its ``DataDriftPreset`` computes every column twice (once
per column metric, once in its legacy dataset metric) on pandas copies, ~90 s at
1M rows x 20 columns. Here each table is reduced once to per-column distinct
values and counts (:class:`TableStats`; the reference's can be saved and reused),
and every test runs on those aggregates. The statistics are Evidently's own
formulas, re-implemented on counts where that saves a pass over the rows; the
tests prove the scores equal Evidently's stattest functions to ~1e-9.

Rules Evidently does not have: a column entirely missing in current cannot be
tested (Evidently raises) and is reported as drifted; a column whose values are
of another kind in current (text where the reference had numbers) or present in
only one table is listed in ``mismatches`` and left out of the drift share.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import _html
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, SpecError
from workbench.monitoring.checks import Check, ChecksConfig, checks_table_html, make_check

__all__ = [
    "STATTESTS", "ColumnStats", "TableStats", "ReferenceStats", "compute_table_stats",
    "compute_reference_stats", "default_stattest", "ColumnDrift", "DriftResult", "detect_drift",
]

#: Evidently 0.7's tests: name -> (display name, default threshold, column types it accepts).
STATTESTS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "ks": ("K-S p_value", 0.05, ("numeric",)),
    "chisquare": ("chi-square p_value", 0.05, ("categorical",)),
    "z": ("Z-test p_value", 0.05, ("categorical",)),
    "wasserstein": ("Wasserstein distance (normed)", 0.1, ("numeric",)),
    "jensenshannon": ("Jensen-Shannon distance", 0.1, ("numeric", "categorical")),
    "psi": ("PSI", 0.1, ("numeric", "categorical")),
    "kl_div": ("Kullback-Leibler divergence", 0.1, ("numeric", "categorical")),
}
_P_VALUE_TESTS = ("ks", "chisquare", "z")
SIZE_SWITCH = 1000  # Evidently: p-value tests up to this many reference rows, distances above
_PSI_BINS = 10  # reference deciles for the `psi`/`kl_divergence` fields
_EPS = 1e-4  # floor on bin shares for PSI/KL (an empty bin would make them infinite)
_SHOWN_CATEGORIES = 12
_FORMAT, _FORMAT_VERSION = "workbench-table-stats", 1
_MISSING_TEST = "all_missing"


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
        return {"name": self.name, "type": self.type, "dtype": self.dtype, "n_rows": self.n_rows,
                "n_missing": self.n_missing, "std": self.std, "integer": self.integer,
                "n_infinite": self.n_infinite}


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
        meta = {"format": _FORMAT, "version": _FORMAT_VERSION, "n_rows": self.n_rows, "dtypes": self.dtypes,
                "target": self.target, "model_name": self.model_name, "duplicate_share": self.duplicate_share,
                "columns": [c.meta() for c in cols], "prediction": self.prediction is not None}
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
        cols = [ColumnStats(values=arrays[f"v{i}"], counts=arrays[f"c{i}"].astype(np.int64), **m)
                for i, m in enumerate(meta["columns"])]
        pred = cols.pop() if meta["prediction"] else None
        return cls(n_rows=meta["n_rows"], columns={c.name: c for c in cols}, dtypes=meta["dtypes"],
                   target=meta["target"], prediction=pred, model_name=meta["model_name"],
                   duplicate_share=meta["duplicate_share"])


ReferenceStats = TableStats


def compute_table_stats(data: pd.DataFrame, spec: DatasetSpec, *, model: Any = None,
                        columns: Sequence[str] | None = None, duplicates: bool = False,
                        where: str = "the reference data") -> TableStats:
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
    stats = {c: _profile(data[c], c, _role_type(spec, c), keys if duplicates else None)
             for c in names if c in data.columns}
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
    return TableStats(n_rows=len(data), columns=stats, dtypes=dtypes, target=spec.target if spec.target in stats
                      else None, prediction=pred, model_name=model_name, duplicate_share=dup)


compute_reference_stats = compute_table_stats


def default_stattest(column_type: str, n_reference: int, n_values: int) -> str:
    """Evidently 0.7's default test for a column (see the module docstring)."""
    if n_reference <= SIZE_SWITCH:
        if column_type == "numeric" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if column_type == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


# -- the result -------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnDrift:
    """Drift of one column: Evidently's test, score, threshold and verdict, plus PSI and KL.

    ``normalized_score`` puts every test on one scale, 1 at the threshold and
    higher for more drift (distances: score / threshold; p-values:
    log p / log threshold). ``psi`` and ``kl_divergence`` (KL of the reference
    from current) use fixed bins: reference deciles (numeric) or categories,
    shares floored at 1e-4. ``bins`` holds those shares for the figures.
    """

    name: str
    type: str
    stattest: str
    score: float | None
    threshold: float | None
    drifted: bool
    normalized_score: float | None = None
    psi: float | None = None
    kl_divergence: float | None = None
    role: str = "feature"
    n_values: int = 0
    reference: dict = field(default_factory=dict)
    current: dict = field(default_factory=dict)
    bins: dict = field(default_factory=dict)
    note: str | None = None

    @property
    def stattest_name(self) -> str:
        """Evidently's display name of the test."""
        return STATTESTS[self.stattest][0] if self.stattest in STATTESTS else "every value missing"

    def to_dict(self) -> dict:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnDrift:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class DriftResult:
    """Drift between a reference and a current table, column by column.

    Ask it things: ``result.drift_share``, ``result.dataset_drift``,
    ``result.drifted_columns``, ``result.column("age")``, ``result.table()``,
    ``result.checks()``, ``result.findings()``, ``result.figures()``.
    """

    columns: list[ColumnDrift]
    drift_share: float
    dataset_drift: bool
    drift_share_threshold: float = 0.5
    n_reference: int = 0
    n_current: int = 0
    prediction: ColumnDrift | None = None
    target: ColumnDrift | None = None
    mismatches: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kind = "drift"

    # -- asking ------------------------------------------------------------------------
    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted feature columns, most drifted first."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        for c in [*self.columns, self.target, self.prediction]:
            if c is not None and c.name == name:
                return c
        raise KeyError(f"no drift result for column '{name}'")

    def table(self) -> pd.DataFrame:
        """One row per compared column (features, then target and prediction), most drifted first."""
        rows = [{"column": c.name, "role": c.role, "type": c.type, "stattest": c.stattest, "score": c.score,
                 "threshold": c.threshold, "drifted": c.drifted, "normalized_score": c.normalized_score,
                 "psi": c.psi, "kl_divergence": c.kl_divergence}
                for c in [*self.columns, self.target, self.prediction] if c is not None]
        return pd.DataFrame(rows)

    # -- the three faces -------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "drift_share": self.drift_share, "dataset_drift": self.dataset_drift,
            "drift_share_threshold": self.drift_share_threshold, "n_reference": self.n_reference,
            "n_current": self.n_current, "n_columns": len(self.columns),
            "n_drifted": len(self.drifted_columns), "columns": [c.to_dict() for c in self.columns],
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
            "target": None if self.target is None else self.target.to_dict(),
            "mismatches": [dict(m) for m in self.mismatches], "notes": list(self.notes),
            "key_metrics": self.key_metrics(),
        }

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and the trend charts."""
        out = {"drift.share": self.drift_share, "drift.columns_drifted": len(self.drifted_columns),
               "drift.dataset": float(self.dataset_drift)}
        for c in (self.prediction, self.target):
            if c is not None:
                out[f"drift.{c.role}.drifted"] = float(c.drifted)
                out[f"drift.{c.role}.psi"] = c.psi
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> DriftResult:
        def one(x):
            return None if x is None else ColumnDrift.from_dict(x)

        return cls(columns=[ColumnDrift.from_dict(c) for c in d["columns"]], drift_share=d["drift_share"],
                   dataset_drift=d["dataset_drift"], drift_share_threshold=d.get("drift_share_threshold", 0.5),
                   n_reference=d.get("n_reference", 0), n_current=d.get("n_current", 0),
                   prediction=one(d.get("prediction")), target=one(d.get("target")),
                   mismatches=[dict(m) for m in d.get("mismatches", [])], notes=list(d.get("notes", [])))

    def figures(self) -> dict:
        from workbench.viz import monitoring as vm

        rows = [c.to_dict() for c in self.columns]
        figs = {"scores": vm.drift_scores_figure(rows + [c.to_dict() for c in (self.target, self.prediction) if c])}
        top = [c for c in self.columns if c.drifted and c.bins][:4] or [c for c in self.columns if c.bins][:2]
        if top:
            figs["distributions"] = vm.distributions_figure([c.to_dict() for c in top])
        extra = [c.to_dict() for c in (self.prediction, self.target) if c is not None and c.bins]
        if extra:
            figs["prediction_target"] = vm.distributions_figure(extra, title="Prediction and target: reference vs current")
        figs["psi"] = vm.psi_table_figure(rows + extra)
        return figs

    def figure(self):
        return self.figures()["scores"]

    def findings(self) -> list[str]:
        return _findings(self)

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        out = [
            make_check("drift.share", self.drift_share, "<=", 0.3,
                       "{value:.0%} of the feature columns drifted (allowed: {threshold:.0%})", config),
            make_check("drift.dataset", self.drift_share, "<", self.drift_share_threshold,
                       "dataset drift is declared when {threshold:.0%} or more of the columns drift "
                       "(now {value:.0%})", config),
        ]
        out += [_column_check(f"drift.column.{c.name}", c, config) for c in self.columns]
        if self.prediction is not None:
            out.append(_column_check("drift.prediction", self.prediction, config))
        if self.target is not None:
            out.append(_column_check("drift.target", self.target, config))
        return [c for c in out if c is not None]

    def _repr_html_(self) -> str:
        body = "<ul>" + "".join(f"<li>{_html.esc(f)}</li>" for f in self.findings()) + "</ul>"
        body += _html.kv({"columns drifted": f"{len(self.drifted_columns)} of {len(self.columns)}",
                          "drift share": f"{self.drift_share:.0%}", "dataset drift": self.dataset_drift})
        rows = [{"column": c.name, "role": c.role, "test": c.stattest_name, "score": c.score,
                 "threshold": c.threshold, "drifted": c.drifted, "PSI": c.psi}
                for c in [*self.columns, self.target, self.prediction] if c is not None]
        body += _html.table(rows, highlight="drifted")
        if self.mismatches:
            body += "<div style='margin-top:6px'>Not compared</div>" + _html.table(self.mismatches, ["column", "issue", "message"])
        body += checks_table_html(self.checks())
        return _html.card("Drift", body, f"{self.n_current:,} current rows against {self.n_reference:,} reference rows")


# -- the analysis -----------------------------------------------------------------------
def detect_drift(
    reference: pd.DataFrame | None,
    current: pd.DataFrame | None,
    spec: DatasetSpec,
    *,
    model: Any = None,
    stattest: str | Mapping[str, str] | None = None,
    threshold: float | Mapping[str, float] | None = None,
    reference_stats: TableStats | None = None,
    current_stats: TableStats | None = None,
    columns: Sequence[str] | None = None,
    drift_share_threshold: float = 0.5,
) -> DriftResult:
    """Compare current to reference, column by column, with Evidently 0.7's tests.

    Parameters
    ----------
    reference, current : DataFrame
        The tables (roles from `spec`). `reference` may be None when
        `reference_stats` is given; `current` when `current_stats` is.
    model : Model, optional
        Adds prediction drift (binary: positive-class score; multiclass:
        predicted class; regression: prediction), reported as ``prediction``.
    stattest, threshold : optional
        Override Evidently's default choice: one test name (see
        :data:`STATTESTS`; applied to every column whose type it supports) or a
        mapping column -> name; one threshold or a mapping column -> threshold.
    reference_stats, current_stats : TableStats, optional
        Precomputed :func:`compute_table_stats`: reference-side work is done once.
    columns : list of str, optional
        Feature columns to compare (default: all of the spec's features).
    drift_share_threshold : float
        Dataset drift when at least this share of feature columns drifted.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> demo = load_demo("adult")
    >>> result = detect_drift(demo.train, demo.test, demo.spec)
    >>> result.dataset_drift, result.drifted_columns, result.column("age").stattest
    (False, [], 'wasserstein')
    """
    _check_spec(spec)
    features = list(spec.features) if columns is None else list(dict.fromkeys(columns))
    unknown = [c for c in features if c not in spec.features]
    if unknown:
        raise SpecError(f"column {', '.join(map(repr, unknown))} is not a feature of the spec")
    share_line = _number(drift_share_threshold, "drift_share_threshold")
    tests, global_test, thresholds = _overrides(stattest, threshold, spec, features)
    if current_stats is None:
        if not isinstance(current, pd.DataFrame):
            raise DataError("the current data must be a pandas DataFrame")
        if len(current) == 0:
            raise DataError("the current data has no rows: there is nothing to compare with the reference")
    if reference_stats is None:
        if reference is None:
            raise DataError("give the reference data or its statistics (reference_stats=)")
        reference_stats = compute_table_stats(reference, spec, model=model, where="the reference data")
    elif not isinstance(reference_stats, TableStats):
        raise DataError("reference_stats must come from compute_reference_stats() or ReferenceStats.load()")
    notes: list[str] = []
    if model is not None and reference_stats.prediction is None:
        if reference is None:
            raise DataError("the reference statistics hold no model predictions: compute them with "
                            "compute_reference_stats(reference, spec, model=model)")
        reference_stats = _with_prediction(reference_stats, model, reference, spec)
    if current_stats is None:
        current_stats = compute_table_stats(current, spec, columns=features, where="the current data")
    if model is not None and current_stats.prediction is None:
        if current is None:
            notes.append("Prediction drift was not measured: the current statistics hold no predictions.")
        else:
            try:  # a feature missing from current: every other column is still compared
                current_stats = _with_prediction(current_stats, model, current, spec)
            except DataError as exc:
                notes.append(f"Prediction drift was not measured: {exc}")

    results, mismatches = [], []
    for name in features:
        out = _compare_column(name, "feature", reference_stats.columns.get(name), current_stats.columns.get(name),
                              tests.get(name, global_test), thresholds.get(name))
        (results if isinstance(out, ColumnDrift) else mismatches).append(out)
    ignore = {spec.target, spec.id, spec.time, spec.prediction}
    for name in current_stats.dtypes:
        if name not in reference_stats.dtypes and name not in ignore and name not in features:
            mismatches.append({"column": name, "issue": "only_in_current", "reference": None,
                               "current": current_stats.dtypes[name],
                               "message": f"'{name}' is in the current data but not in the reference"})
    target = pred = None
    if spec.target and spec.target in reference_stats.columns and spec.target in current_stats.columns:
        target = _compare_column(spec.target, "target", reference_stats.columns[spec.target],
                                 current_stats.columns[spec.target], tests.get(spec.target, global_test),
                                 thresholds.get(spec.target))
    if reference_stats.prediction is not None and current_stats.prediction is not None:
        pred = _compare_column("prediction", "prediction", reference_stats.prediction, current_stats.prediction,
                               tests.get("prediction", global_test), thresholds.get("prediction"))
        if isinstance(pred, ColumnDrift):
            task = getattr(model, "task", None) if model is not None else None
            what = {"binary": "scores", "multiclass": "predicted classes", "regression": "predictions"}.get(
                task, "scores" if pred.type == "numeric" else "predicted classes")
            pred = replace(pred, note=f"the model's {what}" + ("" if model is not None else
                                                               f" (column '{spec.prediction}')"))
    for extra in (target, pred):
        if isinstance(extra, dict):
            notes.append(extra["message"][0].upper() + extra["message"][1:] + "; it was not compared.")
    target = target if isinstance(target, ColumnDrift) else None
    pred = pred if isinstance(pred, ColumnDrift) else None

    results.sort(key=_rank)
    n_drifted = sum(c.drifted for c in results)
    share = n_drifted / len(results) if results else 0.0
    if not results:
        notes.append("No feature column could be compared: see the mismatches.")
    return DriftResult(columns=results, drift_share=share, dataset_drift=bool(results) and share >= share_line,
                       drift_share_threshold=share_line, n_reference=reference_stats.n_rows,
                       n_current=current_stats.n_rows, prediction=pred, target=target, mismatches=mismatches,
                       notes=notes)


# -- comparing one column ----------------------------------------------------------------
def _compare_column(name: str, role: str, ref: ColumnStats | None, cur: ColumnStats | None,
                    test: str | None, threshold: float | None) -> ColumnDrift | dict:
    """Evidently's test on one column, or a dict saying why it cannot be compared."""
    label = {"feature": f"'{name}'", "target": f"the target '{name}'", "prediction": "the model's prediction"}[role]
    if ref is None:
        return _mismatch(name, "missing_in_reference", None, cur and cur.dtype, f"{label} is not in the reference")
    if cur is None:
        return _mismatch(name, "missing_in_current", ref.dtype, None, f"{label} is missing from the current data")
    if ref.n == 0:
        return _mismatch(name, "empty_in_reference", ref.dtype, cur.dtype,
                         f"{label} has no values in the reference, so there is nothing to compare against")
    if cur.n == 0:  # Evidently raises here; a column that went entirely missing has surely changed
        return ColumnDrift(name=name, type=ref.type, stattest=_MISSING_TEST, score=None, threshold=None,
                           drifted=True, role=role, reference=_summary(ref, ref), current=_summary(cur, ref),
                           note=f"every value of {label} is missing (or infinite) in the current data")
    if cur.dtype != ref.dtype or cur.numeric != ref.numeric:
        return _mismatch(name, "type", ref.dtype, cur.dtype,
                         f"{label} holds {ref.dtype} values in the reference but {cur.dtype} values in current")
    allv, r, c = _union_counts(ref, cur)
    kind = "numeric" if ref.numeric else "categorical"  # text in a column declared numeric: categories
    if test is not None and kind not in STATTESTS[test][2]:
        if role == "prediction":  # a global override that does not fit the model's output
            test = None
        else:
            raise SpecError(f"the drift test '{test}' does not apply to the {kind} column '{name}'")
    test = test or default_stattest(kind, ref.n, len(allv))
    thr = STATTESTS[test][1] if threshold is None else threshold
    score = _stattest_score(test, ref, cur, allv, r, c)
    with np.errstate(invalid="ignore"):
        if test == "ks":
            drifted = score <= thr
        elif test in _P_VALUE_TESTS:
            drifted = score < thr
        else:
            drifted = score >= thr
    psi, kl, bins = _fixed_bins(ref, allv, r, c)
    return ColumnDrift(name=name, type=kind, stattest=test, score=_float(score), threshold=float(thr),
                       drifted=bool(drifted), normalized_score=_normalized(test, score, thr), psi=psi,
                       kl_divergence=kl, role=role, n_values=len(allv), reference=_summary(ref, ref),
                       current=_summary(cur, ref), bins=bins)


def _union_counts(ref: ColumnStats, cur: ColumnStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both columns' counts over the sorted union of their values (one merge, no pass over rows)."""
    allv = np.union1d(ref.values, cur.values)
    r = np.zeros(len(allv), dtype=np.int64)
    c = np.zeros(len(allv), dtype=np.int64)
    r[np.searchsorted(allv, ref.values)] = ref.counts
    c[np.searchsorted(allv, cur.values)] = cur.counts
    return allv, r, c


def _stattest_score(test: str, ref: ColumnStats, cur: ColumnStats, allv: np.ndarray, r: np.ndarray,
                    c: np.ndarray) -> float:
    """Evidently 0.7's statistic, computed from counts over the union of values.

    Each branch is the formula of Evidently's ``evidently.legacy.calculations.
    stattests`` function of the same name, evaluated on aggregates instead of
    pandas Series; tests/test_drift.py checks them against Evidently's own.
    """
    n_r, n_c = int(r.sum()), int(c.sum())
    if test == "wasserstein":
        # scipy.stats.wasserstein_distance integrates |F_ref - F_cur| between
        # consecutive values of the merged sample; the CDFs only step at the
        # distinct values, so the integral over the union of values is the same
        # sum without sorting both raw columns again.
        cdf_gap = np.abs(np.cumsum(r)[:-1] / n_r - np.cumsum(c)[:-1] / n_c)
        return float(np.dot(cdf_gap, np.diff(allv))) / max(float(ref.std), 0.001)
    if test == "ks":  # only chosen for small references: scipy on the (sorted) values themselves
        from scipy.stats import ks_2samp

        return float(ks_2samp(np.repeat(allv, r), np.repeat(allv, c))[1])
    if test == "chisquare":
        from scipy.stats import chisquare

        with np.errstate(divide="ignore", invalid="ignore"):  # a category unseen in the reference: p = 0
            return float(chisquare(c, r * (n_c / n_r))[1])
    if test == "z":
        return _z_test(allv, r, c, n_r, n_c)
    p, q = _evidently_binned(ref, cur, allv, r, c, fill_zeroes=test != "jensenshannon")
    if test == "jensenshannon":
        return _jensenshannon(p, q)
    if test == "psi":
        return float(np.sum((p - q) * np.log(p / q)))
    from scipy.stats import entropy

    return float(entropy(p, q))


def _z_test(allv: np.ndarray, r: np.ndarray, c: np.ndarray, n1: int, n2: int) -> float:
    """Evidently's two-proportion Z-test on the share of rows that are not the first value."""
    if len(allv) == 1:  # both tables hold the same single value
        return 1.0
    from scipy.stats import norm

    p1, p2 = float(n1 - r[0]) / n1, float(n2 - c[0]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - norm.cdf(np.abs(z))))


def _evidently_binned(ref: ColumnStats, cur: ColumnStats, allv, r, c,
                      fill_zeroes: bool) -> tuple[np.ndarray, np.ndarray]:
    """``stattests.utils.get_binned_data``: Sturges bins over both tables for numeric
    columns with more than 20 reference values, else shares per value."""
    n_r, n_c = r.sum(), c.sum()
    if ref.numeric and len(ref.values) > 20:
        edges = _sturges_edges(float(allv[0]), float(allv[-1]), int(n_r + n_c), ref.integer and cur.integer)
        idx = np.clip(np.searchsorted(edges, allv, side="right") - 1, 0, len(edges) - 2)
        p = np.bincount(idx, weights=r, minlength=len(edges) - 1) / n_r
        q = np.bincount(idx, weights=c, minlength=len(edges) - 1) / n_c
    else:
        p, q = r / n_r, c / n_c
    if fill_zeroes:
        for a in (p, q):
            low = a[a != 0].min()
            a[a == 0] = low / 10**6 if low <= 0.0001 else 0.0001
    return p, q


def _sturges_edges(lo: float, hi: float, n: int, integer: bool) -> np.ndarray:
    """``np.histogram_bin_edges(combined, "sturges")`` from the combined sample's min, max and size."""
    if lo == hi:
        return np.linspace(lo - 0.5, hi + 0.5, 2)
    width = (hi - lo) / (np.log2(n) + 1.0)
    if integer and width < 1:  # numpy widens integer bins to at least 1
        width = 1
    return np.linspace(lo, hi, int(np.ceil((hi - lo) / width)) + 1)


def _jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon`` (natural log) without importing scipy."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(np.sqrt(max(left.sum() + right.sum(), 0.0) / 2.0))


def _fixed_bins(ref: ColumnStats, allv, r, c) -> tuple[float, float, dict]:
    """PSI and KL on bins that depend on the reference only (deciles or categories), and the shares shown."""
    if ref.numeric:
        edges = _quantile_edges(ref)
        idx = np.searchsorted(edges, allv, side="left")  # bin k holds (edge[k-1], edge[k]]
        rb = np.bincount(idx, weights=r, minlength=len(edges) + 1)
        cb = np.bincount(idx, weights=c, minlength=len(edges) + 1)
        e = [_short(x) for x in edges]
        labels = [f"≤ {e[0]}"] + [f"{a} – {b}" for a, b in zip(e[:-1], e[1:], strict=True)] + [f"> {e[-1]}"]
        shown = {"labels": labels, "reference": _shares(rb), "current": _shares(cb), "edges": edges.tolist()}
    else:
        rb, cb = r.astype(float), c.astype(float)
        rs, cs = rb / rb.sum(), cb / cb.sum()
        order = np.argsort(-np.maximum(rs, cs), kind="stable")
        top, rest = order[:_SHOWN_CATEGORIES], order[_SHOWN_CATEGORIES:]
        labels = [str(allv[i]) for i in top]
        ref_sh, cur_sh = rs[top].tolist(), cs[top].tolist()
        if len(rest):
            labels.append(f"other ({len(rest)} categories)")
            ref_sh.append(float(rs[rest].sum()))
            cur_sh.append(float(cs[rest].sum()))
        shown = {"labels": labels, "reference": ref_sh, "current": cur_sh}
    p = np.maximum(rb / rb.sum(), _EPS)
    q = np.maximum(cb / cb.sum(), _EPS)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p))), float(np.sum(p * np.log(p / q))), shown


def _quantile_edges(ref: ColumnStats) -> np.ndarray:
    """The reference's deciles (distinct), read from its sorted values and counts."""
    cum = np.cumsum(ref.counts)
    targets = np.ceil(np.arange(1, _PSI_BINS) / _PSI_BINS * ref.n)
    return np.unique(ref.values[np.minimum(np.searchsorted(cum, targets, side="left"), len(cum) - 1)])


def _summary(s: ColumnStats, ref: ColumnStats) -> dict:
    out: dict = {"rows": s.n_rows, "missing_share": s.missing_share}
    if s.n == 0:
        return out
    if s.numeric:
        out.update(mean=s.mean(), std=s.std, min=float(s.values[0]), max=float(s.values[-1]))
    else:
        top = str(ref.values[int(np.argmax(ref.counts))]) if ref.n else None
        hit = np.flatnonzero(s.values == top) if top is not None else []
        own = int(np.argmax(s.counts))
        out.update(top=top, top_share=float(s.counts[hit[0]] / s.n) if len(hit) else 0.0,
                   most_common=str(s.values[own]), most_common_share=float(s.counts[own] / s.n))
    return out


def _normalized(test: str, score: float, thr: float) -> float | None:
    if score is None or not np.isfinite(score) or thr <= 0:
        return None
    if test in _P_VALUE_TESTS:
        if thr >= 1:
            return None
        return math.log(max(score, 1e-300)) / math.log(thr)
    return score / thr


def _rank(c: ColumnDrift) -> tuple:
    strength = math.inf if c.stattest == _MISSING_TEST else (c.normalized_score or 0.0)
    return (not c.drifted, -strength, c.name)


def _column_check(name: str, c: ColumnDrift, config: ChecksConfig | None) -> Check | None:
    who = {"feature": f"'{c.name}'", "target": f"the target '{c.name}'", "prediction": "the model's prediction"}[c.role]
    who = who.replace("{", "{{").replace("}", "}}")
    if c.stattest == _MISSING_TEST:
        return make_check(name, 1.0, "<", 1.0, f"every value of {who} is missing in the current data", config)
    test = c.stattest_name
    if c.stattest in _P_VALUE_TESTS:
        op = ">" if c.stattest == "ks" else ">="
        msg = f"{who}: {test} {{value:.3g}}; drift is declared below {{threshold:.3g}}"
    else:
        op, msg = "<", f"{who}: {test} {{value:.3g}}; drift is declared at {{threshold:.3g}} or more"
    return make_check(name, c.score, op, c.threshold, msg, config)


# -- findings ---------------------------------------------------------------------------
def _findings(r: DriftResult) -> list[str]:
    out: list[str] = []
    n, drifted = len(r.columns), [c for c in r.columns if c.drifted]
    if n:
        line = f"{r.drift_share_threshold:.0%} dataset-drift line"
        if drifted:
            names = ", ".join(c.name for c in drifted[:6]) + (f" and {len(drifted) - 6} more" if len(drifted) > 6 else "")
            verdict = (f"at or above the {line}: the data as a whole has drifted" if r.dataset_drift
                       else f"below the {line}")
            out.append(f"{len(drifted)} of {n} columns drifted ({r.drift_share:.0%}): {names} — {verdict}.")
        else:
            out.append(f"None of the {n} columns drifted: each is as close to the reference as "
                       "Evidently's default tests expect from chance.")
    if r.prediction is not None:
        who = r.prediction.note or "the model's predictions"
        out.append(_describe(r.prediction, who[0].upper() + who[1:]))
    if r.target is not None:
        out.append(_describe(r.target, f"The target '{r.target.name}'"))
    for c in drifted[:5]:
        out.append(_describe(c, f"'{c.name}'"))
    for m in r.mismatches:
        out.append(m["message"][0].upper() + m["message"][1:] + "; it was not compared.")
    out.extend(r.notes)
    if n:
        out.append("Drift means a column's values are distributed differently from the reference, more than "
                   "chance explains (Evidently's tests: p-values below 0.05, or distances of 0.1 or more).")
    return out


def _describe(c: ColumnDrift, who: str) -> str:
    if c.stattest == _MISSING_TEST:
        return f"{who} is entirely missing in the current data, so its drift cannot be measured (counted as drifted)."
    verb = "drifted" if c.drifted else "did not drift"
    how = f"{c.stattest_name} {_short(c.score)}, threshold {_short(c.threshold)}"
    ref, cur = c.reference, c.current
    if c.type == "numeric" and ref.get("mean") is not None and cur.get("mean") is not None:
        change = f"average {_short(ref['mean'])} in the reference, {_short(cur['mean'])} now"
    elif c.bins.get("labels"):
        delta = np.subtract(c.bins["current"], c.bins["reference"])
        i = max(range(len(delta)), key=lambda k: (round(abs(delta[k]), 9), delta[k]))  # ties: the one that rose
        change = (f"'{c.bins['labels'][i]}' is {c.bins['current'][i]:.0%} of the values, "
                  f"{c.bins['reference'][i]:.0%} in the reference")
    else:
        change = ""
    return f"{who} {verb} ({how})" + (f": {change}." if change else ".")


# -- helpers ----------------------------------------------------------------------------
def _profile(s: pd.Series, name: str, col_type: str, keys: dict | None = None) -> ColumnStats:
    """Distinct values and counts of one column; with `keys`, also store its per-row value codes there."""
    kind = _value_kind(s)
    n_rows = len(s)
    if col_type == "numeric" and kind in ("numeric", "boolean"):
        integer = pd.api.types.is_integer_dtype(s.dtype)
        x = s.to_numpy(dtype="float64", na_value=np.nan) if kind == "numeric" and s.dtype != object else \
            pd.to_numeric(s, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        nan, inf = np.isnan(x), np.isinf(x)
        n_nan, n_inf = int(nan.sum()), int(inf.sum())
        ok = x[~(nan | inf)] if n_nan or n_inf else x
        values, counts = np.unique(ok, return_counts=True)
        std = float(np.std(ok)) if len(ok) else None  # as Evidently norms the Wasserstein distance
        if keys is not None:  # one bit pattern per value: -0.0 is 0.0, every NaN the same
            keys[name] = np.where(nan, np.nan, x + 0.0).view(np.uint64)
        return ColumnStats(name, col_type, "missing" if len(ok) == 0 else kind, n_rows, n_nan,
                           values, counts.astype(np.int64), std, integer, n_inf)
    if isinstance(s.dtype, pd.CategoricalDtype):
        codes, uniques = s.cat.codes.to_numpy(), s.cat.categories
    else:
        codes, uniques = pd.factorize(s, use_na_sentinel=True)  # one hash pass; missing -> -1
    per_code = np.bincount(codes[codes >= 0], minlength=len(uniques)) if len(uniques) else np.zeros(0, np.int64)
    labels = np.array([_label(v) for v in uniques], dtype=str) if len(uniques) else np.array([], dtype=str)
    values, inverse = np.unique(labels, return_inverse=True)  # 1 and 1.0 are one category, as in pandas
    counts = np.bincount(inverse, weights=per_code, minlength=len(values)).astype(np.int64)
    values, counts = values[counts > 0], counts[counts > 0]
    if keys is not None:
        keys[name] = codes.astype(np.uint64) if len(values) == len(uniques) else \
            np.where(codes >= 0, inverse[np.maximum(codes, 0)], -1).astype(np.uint64)
    n_missing = n_rows - int(counts.sum())
    return ColumnStats(name, col_type, "missing" if len(values) == 0 else kind, n_rows, n_missing, values, counts)


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
    dt = s.dtype
    if isinstance(dt, pd.CategoricalDtype):
        dt = dt.categories.dtype
    if pd.api.types.is_bool_dtype(dt):
        return "boolean"
    if pd.api.types.is_numeric_dtype(dt):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(dt):
        return "datetime"
    kind = pd.api.types.infer_dtype(s, skipna=True)
    return {"string": "text", "empty": "missing", "integer": "numeric", "floating": "numeric",
            "mixed-integer-float": "numeric", "decimal": "numeric", "boolean": "boolean",
            "datetime": "datetime", "datetime64": "datetime", "date": "datetime"}.get(kind, "mixed")


def _cheap_kind(s: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(s.dtype):
        return "boolean"
    if pd.api.types.is_numeric_dtype(s.dtype):
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(s.dtype):
        return "datetime"
    return "text"


def _label(v: Any) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _role_type(spec: DatasetSpec, col: str) -> str:
    if col == spec.target:
        return "numeric" if spec.task == "regression" else "categorical"
    return "numeric" if col in spec.numeric else "categorical"


def _prediction_stats(model: Any, data: pd.DataFrame, spec: DatasetSpec) -> ColumnStats:
    task = getattr(model, "task", None) or spec.task
    if task in ("binary", "regression"):
        scores = np.asarray(model.predict_score(data), dtype="float64")
        return _profile(pd.Series(scores), "prediction", "numeric")
    return _profile(pd.Series(np.asarray(model.predict(data))), "prediction", "categorical")


def _with_prediction(stats: TableStats, model: Any, data: pd.DataFrame, spec: DatasetSpec) -> TableStats:
    return replace(stats, prediction=_prediction_stats(model, data, spec), model_name=getattr(model, "name", None))


def _overrides(stattest, threshold, spec: DatasetSpec, features: list[str]) -> tuple[dict, str | None, dict]:
    """Per-column tests, the test for all other columns, per-column thresholds (absent: Evidently's default)."""
    names = {c: _role_type(spec, c) for c in features}
    if spec.target:
        names[spec.target] = _role_type(spec, spec.target)
    names["prediction"] = None  # its type is known only once the model has predicted

    def known(test: Any) -> str:
        if test not in STATTESTS:
            raise SpecError(f"unknown drift test {test!r}; use one of {', '.join(STATTESTS)}")
        return test

    tests: dict[str, str] = {}
    global_test = None
    if isinstance(stattest, Mapping):
        for col, test in stattest.items():
            if col not in names:
                raise SpecError(f"the drift test for '{col}' names a column that is not compared")
            if names[col] and names[col] not in STATTESTS[known(test)][2]:
                raise SpecError(f"the drift test '{test}' does not apply to the {names[col]} column '{col}'")
            tests[col] = test
    elif stattest is not None:  # applies to every column whose type it fits, the others keep the default
        global_test = known(stattest)
        tests = {c: None for c, t in names.items() if t is not None and t not in STATTESTS[stattest][2]}
    thresholds: dict[str, float] = {}
    if isinstance(threshold, Mapping):
        for col, thr in threshold.items():
            if col not in names:
                raise SpecError(f"the drift threshold for '{col}' names a column that is not compared")
            thresholds[col] = _number(thr, f"the drift threshold for '{col}'")
    elif threshold is not None:
        thr = _number(threshold, "the drift threshold")
        thresholds = dict.fromkeys(names, thr)
    return tests, global_test, thresholds


def _check_spec(spec: Any) -> None:
    if not isinstance(spec, DatasetSpec):
        raise SpecError("spec must be a DatasetSpec (see workbench.infer_spec)")


def _number(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, int | float | np.integer | np.floating) or not np.isfinite(x):
        raise SpecError(f"{what} must be a finite number, not {x!r}")
    return float(x)


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


def _clean(x: Any) -> Any:
    """JSON-safe: numpy scalars to Python, NaN/inf to None."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
