"""The performance report's result: :class:`PerformanceResult`.

Measured and estimated metrics, their findings, checks and figures; rebuilt from its ``to_dict()``
without recomputing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from workbench import _html
from workbench._lazy import lazy
from workbench.checks import (
    Check,
    ChecksConfig,
    checks_table_html,
    make_check,
)
from workbench.errors import WorkbenchError
from workbench.metrics import (
    BINARY_SHOWN,
    CLASSIFICATION_TRACKED,
    METRIC_LABELS,
    MULTICLASS_METRICS,
    REGRESSION_SHOWN,
    REGRESSION_TRACKED,
)
from workbench.monitoring._performance_estimate import (
    _clean,
    _f,
    _natives,
    _num,
)
from workbench.monitoring._performance_findings import (
    ACCURACY_TOLERANCE,
    RMSE_TOLERANCE,
    _classification_findings,
    _regression_findings,
    _reliability_findings,
)
from workbench.monitoring._performance_support import SUPPORT_TOLERANCE

pd = lazy("pandas")


# -- the result -----------------------------------------------------------------------
@dataclass(frozen=True)
class PerformanceResult:
    """A model's performance on one batch: estimated without labels, measured with them.

    Ask it things: ``result.estimated["accuracy"]`` (label-free),
    ``result.actual`` (None until labels arrive), ``result.reference`` (the
    reference period), ``result.estimate_error()``, ``result.checks()``,
    ``result.findings()``, ``result.trend_row()`` (what a trend chart plots),
    ``result.estimate_reliable()`` (whether the label-free estimate can be
    trusted) and ``result.intervals`` (its 90% interval per metric).

    Schema 2 added ``reliability`` (``training_reference``: the reference is
    the model's training data; ``support``: how far the batch lies outside the
    reference, see :func:`~workbench.monitoring._performance_support.measure_support`)
    and ``intervals``; a schema-1 result reads them as unknown.
    """

    kind: ClassVar[str] = "performance"
    SCHEMA: ClassVar[int] = 2

    model_name: str
    task: str
    n_rows: int
    period: str | None
    estimated: dict | None
    actual: dict | None
    reference: dict
    reference_source: str
    calibration: str
    threshold: float | None = None
    labels: list | None = None
    expected_confusion: list | None = None
    actual_confusion: list | None = None
    calibration_curve: dict | None = None
    sampling_error: dict = field(default_factory=dict)
    n_labelled: int = 0
    notes: list = field(default_factory=list)
    reliability: dict | None = None  # {"training_reference": bool | None, "support": dict | None}
    intervals: dict = field(default_factory=dict)  # metric -> [low, high], the estimate's 90% interval

    # -- conversions ------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe form, as ``results.json`` stores it (:meth:`from_dict` rebuilds it)."""
        d = {
            "kind": self.kind,
            "model": self.model_name,
            "task": self.task,
            "rows": self.n_rows,
            "period": self.period,
            "labelled_rows": self.n_labelled,
            "estimated": _clean(self.estimated),
            "actual": _clean(self.actual),
            "reference": _clean(self.reference),
            "reference_source": self.reference_source,
            "calibration": self.calibration,
            "threshold": self.threshold,
            "labels": _natives(self.labels),
            "expected_confusion": self.expected_confusion,
            "actual_confusion": self.actual_confusion,
            "calibration_curve": self.calibration_curve,
            "sampling_error": _clean(self.sampling_error),
            "notes": list(self.notes),
            "key_metrics": self.trend_row(),
        }
        if self.reliability is not None or self.intervals:  # schema 2; absent: a result stored before
            d["reliability"] = self.reliability
            d["intervals"] = {k: [float(v) for v in b] for k, b in self.intervals.items()}
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> PerformanceResult:
        """Rebuild from :meth:`to_dict`'s output without recomputing.

        Raises
        ------
        WorkbenchError
            When the stored dict lacks a required field.
        """
        try:
            return cls(
                model_name=d["model"],
                task=d["task"],
                n_rows=int(d["rows"]),
                period=d.get("period"),
                estimated=d.get("estimated"),
                actual=d.get("actual"),
                reference=dict(d.get("reference") or {}),
                reference_source=d.get("reference_source", ""),
                calibration=d.get("calibration", "none"),
                threshold=d.get("threshold"),
                labels=d.get("labels"),
                expected_confusion=d.get("expected_confusion"),
                actual_confusion=d.get("actual_confusion"),
                calibration_curve=d.get("calibration_curve"),
                sampling_error=dict(d.get("sampling_error") or {}),
                n_labelled=int(d.get("labelled_rows", 0)),
                notes=list(d.get("notes") or []),
                reliability=d.get("reliability"),
                intervals=dict(d.get("intervals") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkbenchError(f"the stored performance result is incomplete ({exc})") from None

    # -- questions ----------------------------------------------------------------
    @property
    def labelled(self) -> bool:
        """True when labels arrived, so the metrics are measured, not only estimated."""
        return self.actual is not None

    @property
    def calibrated(self) -> bool:
        """True when the estimate used isotonic calibration on labelled reference data."""
        return self.calibration == "isotonic"

    def estimate_error(self) -> dict:
        """Estimate minus measurement per metric (empty until labels arrive)."""
        if not self.estimated or not self.actual:
            return {}
        return {
            k: self.estimated[k] - self.actual[k]
            for k in self.estimated
            if _num(self.estimated.get(k)) is not None and _num(self.actual.get(k)) is not None
        }

    @property
    def uncovered_share(self) -> float | None:
        """Share of the current rows where the reference barely has rows (None: not measured)."""
        return _num(((self.reliability or {}).get("support") or {}).get("uncovered_share"))

    @property
    def training_reference(self) -> bool | None:
        """True when the reference was the model's training data (None: not known)."""
        return (self.reliability or {}).get("training_reference")

    def estimate_reliable(self, config: ChecksConfig | None = None) -> bool | None:
        """Whether the label-free estimate can be trusted; None without an estimate or a measure of it.

        False when the reference is the model's training data, or when the share
        of current rows outside the reference's support is above the check
        ``performance.estimate_reliable``'s threshold (default
        :data:`~workbench.monitoring._performance_support.SUPPORT_TOLERANCE`).
        """
        check = self._reliability_check(config)
        return None if check is None or (check.value is None and check.passed) else check.passed

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and the trend charts: :meth:`trend_row` without its period."""
        return {k: v for k, v in self.trend_row().items() if k != "period"}

    def trend_row(self) -> dict:
        """One row for a trend chart / ledger: period, estimated, measured and reference metrics."""
        metrics = REGRESSION_TRACKED if self.task == "regression" else CLASSIFICATION_TRACKED
        row: dict = {"period": self.period}
        for m in metrics:
            if self.task != "regression":
                row[f"estimated_{m}"] = (self.estimated or {}).get(m)
            row[m] = (self.actual or {}).get(m)
            row[f"reference_{m}"] = self.reference.get(m)
        if self.task != "regression" and self.reliability is not None:
            low, high = self.intervals.get("accuracy") or (None, None)
            reliable = self.estimate_reliable()
            row.update(
                estimated_accuracy_low=low,
                estimated_accuracy_high=high,
                estimate_uncovered_share=self.uncovered_share,
                estimate_reliable=None if reliable is None else float(reliable),
            )
        return row

    # -- checks and findings ----------------------------------------------------------
    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        """Drops below the reference period, judged on measured metrics once labels exist.

        Without labels: ``performance.estimated_accuracy_drop`` and
        ``performance.estimated_roc_auc_drop`` (reference minus estimate,
        <= 0.02). With labels the measurement supersedes the estimate:
        ``performance.accuracy_drop`` and ``performance.roc_auc_drop`` (<= 0.02).
        Regression: ``performance.rmse_increase`` (relative, <= 0.10).
        """
        out = []
        if self.task == "regression":
            now, ref = _num((self.actual or {}).get("rmse")), _num(self.reference.get("rmse"))
            value = (now - ref) / ref if now is not None and ref else None
            out.append(
                make_check(
                    "performance.rmse_increase",
                    value,
                    "<=",
                    RMSE_TOLERANCE,
                    f"RMSE {_f(now)} vs {_f(ref)} in the reference period: {{value:+.1%}} "
                    "(largest allowed rise {threshold:.0%})",
                    config,
                )
            )
        else:
            block, prefix, word = (
                (self.actual, "", "actual") if self.labelled else (self.estimated, "estimated_", "estimated")
            )
            for m in CLASSIFICATION_TRACKED:
                now, ref = _num((block or {}).get(m)), _num(self.reference.get(m))
                value = ref - now if now is not None and ref is not None else None
                change = (
                    ""
                    if value is None
                    else (f"a drop of {value:.3f}" if value >= 0 else f"up by {-value:.3f}")
                )
                out.append(
                    make_check(
                        f"performance.{prefix}{m}_drop",
                        value,
                        "<=",
                        ACCURACY_TOLERANCE,
                        f"{word} {METRIC_LABELS[m]} {_f(now)} vs {_f(ref)} in the reference period: {change} "
                        "(largest allowed drop {threshold:g})",
                        config,
                    )
                )
            if not self.labelled:
                out.append(self._reliability_check(config))
        return [c for c in out if c is not None]

    def _reliability_check(self, config: ChecksConfig | None) -> Check | None:
        """``performance.estimate_reliable``: the share of current rows outside the reference's support."""
        if self.task == "regression" or self.estimated is None or self.reliability is None:
            return None
        share = self.uncovered_share
        check = make_check(
            "performance.estimate_reliable",
            share,
            "<=",
            SUPPORT_TOLERANCE,
            "share of current rows where the reference has barely any rows {value:.1%} "
            "(above {threshold:.0%} the label-free estimate is unreliable)"
            if share is not None
            else "the reference's support was not measured (no reference rows to compare with)",
            config,
        )
        if check is not None and self.training_reference:
            check = dataclasses.replace(
                check,
                passed=False,
                message="the reference is the model's training data, so the label-free estimate is "
                "unreliable (too optimistic) whatever the support",
            )
        return check

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, the most important first."""
        ranked: list[tuple[int, str]] = []
        if self.task == "regression":
            ranked += _regression_findings(self, config)
        else:
            ranked += _reliability_findings(self, config)  # first among equals: it qualifies the rest
            ranked += _classification_findings(self, config)
        if self.n_labelled and self.n_labelled < self.n_rows:
            ranked.append(
                (
                    3,
                    f"labels arrived for {self.n_labelled:,} of {self.n_rows:,} rows; the measured "
                    "metrics use those rows only",
                )
            )
        ranked += [(4, n) for n in self.notes]
        return [s for _, s in sorted(ranked, key=lambda t: t[0])]

    def figures(self) -> dict:
        """The figures, as ``{name: plotly Figure}``.

        ``metrics`` (reference, estimated and measured side by side); for classifiers
        also ``expected_confusion``, ``actual_confusion`` (with labels) and
        ``calibration`` (the calibration map), when there is data for them.
        """
        from workbench.viz import performance as vp

        figs = {}
        if self.task == "regression":
            figs["metrics"] = vp.performance_metrics_figure(
                self.reference,
                None,
                self.actual,
                list(REGRESSION_TRACKED),
                tolerance={"rmse": RMSE_TOLERANCE},
                relative=["rmse"],
            )
            return figs
        keys = list(BINARY_SHOWN if self.task == "binary" else MULTICLASS_METRICS)
        se = self.sampling_error.get("accuracy")
        figs["metrics"] = vp.performance_metrics_figure(
            self.reference,
            self.estimated,
            self.actual,
            keys,
            tolerance={"accuracy": ACCURACY_TOLERANCE, "roc_auc": ACCURACY_TOLERANCE},
            error_bars=None if self.intervals else ({"accuracy": 3 * se} if se else None),
            intervals=self.intervals or None,
        )
        if self.expected_confusion is not None:
            figs["expected_confusion"] = vp.expected_confusion_figure(self.expected_confusion, self.labels)
        if self.actual_confusion is not None:
            figs["actual_confusion"] = vp.expected_confusion_figure(
                self.actual_confusion, self.labels, title="Confusion matrix (measured with labels)"
            )
        if self.calibration_curve is not None:
            figs["calibration"] = vp.calibration_map_figure(self.calibration_curve)
        return figs

    def figure(self):
        """The metrics figure."""
        return self.figures()["metrics"]

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card; its checks under `config` (a report passes its run's check settings)."""
        findings = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings(config))
        keys = [
            k
            for k in (REGRESSION_SHOWN if self.task == "regression" else (*BINARY_SHOWN, "f1_macro"))
            if any(k in (b or {}) for b in (self.reference, self.estimated, self.actual))
        ]
        rows = [
            {
                "metric": k,
                "reference period": self.reference.get(k),
                "estimated (no labels)": (self.estimated or {}).get(k),
                "actual (labels)": (self.actual or {}).get(k),
            }
            for k in keys
        ]
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{findings}</ul>" + _html.table(rows)
        body += checks_table_html(self.checks(config))
        when = f", period {self.period}" if self.period else ""
        how = (
            "measured with labels"
            if self.labelled
            else (
                "estimated without labels"
                + ("" if self.calibrated else ", uncalibrated")
                + (", UNRELIABLE" if self.estimate_reliable(config) is False else "")
            )
        )
        sub = f"{self.task}, {self.n_rows:,} rows{when}; {how}"
        return _html.card(f"Performance of {self.model_name}", body, sub)
