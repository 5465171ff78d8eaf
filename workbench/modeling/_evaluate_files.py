"""`evaluate_from_files`: what ``workbench evaluate`` does, as one call.

Loads the model (a path or a ``models:/`` URI) and the table, then evaluates.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from workbench.validation import check_number

if TYPE_CHECKING:  # pragma: no cover
    from workbench.modeling.evaluate import CostMatrix, EvaluationResult


def evaluate_from_files(
    model: str | os.PathLike,
    data: str | os.PathLike | pd.DataFrame,
    *,
    threshold: float | None = None,
    cost: CostMatrix | Mapping[str, float] | None = None,
    slices: Sequence[str] | None = None,
    latency: bool = True,
    trusted: Sequence[str] = (),
    registry: str | os.PathLike | None = None,
) -> EvaluationResult:
    """Evaluate a saved model on a labelled table file: what ``workbench evaluate`` does, as one call.

    Parameters
    ----------
    model : a saved workbench model (file or folder).
    data : the labelled table: a CSV or Parquet path, or a DataFrame.
    threshold, cost, slices, latency : passed to :func:`evaluate`.
    trusted : types to trust when loading the model (only for files you trust),
        as :func:`~workbench.modeling.artifact.load_model` takes them.
    registry : the registry of a ``models:/`` model (default: ``WORKBENCH_REGISTRY``,
        ``MLFLOW_TRACKING_URI``, else the embedded store; see :mod:`workbench.registry`).

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> result = evaluate_from_files("champion.wbm", "holdout.csv", cost={"fn": 5, "fp": 1})  # doctest: +SKIP
    >>> result.metrics["roc_auc"]                                                             # doctest: +SKIP
    0.91
    """
    from workbench.data.io import load_table
    from workbench.modeling import evaluate as stage  # looked up at call time: tests patch it there
    from workbench.modeling.artifact import load_model

    if threshold is not None:
        threshold = check_number(threshold, "the threshold", low=0, high=1)
    loaded = load_model(model, trusted=list(trusted), registry=registry)
    table = load_table(data, what="evaluation data")
    return stage.evaluate(loaded, table, threshold=threshold, cost=cost, slices=slices, latency=latency)
