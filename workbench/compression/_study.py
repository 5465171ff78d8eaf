"""Compression study: smaller, faster variants of a model within an accuracy budget.

:func:`compress` tries every technique that applies (ONNX export of the whole
pipeline, int8 weights, dropping trees, capacity pruning, feature pruning,
distillation; pruned and distilled models are then exported to ONNX too),
measures each variant the same way as the original (metric on held-out rows,
size of the saved artifact, single-row latency through ``predict_proba`` on a
one-row DataFrame, batch throughput) and picks the fastest one within the
budget. Exact conversions must also match their parent's predictions
(max |Δprobability| <= 1e-5) or they are rejected with the reason.

This module imports only numpy/pandas at load time; scikit-learn, skl2onnx
and onnxruntime are imported when a study runs, plotly when a figure is drawn.

The study's records are in ``_variants``, its result in ``_study_result``,
where it writes in ``_output``; the study itself runs in ``_runner``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.compression._measure import METRICS
from workbench.compression._output import _publish, _with_path, check_study_destination, slug
from workbench.compression._study_result import CompressionResult
from workbench.compression._techniques import TECHNIQUES
from workbench.compression._variants import TechniqueOutcome, Variant
from workbench.errors import ParameterError, SpecError
from workbench.metrics import METRIC_LABELS
from workbench.validation import check_number

__all__ = [
    "CompressionResult",
    "TechniqueOutcome",
    "Variant",
    "TECHNIQUES",
    "METRICS",
    "check_study_destination",
    "compress",
    "compress_from_files",
    "slug",
]


def compress(
    model: Any,
    data: pd.DataFrame,
    *,
    max_loss: float = 0.005,
    metric: str | None = None,
    validation: pd.DataFrame | None = None,
    holdout_size: float = 0.3,
    techniques: Sequence[str] | None = None,
    out: str | Path | None = None,
    batch_threads: int = 0,
    latency_tolerance: float = 0.1,
    random_state: int = 0,
    quick: bool = False,
    progress: bool = True,
) -> CompressionResult:
    """Try every compression technique that applies to `model`; keep the fastest variant within budget.

    Parameters
    ----------
    model : a workbench model (``train(...).champion`` or ``load_model(path)``).
    data : labelled rows (original column names, with the target). Retrained
        variants learn from it; `holdout_size` of it (stratified) is held out
        to judge every variant, unless `validation` is given.
    max_loss : the accuracy budget: how much `metric` may drop below the
        original's (default 0.005 of ROC AUC; for regression, of R²).
    metric : ``roc_auc`` (default for classifiers; macro one-vs-rest for
        multiclass), ``accuracy``, ``log_loss``, ``r2`` (default for
        regression), ``rmse`` or ``mae``; for the last three lower is better
        and the loss is the rise.
    validation : held-out labelled rows to judge the variants on (then all of
        `data` is used for retraining).
    techniques : a subset of :data:`TECHNIQUES` (default: all).
    out : a folder to write ``variants/<name>.wbm`` (every variant),
        ``model.wbm`` (the chosen one; the original when nothing meets the
        budget) and ``compression.json``. Without it, variants are measured in
        a temporary folder and the chosen model stays in memory
        (``result.chosen_model``).
    batch_threads : onnxruntime threads for batch predictions of ONNX variants
        (0: one per core). Single rows always run on one thread.
    latency_tolerance : variants within this fraction of the fastest p50 count
        as equally fast (timer noise); among those the smaller, then the more
        accurate one is chosen.
    quick : shorter timing and smaller samples for importance and students
        (tests, previews); the figures are noisier.

    Returns
    -------
    CompressionResult
        Every variant's figures and verdict, and the chosen one.

    Raises
    ------
    ParameterError
        Not a workbench model, a bad option, or no technique given.
    SpecError
        The model's spec has no target, so its accuracy cannot be measured.
    DataError
        Too few labelled rows, or a table that does not fit the model.
    WorkbenchError
        `out` is not a folder the study may write to (see
        :func:`check_study_destination`); checked before any work.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> result = compress(model, demo.test.sample(2000, random_state=0),
    ...                   techniques=["onnx"], quick=True, progress=False)
    >>> [v.name for v in result.variants], result.chosen in ("original", "onnx")
    (['original', 'onnx'], True)
    """
    from workbench.compression._runner import Study, resolve_techniques, split_rows
    from workbench.modeling.artifact import Model

    t0 = time.perf_counter()
    if not isinstance(model, Model):
        raise ParameterError("compress needs a workbench model (from train() or load_model())")
    spec = model.spec
    if spec.target is None or spec.task is None:
        raise SpecError("the model's spec has no target, so its accuracy cannot be measured")
    what = metric or METRIC_LABELS["r2" if spec.task == "regression" else "roc_auc"]
    max_loss = check_number(max_loss, f"the budget (the largest allowed loss of {what})", low=0)
    latency_tolerance = check_number(latency_tolerance, "the latency tolerance", low=0)
    batch_threads = check_number(batch_threads, "batch_threads", low=0, integer=True, hint="0: one per core")
    random_state = check_number(random_state, "random_state", low=0, high=2**32 - 1, integer=True)
    out_dir = check_study_destination(out) if out is not None else None  # before any work
    wanted = resolve_techniques(techniques)
    rows = split_rows(model, data, validation, holdout_size, random_state)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".compress-", dir=out_dir))
    try:
        study = Study(
            model,
            rows,
            metric=metric,
            max_loss=float(max_loss),
            work=work,
            batch_threads=batch_threads,
            random_state=random_state,
            progress=progress,
            quick=quick,
        )
        study.run(wanted)
        result_kw = study.decide(latency_tolerance)
        chosen_path = None
        if out_dir is not None:
            chosen_path = _publish(work, out_dir, study, result_kw["chosen"])
        result = CompressionResult(
            model_name=model.name,
            task=spec.task,
            metric=study.metric,
            higher_is_better=study.higher,
            max_loss=float(max_loss),
            original_score=study.original_score,
            variants=[_with_path(v, out_dir) for v in result_kw["variants"]],
            techniques=study.outcomes,
            chosen=result_kw["chosen"],
            chosen_path=chosen_path,
            reason=result_kw["reason"],
            holdout=rows.info,
            latency_tolerance=latency_tolerance,
            elapsed_s=round(time.perf_counter() - t0, 1),
            _models=study.models,
        )
        if out_dir is not None:
            import json

            (out_dir / "compression.json").write_text(json.dumps(result.to_dict(), indent=2, default=_json))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compress_from_files(
    model: str | os.PathLike,
    data: str | os.PathLike | pd.DataFrame,
    *,
    out: str | os.PathLike,
    validation: str | os.PathLike | pd.DataFrame | None = None,
    max_loss: float = 0.005,
    metric: str | None = None,
    techniques: Sequence[str] | None = None,
    batch_threads: int = 0,
    quick: bool = False,
    random_state: int = 0,
    trusted: Sequence[str] = (),
    registry: str | os.PathLike | None = None,
    progress: bool = True,
) -> CompressionResult:
    """Run a compression study on a saved model and table files: ``workbench compress`` as one call.

    Parameters
    ----------
    model : a saved workbench model (file or folder).
    data : labelled rows (a CSV or Parquet path, or a DataFrame) to retrain
        variants on; 30% are held out to judge them unless `validation` is given.
    out : the output folder: ``model.wbm`` (the chosen variant), ``variants/``
        and ``compression.json`` (see :func:`compress`).
    validation : a labelled table to judge the variants on.
    max_loss, metric, techniques, batch_threads, quick, random_state, progress :
        passed to :func:`compress`.
    trusted : types to trust when loading the model (only for files you trust).
    registry : the registry of a ``models:/`` model (default: ``WORKBENCH_REGISTRY``,
        ``MLFLOW_TRACKING_URI``, else the embedded store; see :mod:`workbench.registry`).

    Returns
    -------
    CompressionResult
        ``chosen_path`` is where the chosen variant was written.

    Examples
    --------
    >>> result = compress_from_files(
    ...     "champion.wbm", "train.csv", out="compressed", quick=True
    ... )  # doctest: +SKIP
    >>> result.chosen_path  # doctest: +SKIP
    'compressed/model.wbm'
    """
    from workbench.data.io import load_table
    from workbench.modeling.artifact import load_model

    loaded = load_model(model, trusted=list(trusted), registry=registry)
    table = load_table(data, what="compression data")
    held_out = load_table(validation, what="validation data") if validation is not None else None
    return compress(
        loaded,
        table,
        max_loss=max_loss,
        metric=metric,
        validation=held_out,
        techniques=techniques,
        out=out,
        batch_threads=batch_threads,
        quick=quick,
        random_state=random_state,
        progress=progress,
    )


# -- helpers --------------------------------------------------------------------------
def _json(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
