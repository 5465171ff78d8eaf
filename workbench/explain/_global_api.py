"""Global explanations: permutation importance, partial dependence (PDP/ICE) and a surrogate tree."""

from __future__ import annotations

from typing import Any

import pandas as pd

from workbench.data._spec import target_values
from workbench.errors import DataError, ParameterError
from workbench.explain._global_results import (
    ImportanceResult,
    PartialDependenceResult,
    SurrogateResult,
)
from workbench.explain._inputs import _check_frame, _check_model, _pair
from workbench.validation import check_fraction, check_number


def permutation_importance(
    model: Any,
    data: pd.DataFrame,
    *,
    scoring: str | None = None,
    n_repeats: int = 5,
    max_rows: int = 5000,
    random_state: int = 0,
    threads: int | None = 1,
) -> ImportanceResult:
    """How much the model's score drops when each original column is shuffled (labelled `data`).

    Uses ``sklearn.inspection.permutation_importance`` with the model behind its
    DataFrame interface, so columns are the original ones (a categorical column
    is shuffled as a whole, not one one-hot fragment at a time). `scoring`:
    ``roc_auc`` (binary default), ``accuracy`` (multiclass default),
    ``log_loss``, ``r2`` (regression default), ``rmse`` or ``mae``; for the
    last-named kind (lower is better) importance is the rise. At most
    `max_rows` rows (a random sample) are used.

    Parameters
    ----------
    model : a workbench model.
    data : labelled rows with the model's feature columns.
    scoring : the score to watch (default by task, see above).
    n_repeats : shuffles per column (the spread is their standard deviation).
    max_rows : the most rows used.
    random_state : seed of the shuffles and of the row sample.
    threads : OpenMP/BLAS threads the model may use (None leaves it alone).

    Returns
    -------
    ImportanceResult
        The features, most important first (``result.ranking``, ``result.table()``).

    Raises
    ------
    ParameterError
        For a scoring that does not apply to the task.
    DataError
        When the target column is missing or fewer than 10 labelled rows remain.

    Examples
    --------
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> result = permutation_importance(model, demo.test.sample(500, random_state=0), n_repeats=2)
    >>> result.scoring, len(result.ranking) == len(demo.spec.features)
    ('roc_auc', True)
    >>> result.table().columns.tolist()
    ['importance_mean', 'importance_std']
    """
    from workbench.explain._global import DEFAULT_SCORING, SCORINGS
    from workbench.explain._global import permutation_importance as compute

    _check_model(model)
    spec = model.spec
    _check_frame(data, spec, "the data")
    scoring = scoring or DEFAULT_SCORING[spec.task]
    if scoring not in SCORINGS or spec.task not in SCORINGS[scoring][1]:
        allowed = [s for s, (_, tasks) in SCORINGS.items() if spec.task in tasks]
        raise ParameterError(
            f"the scoring '{scoring}' does not apply to {spec.task} models; use one of {', '.join(allowed)}"
        )
    n_repeats = check_number(n_repeats, "n_repeats", low=1, integer=True)
    if spec.target is None or spec.target not in data.columns:
        raise DataError(
            f"permutation importance needs the true labels, but the target column '{spec.target}' "
            "is missing from the data"
        )
    y = target_values(data, spec)
    keep = y.notna().to_numpy()
    rows, y = data.loc[keep], y[keep]
    if len(rows) > max_rows:
        rows = rows.sample(max_rows, random_state=random_state)
        y = y.loc[rows.index]
    if len(rows) < 10:
        raise DataError(f"permutation importance needs at least 10 labelled rows, not {len(rows)}")
    if scoring == "roc_auc" and y.nunique() < 2:
        raise DataError("ROC AUC needs both classes among the labelled rows; use scoring='accuracy'")
    return compute(
        model,
        rows[spec.features],
        y.to_numpy(),
        scoring=scoring,
        n_repeats=int(n_repeats),
        random_state=random_state,
        threads=threads,
    )


def partial_dependence(
    model: Any,
    data: pd.DataFrame,
    feature: str,
    *,
    grid_resolution: int = 20,
    percentiles: tuple[float, float] = (0.05, 0.95),
    max_rows: int = 500,
    ice_lines: int = 50,
    target_class: Any = None,
    max_categories: int = 30,
    random_state: int = 0,
    threads: int | None = 1,
) -> PartialDependenceResult:
    """Partial dependence (average) and ICE lines (single rows) of the model's output on `feature`.

    Each of at most `max_rows` sampled rows is copied once per grid value with
    `feature` set to that value and the model predicts all copies in one call.
    The grid is the data's quantiles between `percentiles` (`grid_resolution`
    points; every distinct value when there are fewer) for numeric features,
    and the `max_categories` most common categories for categorical ones.
    Output: the positive class's probability (binary), `target_class`'s
    (multiclass; without it every class's average), the prediction (regression).
    ``ice_lines`` of the sampled rows keep their own curve.

    Why not ``sklearn.inspection.partial_dependence``: it takes a scikit-learn
    estimator, and a workbench model is a DataFrame-in wrapper (safe column
    names, input typing; an ONNX graph for compressed variants). The grid and
    copies here are what its "brute" method does, batched into one call.
    """
    from workbench.explain._global import partial_dependence as compute

    _check_model(model)
    spec = model.spec
    _check_frame(data, spec, "the data")
    if feature not in spec.features:
        raise ParameterError(
            f"'{feature}' is not a feature of the model (its features: "
            f"{', '.join(spec.features[:8])}{' ...' if len(spec.features) > 8 else ''})"
        )
    grid_resolution = check_number(grid_resolution, "grid_resolution", low=2, high=200, integer=True)
    lo, hi = [check_fraction(v, "each of the percentiles") for v in _pair(percentiles, "percentiles")]
    if not lo < hi:  # relational: beyond what one checker says
        raise ParameterError(
            f"percentiles must be two fractions with 0 <= low < high <= 1, not {percentiles!r}"
        )
    if target_class is not None and spec.task == "regression":
        raise ParameterError("target_class only applies to classifiers")
    return compute(
        model,
        data,
        feature,
        grid_resolution=int(grid_resolution),
        percentiles=(lo, hi),
        max_rows=int(max_rows),
        ice_lines=int(ice_lines),
        target_class=target_class,
        max_categories=int(max_categories),
        random_state=random_state,
        threads=threads,
    )


def surrogate_tree(
    model: Any,
    data: pd.DataFrame,
    *,
    max_depth: int = 4,
    holdout: float = 0.3,
    max_rows: int = 20_000,
    min_leaf_share: float = 0.01,
    max_categories: int = 20,
    random_state: int = 0,
    threads: int | None = 1,
) -> SurrogateResult:
    """A shallow decision tree trained on the model's own answers over `data` (labels not needed).

    Categorical columns become one indicator per category (the `max_categories`
    most common), so rules read "relationship = Husband" or "race not in {...}";
    numeric bounds on one column are merged ("30 < age <= 45"). A `holdout`
    share of the rows is kept from the tree to measure its fidelity: agreement
    with the model's labels (classification) or R² against its predictions
    (regression). Leaves hold at least `min_leaf_share` of the fitted rows.
    ``fidelity_by_depth`` shows what depths 1-6 (or up to `max_depth`) achieve.
    """
    from workbench.explain._global import surrogate_tree as compute

    _check_model(model)
    _check_frame(data, model.spec, "the data")
    max_depth = check_number(max_depth, "max_depth", low=1, high=10, integer=True, hint="a readable tree")
    holdout = check_number(holdout, "holdout", low=0.05, high=0.8, hint="the share of the rows kept back")
    if len(data) < 50:
        raise DataError(
            f"a surrogate tree needs at least 50 rows to learn from and check against, not {len(data)}"
        )
    return compute(
        model,
        data,
        max_depth=int(max_depth),
        holdout=float(holdout),
        max_rows=int(max_rows),
        min_leaf_share=float(min_leaf_share),
        max_categories=int(max_categories),
        random_state=random_state,
        threads=threads,
    )
