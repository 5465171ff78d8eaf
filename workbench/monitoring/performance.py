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

Nor can it see outside its reference's support, and it is too optimistic when
the reference is the model's own training data: each estimate says whether it
can be trusted (``result.estimate_reliable()``, the check
``performance.estimate_reliable``) and gives its interval
(``result.intervals``); see :mod:`workbench.monitoring._performance_support`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.errors import ParameterError
from workbench.metrics import (
    BINARY_METRICS,
    MULTICLASS_METRICS,
    REGRESSION_METRICS,
)
from workbench.monitoring._performance_estimate import (
    CALIBRATIONS,
    PerformanceEstimator,
    _calibration_name,
    _estimate,
    _frame,
    _has_labels,
    _native,
    _natives,
    _num,
    _period_of,
    _pick,
    _spec_of,
    _stored_estimator,
    _str,
    _thin,
    fit_estimator,
)
from workbench.monitoring._performance_findings import (
    ACCURACY_TOLERANCE,
    RMSE_TOLERANCE,
)
from workbench.monitoring._performance_result import PerformanceResult
from workbench.monitoring._performance_support import (
    SUPPORT_TOLERANCE,
    estimate_intervals,
    measure_support,
    support_sample,
    training_reference,
)

pd = lazy("pandas")

__all__ = [
    "ACCURACY_TOLERANCE",
    "CALIBRATIONS",
    "RMSE_TOLERANCE",
    "SUPPORT_TOLERANCE",
    "PerformanceEstimator",
    "PerformanceResult",
    "assess_performance",
    "fit_estimator",
]

_MIN_REFERENCE_ROWS = 200


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
    shows how far the estimate was from the truth. It comes with a 90%
    interval (``result.intervals``) and a verdict on whether it can be trusted
    (``result.estimate_reliable()``): not when the reference is the model's
    training data (its ``meta.json`` fingerprint tells), nor when more than
    :data:`SUPPORT_TOLERANCE` of the current rows lie where the reference has
    barely any rows (a domain classifier tells; the reference data, or the
    sample a fitted estimator keeps, is needed for that).

    Returns
    -------
    PerformanceResult

    Raises
    ------
    ParameterError
        When both `reference` and `reference_stats` are given, or for an unknown `calibration`.
    DataError
        When `current` lacks a feature column of the model.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> batch = demo.test.sample(1000, random_state=1)
    >>> unlabelled = assess_performance(batch.drop(columns="income"), model,
    ...                                 reference=demo.test.sample(1000, random_state=2))
    >>> unlabelled.labelled, unlabelled.calibrated, 0.7 < unlabelled.estimated["accuracy"] < 0.95
    (False, True, True)
    >>> labelled = assess_performance(batch, model,
    ...                               reference=demo.test.sample(1000, random_state=2))
    >>> labelled.labelled, abs(labelled.estimate_error()["accuracy"]) < 0.05
    (True, True)
    """
    from workbench.data._spec import target_values
    from workbench.metrics import classification_metrics, regression_metrics

    calibration = _calibration_name(calibration)
    spec = _spec_of(model)
    _frame(current, "the current data")
    spec.check_columns(current, where="the current data")
    if reference is not None and reference_stats is not None:
        raise ParameterError("give either reference data or reference_stats (a fitted estimator), not both")
    notes: list[str] = []
    if reference_stats is not None:
        est = (
            reference_stats
            if isinstance(reference_stats, PerformanceEstimator)
            else PerformanceEstimator.from_dict(reference_stats)
        )
        est.check_model(model)
        if (
            est.threshold is not None
            and model.threshold is not None
            and abs(est.threshold - model.threshold) > 1e-12
        ):
            notes.append(
                f"the estimator was fitted at threshold {est.threshold:g} but the model now uses "
                f"{model.threshold:g}: the reference metrics are at the old threshold"
            )
    elif reference is not None and _has_labels(reference, spec):
        est = fit_estimator(reference, model, calibration=calibration)
    else:
        if reference is not None:
            _frame(reference, "the reference data")
            spec.check_columns(reference, where="the reference data")
            notes.append(
                f"the reference data has no values in the target column '{spec.target}', so it could "
                "not calibrate the estimate; the reference metrics are the model's validation metrics"
            )
        est = _stored_estimator(model)
    reference_source = f"{est.source} ({est.reference_rows:,} rows)" if est.reference_rows else est.source
    if est.calibrated and est.reference_rows < _MIN_REFERENCE_ROWS:
        notes.append(
            f"the calibration rests on only {est.reference_rows:,} labelled reference rows, so the "
            "estimate is rough; a larger reference period makes it steadier"
        )
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
            actual = _pick(regression_metrics(y[keep].to_numpy(dtype=float), pred), REGRESSION_METRICS)
        return PerformanceResult(
            getattr(model, "name", "model"),
            "regression",
            int(len(current)),
            _str(period),
            None,
            actual,
            dict(est.reference),
            reference_source,
            "none",
            n_labelled=n_labelled,
            notes=notes,
        )

    proba = model.predict_proba(current)
    estimate = _estimate(est, proba, model.threshold)
    training, sample = est.training_reference, est.support
    if reference is not None and not est.calibrated and sample is None:  # an unlabelled reference
        training, sample = training_reference(reference, model), support_sample(reference, model)
    reliability = {
        "training_reference": training,
        "support": None if sample is None else measure_support(sample, current, model),
    }
    classes = list(model.classes_)
    if labelled:
        metrics, extra = classification_metrics(
            y[keep].to_numpy(), proba[keep], classes, spec.task, spec.positive_label, model.threshold
        )
        actual = _pick(metrics, BINARY_METRICS if spec.task == "binary" else MULTICLASS_METRICS)
        actual_confusion = [[int(v) for v in row] for row in extra["confusion"]]
    labels = estimate["labels"]
    acc_ref = _num(est.reference.get("accuracy"))
    acc_sd = acc_ref if acc_ref is not None else estimate["metrics"]["accuracy"]
    se = math.sqrt(max(acc_sd * (1 - acc_sd), 0.0) / len(current))
    curve = {
        "reliability": est.reliability,
        "maps": [{"class": _native(c["class"]), **_thin(c["x"], c["y"])} for c in est.calibrators],
    }
    return PerformanceResult(
        getattr(model, "name", "model"),
        spec.task,
        int(len(current)),
        _str(period),
        estimate["metrics"],
        actual,
        dict(est.reference),
        reference_source,
        est.calibration if est.calibrated else "none",
        threshold=model.threshold if spec.task == "binary" else None,
        labels=_natives(labels),
        expected_confusion=estimate["confusion"],
        actual_confusion=actual_confusion,
        calibration_curve=curve,
        sampling_error={"accuracy": se},
        n_labelled=n_labelled,
        notes=notes,
        reliability=reliability,
        intervals=estimate_intervals(est, proba, model.threshold),
    )
