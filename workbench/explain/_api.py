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

from workbench.errors import ParameterError
from workbench.explain._global_results import (
    MIN_FIDELITY,
    ImportanceResult,
    PartialDependenceResult,
    SurrogateResult,
)
from workbench.explain._inputs import (
    ERROR_KINDS,
    _check_frame,
    _check_model,
    _check_sizes,
    _explain,
    worst_errors,
)
from workbench.explain._lime import LocalExplainer, check_rows, get_explainer, row_id
from workbench.explain._local import row_stability
from workbench.explain._local_results import (
    LocalExplanation,
    LocalExplanationResult,
    StabilityResult,
    verdict_for,
)
from workbench.validation import check_number

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
]


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
    Shared set-up: ``demo = load_demo("adult")``; ``model``, a quick logistic regression trained on it.

    >>> rows = demo.test.head(200)
    >>> result = explain_local(model, rows, rows=[0, 1], num_features=3, num_samples=500)
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
    chosen, labelled, selection = worst_errors(model, data, kind, n, threads, "explain_worst_errors")
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
