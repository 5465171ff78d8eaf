"""Evaluation: metrics, curves, business cost, slices, latency — one result object."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench import _html
from workbench.data._spec import target_values
from workbench.data._values import reject_infinite
from workbench.errors import DataError, ParameterError, WorkbenchError
from workbench.metrics import MODEL_CLASSIFICATION_METRICS, classification_metrics, regression_metrics
from workbench.modeling._evaluate_files import evaluate_from_files  # noqa: F401  (re-exported: the CLI calls it from here)
from workbench.validation import check_number

#: The metrics an evaluation card shows, in this order (those the task has).
CARD_METRICS = (*MODEL_CLASSIFICATION_METRICS, "cost", "best_threshold_for_cost", "mae", "rmse", "r2")


@dataclass(frozen=True)
class CostMatrix:
    """Business cost of each outcome (binary): a missed positive costs `fn`, a false alarm `fp`."""

    fn: float = 1.0
    fp: float = 1.0
    tp: float = 0.0
    tn: float = 0.0

    @classmethod
    def coerce(cls, cost: CostMatrix | Mapping[str, float] | None) -> CostMatrix | None:
        """A cost matrix from a mapping such as ``{"fn": 10, "fp": 1}`` (None and CostMatrix pass through).

        Raises
        ------
        ParameterError
            For a key other than ``fn``, ``fp``, ``tp``, ``tn`` or an entry that is not a number.
        """
        if cost is None or isinstance(cost, CostMatrix):
            return cost
        unknown = set(cost) - {"fn", "fp", "tp", "tn"}
        if unknown:
            raise ParameterError(f"unknown cost matrix entries {sorted(unknown)}; use fn, fp, tp, tn")
        return cls(**{k: check_number(v, f"the cost matrix entry '{k}'") for k, v in cost.items()})

    def total(self, tp: Any, fp: Any, fn: Any, tn: Any) -> Any:
        """The total cost of these outcome counts (numbers or arrays of them)."""
        return self.tp * tp + self.fp * fp + self.fn * fn + self.tn * tn

    def to_dict(self) -> dict:
        """The four costs as a JSON-safe dict."""
        return {"fn": self.fn, "fp": self.fp, "tp": self.tp, "tn": self.tn}


@dataclass(frozen=True)
class EvaluationResult:
    """A model's evaluation on one table.

    Ask it things: ``result.metrics["roc_auc"]``, ``result.at_threshold(0.3)``
    (confusion counts and cost, instantly), ``result.slices`` (worst first),
    ``result.figures()``.
    """

    model_name: str
    task: str
    n_rows: int
    metrics: dict
    threshold: float | None = None
    labels: list | None = None
    confusion: list | None = None
    curves: dict = field(default_factory=dict)
    slices: list = field(default_factory=list)
    slice_metric: str | None = None
    latency: dict | None = None
    size_bytes: int | None = None
    cost: dict | None = None
    _pos_scores: np.ndarray | None = field(default=None, repr=False, compare=False)
    _neg_scores: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        """JSON-safe: metrics, curves, slices, latency (not the sorted scores behind :meth:`at_threshold`)."""
        return {
            "kind": "evaluation",
            "model": self.model_name,
            "task": self.task,
            "rows": self.n_rows,
            "metrics": self.metrics,
            "threshold": self.threshold,
            "labels": self.labels,
            "confusion_matrix": self.confusion,
            "curves": self.curves,
            "slices": self.slices,
            "slice_metric": self.slice_metric,
            "latency": self.latency,
            "size_bytes": self.size_bytes,
            "cost": self.cost,
        }

    def at_threshold(self, threshold: float) -> dict:
        """Confusion counts, rates and cost at another threshold (binary), in O(log n).

        Scores are kept sorted per class, so moving a threshold slider is two
        binary searches rather than a pass over every row.
        """
        if self.task != "binary" or self._pos_scores is None:
            raise WorkbenchError("moving the threshold only applies to binary classifiers")
        pos_sorted, neg_sorted = self._pos_scores, self._neg_scores
        n_pos, n_neg = len(pos_sorted), len(neg_sorted)
        tp = n_pos - int(np.searchsorted(pos_sorted, threshold, side="left"))
        fp = n_neg - int(np.searchsorted(neg_sorted, threshold, side="left"))
        fn, tn = n_pos - tp, n_neg - fp
        out = {
            "threshold": float(threshold),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / n_pos if n_pos else 0.0,
            "accuracy": (tp + tn) / (n_pos + n_neg),
            "selection_rate": (tp + fp) / (n_pos + n_neg),
        }
        if self.cost:
            out["cost"] = CostMatrix(**self.cost).total(tp, fp, fn, tn)
        return out

    def figures(self) -> dict:
        """The figures the task has, as ``{name: plotly Figure}``.

        ROC, PR and calibration curves (and the cost curve, with a cost matrix) for binary; the
        confusion matrix for classifiers; predicted vs actual for regression; the slices, if any.
        """
        from workbench import viz

        figs = {}
        if self.task == "binary":
            figs["roc"] = viz.roc_figure(self.curves["roc"], self.metrics.get("roc_auc"))
            figs["pr"] = viz.pr_figure(
                self.curves["pr"], self.metrics.get("pr_auc"), self.metrics.get("base_rate")
            )
            figs["calibration"] = viz.calibration_figure(self.curves["calibration"])
            if self.cost:
                figs["cost"] = viz.cost_curve_figure(self.curves["cost"], self.threshold)
        if self.confusion is not None:
            figs["confusion"] = viz.confusion_figure(self.confusion, self.labels)
        if self.task == "regression":
            figs["predicted_vs_actual"] = viz.regression_figure(self.curves["binned"])
        if self.slices:
            figs["slices"] = viz.slices_figure(
                self.slices, self.slice_metric, self.metrics.get(self.slice_metric)
            )
        return figs

    def figure(self):
        """The headline figure: ROC curve, else confusion matrix, else predicted vs actual."""
        figs = self.figures()
        return figs.get("roc") or figs.get("confusion") or figs.get("predicted_vs_actual")

    def _repr_html_(self) -> str:
        """The metrics card, then the weakest slices: what a notebook and the Evaluate panel show."""
        return self.metrics_html() + self.slices_html()

    def metrics_html(self) -> str:
        """The metrics (and latency and size, when measured) as a card."""
        keys = [k for k in CARD_METRICS if self.metrics.get(k) is not None]
        body = _html.kv({k: self.metrics[k] for k in keys})
        if self.latency:
            body += _html.kv(
                {
                    "latency p50 (µs)": self.latency["p50_us"],
                    "p95 (µs)": self.latency["p95_us"],
                    "rows/s": self.latency["throughput_rows_s"],
                    "size (bytes)": self.size_bytes,
                }
            )
        sub = f"{self.task}, {self.n_rows:,} rows" + (
            f", threshold {self.threshold:.3g}" if self.threshold is not None else ""
        )
        return _html.card(f"Evaluation of {self.model_name}", body, sub)

    def slices_html(self, limit: int = 12) -> str:
        """The weakest `limit` slices (worst first) as a card; the slices too small to rank are counted."""
        if not self.slices:
            return ""
        metric = self.slice_metric
        judged = [s for s in self.slices if not s.get("too_small")][:limit]
        cols = (
            [
                "column",
                "value",
                "count",
                metric,
                *[c for c in ("recall", "positive_rate", "predicted_positive_rate") if c in judged[0]],
            ]
            if judged
            else ["column", "value", "count"]
        )
        small = sum(1 for s in self.slices if s.get("too_small"))
        note = f"; {small} slices too small to rank are left out" if small else ""
        return _html.card(
            f"Weakest slices by {metric}",
            _html.table(judged, cols),
            f"worst first; overall {metric}: {_html.fmt(self.metrics.get(metric))}{note}",
        )


def evaluate(
    model: Any,
    data: pd.DataFrame,
    *,
    threshold: float | None = None,
    cost: CostMatrix | Mapping[str, float] | None = None,
    slices: Sequence[str] | None = None,
    min_slice_size: int | None = None,
    latency: bool = True,
    where: str = "the evaluation data",
) -> EvaluationResult:
    """Evaluate `model` on `data` (which must hold the target column).

    Binary and multiclass get accuracy, precision, recall, F1, ROC AUC, PR AUC,
    log loss, Brier, the calibration curve and the confusion matrix at the
    model's threshold (or `threshold`), plus the business cost when `cost` is
    given. Regression gets MAE, RMSE and R². Slices are per value of each
    column in `slices` (default: the sensitive columns and every feature;
    numeric columns are cut into quintiles), worst first; slices under
    `min_slice_size` rows (default: 5% of the rows, between 20 and 100) are
    listed but not ranked. `latency` times
    single-row `predict_proba` as users call it, and batch throughput.

    Parameters
    ----------
    model : Model
        A trained or loaded model (its spec says the target and the task).
    data : DataFrame
        Labelled rows; rows without a target value are left out.
    threshold : float, optional
        The decision threshold in [0, 1] (binary; default: the model's own).
    cost : CostMatrix or mapping, optional
        Business cost of each outcome, e.g. ``{"fn": 5, "fp": 1}`` (binary only).
    slices : list of str, optional
        Columns to slice by.
    min_slice_size : int, optional
        Slices with fewer rows are listed but not ranked.
    latency : bool
        Time the model (off: ``result.latency`` is None).
    where : str
        What `data` is called in error messages.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    DataError
        When the target column is missing or empty, or a numeric feature holds an infinity.
    ParameterError
        For a threshold outside [0, 1] or a cost matrix on a task that is not binary.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> result = evaluate(model, demo.test.sample(1000, random_state=0),
    ...                   cost={"fn": 5, "fp": 1}, latency=False)
    >>> result.task, result.n_rows, round(result.metrics["roc_auc"], 1)
    ('binary', 1000, 0.9)
    >>> sorted(result.at_threshold(0.3))
    ['accuracy', 'cost', 'fn', 'fp', 'precision', 'recall', 'selection_rate', 'threshold', 'tn', 'tp']
    """
    spec = model.spec
    if threshold is not None:
        threshold = check_number(threshold, "the threshold", low=0, high=1)
    if spec.target is None:
        raise DataError("the model has no target column, so it cannot be evaluated")
    y = target_values(data, spec, where=where)
    keep = y.notna().to_numpy()
    if not keep.any():
        raise DataError(f"every value of the target column '{spec.target}' is missing in {where}")
    data, y = data.loc[keep], y[keep]
    reject_infinite(data, spec.numeric, where)  # sklearn would fail deep inside predict_proba
    cost_m = CostMatrix.coerce(cost)
    if cost_m is not None and spec.task != "binary":
        raise ParameterError("a cost matrix only applies to binary classification")
    name = getattr(model, "name", "model")
    if min_slice_size is None:
        min_slice_size = int(min(100, max(20, len(y) // 20)))
    lat = measure_latency(model, data) if latency else None
    size = _size_of(model)
    if spec.task == "regression":
        pred = model.predict(data)
        metrics = regression_metrics(y.to_numpy(), pred)
        sl = slice_table(data, spec, y.to_numpy(), pred, None, slices, min_slice_size)
        return EvaluationResult(
            name,
            "regression",
            len(y),
            metrics,
            curves={"binned": _binned(pred, y.to_numpy())},
            slices=sl,
            slice_metric="rmse",
            latency=lat,
            size_bytes=size,
        )
    proba = model.predict_proba(data)
    classes = list(model.classes_)
    thr = model.threshold if threshold is None else threshold
    y_arr = y.to_numpy()
    metrics, extra = classification_metrics(
        y_arr, proba, classes, spec.task, spec.positive_label, thr, cost_m
    )
    labels_pred = (
        model.labels_from_proba(proba, thr) if spec.task == "binary" else model.labels_from_proba(proba)
    )
    metric = "roc_auc" if spec.task == "binary" else "accuracy"
    score = proba[:, classes.index(spec.positive_label)] if spec.task == "binary" else None
    sl = slice_table(data, spec, y_arr, labels_pred, score, slices, min_slice_size)
    return EvaluationResult(
        name,
        spec.task,
        len(y),
        metrics,
        threshold=thr if spec.task == "binary" else None,
        labels=[_native(c) for c in extra["labels"]],
        confusion=extra["confusion"],
        curves=extra["curves"],
        slices=sl,
        slice_metric=metric,
        latency=lat,
        size_bytes=size,
        cost=cost_m.to_dict() if cost_m else None,
        _pos_scores=extra.get("pos_sorted"),
        _neg_scores=extra.get("neg_sorted"),
    )


def slice_table(data, spec, y, y_pred, score, columns, min_size) -> list[dict]:
    """Per-value metrics for each slice column, the weakest judged slices first."""
    from sklearn.metrics import roc_auc_score

    chosen = columns is not None
    if columns is None:
        columns = list(dict.fromkeys([*spec.sensitive, *spec.features]))
    rows = []
    for col in columns:
        if col not in data.columns:
            raise DataError(f"the slice column '{col}' is not in the evaluation data")
        numeric = col in spec.numeric or pd.api.types.is_numeric_dtype(data[col])
        values = _slice_values(data[col], numeric)
        codes, uniques = pd.factorize(values, sort=True)
        n_known = int((codes >= 0).sum())
        if not numeric and n_known >= 20 and len(uniques) >= 0.9 * n_known:  # an identifier (SSN-like)
            if chosen:
                raise DataError(
                    f"the slice column '{col}' has a different value in nearly every row (an "
                    "identifier?): slicing by it would list every value, one row each"
                )
            continue  # its values are never listed
        for k, value in enumerate(uniques):
            mask = codes == k
            n = int(mask.sum())
            row = {"column": col, "value": str(value), "count": n, "too_small": n < min_size}
            if spec.task == "regression":
                err = y_pred[mask] - y[mask]
                row.update(mae=float(np.mean(np.abs(err))), rmse=float(np.sqrt(np.mean(err**2))))
            else:
                row["accuracy"] = float(np.mean(y_pred[mask] == y[mask]))
                if spec.task == "binary":
                    yp = y[mask] == spec.positive_label
                    row["positive_rate"] = float(yp.mean())
                    row["predicted_positive_rate"] = float(np.mean(y_pred[mask] == spec.positive_label))
                    row["recall"] = (
                        float(np.mean(y_pred[mask][yp] == spec.positive_label)) if yp.any() else None
                    )
                    both = 0 < yp.sum() < n
                    row["roc_auc"] = float(roc_auc_score(yp, score[mask])) if both and n >= min_size else None
            rows.append(row)
    metric = "rmse" if spec.task == "regression" else ("roc_auc" if spec.task == "binary" else "accuracy")
    worst_high = spec.task == "regression"

    def key(r):
        v = r.get(metric)
        judged = not r["too_small"] and v is not None
        return (not judged, -(v or 0) if worst_high else (v if v is not None else 0))

    return sorted(rows, key=key)


def measure_latency(model: Any, data: pd.DataFrame, *, n_single: int = 200, batch_rows: int = 10_000) -> dict:
    """Single-row p50/p95 latency (µs) and batch throughput, timed as users call the model.

    The single row is a one-row DataFrame through `predict_proba` (or
    `predict` for regression), so input conversion is part of the figure.
    """
    call = model.predict if model.spec.task == "regression" else model.predict_proba
    row = data.iloc[:1]
    for _ in range(5):
        call(row)
    times = np.empty(n_single)
    for i in range(n_single):
        t0 = time.perf_counter_ns()
        call(row)
        times[i] = time.perf_counter_ns() - t0
    batch = data.iloc[:batch_rows]
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        call(batch)
        runs.append(time.perf_counter() - t0)
    return {
        "p50_us": float(np.percentile(times, 50) / 1e3),
        "p95_us": float(np.percentile(times, 95) / 1e3),
        "throughput_rows_s": float(len(batch) / max(np.median(runs), 1e-9)),
        "batch_rows": int(len(batch)),
    }


# -- helpers ----------------------------------------------------------------------
def _slice_values(s: pd.Series, numeric: bool) -> pd.Series:
    if numeric and s.nunique(dropna=True) > 10:
        binned = pd.qcut(s, q=5, duplicates="drop")
        return binned.map(
            lambda iv: f"[{iv.left:.4g}, {iv.right:.4g}]" if pd.notna(iv) else "missing"
        ).astype(str)
    return s.astype(object).where(s.notna(), "missing").astype(str)


def _binned(pred: np.ndarray, y: np.ndarray, n_bins: int = 10) -> dict:
    order = np.argsort(pred, kind="stable")
    parts = np.array_split(order, min(n_bins, len(order)))
    return {
        "mean_predicted": [float(pred[p].mean()) for p in parts if len(p)],
        "mean_actual": [float(y[p].mean()) for p in parts if len(p)],
        "count": [int(len(p)) for p in parts if len(p)],
    }


def _size_of(model: Any) -> int | None:
    path = (getattr(model, "meta", None) or {}).get("path")
    if path:
        try:
            from workbench.modeling.artifact import artifact_size

            return artifact_size(path)
        except OSError:
            pass
    try:
        from workbench.modeling.artifact import serialized_size

        return serialized_size(model)
    except Exception:
        return None


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
