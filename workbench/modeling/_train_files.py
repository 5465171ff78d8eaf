"""Training from table files, as ``workbench train`` does: load, infer the spec, train, save the champion.

Private: import :func:`train_from_files` from :mod:`workbench.modeling.train`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.validation import check_columns, check_number, check_path

if TYPE_CHECKING:
    import pandas as pd

    from workbench.modeling._leaderboard import TrainingResult
    from workbench.modeling.evaluate import CostMatrix


def train_from_files(
    data: str | os.PathLike | pd.DataFrame,
    target: str,
    *,
    out: str | os.PathLike,
    validation: str | os.PathLike | pd.DataFrame | None = None,
    sensitive: Sequence[str] = (),
    sensitive_as_features: bool = True,
    task: str | None = None,
    positive: Any = None,
    drop: Sequence[str] = (),
    recipes: Sequence[str] | None = None,
    imbalance: str = "none",
    cost: CostMatrix | Mapping[str, float] | None = None,
    search: bool = False,
    n_iter: int = 8,
    quick: bool = False,
    random_state: int = 0,
    overwrite: bool = False,
    progress: bool = True,
) -> tuple[TrainingResult, Path]:
    """Train on a table file and save the champion: what ``workbench train`` does, as one call.

    Loads `data` (and `validation`), infers the spec, calls
    :func:`~workbench.modeling.train.train` and saves the champion with
    :func:`~workbench.modeling.artifact.save_model`. The destination and the
    options are checked before any table is read.

    Parameters
    ----------
    data : the training table: a CSV or Parquet path, or a DataFrame.
    target : the column to predict.
    out : where to save the champion (a file such as ``champion.wbm``, or a folder).
    validation : a held-out table for the leaderboard (default: 20% of `data`).
    sensitive, sensitive_as_features, task, positive : passed to :func:`~workbench.data.infer_spec`.
    drop : columns of `data` that are not to be features.
    recipes, imbalance, cost, search, n_iter, quick, random_state, progress :
        passed to :func:`~workbench.modeling.train.train`.
    overwrite : replace a model already at `out` (never anything else).

    Returns
    -------
    result : TrainingResult
        The leaderboard and the champion.
    model_path : pathlib.Path
        Where the champion was saved.

    Examples
    --------
    >>> result, path = train_from_files(
    ...     "train.csv", "income", out="champion.wbm", quick=True
    ... )  # doctest: +SKIP
    >>> result.champion_name, path  # doctest: +SKIP
    ('hist_gradient_boosting', PosixPath('champion.wbm'))
    """
    from workbench.data._spec import infer_spec
    from workbench.data.io import load_table
    from workbench.modeling.artifact import check_model_destination, save_model

    # looked up when called, from the module that exports it: a patched `train` is the one used
    from workbench.modeling.train import train

    check_number(n_iter, "n_iter", low=1, integer=True, hint="settings tried per recipe")
    check_number(random_state, "random_state", low=0, high=2**32 - 1, integer=True)
    out = check_model_destination(check_path(out, "out", must_exist=False, kind="any"), overwrite=overwrite)
    table = load_table(data, what="training data")
    drop = check_columns(table, list(drop), where="the training data", what="the column to drop")
    spec = infer_spec(
        table.drop(columns=drop),
        target=target,
        sensitive=list(sensitive),
        task=task,
        positive=positive,
        sensitive_as_features=sensitive_as_features,
    )
    held_out = load_table(validation, what="validation data") if validation is not None else None
    result = train(
        table,
        spec,
        recipes=recipes,
        imbalance=imbalance,
        cost=cost,
        search=search,
        n_iter=n_iter,
        validation=held_out,
        quick=quick,
        random_state=random_state,
        progress=progress,
    )
    return result, save_model(result.champion, out, overwrite=overwrite)
