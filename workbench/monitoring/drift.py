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
An identifier-like column (the spec's id column, or text with a distinct value
in nearly every row, e.g. SSNs) is compared, but its values are never listed
(no category shares, no most common value: "identifier-like column: values not
shown"), and it is not judged: new identifiers in every batch always look like
drift, so it counts neither as drifted nor in the drift share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from workbench import _html
from workbench._lazy import lazy
from workbench.checks import Check, ChecksConfig, checks_table_html, make_check
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, SpecError, UnknownNameError
from workbench.monitoring._drift_columns import (
    SIZE_SWITCH,
    STATTESTS,
    ColumnDrift,
    _compare_column,
    default_stattest,
)
from workbench.monitoring._drift_stats import (
    ColumnStats,
    ReferenceStats,
    TableStats,
    _check_spec,
    _with_prediction,
    compute_reference_stats,
    compute_table_stats,
)
from workbench.monitoring._drift_text import _column_check, _findings, _overrides, _rank
from workbench.results import name_list
from workbench.validation import check_number

pd = lazy("pandas")

__all__ = [
    "STATTESTS",
    "SIZE_SWITCH",
    "ColumnStats",
    "TableStats",
    "ReferenceStats",
    "compute_table_stats",
    "compute_reference_stats",
    "default_stattest",
    "ColumnDrift",
    "DriftResult",
    "detect_drift",
]


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

    kind: ClassVar[str] = "drift"
    SCHEMA: ClassVar[int] = 1

    # -- asking ------------------------------------------------------------------------
    @property
    def drifted_columns(self) -> list[str]:
        """Names of the drifted feature columns, most drifted first."""
        return [c.name for c in self.columns if c.drifted]

    def column(self, name: str) -> ColumnDrift:
        """One column's drift (a feature, the target or ``"prediction"``).

        Raises
        ------
        UnknownNameError
            When `name` was not compared (a ``KeyError``; the message lists the compared columns).
        """
        for c in [*self.columns, self.target, self.prediction]:
            if c is not None and c.name == name:
                return c
        known = [c.name for c in [*self.columns, self.target, self.prediction] if c is not None]
        raise UnknownNameError(
            f"no drift result for column '{name}'; the compared columns are {name_list(known)}"
        )

    def table(self) -> pd.DataFrame:
        """One row per compared column (features, then target and prediction), most drifted first."""
        rows = [
            {
                "column": c.name,
                "role": c.role,
                "type": c.type,
                "stattest": c.stattest,
                "score": c.score,
                "threshold": c.threshold,
                "drifted": c.drifted,
                "normalized_score": c.normalized_score,
                "psi": c.psi,
                "kl_divergence": c.kl_divergence,
            }
            for c in [*self.columns, self.target, self.prediction]
            if c is not None
        ]
        return pd.DataFrame(rows)

    # -- the three faces -------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe form, as ``results.json`` stores it (:meth:`from_dict` rebuilds it)."""
        return {
            "kind": self.kind,
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "drift_share_threshold": self.drift_share_threshold,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "n_columns": len(self.columns),
            "n_drifted": len(self.drifted_columns),
            "columns": [c.to_dict() for c in self.columns],
            "prediction": None if self.prediction is None else self.prediction.to_dict(),
            "target": None if self.target is None else self.target.to_dict(),
            "mismatches": [dict(m) for m in self.mismatches],
            "notes": list(self.notes),
            "key_metrics": self.key_metrics(),
        }

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and the trend charts."""
        out = {
            "drift.share": self.drift_share,
            "drift.columns_drifted": len(self.drifted_columns),
            "drift.dataset": float(self.dataset_drift),
        }
        for c in (self.prediction, self.target):
            if c is not None:
                out[f"drift.{c.role}.drifted"] = float(c.drifted)
                out[f"drift.{c.role}.psi"] = c.psi
        return out

    @classmethod
    def from_dict(cls, d: Mapping) -> DriftResult:
        """Rebuild from :meth:`to_dict`'s output without recomputing."""

        def one(x):
            return None if x is None else ColumnDrift.from_dict(x)

        return cls(
            columns=[ColumnDrift.from_dict(c) for c in d["columns"]],
            drift_share=d["drift_share"],
            dataset_drift=d["dataset_drift"],
            drift_share_threshold=d.get("drift_share_threshold", 0.5),
            n_reference=d.get("n_reference", 0),
            n_current=d.get("n_current", 0),
            prediction=one(d.get("prediction")),
            target=one(d.get("target")),
            mismatches=[dict(m) for m in d.get("mismatches", [])],
            notes=list(d.get("notes", [])),
        )

    def figures(self) -> dict:
        """The figures, as ``{name: plotly Figure}``.

        ``scores`` (every column's score against its threshold), ``distributions``
        (reference vs current for the most drifted columns), ``prediction_target``
        (when those were compared with bins) and ``psi`` (a PSI table).
        """
        from workbench.viz import monitoring as vm

        rows = [c.to_dict() for c in self.columns]
        figs = {
            "scores": vm.drift_scores_figure(
                rows + [c.to_dict() for c in (self.target, self.prediction) if c]
            )
        }
        top = [c for c in self.columns if c.drifted and c.bins][:4] or [c for c in self.columns if c.bins][:2]
        if top:
            figs["distributions"] = vm.distributions_figure([c.to_dict() for c in top])
        extra = [c.to_dict() for c in (self.prediction, self.target) if c is not None and c.bins]
        if extra:
            figs["prediction_target"] = vm.distributions_figure(
                extra, title="Prediction and target: reference vs current"
            )
        figs["psi"] = vm.psi_table_figure(rows + extra)
        return figs

    def figure(self):
        """The scores figure."""
        return self.figures()["scores"]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, most drifted first (the same under any check settings)."""
        return _findings(self)

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """The checks under `config` (the run's check settings; None: the defaults).

        ``drift.share``, ``drift.dataset``, ``drift.column.<name>``, and
        ``drift.prediction`` / ``drift.target`` when those were compared.
        """
        out = [
            make_check(
                "drift.share",
                self.drift_share,
                "<=",
                0.3,
                "{value:.0%} of the feature columns drifted (allowed: {threshold:.0%})",
                config,
            ),
            make_check(
                "drift.dataset",
                self.drift_share,
                "<",
                self.drift_share_threshold,
                "dataset drift is declared when {threshold:.0%} or more of the columns drift "
                "(now {value:.0%})",
                config,
            ),
        ]
        out += [_column_check(f"drift.column.{c.name}", c, config) for c in self.columns]
        if self.prediction is not None:
            out.append(_column_check("drift.prediction", self.prediction, config))
        if self.target is not None:
            out.append(_column_check("drift.target", self.target, config))
        return [c for c in out if c is not None]

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card; its checks under `config` (a report passes its run's check settings)."""
        body = "<ul>" + "".join(f"<li>{_html.esc(f)}</li>" for f in self.findings()) + "</ul>"
        body += _html.kv(
            {
                "columns drifted": f"{len(self.drifted_columns)} of {len(self.columns)}",
                "drift share": f"{self.drift_share:.0%}",
                "dataset drift": self.dataset_drift,
            }
        )
        rows = [
            {
                "column": c.name,
                "role": c.role,
                "test": c.stattest_name,
                "score": c.score,
                "threshold": c.threshold,
                "drifted": c.drifted,
                "PSI": c.psi,
            }
            for c in [*self.columns, self.target, self.prediction]
            if c is not None
        ]
        body += _html.table(rows, highlight="drifted")
        if self.mismatches:
            body += "<div style='margin-top:6px'>Not compared</div>" + _html.table(
                self.mismatches, ["column", "issue", "message"]
            )
        body += checks_table_html(self.checks(config))
        return _html.card(
            "Drift", body, f"{self.n_current:,} current rows against {self.n_reference:,} reference rows"
        )


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
    share_line = check_number(drift_share_threshold, "drift_share_threshold")
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
            raise DataError(
                "the reference statistics hold no model predictions: compute them with "
                "compute_reference_stats(reference, spec, model=model)"
            )
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
        out = _compare_column(
            name,
            "feature",
            reference_stats.columns.get(name),
            current_stats.columns.get(name),
            tests.get(name, global_test),
            thresholds.get(name),
            identifier=name == spec.id,
        )
        (results if isinstance(out, ColumnDrift) else mismatches).append(out)
    ignore = {spec.target, spec.id, spec.time, spec.prediction}
    for name in current_stats.dtypes:
        if name not in reference_stats.dtypes and name not in ignore and name not in features:
            mismatches.append(
                {
                    "column": name,
                    "issue": "only_in_current",
                    "reference": None,
                    "current": current_stats.dtypes[name],
                    "message": f"'{name}' is in the current data but not in the reference",
                }
            )
    target = pred = None
    if spec.target and spec.target in reference_stats.columns and spec.target in current_stats.columns:
        target = _compare_column(
            spec.target,
            "target",
            reference_stats.columns[spec.target],
            current_stats.columns[spec.target],
            tests.get(spec.target, global_test),
            thresholds.get(spec.target),
        )
    if reference_stats.prediction is not None and current_stats.prediction is not None:
        pred = _compare_column(
            "prediction",
            "prediction",
            reference_stats.prediction,
            current_stats.prediction,
            tests.get("prediction", global_test),
            thresholds.get("prediction"),
        )
        if isinstance(pred, ColumnDrift):
            task = getattr(model, "task", None) if model is not None else None
            what = {"binary": "scores", "multiclass": "predicted classes", "regression": "predictions"}.get(
                task, "scores" if pred.type == "numeric" else "predicted classes"
            )
            pred = replace(
                pred,
                note=f"the model's {what}" + ("" if model is not None else f" (column '{spec.prediction}')"),
            )
    for extra in (target, pred):
        if isinstance(extra, dict):
            notes.append(extra["message"][0].upper() + extra["message"][1:] + "; it was not compared.")
    target = target if isinstance(target, ColumnDrift) else None
    pred = pred if isinstance(pred, ColumnDrift) else None

    results.sort(key=_rank)
    n_drifted = sum(c.drifted for c in results)
    judged = [c for c in results if not c.identifier_like]  # identifiers always differ: see _compare_column
    share = n_drifted / len(judged) if judged else 0.0
    if not results:
        notes.append("No feature column could be compared: see the mismatches.")
    return DriftResult(
        columns=results,
        drift_share=share,
        dataset_drift=bool(results) and share >= share_line,
        drift_share_threshold=share_line,
        n_reference=reference_stats.n_rows,
        n_current=current_stats.n_rows,
        prediction=pred,
        target=target,
        mismatches=mismatches,
        notes=notes,
    )
