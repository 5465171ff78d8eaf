"""Performance monitoring: measured with labels, estimated without them.

Labels often arrive weeks after the predictions. Until then the model's own
confidence is the best evidence: with probabilities calibrated on a labelled
reference period, each current row contributes its *expected* share of the
confusion matrix, which gives an expected accuracy, precision, recall, F1
and ROC AUC. This is confidence-based performance estimation (CBPE), the
method of NannyML (https://nannyml.readthedocs.io/en/stable/how_it_works/
performance_estimation.html); workbench implements it here on numpy:

- calibration: isotonic regression of the reference labels on the model's
  positive-class probability (one-vs-rest per class, rows renormalised, for
  multiclass), fitted once (:func:`fit_estimator`) and stored as breakpoints;
- binary: a row predicted positive adds ``p`` to TP and ``1 - p`` to FP, a
  row predicted negative adds ``p`` to FN and ``1 - p`` to TN (``p`` the
  calibrated probability); ROC AUC: rows ranked by the model's raw score,
  expected TPR/FPR at every threshold, trapezoid area;
- multiclass: expected accuracy is the mean calibrated probability of the
  predicted class; macro ROC AUC one-vs-rest.

The estimate follows changes in the inputs (covariate shift). It cannot see a
change in how inputs relate to the outcome (concept drift, and partly a shift
in the outcome rate itself): there the model stays confident while it is
wrong. That is why :func:`assess_performance` measures the real metrics as
soon as the current data holds labels, and reports how far the estimate was off.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench import _html
from workbench.errors import DataError, WorkbenchError
from workbench.monitoring.checks import (
    Check,
    ChecksConfig,
    checks_table_html,
    make_check,
    threshold_for,
)

__all__ = [
    "ACCURACY_TOLERANCE", "CALIBRATIONS", "RMSE_TOLERANCE", "PerformanceEstimator", "PerformanceResult",
    "assess_performance", "fit_estimator",
]

#: Default largest allowed drop of accuracy / ROC AUC below the reference period.
ACCURACY_TOLERANCE = 0.02
#: Default largest allowed relative rise of RMSE above the reference period (regression).
RMSE_TOLERANCE = 0.10
CALIBRATIONS = ("isotonic", "none")
_BINARY_KEYS = ("accuracy", "roc_auc", "precision", "recall", "f1", "pr_auc", "brier", "base_rate",
                "selection_rate")
_MULTI_KEYS = ("accuracy", "roc_auc", "precision_macro", "recall_macro", "f1_macro")
_REGRESSION_KEYS = ("rmse", "mae", "r2", "median_abs_error")
_MIN_REFERENCE_ROWS = 200
_MAP_POINTS = 200
_ESTIMATE_GAP = 0.03  # an estimate this far from the measurement says the relationship changed


# -- the reusable estimator ------------------------------------------------------
@dataclass(frozen=True)
class PerformanceEstimator:
    """What the reference period teaches: calibration maps and reference metrics.

    Fit it once with :func:`fit_estimator` on labelled reference data, store
    ``to_dict()`` (plain JSON: isotonic breakpoints, no pickle) and pass it as
    ``reference_stats`` to :func:`assess_performance` for every later batch.
    """

    kind: ClassVar[str] = "performance_estimator"

    model_name: str
    task: str
    classes: list | None
    positive_label: Any
    threshold: float | None
    calibration: str
    calibrators: list = field(default_factory=list)  # [{"class", "x": [...], "y": [...]}]
    reference: dict = field(default_factory=dict)
    reference_rows: int = 0
    reliability: dict | None = None
    source: str = "reference data"

    def to_dict(self) -> dict:
        return {"kind": self.kind, "model": self.model_name, "task": self.task,
                "classes": _natives(self.classes), "positive_label": _native(self.positive_label),
                "threshold": self.threshold, "calibration": self.calibration,
                "calibrators": [{"class": _native(c["class"]), "x": [float(v) for v in c["x"]],
                                 "y": [float(v) for v in c["y"]]} for c in self.calibrators],
                "reference": _clean(self.reference), "reference_rows": self.reference_rows,
                "reliability": self.reliability, "source": self.source}

    @classmethod
    def from_dict(cls, d: Mapping) -> PerformanceEstimator:
        try:
            return cls(model_name=d["model"], task=d["task"], classes=d.get("classes"),
                       positive_label=d.get("positive_label"), threshold=d.get("threshold"),
                       calibration=d.get("calibration", "none"), calibrators=list(d.get("calibrators") or []),
                       reference=dict(d.get("reference") or {}), reference_rows=int(d.get("reference_rows", 0)),
                       reliability=d.get("reliability"), source=d.get("source", "reference data"))
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkbenchError(f"the stored performance estimator is incomplete ({exc}); fit it again") from None

    @property
    def calibrated(self) -> bool:
        return bool(self.calibrators)

    def calibrate(self, proba: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (columns in the order of ``classes``)."""
        proba = np.asarray(proba, dtype=float)
        if not self.calibrators:
            return np.clip(proba, 0.0, 1.0)
        if self.task == "binary":
            pos = self.classes.index(self.positive_label)
            out = np.empty_like(proba)
            out[:, pos] = _apply(self.calibrators[0], proba[:, pos])
            out[:, 1 - pos] = 1.0 - out[:, pos]
            return out
        out = np.column_stack([_apply(c, proba[:, k]) for k, c in enumerate(self.calibrators)])
        total = out.sum(axis=1, keepdims=True)
        # a row every map sends to 0 keeps the model's own probabilities
        return np.where(total > 0, out / np.where(total > 0, total, 1.0), proba)

    def estimate(self, current: pd.DataFrame, model: Any) -> dict:
        """The label-free estimate of the metrics on `current` (the target is not read)."""
        self.check_model(model)
        if self.task == "regression":
            raise WorkbenchError("a label-free estimate isn't available for regression models")
        model.spec.check_columns(current, where="the current data")
        return _estimate(self, model.predict_proba(current), model.threshold)["metrics"]

    def check_model(self, model: Any) -> None:
        """Refuse a model whose task or classes differ from the one this was fitted for."""
        classes = None if model.task == "regression" else _natives(list(model.classes_))
        if model.task != self.task or (classes is not None and classes != _natives(self.classes)):
            raise WorkbenchError(
                f"the performance estimator was fitted for another model ('{self.model_name}', {self.task}); "
                "fit it again on labelled reference data with this model")

    def _repr_html_(self) -> str:
        body = _html.kv({k: self.reference.get(k) for k in ("accuracy", "roc_auc", "rmse") if k in self.reference})
        sub = f"{self.task}, {self.reference_rows:,} reference rows, calibration: {self.calibration}"
        return _html.card(f"Performance estimator for {self.model_name}", body, sub)


def fit_estimator(reference: pd.DataFrame, model: Any, *, calibration: str = "isotonic") -> PerformanceEstimator:
    """Fit the label-free estimator on labelled `reference` data scored by `model`.

    Stores the reference metrics (measured with the model on `reference`) and,
    for classifiers with ``calibration="isotonic"``, isotonic maps from the
    model's probabilities to observed rates (one per class, one-vs-rest; only
    the positive class for binary). ``calibration="none"`` keeps the model's
    own probabilities.

    Examples
    --------
    >>> est = fit_estimator(reference, model)                    # doctest: +SKIP
    >>> assess_performance(today, model, reference_stats=est)    # doctest: +SKIP
    """
    from workbench.data._spec import target_values
    from workbench.modeling.evaluate import classification_metrics, regression_metrics

    calibration = _calibration_name(calibration)
    spec = _spec_of(model)
    _frame(reference, "the reference data")
    spec.check_columns(reference, where="the reference data")
    if spec.target is None or spec.target not in reference.columns:
        raise DataError(f"the target column '{spec.target}' is missing from the reference data; "
                        "calibrating the estimate needs labelled reference data")
    y = target_values(reference, spec, where="the reference data")
    keep = y.notna().to_numpy()
    if not keep.any():
        raise DataError(f"every value of the target column '{spec.target}' is missing in the reference data")
    reference, y = reference.loc[keep], y[keep].to_numpy()
    name = getattr(model, "name", "model")
    if spec.task == "regression":
        metrics = regression_metrics(y.astype(float), np.asarray(model.predict(reference), dtype=float))
        return PerformanceEstimator(name, "regression", None, None, None, "none",
                                    reference=_pick(metrics, _REGRESSION_KEYS), reference_rows=int(len(y)))
    proba = model.predict_proba(reference)
    classes = list(model.classes_)
    if spec.task == "binary" and len(set(y.tolist())) < 2:
        raise DataError(f"the reference data has a single class in '{spec.target}'; "
                        "calibration needs rows of both classes")
    metrics, extra = classification_metrics(y, proba, classes, spec.task, spec.positive_label, model.threshold)
    calibrators = []
    if calibration == "isotonic":
        targets = [spec.positive_label] if spec.task == "binary" else classes
        for c in targets:
            k = classes.index(c)
            calibrators.append(_fit_isotonic(proba[:, k], np.asarray(y == c, dtype=float), c))
    keys = _BINARY_KEYS if spec.task == "binary" else _MULTI_KEYS
    return PerformanceEstimator(
        name, spec.task, _natives(classes), _native(spec.positive_label),
        model.threshold if spec.task == "binary" else None, calibration, calibrators,
        reference=_pick(metrics, keys), reference_rows=int(len(y)),
        reliability=extra["curves"].get("calibration") if spec.task == "binary" else None,
    )


# -- the result -----------------------------------------------------------------------
@dataclass(frozen=True)
class PerformanceResult:
    """A model's performance on one batch: estimated without labels, measured with them.

    Ask it things: ``result.estimated["accuracy"]`` (label-free),
    ``result.actual`` (None until labels arrive), ``result.reference`` (the
    reference period), ``result.estimate_error()``, ``result.checks()``,
    ``result.findings()``, ``result.trend_row()`` (what a trend chart plots).
    """

    kind: ClassVar[str] = "performance"

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

    # -- conversions ------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind, "model": self.model_name, "task": self.task, "rows": self.n_rows,
            "period": self.period, "labelled_rows": self.n_labelled,
            "estimated": _clean(self.estimated), "actual": _clean(self.actual),
            "reference": _clean(self.reference), "reference_source": self.reference_source,
            "calibration": self.calibration, "threshold": self.threshold, "labels": _natives(self.labels),
            "expected_confusion": self.expected_confusion, "actual_confusion": self.actual_confusion,
            "calibration_curve": self.calibration_curve, "sampling_error": _clean(self.sampling_error),
            "notes": list(self.notes), "key_metrics": self.trend_row(),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> PerformanceResult:
        try:
            return cls(
                model_name=d["model"], task=d["task"], n_rows=int(d["rows"]), period=d.get("period"),
                estimated=d.get("estimated"), actual=d.get("actual"), reference=dict(d.get("reference") or {}),
                reference_source=d.get("reference_source", ""), calibration=d.get("calibration", "none"),
                threshold=d.get("threshold"), labels=d.get("labels"), expected_confusion=d.get("expected_confusion"),
                actual_confusion=d.get("actual_confusion"), calibration_curve=d.get("calibration_curve"),
                sampling_error=dict(d.get("sampling_error") or {}), n_labelled=int(d.get("labelled_rows", 0)),
                notes=list(d.get("notes") or []),
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
        return self.calibration == "isotonic"

    def estimate_error(self) -> dict:
        """Estimate minus measurement per metric (empty until labels arrive)."""
        if not self.estimated or not self.actual:
            return {}
        return {k: self.estimated[k] - self.actual[k] for k in self.estimated
                if _num(self.estimated.get(k)) is not None and _num(self.actual.get(k)) is not None}

    def trend_row(self) -> dict:
        """One row for a trend chart / ledger: period, estimated, measured and reference metrics."""
        metrics = _REGRESSION_KEYS[:2] if self.task == "regression" else ("accuracy", "roc_auc")
        row: dict = {"period": self.period}
        for m in metrics:
            if self.task != "regression":
                row[f"estimated_{m}"] = (self.estimated or {}).get(m)
            row[m] = (self.actual or {}).get(m)
            row[f"reference_{m}"] = self.reference.get(m)
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
            out.append(make_check(
                "performance.rmse_increase", value, "<=", RMSE_TOLERANCE,
                f"RMSE {_f(now)} vs {_f(ref)} in the reference period: {{value:+.1%}} "
                "(largest allowed rise {threshold:.0%})",
                config))
        else:
            block, prefix, word = (self.actual, "", "actual") if self.labelled else (
                self.estimated, "estimated_", "estimated")
            for m, label in (("accuracy", "accuracy"), ("roc_auc", "ROC AUC")):
                now, ref = _num((block or {}).get(m)), _num(self.reference.get(m))
                value = ref - now if now is not None and ref is not None else None
                change = "" if value is None else (
                    f"a drop of {value:.3f}" if value >= 0 else f"up by {-value:.3f}")
                out.append(make_check(
                    f"performance.{prefix}{m}_drop", value, "<=", ACCURACY_TOLERANCE,
                    f"{word} {label} {_f(now)} vs {_f(ref)} in the reference period: {change} "
                    "(largest allowed drop {threshold:g})", config))
        return [c for c in out if c is not None]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, the most important first."""
        ranked: list[tuple[int, str]] = []
        if self.task == "regression":
            ranked += self._regression_findings(config)
        else:
            ranked += self._classification_findings(config)
        if self.n_labelled and self.n_labelled < self.n_rows:
            ranked.append((3, f"labels arrived for {self.n_labelled:,} of {self.n_rows:,} rows; the measured "
                              "metrics use those rows only"))
        ranked += [(4, n) for n in self.notes]
        return [s for _, s in sorted(ranked, key=lambda t: t[0])]

    def _classification_findings(self, config) -> list[tuple[int, str]]:
        out = []
        ranks = ("positive cases above negative ones" if self.task == "binary" else
                 "each class's cases above the others, averaged over classes")
        for m, name in (("accuracy", "accuracy"), ("roc_auc", f"ROC AUC (how well the model ranks {ranks})")):
            est, act, ref = (_num((self.estimated or {}).get(m)), _num((self.actual or {}).get(m)),
                             _num(self.reference.get(m)))
            now = act if self.labelled else est
            if now is None:
                continue
            what = f"actual {name} {_f2(now)}" if self.labelled else f"estimated {name} {_f2(now)} (no labels yet)"
            tol = threshold_for(f"performance.{'' if self.labelled else 'estimated_'}{m}_drop",
                                ACCURACY_TOLERANCE, config)
            if ref is None:
                out.append((2, f"{what}; there is no reference value to compare it with"))
            elif tol is not None and ref - now > tol:
                out.append((0, f"{what} vs {_f2(ref)} in the reference period: a drop of {_drop(ref - now, tol)}, "
                               f"above the {tol:g} tolerance"))
            elif ref - now > 0.005:
                tail = f", within the {tol:g} tolerance" if tol is not None else ""
                out.append((2, f"{what} vs {_f2(ref)} in the reference period: a drop of "
                               f"{_drop(ref - now, tol)}{tail}"))
            elif now - ref > 0.005:
                out.append((2, f"{what} vs {_f2(ref)} in the reference period: up by {_f2(now - ref)}"))
            else:
                out.append((2, f"{what}, the same as in the reference period ({_f2(ref)})"))
            if self.labelled and est is not None and (m == "accuracy" or abs(est - act) > _ESTIMATE_GAP):
                short = name.split(" (")[0]
                sentence = f"actual {short} {_f2(act)} measured now that labels arrived; the estimate was {_f2(est)}"
                missed = abs(est - act) > _ESTIMATE_GAP
                if missed:
                    sentence += (f": it missed by {_f2(abs(est - act))}, a sign that the relationship between the "
                                 "inputs and the outcome has changed (concept drift or a shift in the outcome "
                                 "rate), which a label-free estimate cannot see")
                out.append((1 if missed else 2, sentence))
        if not self.labelled:
            ref_rate, est_rate = _num(self.reference.get("base_rate")), _num((self.estimated or {}).get("base_rate"))
            if self.task == "binary" and None not in (ref_rate, est_rate) and abs(est_rate - ref_rate) > 0.05:
                out.append((2, f"the model expects {est_rate:.0%} of outcomes to be '{self.labels[1]}' in this "
                               f"batch vs {ref_rate:.0%} in the reference period"))
            out.append((3, "the estimate comes from the model's own confidence (confidence-based performance "
                           "estimation, as in NannyML's CBPE): it follows changes in the inputs but cannot see a "
                           "change in how the inputs relate to the outcome (concept drift); measure performance "
                           "with labels when they arrive"))
        if self.estimated is not None and not self.calibrated:
            out.append((1, "the estimate is uncalibrated: without labelled reference data it trusts the model's "
                           "raw probabilities, which are often over-confident; pass labelled reference data to "
                           "calibrate it"))
        return out

    def _regression_findings(self, config) -> list[tuple[int, str]]:
        out = []
        now, ref = _num((self.actual or {}).get("rmse")), _num(self.reference.get("rmse"))
        if now is None:
            out.append((0, "a label-free performance estimate isn't available for regression models: performance "
                           "can only be measured once the actual values arrive"))
        elif ref is None or ref == 0:
            out.append((2, f"actual RMSE (typical size of an error) {_f(now)}; there is no reference value to "
                           "compare it with"))
        else:
            rise = (now - ref) / ref
            tol = threshold_for("performance.rmse_increase", RMSE_TOLERANCE, config)
            judged = ("above" if tol is not None and rise > tol else "within") + (
                f" the {tol:.0%} tolerance" if tol is not None else " no set tolerance")
            word = "higher" if rise >= 0 else "lower"
            out.append((0 if tol is not None and rise > tol else 2,
                        f"actual RMSE (typical size of an error) {_f(now)} vs {_f(ref)} in the reference period: "
                        f"{abs(rise):.0%} {word}, {judged}"))
        return out

    # -- display -------------------------------------------------------------------
    def figures(self) -> dict:
        from workbench.viz import performance as vp

        figs = {}
        if self.task == "regression":
            figs["metrics"] = vp.performance_metrics_figure(
                self.reference, None, self.actual, ["rmse", "mae"], tolerance={"rmse": RMSE_TOLERANCE},
                relative=["rmse"])
            return figs
        keys = ["accuracy", "roc_auc", "precision", "recall", "f1"] if self.task == "binary" else list(_MULTI_KEYS)
        se = self.sampling_error.get("accuracy")
        figs["metrics"] = vp.performance_metrics_figure(
            self.reference, self.estimated, self.actual, keys,
            tolerance={"accuracy": ACCURACY_TOLERANCE, "roc_auc": ACCURACY_TOLERANCE},
            error_bars={"accuracy": 3 * se} if se else None)
        if self.expected_confusion is not None:
            figs["expected_confusion"] = vp.expected_confusion_figure(self.expected_confusion, self.labels)
        if self.actual_confusion is not None:
            figs["actual_confusion"] = vp.expected_confusion_figure(
                self.actual_confusion, self.labels, title="Confusion matrix (measured with labels)")
        if self.calibration_curve is not None:
            figs["calibration"] = vp.calibration_map_figure(self.calibration_curve)
        return figs

    def figure(self):
        return self.figures()["metrics"]

    def _repr_html_(self) -> str:
        findings = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings())
        keys = [k for k in (("rmse", "mae", "r2") if self.task == "regression" else
                            ("accuracy", "roc_auc", "precision", "recall", "f1", "f1_macro"))
                if any(k in (b or {}) for b in (self.reference, self.estimated, self.actual))]
        rows = [{"metric": k, "reference period": self.reference.get(k),
                 "estimated (no labels)": (self.estimated or {}).get(k), "actual (labels)": (self.actual or {}).get(k)}
                for k in keys]
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{findings}</ul>" + _html.table(rows)
        body += checks_table_html(self.checks())
        when = f", period {self.period}" if self.period else ""
        how = "measured with labels" if self.labelled else (
            "estimated without labels" + ("" if self.calibrated else ", uncalibrated"))
        sub = f"{self.task}, {self.n_rows:,} rows{when}; {how}"
        return _html.card(f"Performance of {self.model_name}", body, sub)


def assess_performance(
    current: pd.DataFrame,
    model: Any,
    *,
    reference: pd.DataFrame | None = None,
    reference_stats: PerformanceEstimator | Mapping | None = None,
    period: str | None = None,
    calibration: str = "isotonic",
) -> PerformanceResult:
    """Performance of `model` on `current`: estimated without labels, measured with them.

    Parameters
    ----------
    current : the batch to judge (the model's feature columns; the target
        column, when present with values, makes the metrics measured).
    model : a :class:`workbench.Model`.
    reference : labelled data of the reference period: calibrates the estimate
        (:func:`fit_estimator`) and gives the reference metrics.
    reference_stats : a fitted :class:`PerformanceEstimator` (or its
        ``to_dict()``) instead of `reference`, to skip refitting every run.
        With neither, the reference metrics are the model's stored validation
        metrics and the estimate uses uncalibrated probabilities.
    period : a label for trends (e.g. ``"2026-11-03"``); default: the latest
        date in the spec's time column, when there is one.
    calibration : ``"isotonic"`` (as CBPE does) or ``"none"``.

    The label-free estimate is computed in both cases, so a labelled batch
    shows how far the estimate was from the truth.
    """
    from workbench.data._spec import target_values
    from workbench.modeling.evaluate import classification_metrics, regression_metrics

    calibration = _calibration_name(calibration)
    spec = _spec_of(model)
    _frame(current, "the current data")
    spec.check_columns(current, where="the current data")
    if reference is not None and reference_stats is not None:
        raise WorkbenchError("give either reference data or reference_stats (a fitted estimator), not both")
    notes: list[str] = []
    if reference_stats is not None:
        est = reference_stats if isinstance(reference_stats, PerformanceEstimator) else \
            PerformanceEstimator.from_dict(reference_stats)
        est.check_model(model)
        if est.threshold is not None and model.threshold is not None and abs(est.threshold - model.threshold) > 1e-12:
            notes.append(f"the estimator was fitted at threshold {est.threshold:g} but the model now uses "
                         f"{model.threshold:g}: the reference metrics are at the old threshold")
    elif reference is not None and _has_labels(reference, spec):
        est = fit_estimator(reference, model, calibration=calibration)
    else:
        if reference is not None:
            _frame(reference, "the reference data")
            notes.append(f"the reference data has no values in the target column '{spec.target}', so it could "
                         "not calibrate the estimate; the reference metrics are the model's validation metrics")
        est = _stored_estimator(model)
    reference_source = (f"{est.source} ({est.reference_rows:,} rows)" if est.reference_rows else est.source)
    if est.calibrated and est.reference_rows < _MIN_REFERENCE_ROWS:
        notes.append(f"the calibration rests on only {est.reference_rows:,} labelled reference rows, so the "
                     "estimate is rough; a larger reference period makes it steadier")
    if period is None:
        period = _period_of(current, spec)

    labelled = _has_labels(current, spec)
    actual = actual_confusion = None
    n_labelled = 0
    if labelled:
        y = target_values(current, spec, where="the current data")
        keep = y.notna().to_numpy()
        n_labelled = int(keep.sum())
    if spec.task == "regression":
        if labelled:
            pred = np.asarray(model.predict(current.loc[keep]), dtype=float)
            actual = _pick(regression_metrics(y[keep].to_numpy(dtype=float), pred), _REGRESSION_KEYS)
        return PerformanceResult(
            getattr(model, "name", "model"), "regression", int(len(current)), _str(period), None, actual,
            dict(est.reference), reference_source, "none", n_labelled=n_labelled, notes=notes)

    proba = model.predict_proba(current)
    estimate = _estimate(est, proba, model.threshold)
    classes = list(model.classes_)
    if labelled:
        metrics, extra = classification_metrics(y[keep].to_numpy(), proba[keep], classes, spec.task,
                                                spec.positive_label, model.threshold)
        actual = _pick(metrics, _BINARY_KEYS if spec.task == "binary" else _MULTI_KEYS)
        actual_confusion = [[int(v) for v in row] for row in extra["confusion"]]
    labels = estimate["labels"]
    acc_ref = _num(est.reference.get("accuracy"))
    acc_sd = acc_ref if acc_ref is not None else estimate["metrics"]["accuracy"]
    se = math.sqrt(max(acc_sd * (1 - acc_sd), 0.0) / len(current))
    curve = {"reliability": est.reliability,
             "maps": [{"class": _native(c["class"]), **_thin(c["x"], c["y"])} for c in est.calibrators]}
    return PerformanceResult(
        getattr(model, "name", "model"), spec.task, int(len(current)), _str(period), estimate["metrics"], actual,
        dict(est.reference), reference_source, est.calibration if est.calibrated else "none",
        threshold=model.threshold if spec.task == "binary" else None, labels=_natives(labels),
        expected_confusion=estimate["confusion"], actual_confusion=actual_confusion, calibration_curve=curve,
        sampling_error={"accuracy": se}, n_labelled=n_labelled, notes=notes,
    )


# -- estimation (numpy only) ----------------------------------------------------------
def _estimate(est: PerformanceEstimator, proba: np.ndarray, threshold: float | None) -> dict:
    """Expected metrics and confusion matrix from raw probabilities (CBPE).

    Predictions use the model's current `threshold`; the calibration maps come from `est`.
    """
    proba = np.asarray(proba, dtype=float)
    cal = est.calibrate(proba)
    classes = est.classes
    n = len(proba)
    if est.task == "binary":
        pos = classes.index(est.positive_label)
        score, p = proba[:, pos], cal[:, pos]
        predicted = score >= (est.threshold if threshold is None else threshold)
        tp, fp = float(p[predicted].sum()), float((1 - p[predicted]).sum())
        fn, tn = float(p[~predicted].sum()), float((1 - p[~predicted]).sum())
        metrics = {
            "accuracy": (tp + tn) / n,
            "roc_auc": _expected_auc(score, p),
            "precision": tp / (tp + fp) if tp + fp > 0 else 0.0,
            "recall": tp / (tp + fn) if tp + fn > 0 else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn > 0 else 0.0,
            "base_rate": float(p.mean()),
            "selection_rate": float(predicted.mean()),
        }
        return {"metrics": metrics, "labels": [classes[1 - pos], classes[pos]],
                "confusion": [[tn, fp], [fn, tp]]}
    predicted = np.argmax(proba, axis=1)
    k = len(classes)
    onehot = np.zeros((n, k))
    onehot[np.arange(n), predicted] = 1.0
    confusion = cal.T @ onehot  # [actual i, predicted j]: expected rows of class i predicted as j
    diag = np.diag(confusion)
    col, row = confusion.sum(axis=0), confusion.sum(axis=1)
    prec = np.divide(diag, col, out=np.zeros(k), where=col > 0)
    rec = np.divide(diag, row, out=np.zeros(k), where=row > 0)
    f1 = np.divide(2 * prec * rec, prec + rec, out=np.zeros(k), where=(prec + rec) > 0)
    aucs = [a for a in (_expected_auc(proba[:, j], cal[:, j]) for j in range(k)) if a is not None]
    metrics = {
        "accuracy": float(cal[np.arange(n), predicted].mean()),
        "roc_auc": float(np.mean(aucs)) if len(aucs) >= 2 else None,
        "precision_macro": float(prec.mean()), "recall_macro": float(rec.mean()), "f1_macro": float(f1.mean()),
    }
    return {"metrics": metrics, "labels": list(classes), "confusion": [[float(v) for v in r] for r in confusion]}


def _expected_auc(score: np.ndarray, p: np.ndarray) -> float | None:
    """ROC AUC expected under calibrated probabilities `p`, rows ranked by the raw `score`.

    At each distinct threshold of `score`, expected TP is the sum of `p` above it
    and expected FP the sum of ``1 - p`` (NannyML's ``estimate_roc_auc``); tied
    scores move together, as in scikit-learn's ``roc_curve``.
    """
    order = np.argsort(-score, kind="stable")
    s, q = score[order], p[order]
    tps, fps = np.cumsum(q), np.cumsum(1 - q)
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of tied scores
    tps, fps = tps[last], fps[last]
    if len(tps) == 0 or tps[-1] <= 0 or fps[-1] <= 0:
        return None
    tpr, fpr = np.r_[0.0, tps / tps[-1]], np.r_[0.0, fps / fps[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _fit_isotonic(score: np.ndarray, y: np.ndarray, cls: Any) -> dict:
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(score, y)
    return {"class": _native(cls), "x": [float(v) for v in iso.X_thresholds_],
            "y": [float(v) for v in iso.y_thresholds_]}


def _apply(calibrator: Mapping, score: np.ndarray) -> np.ndarray:
    # linear between breakpoints, flat beyond them: what IsotonicRegression(out_of_bounds="clip") predicts
    return np.interp(score, np.asarray(calibrator["x"], dtype=float), np.asarray(calibrator["y"], dtype=float))


def _stored_estimator(model: Any) -> PerformanceEstimator:
    """No labelled reference: the model's validation metrics, uncalibrated probabilities."""
    spec = model.spec
    stored = dict((getattr(model, "meta", None) or {}).get("metrics") or {})
    keys = _REGRESSION_KEYS if spec.task == "regression" else (
        _BINARY_KEYS if spec.task == "binary" else _MULTI_KEYS)
    reference = _pick(stored, keys)
    classes = None if spec.task == "regression" else _natives(list(model.classes_))
    return PerformanceEstimator(
        getattr(model, "name", "model"), spec.task, classes, _native(spec.positive_label),
        model.threshold if spec.task == "binary" else None, "none", [], reference=reference, reference_rows=0,
        source="the model's validation metrics" if reference else "none")


# -- helpers ------------------------------------------------------------------------
def _calibration_name(calibration: str | None) -> str:
    calibration = "none" if calibration is None else calibration
    if calibration not in CALIBRATIONS:
        raise WorkbenchError(f"unknown calibration '{calibration}'; use one of {', '.join(CALIBRATIONS)}")
    return calibration


def _spec_of(model: Any):
    spec = getattr(model, "spec", None)
    if spec is None or spec.task is None:
        raise WorkbenchError("performance needs a workbench model with a spec and a task")
    return spec


def _frame(data: Any, where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame")
    if data.empty:
        raise DataError(f"{where} has no rows")


def _has_labels(data: pd.DataFrame, spec) -> bool:
    return spec.target is not None and spec.target in data.columns and bool(data[spec.target].notna().any())


def _period_of(data: pd.DataFrame, spec) -> str | None:
    if not spec.time or spec.time not in data.columns:
        return None
    t = pd.to_datetime(data[spec.time], errors="coerce").max()
    return None if pd.isna(t) else t.date().isoformat()


def _pick(metrics: Mapping, keys) -> dict:
    return {k: _num(metrics[k]) for k in keys if k in metrics}


def _thin(x: list, y: list) -> dict:
    idx = np.unique(np.linspace(0, len(x) - 1, min(len(x), _MAP_POINTS)).astype(int)) if x else []
    return {"x": [float(x[i]) for i in idx], "y": [float(y[i]) for i in idx]}


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _clean(d: Mapping | None) -> dict | None:
    return None if d is None else {k: _num(v) if isinstance(v, int | float | np.generic) else v for k, v in d.items()}


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _natives(values: Any) -> list | None:
    return None if values is None else [_native(v) for v in values]


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _f(v: float | None) -> str:
    return "—" if v is None else f"{v:.4g}"


def _f2(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _drop(d: float, tol: float | None) -> str:
    """Two decimals, or three when two would blur the comparison with the tolerance."""
    return f"{d:.3f}" if tol is not None and abs(d - tol) < 0.01 else f"{d:.2f}"
