"""How a compression study measures variants: metric, parity, latency, size, frontier, choice."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.metrics import COMPRESSION_METRICS
from workbench.validation import check_choice

#: Metrics a budget can be set on: name -> (tasks, higher is better).
METRICS = COMPRESSION_METRICS
#: Largest |Δ| between an exact conversion's predictions and its parent's (probabilities).
PARITY_TOLERANCE = 1e-5


def resolve_metric(task: str, metric: str | None) -> tuple[str, bool]:
    if metric is None:
        metric = "r2" if task == "regression" else "roc_auc"
    check_choice(metric, "budget metric", METRICS)
    tasks, higher = METRICS[metric]
    if task not in tasks:
        raise ParameterError(
            f"the metric '{metric}' does not apply to a {task} model; "
            f"use one of {', '.join(m for m, (t, _) in METRICS.items() if task in t)}"
        )
    return metric, higher


def predictions(model: Any, rows: pd.DataFrame) -> np.ndarray:
    """Probabilities (classifiers) or predictions as a column (regression), as float64."""
    if model.spec.task == "regression":
        return np.asarray(model.predict(rows), dtype=np.float64).reshape(-1, 1)
    return np.asarray(model.predict_proba(rows), dtype=np.float64)


def score(pred: np.ndarray, y: np.ndarray, metric: str, model: Any) -> float | None:
    """The metric from predictions (see :func:`predictions`) and true values."""
    from sklearn import metrics as skm

    spec = model.spec
    if spec.task == "regression":
        p = pred[:, 0]
        if metric == "r2":
            return float(skm.r2_score(y, p)) if len(y) > 1 else None
        if metric == "rmse":
            return float(np.sqrt(np.mean((p - y) ** 2)))
        return float(np.mean(np.abs(p - y)))
    classes = list(model.classes_)
    if metric == "accuracy":
        return float(np.mean(model.labels_from_proba(pred) == y))
    onehot = (np.asarray(y, dtype=object)[:, None] == np.asarray(classes, dtype=object)[None, :]).astype(
        float
    )
    if metric == "log_loss":
        return float(skm.log_loss(onehot, np.clip(pred, 1e-15, 1)))
    if spec.task == "binary":
        pos = classes.index(spec.positive_label)
        y_pos = onehot[:, pos]
        return float(skm.roc_auc_score(y_pos, pred[:, pos])) if 0 < y_pos.sum() < len(y_pos) else None
    present = onehot.sum(axis=0) > 0
    if present.sum() < 2:
        return None
    return float(skm.roc_auc_score(onehot[:, present], pred[:, present], average="macro"))


def parity(parent: np.ndarray, child: np.ndarray, task: str) -> tuple[float, float]:
    """(max |Δ|, tolerance) between two prediction arrays.

    Probabilities are compared in absolute terms (1e-5). Regression outputs
    come out of ONNX in float32, so their tolerance scales with the size of
    the predictions: 1e-5 relative to the largest one (at least 1e-5).
    """
    diff = float(np.max(np.abs(parent - child))) if parent.size else 0.0
    if not np.isfinite(diff):
        diff = float("inf")
    tol = PARITY_TOLERANCE
    if task == "regression" and parent.size:
        tol = PARITY_TOLERANCE * max(1.0, float(np.max(np.abs(parent))))
    return diff, tol


def time_variants(
    models: Mapping[str, Any],
    rows: pd.DataFrame,
    *,
    seconds: float = 1.5,
    rounds: int = 3,
    batch_rows: int = 10_000,
) -> dict[str, dict]:
    """Single-row p50/p95 (µs) and batch throughput (rows/s) of every model, timed the way users call them.

    The method of :func:`~workbench.modeling.evaluate.measure_latency`, for
    the original and every variant alike: ``predict_proba`` (``predict`` for
    regression) on a one-row DataFrame, ``perf_counter_ns`` around each call,
    percentiles over the calls; throughput is rows over the median time of a
    batch call. Two changes make a comparison on a busy machine fair: the
    models are timed in interleaved rounds (a burst of load elsewhere hits
    them all, not one), and the number of calls adapts to each model's speed
    (about `seconds` per model: 10 to 100 calls per round, at least 3 when a
    call takes longer than the round's share). Every model is
    warmed first, its batch path included (an ONNX model opens its
    multi-threaded session on the first large batch).
    """
    row, batch = rows.iloc[:1], rows.iloc[:batch_rows]
    calls, per_round = {}, {}
    for name, model in models.items():
        call = model.predict if model.spec.task == "regression" else model.predict_proba
        calls[name] = call
        call(batch)
        call(row)
        t0 = time.perf_counter()
        call(row)
        each = time.perf_counter() - t0
        per_round[name] = int(min(100, max(10, seconds / rounds / max(each, 1e-7))))
    singles: dict[str, list] = {name: [] for name in models}
    batches: dict[str, list] = {name: [] for name in models}
    for _ in range(rounds):
        for name, call in calls.items():
            times = singles[name]
            deadline = time.perf_counter() + seconds / rounds
            for i in range(per_round[name]):
                t0 = time.perf_counter_ns()
                call(row)
                times.append(time.perf_counter_ns() - t0)
                if i >= 2 and time.perf_counter() > deadline:  # a model slower than its warm-up promised
                    break
            t0 = time.perf_counter()
            call(batch)
            batches[name].append(time.perf_counter() - t0)
    out = {}
    for name in models:
        t = np.asarray(singles[name], dtype=float)
        out[name] = {
            "p50_us": float(np.percentile(t, 50) / 1e3),
            "p95_us": float(np.percentile(t, 95) / 1e3),
            "throughput_rows_s": float(len(batch) / max(float(np.median(batches[name])), 1e-9)),
            "single_calls": int(len(t)),
            "batch_rows": int(len(batch)),
        }
    return out


def pareto(points: Sequence[tuple[float, float]], higher_is_better: bool) -> list[bool]:
    """For (latency, score) points: True where no other point dominates.

    A point dominates when it is at least as good on both and better on one.
    """
    out = []
    for i, (lat_i, s_i) in enumerate(points):
        dominated = False
        for j, (lat_j, s_j) in enumerate(points):
            if i == j:
                continue
            better_s = s_j > s_i if higher_is_better else s_j < s_i
            same_s = s_j == s_i
            if lat_j <= lat_i and (better_s or same_s) and (lat_j < lat_i or better_s):
                dominated = True
                break
        out.append(not dominated)
    return out


def choose(
    candidates: Sequence[dict],
    *,
    higher_is_better: bool,
    latency_tolerance: float,
    size_tolerance: float = 0.1,
) -> dict:
    """The fastest single-row variant; timer noise and near-equal sizes are not differences.

    Variants within `latency_tolerance` (relative) of the fastest p50 count
    as equally fast; among those, the ones within `size_tolerance` of the
    smallest count as equally small; among those the best metric wins (then
    the lowest p50).
    """
    best = min(v["latency_p50_us"] for v in candidates)
    fast = [v for v in candidates if v["latency_p50_us"] <= best * (1 + latency_tolerance)]
    smallest = min(v["size_bytes"] for v in fast)
    small = [v for v in fast if v["size_bytes"] <= smallest * (1 + size_tolerance)]
    sign = -1 if higher_is_better else 1
    return min(small, key=lambda v: (sign * v["score"], v["latency_p50_us"]))
