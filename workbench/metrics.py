"""Model metrics, computed one way for every stage.

The stages: evaluation, training's validation, compression, monitoring.
:func:`classification_metrics` and :func:`regression_metrics` turn labels and
predictions into the metric dicts every result stores. Light at import time
(the CLI builds its choices from here): numpy is imported on first use,
scikit-learn when a classifier's metrics are computed.
"""

from __future__ import annotations

from workbench._lazy import lazy

np = lazy("numpy")

__all__ = [
    "BINARY_METRICS",
    "BINARY_SHOWN",
    "CLASSIFICATION_TRACKED",
    "COMPRESSION_METRICS",
    "METRIC_LABELS",
    "MODEL_CLASSIFICATION_METRICS",
    "MODEL_REGRESSION_METRICS",
    "MULTICLASS_METRICS",
    "REGRESSION_METRICS",
    "REGRESSION_SHOWN",
    "REGRESSION_TRACKED",
    "classification_metrics",
    "regression_metrics",
]

# The order metrics are listed in, defined once: tables, charts, cards and stored subsets follow it.
#: What performance monitoring follows over time (trend rows, drop checks, the first findings).
CLASSIFICATION_TRACKED = ("accuracy", "roc_auc")
REGRESSION_TRACKED = ("rmse", "mae")
#: The metrics a performance card or chart of a binary classifier shows.
BINARY_SHOWN = (*CLASSIFICATION_TRACKED, "precision", "recall", "f1")
REGRESSION_SHOWN = (*REGRESSION_TRACKED, "r2")
#: The metrics monitoring keeps per task (measured, estimated, and for the reference period).
BINARY_METRICS = (*BINARY_SHOWN, "pr_auc", "brier", "base_rate", "selection_rate")
MULTICLASS_METRICS = (*CLASSIFICATION_TRACKED, "precision_macro", "recall_macro", "f1_macro")
REGRESSION_METRICS = (*REGRESSION_SHOWN, "median_abs_error")
#: The metrics a model's meta.json keeps (training's validation rows, a compressed variant's held-out rows).
MODEL_CLASSIFICATION_METRICS = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "precision",
    "recall",
    "f1",
    "f1_macro",
    "log_loss",
    "brier",
)
MODEL_REGRESSION_METRICS = ("mae", "rmse", "r2", "median_abs_error")
#: Metrics a compression budget can be set on, in the order the CLI offers them:
#: name -> (tasks, higher is better).
COMPRESSION_METRICS: dict[str, tuple[tuple[str, ...], bool]] = {
    "roc_auc": (("binary", "multiclass"), True),
    "accuracy": (("binary", "multiclass"), True),
    "log_loss": (("binary", "multiclass"), False),
    "r2": (("regression",), True),
    "rmse": (("regression",), False),
    "mae": (("regression",), False),
}
#: The metrics a release comparison differences row by row (paired), in the order shown.
PAIRED_METRICS = ("roc_auc", "accuracy", "cost", "brier")
#: How a metric is named for a reader (names not listed are shown as they are).
METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "accuracy": "accuracy",
    "log_loss": "log loss",
    "r2": "R²",
    "rmse": "RMSE",
    "mae": "MAE",
    "brier": "Brier score",
    "cost": "cost per row",
}

_CURVE_POINTS = 200


def classification_metrics(y, proba, classes, task, positive, threshold, cost=None) -> tuple[dict, dict]:
    """Metrics (dict of floats) and extras (confusion, curves) for a classifier."""
    from sklearn import metrics as skm

    classes = list(classes)
    if task == "binary":
        pos = classes.index(positive)
        score = proba[:, pos]
        y_pos = np.asarray(y == positive)
        y_hat = score >= threshold
        tp = int(np.sum(y_hat & y_pos))
        fp = int(np.sum(y_hat & ~y_pos))
        fn = int(np.sum(~y_hat & y_pos))
        tn = int(np.sum(~y_hat & ~y_pos))
        both = 0 < y_pos.sum() < len(y_pos)
        m = {
            "accuracy": (tp + tn) / len(y_pos),
            "precision": tp / (tp + fp) if tp + fp else 0.0,
            "recall": tp / (tp + fn) if tp + fn else 0.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
            "roc_auc": float(skm.roc_auc_score(y_pos, score)) if both else None,
            "pr_auc": float(skm.average_precision_score(y_pos, score)) if both else None,
            "log_loss": float(skm.log_loss(y_pos, np.clip(score, 1e-15, 1 - 1e-15), labels=[False, True])),
            "brier": float(np.mean((score - y_pos) ** 2)),
            "base_rate": float(y_pos.mean()),
            "selection_rate": float(y_hat.mean()),
        }
        neg = 1 - pos
        labels = [classes[neg], classes[pos]]
        confusion = [[tn, fp], [fn, tp]]
        curves = {"calibration": _calibration(score, y_pos)}
        if both:
            fpr, tpr, _ = skm.roc_curve(y_pos, score)
            prec, rec, _ = skm.precision_recall_curve(y_pos, score)
            curves["roc"] = _thin({"fpr": fpr, "tpr": tpr})
            curves["pr"] = _thin({"recall": rec[::-1], "precision": prec[::-1]})
        else:
            curves["roc"] = {"fpr": [], "tpr": []}
            curves["pr"] = {"recall": [], "precision": []}
        pos_sorted, neg_sorted = np.sort(score[y_pos]), np.sort(score[~y_pos])
        if cost is not None:
            m["cost"] = float(cost.total(tp, fp, fn, tn))
            m["cost_per_row"] = m["cost"] / len(y_pos)
            grid = np.linspace(0, 1, 101)
            tps = len(pos_sorted) - np.searchsorted(pos_sorted, grid, side="left")
            fps = len(neg_sorted) - np.searchsorted(neg_sorted, grid, side="left")
            costs = cost.total(tps, fps, len(pos_sorted) - tps, len(neg_sorted) - fps)
            curves["cost"] = {"threshold": grid.tolist(), "cost": [float(c) for c in costs]}
            m["best_threshold_for_cost"] = float(grid[int(np.argmin(costs))])
        return m, {
            "labels": labels,
            "confusion": confusion,
            "curves": curves,
            "pos_sorted": pos_sorted,
            "neg_sorted": neg_sorted,
        }
    # multiclass
    idx = np.argmax(proba, axis=1)
    y_hat = np.asarray(classes, dtype=object)[idx]
    y_obj = np.asarray(y, dtype=object)
    onehot = (y_obj[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(float)
    present = onehot.sum(axis=0) > 0
    m = {
        "accuracy": float(np.mean(y_hat == y_obj)),
        "precision_macro": float(
            skm.precision_score(y_obj, y_hat, labels=classes, average="macro", zero_division=0)
        ),
        "recall_macro": float(
            skm.recall_score(y_obj, y_hat, labels=classes, average="macro", zero_division=0)
        ),
        "f1_macro": float(skm.f1_score(y_obj, y_hat, labels=classes, average="macro", zero_division=0)),
        "log_loss": float(skm.log_loss(onehot, np.clip(proba, 1e-15, 1))),
        "brier": float(np.mean(np.sum((proba - onehot) ** 2, axis=1))),
        "roc_auc": float(skm.roc_auc_score(onehot[:, present], proba[:, present], average="macro"))
        if present.sum() >= 2
        else None,
    }
    confusion = skm.confusion_matrix(y_obj, y_hat, labels=classes).tolist()
    return m, {"labels": classes, "confusion": confusion, "curves": {}}


def regression_metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    """Regression metrics of predictions `pred` against actual values `y`.

    MAE, RMSE, R² (None when `y` is constant), median absolute error and the
    means of the actual and predicted values, as floats.
    """
    err = pred - y
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "mae": float(np.mean(np.abs(err))),
        "rmse": float(np.sqrt(np.mean(err**2))),
        "r2": 1.0 - float(np.sum(err**2)) / ss_tot if ss_tot > 0 else None,
        "median_abs_error": float(np.median(np.abs(err))),
        "mean_actual": float(y.mean()),
        "mean_predicted": float(pred.mean()),
    }


def _calibration(score: np.ndarray, y_pos: np.ndarray, n_bins: int = 10) -> dict:
    bins = np.clip((score * n_bins).astype(int), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    s_sum = np.bincount(bins, weights=score, minlength=n_bins)
    y_sum = np.bincount(bins, weights=y_pos.astype(float), minlength=n_bins)
    nz = count > 0
    return {
        "mean_predicted": (s_sum[nz] / count[nz]).tolist(),
        "fraction_positive": (y_sum[nz] / count[nz]).tolist(),
        "count": count[nz].astype(int).tolist(),
    }


def _thin(curve: dict) -> dict:
    """At most ~200 points per curve: enough to draw, small to store."""
    n = len(next(iter(curve.values())))
    idx = np.unique(np.linspace(0, n - 1, min(n, _CURVE_POINTS)).astype(int)) if n else np.array([], int)
    return {k: [float(v) for v in np.asarray(arr)[idx]] for k, arr in curve.items()}
