"""The label-free estimator behind :mod:`workbench.monitoring.performance`: calibration maps, CBPE on numpy.

Private: import the public names from :mod:`workbench.monitoring.performance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from workbench import _html
from workbench._json import finite as _num
from workbench._lazy import lazy
from workbench.errors import DataError, ParameterError, WorkbenchError
from workbench.metrics import BINARY_METRICS, MULTICLASS_METRICS, REGRESSION_METRICS
from workbench.validation import check_choice

pd = lazy("pandas")

CALIBRATIONS = ("isotonic", "none")
_MAP_POINTS = 200


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
    #: True when the reference was the model's training data (None: the model does not record it)
    training_reference: bool | None = None
    #: a bounded sample of the reference's features, to measure the support of later batches
    support: dict | None = None

    def to_dict(self) -> dict:
        """Plain JSON (isotonic breakpoints, no pickle), to store and pass as ``reference_stats``."""
        return {
            "kind": self.kind,
            "model": self.model_name,
            "task": self.task,
            "classes": _natives(self.classes),
            "positive_label": _native(self.positive_label),
            "threshold": self.threshold,
            "calibration": self.calibration,
            "calibrators": [
                {
                    "class": _native(c["class"]),
                    "x": [float(v) for v in c["x"]],
                    "y": [float(v) for v in c["y"]],
                }
                for c in self.calibrators
            ],
            "reference": _clean(self.reference),
            "reference_rows": self.reference_rows,
            "reliability": self.reliability,
            "source": self.source,
            "training_reference": self.training_reference,
            "support_sample": self.support,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> PerformanceEstimator:
        """Rebuild from :meth:`to_dict`'s output.

        Raises
        ------
        WorkbenchError
            When the stored dict lacks a required field (fit the estimator again).
        """
        try:
            return cls(
                model_name=d["model"],
                task=d["task"],
                classes=d.get("classes"),
                positive_label=d.get("positive_label"),
                threshold=d.get("threshold"),
                calibration=d.get("calibration", "none"),
                calibrators=list(d.get("calibrators") or []),
                reference=dict(d.get("reference") or {}),
                reference_rows=int(d.get("reference_rows", 0)),
                reliability=d.get("reliability"),
                source=d.get("source", "reference data"),
                training_reference=d.get("training_reference"),
                support=d.get("support_sample"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise WorkbenchError(
                f"the stored performance estimator is incomplete ({exc}); fit it again"
            ) from None

    @property
    def calibrated(self) -> bool:
        """True when it holds calibration maps (isotonic calibration was fitted)."""
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
                "fit it again on labelled reference data with this model"
            )

    def _repr_html_(self) -> str:
        body = _html.kv(
            {k: self.reference.get(k) for k in ("accuracy", "roc_auc", "rmse") if k in self.reference}
        )
        sub = f"{self.task}, {self.reference_rows:,} reference rows, calibration: {self.calibration}"
        return _html.card(f"Performance estimator for {self.model_name}", body, sub)


def fit_estimator(
    reference: pd.DataFrame, model: Any, *, calibration: str = "isotonic"
) -> PerformanceEstimator:
    """Fit the label-free estimator on labelled `reference` data scored by `model`.

    Stores the reference metrics (measured with the model on `reference`) and,
    for classifiers with ``calibration="isotonic"``, isotonic maps from the
    model's probabilities to observed rates (one per class, one-vs-rest; only
    the positive class for binary). ``calibration="none"`` keeps the model's
    own probabilities. It also records whether `reference` is the model's
    training data and keeps a bounded sample of its features, so that later
    batches can be checked against the reference's support
    (:mod:`workbench.monitoring._performance_support`).

    Examples
    --------
    >>> est = fit_estimator(reference, model)                    # doctest: +SKIP
    >>> assess_performance(today, model, reference_stats=est)    # doctest: +SKIP
    """
    from workbench.data._spec import target_values
    from workbench.metrics import classification_metrics, regression_metrics
    from workbench.monitoring._performance_support import support_sample, training_reference

    calibration = _calibration_name(calibration)
    spec = _spec_of(model)
    _frame(reference, "the reference data")
    spec.check_columns(reference, where="the reference data")
    if spec.target is None or spec.target not in reference.columns:
        raise DataError(
            f"the target column '{spec.target}' is missing from the reference data; "
            "calibrating the estimate needs labelled reference data"
        )
    # the table as given (before unlabelled rows are dropped): is it the training data, what does it cover
    origin = {"training_reference": training_reference(reference, model)}
    if spec.task != "regression":
        origin["support"] = support_sample(reference, model)
    y = target_values(reference, spec, where="the reference data")
    keep = y.notna().to_numpy()
    if not keep.any():
        raise DataError(f"every value of the target column '{spec.target}' is missing in the reference data")
    reference, y = reference.loc[keep], y[keep].to_numpy()
    name = getattr(model, "name", "model")
    if spec.task == "regression":
        metrics = regression_metrics(y.astype(float), np.asarray(model.predict(reference), dtype=float))
        return PerformanceEstimator(
            name,
            "regression",
            None,
            None,
            None,
            "none",
            reference=_pick(metrics, REGRESSION_METRICS),
            reference_rows=int(len(y)),
            **origin,
        )
    proba = model.predict_proba(reference)
    classes = list(model.classes_)
    if spec.task == "binary" and len(set(y.tolist())) < 2:
        raise DataError(
            f"the reference data has a single class in '{spec.target}'; "
            "calibration needs rows of both classes"
        )
    metrics, extra = classification_metrics(
        y, proba, classes, spec.task, spec.positive_label, model.threshold
    )
    calibrators = []
    if calibration == "isotonic":
        targets = [spec.positive_label] if spec.task == "binary" else classes
        for c in targets:
            k = classes.index(c)
            calibrators.append(_fit_isotonic(proba[:, k], np.asarray(y == c, dtype=float), c))
    keys = BINARY_METRICS if spec.task == "binary" else MULTICLASS_METRICS
    return PerformanceEstimator(
        name,
        spec.task,
        _natives(classes),
        _native(spec.positive_label),
        model.threshold if spec.task == "binary" else None,
        calibration,
        calibrators,
        reference=_pick(metrics, keys),
        reference_rows=int(len(y)),
        reliability=extra["curves"].get("calibration") if spec.task == "binary" else None,
        **origin,
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
        return {
            "metrics": metrics,
            "labels": [classes[1 - pos], classes[pos]],
            "confusion": [[tn, fp], [fn, tp]],
        }
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
        "precision_macro": float(prec.mean()),
        "recall_macro": float(rec.mean()),
        "f1_macro": float(f1.mean()),
    }
    return {
        "metrics": metrics,
        "labels": list(classes),
        "confusion": [[float(v) for v in r] for r in confusion],
    }


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
    return {
        "class": _native(cls),
        "x": [float(v) for v in iso.X_thresholds_],
        "y": [float(v) for v in iso.y_thresholds_],
    }


def _apply(calibrator: Mapping, score: np.ndarray) -> np.ndarray:
    # linear between breakpoints, flat beyond them: what IsotonicRegression(out_of_bounds="clip") predicts
    return np.interp(
        score, np.asarray(calibrator["x"], dtype=float), np.asarray(calibrator["y"], dtype=float)
    )


def _stored_estimator(model: Any) -> PerformanceEstimator:
    """No labelled reference: the model's validation metrics, uncalibrated probabilities."""
    spec = model.spec
    stored = dict((getattr(model, "meta", None) or {}).get("metrics") or {})
    keys = (
        REGRESSION_METRICS
        if spec.task == "regression"
        else (BINARY_METRICS if spec.task == "binary" else MULTICLASS_METRICS)
    )
    reference = _pick(stored, keys)
    classes = None if spec.task == "regression" else _natives(list(model.classes_))
    return PerformanceEstimator(
        getattr(model, "name", "model"),
        spec.task,
        classes,
        _native(spec.positive_label),
        model.threshold if spec.task == "binary" else None,
        "none",
        [],
        reference=reference,
        reference_rows=0,
        source="the model's validation metrics" if reference else "none",
    )


# -- helpers ------------------------------------------------------------------------
def _calibration_name(calibration: str | None) -> str:
    calibration = "none" if calibration is None else calibration
    check_choice(calibration, "calibration", CALIBRATIONS)
    return calibration


def _spec_of(model: Any):
    spec = getattr(model, "spec", None)
    if spec is None or spec.task is None:
        raise ParameterError("performance needs a workbench model with a spec and a task")
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


def _clean(d: Mapping | None) -> dict | None:
    return (
        None
        if d is None
        else {k: _num(v) if isinstance(v, int | float | np.generic) else v for k, v in d.items()}
    )


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
