"""Explanations: why the model said what it said, per row and overall, in the original columns.

Local (per row), with LIME (``lime.lime_tabular``) on the whole pipeline:

- :func:`explain_local` explains chosen rows; :func:`explain_worst_errors`
  the model's most confident mistakes (false negatives, false positives, or
  any). Categorical columns are handled as categories (LIME's
  ``categorical_features``/``categorical_names``; the model sees the decoded
  strings), so every weight belongs to a condition on an original column such
  as "age <= 28" or "education = Bachelors", never to a one-hot fragment.
- :func:`explanation_stability` repeats explanations with different seeds and
  reports how much the rankings agree, with a plain verdict.

Global, with scikit-learn inspection:

- :func:`permutation_importance` (``sklearn.inspection.permutation_importance``
  over the original columns through the model's DataFrame interface);
- :func:`partial_dependence` (average) and ICE lines (single rows) for one
  feature: numeric grid at quantiles, categorical grid by category;
- :func:`surrogate_tree`: a shallow decision tree imitating the model, its
  fidelity on held-out rows, and its rules in plain text.

What each task gets: binary explains the positive class's probability;
multiclass explains the predicted class locally (partial dependence: a
chosen class, or every class's average); regression explains the prediction
(LIME regression mode, importance by R², a regression tree). Not supported:
explaining a class other than the predicted one locally, two-feature partial
dependence, and columns that are neither numeric nor categorical in the spec.

Every result object has ``to_dict``/``from_dict``, ``figures()``/``figure()``,
``findings()``, ``checks()`` and an HTML card. This module imports only
numpy/pandas at load time; lime and scikit-learn are imported when an
explanation is computed, plotly when a figure is drawn.

Examples
--------
>>> from workbench.explain import explain_worst_errors, surrogate_tree   # doctest: +SKIP
>>> worst = explain_worst_errors(model, test, kind="false_negative", n=5)       # doctest: +SKIP
>>> worst.figure()                                                              # doctest: +SKIP
>>> print(surrogate_tree(model, test).rules_text())                              # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import TASKS, target_values
from workbench.errors import DataError, ParameterError, SpecError
from workbench.explain._global_results import (
    MIN_FIDELITY,
    ImportanceResult,
    PartialDependenceResult,
    SurrogateResult,
)
from workbench.explain._lime import LocalExplainer, check_rows, get_explainer, row_id
from workbench.explain._local import explain_rows, find_errors, row_stability
from workbench.explain._local_results import (
    LocalExplanation,
    LocalExplanationResult,
    StabilityResult,
    verdict_for,
)
from workbench.validation import check_fraction, check_number

__all__ = [
    "ERROR_KINDS",
    "ImportanceResult",
    "LocalExplainer",
    "LocalExplanation",
    "LocalExplanationResult",
    "MIN_FIDELITY",
    "PartialDependenceResult",
    "StabilityResult",
    "SurrogateResult",
    "explain_local",
    "explain_worst_errors",
    "explanation_stability",
    "local_explainer",
    "partial_dependence",
    "permutation_importance",
    "surrogate_tree",
]

#: kinds of error :func:`explain_worst_errors` can look for, per task
ERROR_KINDS = {
    "binary": ("any", "false_negative", "false_positive"),
    "multiclass": ("any",),
    "regression": ("any", "overestimate", "underestimate"),
}


def local_explainer(model: Any, reference: pd.DataFrame) -> LocalExplainer:
    """The LIME explainer for (model, reference), built once and reused by the functions below."""
    _check_model(model)
    _check_frame(reference, model.spec, "the reference data")
    return get_explainer(model, reference)


def explain_local(
    model: Any,
    data: pd.DataFrame,
    rows: Any = None,
    *,
    reference: pd.DataFrame | None = None,
    num_features: int = 10,
    num_samples: int = 5000,
    random_state: int = 0,
    threads: int | None = 1,
) -> LocalExplanationResult:
    """Explain chosen rows of `data` with LIME, in the original columns.

    Parameters
    ----------
    model : a workbench model (``train(...).champion``, ``load_model(path)``, an ONNX variant).
    data : a table with the model's feature columns (original names); the
        target column, when present, adds the actual label to each explanation.
    rows : an index label of `data`, or a list of them (at most 100); None
        explains every row of `data` (when it has at most 100).
    reference : the rows LIME samples around (their quartiles and category
        frequencies); default `data` itself (it then needs at least 50 rows).
        Usually the training data.
    num_features : conditions kept per row (LIME's "highest weights" selection).
    num_samples : perturbed rows LIME asks the model about, per explained row.
    random_state : seed of LIME's sampling; each row is explained with its own
        generator seeded with it, so results do not depend on the order of rows.
    threads : OpenMP/BLAS threads the model may use while LIME queries it
        (1 is fastest on 5,000-row batches on shared cores; None leaves it alone).

    Returns
    -------
    LocalExplanationResult
        One :class:`LocalExplanation` per row, by row id (``result[row_id]``).

    Raises
    ------
    DataError
        When `data` or `reference` lacks a feature column or `reference` is too small.
    UnknownNameError
        When a row label is not in `data` (a ``KeyError``).

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> from workbench.modeling.train import train
    >>> demo = load_demo("adult")
    >>> trained = train(demo.train.sample(1000, random_state=0), demo.spec,
    ...                 recipes=["logistic_regression"], quick=True, progress=False)
    >>> rows = demo.test.head(200)
    >>> result = explain_local(trained.champion, rows, rows=[0, 1], num_features=3, num_samples=500)
    >>> len(result), len(result[0].features), result[0].explained_class
    (2, 3, '>50K')
    >>> result[0].sentence()
    "Row 0: the model gives '>50K' a probability of ...
    """
    _check_model(model)
    _check_frame(data, model.spec, "the data to explain")
    labels = check_rows(data, rows)
    chosen = data.loc[labels]
    selection = {"method": "rows", "n_rows": len(labels)}
    return _explain(
        model,
        chosen,
        data if reference is None else reference,
        selection,
        None,
        num_features,
        num_samples,
        random_state,
        threads,
    )


def explain_worst_errors(
    model: Any,
    data: pd.DataFrame,
    kind: str = "any",
    n: int = 5,
    *,
    reference: pd.DataFrame | None = None,
    num_features: int = 10,
    num_samples: int = 5000,
    random_state: int = 0,
    threads: int | None = 1,
) -> LocalExplanationResult:
    """Explain the model's `n` most confident mistakes on labelled `data`.

    `kind`: ``"false_negative"`` (actual positive, predicted negative; most
    confident = lowest positive-class probability), ``"false_positive"``
    (highest probability among actual negatives predicted positive) or
    ``"any"`` (wrong label with the highest probability of the predicted
    class) for binary models; ``"any"`` for multiclass; ``"any"`` (largest
    absolute error), ``"overestimate"`` or ``"underestimate"`` for regression.
    The other parameters are those of :func:`explain_local`.
    """
    _check_model(model)
    spec = model.spec
    _check_frame(data, spec, "the data to explain")
    kinds = ERROR_KINDS[spec.task]
    if kind not in kinds:
        raise ParameterError(
            f"the error kind '{kind}' does not apply to {spec.task} models; use one of "
            f"{', '.join(repr(k) for k in kinds)}"
        )
    n = check_number(n, "n", low=1, high=100, integer=True)
    if spec.target is None or spec.target not in data.columns:
        raise DataError(
            f"explain_worst_errors needs the true labels, but the target column '{spec.target}' "
            "is missing from the data"
        )
    y = target_values(data, spec, where="the data to explain")
    keep = y.notna().to_numpy()
    labelled, y = data.loc[keep], y[keep].to_numpy()
    if not len(y):
        raise DataError(
            f"every value of the target column '{spec.target}' is missing, so there are no errors to find"
        )
    mask, confidence, label = find_errors(model, labelled, y, kind, threads)
    order = np.argsort(-confidence[mask], kind="stable")[:n]
    chosen = labelled.iloc[np.flatnonzero(mask)[order]]
    selection = {
        "method": "worst_errors",
        "error_kind": kind,
        "label": label,
        "n_errors": int(mask.sum()),
        "n_rows": int(len(y)),
    }
    return _explain(
        model,
        chosen,
        labelled if reference is None else reference,
        selection,
        kind,
        num_features,
        num_samples,
        random_state,
        threads,
    )


def explanation_stability(
    model: Any,
    data: pd.DataFrame,
    rows: Any = None,
    *,
    reference: pd.DataFrame | None = None,
    seeds: int | Sequence[int] = 5,
    top_k: int = 5,
    num_samples: int = 5000,
    random_state: int = 0,
    threads: int | None = 1,
) -> StabilityResult:
    """Repeat LIME on the same rows with different seeds and measure how much the answers agree.

    `rows`: index labels of `data` (default: 3 rows drawn with `random_state`).
    `seeds`: how many seeds (``random_state, random_state + 1, ...``) or the
    seeds themselves. Each repeat weighs every feature; per row the result
    holds the mean pairwise Kendall tau of the rankings by |weight|, the mean
    pairwise Jaccard overlap of the top `top_k` features and the share of top
    features whose sign never flips. Verdict: "stable" when the top features
    overlap at least 80%, "fairly stable" from 60%, else "unstable".
    """
    _check_model(model)
    spec = model.spec
    _check_frame(data, spec, "the data to explain")
    if rows is None:
        rows = list(data.sample(min(3, len(data)), random_state=random_state).index)
    labels = check_rows(data, rows, limit=20)
    if isinstance(seeds, int | np.integer) and not isinstance(seeds, bool):
        seed_list = [int(random_state) + i for i in range(int(seeds))]
    else:
        seed_list = [int(s) for s in seeds]
    if len(seed_list) < 2:
        raise ParameterError("stability needs at least two seeds to compare")
    p = len(spec.features)
    top_k = check_number(top_k, "top_k", low=1, high=p, integer=True, hint="the number of features")
    _check_sizes(p, num_samples)
    chosen = data.loc[labels]
    reference = data if reference is None else reference
    _check_frame(reference, spec, "the reference data")
    explainer = get_explainer(model, reference)
    runs = [
        explainer.explain(chosen, num_features=p, num_samples=num_samples, random_state=s, threads=threads)
        for s in seed_list
    ]
    per_row = [
        row_stability(row_id(lab), [run[i] for run in runs], spec.features, top_k)
        for i, lab in enumerate(labels)
    ]
    tau = float(np.mean([r["kendall_tau"] for r in per_row]))
    jac = float(np.mean([r["top_k_jaccard"] for r in per_row]))
    sign = float(np.mean([r["sign_agreement"] for r in per_row]))
    return StabilityResult(
        getattr(model, "name", "model"),
        spec.task,
        seed_list,
        int(top_k),
        int(num_samples),
        per_row,
        tau,
        jac,
        sign,
        verdict_for(jac),
    )


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
    >>> from workbench.data import load_demo
    >>> from workbench.modeling.train import train
    >>> demo = load_demo("adult")
    >>> trained = train(demo.train.sample(1000, random_state=0), demo.spec,
    ...                 recipes=["logistic_regression"], quick=True, progress=False)
    >>> result = permutation_importance(trained.champion, demo.test.sample(500, random_state=0), n_repeats=2)
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


# -- validation ------------------------------------------------------------------------
def _explain(
    model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
):
    _check_sizes(num_features, num_samples)
    _check_frame(reference, model.spec, "the reference data")
    return explain_rows(
        model, chosen, reference, selection, error_kind, num_features, num_samples, random_state, threads
    )


def _check_model(model: Any) -> None:
    spec = getattr(model, "spec", None)
    if spec is None or not hasattr(model, "predict"):
        raise ParameterError("explanations need a workbench model (from train() or load_model())")
    if spec.task not in TASKS:
        raise SpecError("the model's spec has no task, so there is no prediction to explain")


def _check_frame(data: Any, spec, where: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame with the original column names")
    if data.empty:
        raise DataError(f"{where} has no rows")
    spec.check_columns(data, where=where)


def _check_sizes(num_features: int, num_samples: int) -> None:
    check_number(num_features, "num_features", low=1, integer=True)
    check_number(num_samples, "num_samples", low=20, high=100_000, integer=True)


def _pair(x: Any, name: str) -> tuple:
    try:
        low, high = x
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be two numbers (low, high), not {x!r}") from None
    return low, high


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
