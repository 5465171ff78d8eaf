"""SHAP explanations in the original columns: chosen rows, the worst errors, and a global summary.

- :func:`explain_shap` explains chosen rows; :func:`explain_shap_worst_errors`
  the model's most confident mistakes (the same rows
  :func:`~workbench.explain.explain_worst_errors` picks for LIME).
- :func:`shap_summary`: mean |SHAP| per column over many rows, a beeswarm, a
  dependence plot, and how far its ranking agrees with permutation importance
  and LIME's (Spearman, Kendall tau-b, top-5 overlap).

Which explainer (``method="auto"``): the tree recipes (random forest,
histogram gradient boosting) get exact tree SHAP (``shap.TreeExplainer`` on
the pipeline's final estimator and transformed matrix, values summed back to
the original columns); the others (logistic regression, ONNX variants) get
``shap.KernelExplainer`` on the original columns, with ``background`` rows
(default 50, a seeded sample of `reference`) standing in for the columns a
coalition leaves out and ``nsamples`` coalitions per row (default 500).
Either way ``base_value + sum of a row's values`` is the model's output for
the row: the positive class's probability (forests, kernel) or its log-odds
(gradient boosting: the raw output TreeExplainer explains exactly).

Supported: binary classifiers. Regression and multiclass models are refused
with a sentence (use LIME or permutation importance for them).

shap is imported when an explanation is computed; the result objects
re-render without it.

Examples
--------
>>> from workbench.explain import explain_shap, shap_summary   # doctest: +SKIP
>>> explain_shap(model, test, rows=[0]).figure()                # doctest: +SKIP
>>> shap_summary(model, test).figures()["beeswarm"]              # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import MISSING, prepare_frame
from workbench.errors import ParameterError, UnknownNameError
from workbench.explain._inputs import _check_frame, _check_model, worst_errors
from workbench.explain._lime import check_rows, row_id
from workbench.explain._local import _actual, _error_word, _native
from workbench.explain._shap_results import ShapExplanationResult, ShapRow, ShapSummaryResult
from workbench.results import name_list
from workbench.validation import check_choice, check_number

__all__ = ["explain_shap", "explain_shap_worst_errors", "shap_summary"]

#: rows the beeswarm and dependence plots keep (mean |SHAP| uses every explained row)
MAX_POINTS = 500
#: rows a summary explains by default: exact tree SHAP is cheap, the kernel explainer is not
DEFAULT_ROWS = {"tree": 1000, "kernel": 100}


def explain_shap(
    model: Any,
    data: pd.DataFrame,
    rows: Any = None,
    *,
    reference: pd.DataFrame | None = None,
    method: str = "auto",
    background: int = 50,
    nsamples: int = 500,
    random_state: int = 0,
    threads: int | None = 1,
) -> ShapExplanationResult:
    """Explain chosen rows of `data` with SHAP, in the original columns.

    Parameters
    ----------
    model : a binary workbench model (``train(...).champion``, ``load_model(path)``, an ONNX variant).
    data : a table with the model's feature columns; the target column, when
        present, adds the actual label to each row.
    rows : an index label of `data`, or a list of them (at most 100); None
        explains every row of `data` (when it has at most 100).
    reference : the rows the kernel explainer's background is drawn from
        (default `data`; usually the training rows). Exact tree SHAP needs none.
    method : ``"auto"`` (tree for the tree recipes, else kernel), ``"tree"`` or ``"kernel"``.
    background : background rows of the kernel explainer.
    nsamples : coalitions the kernel explainer evaluates per row.
    random_state : seed of the background sample and of the kernel explainer's coalitions.
    threads : OpenMP/BLAS threads the model may use (None leaves it alone).

    Returns
    -------
    ShapExplanationResult
        One :class:`ShapRow` per row (``result[row_id]``), a waterfall each.

    Raises
    ------
    ParameterError
        For a regression or multiclass model, an unknown method, or ``method="tree"``
        on a model that is not a tree ensemble.
    DataError
        When a row label is not in `data` or a feature column is missing.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> from workbench.modeling.train import train
    >>> demo = load_demo("adult")
    >>> model = train(demo.train.sample(1000, random_state=0), demo.spec,
    ...               recipes=["random_forest"], quick=True, progress=False).champion
    >>> result = explain_shap(model, demo.test.head(50), rows=[0, 1])
    >>> result.method, result.output, len(result)
    ('tree', "probability of '>50K'", 2)
    >>> row = result[0]
    >>> abs(result.base_value + row.total() - row.output) < 1e-6
    True
    """
    engine = _engine(model, data, reference, method, background, nsamples, random_state)
    labels = check_rows(data, rows)
    return _explain(engine, data.loc[labels], {"method": "rows", "n_rows": len(labels)}, None, threads)


def explain_shap_worst_errors(
    model: Any,
    data: pd.DataFrame,
    kind: str = "any",
    n: int = 5,
    *,
    reference: pd.DataFrame | None = None,
    method: str = "auto",
    background: int = 50,
    nsamples: int = 500,
    random_state: int = 0,
    threads: int | None = 1,
) -> ShapExplanationResult:
    """Explain the model's `n` most confident mistakes on labelled `data` with SHAP.

    The rows are those :func:`~workbench.explain.explain_worst_errors` picks
    (`kind`: ``"false_negative"``, ``"false_positive"`` or ``"any"``); the
    other parameters are those of :func:`explain_shap`.
    """
    engine = _engine(model, data, reference, method, background, nsamples, random_state)
    chosen, _, selection = worst_errors(model, data, kind, n, threads, "explain_shap_worst_errors")
    return _explain(engine, chosen, selection, kind, threads)


def shap_summary(
    model: Any,
    data: pd.DataFrame,
    *,
    reference: pd.DataFrame | None = None,
    method: str = "auto",
    max_rows: int | None = None,
    feature: str | None = None,
    compare: bool = True,
    importance: Any = None,
    lime: Any = None,
    background: int = 50,
    nsamples: int = 500,
    random_state: int = 0,
    threads: int | None = 1,
) -> ShapSummaryResult:
    """SHAP over many rows: mean |SHAP| per column, a beeswarm, a dependence plot, and rank agreement.

    Parameters
    ----------
    model, data, reference, method, background, nsamples, random_state, threads :
        As for :func:`explain_shap`.
    max_rows : rows explained (a seeded sample of `data`); default 1,000 for
        exact tree SHAP and 100 for the kernel explainer (its cost is
        ``nsamples x background`` model rows per row).
    feature : the column of the dependence plot (default: the most important).
    compare : compare the SHAP ranking with permutation importance (when `data`
        has labels) and LIME's (mean |weight| over 10 rows): computed here
        unless given as `importance` / `lime`.
    importance : an :class:`~workbench.explain.ImportanceResult` to compare with.
    lime : a :class:`~workbench.explain.LocalExplanationResult` to compare with.

    Returns
    -------
    ShapSummaryResult
        ``ranking``, ``table()``, ``agreement_table()``, ``dependence_figure(column)``, figures.

    Raises
    ------
    UnknownNameError
        When `feature` is not one of the model's columns (a ``KeyError``).
    ParameterError
        As :func:`explain_shap`.
    """
    from workbench.explain._shap import lime_scores, rank_agreement

    _check_model(model)
    spec = model.spec
    if feature is not None and feature not in spec.features:
        raise UnknownNameError(
            f"'{feature}' is not a column of the model; its columns are {name_list(spec.features)}"
        )
    engine = _engine(model, data, reference, method, background, nsamples, random_state)
    n = DEFAULT_ROWS[engine.method] if max_rows is None else max_rows
    n = int(check_number(n, "max_rows", low=1, high=100_000, integer=True))
    rows = data if len(data) <= n else data.sample(n, random_state=random_state)
    got = engine.explain(rows, threads)
    values = got["values"]
    scores = np.abs(values).mean(axis=0)
    order = np.argsort(-scores, kind="stable")
    features = [
        {
            "feature": spec.features[j],
            "mean_abs_shap": float(scores[j]),
            "mean_shap": float(values[:, j].mean()),
        }
        for j in order
    ]
    keep = np.random.default_rng(random_state).permutation(len(rows))[:MAX_POINTS]
    shown = prepare_frame(rows.iloc[np.sort(keep)], spec)
    points = {
        c: {
            "kind": "numeric" if c in spec.numeric else "categorical",
            "values": [_plain(v) for v in shown[c].to_numpy()],
            "shap": [float(x) for x in values[np.sort(keep), j]],
        }
        for j, c in enumerate(spec.features)
    }
    agreement, notes = [], []
    if compare:
        by_shap = {f["feature"]: f["mean_abs_shap"] for f in features}
        importance, note = _importance(model, data, importance, random_state, threads)
        if importance is not None:
            scored = {f["feature"]: f["importance_mean"] for f in importance.features}
            agreement.append(rank_agreement(by_shap, scored, "permutation importance"))
        notes += note
        lime = lime if lime is not None else _lime(model, data, reference, random_state, threads)
        if len(lime):
            agreement.append(rank_agreement(by_shap, lime_scores(lime), "LIME"))
    return ShapSummaryResult(
        getattr(model, "name", "model"),
        spec.task,
        engine.method,
        engine.output,
        got["base"],
        features,
        points,
        int(len(rows)),
        agreement,
        feature or (features[0]["feature"] if features else None),
        engine.background_rows,
        nsamples if engine.method == "kernel" else None,
        int(random_state),
        got["seconds"],
        notes,
    )


# -- internals --------------------------------------------------------------------------------
def _engine(model, data, reference, method, background, nsamples, random_state):
    from workbench.explain._shap import METHODS, ShapEngine, resolve_method

    _check_model(model)
    if model.spec.task != "binary":
        raise ParameterError(
            f"SHAP explanations here support binary classifiers (the positive class's probability), not "
            f"{model.spec.task} models; use explain_local (LIME) or permutation_importance for this model"
        )
    method = check_choice(method, "SHAP method", METHODS)
    background = check_number(background, "background", low=5, high=1000, integer=True)
    nsamples = check_number(nsamples, "nsamples", low=50, high=100_000, integer=True)
    _check_frame(data, model.spec, "the data to explain")
    reference = data if reference is None else reference
    _check_frame(reference, model.spec, "the reference data")
    method = resolve_method(model, method)
    return ShapEngine(
        model,
        reference,
        method,
        background=int(background),
        nsamples=int(nsamples),
        random_state=random_state,
    )


def _explain(engine, chosen: pd.DataFrame, selection: dict, error_kind: str | None, threads):
    model, spec = engine.model, engine.model.spec
    got = engine.explain(chosen, threads) if len(chosen) else None
    rows = []
    if got is not None:
        proba = np.asarray(model.predict_proba(chosen), dtype=float)
        predicted = model.labels_from_proba(proba)
        actual = _actual(chosen, spec)
        shown = prepare_frame(chosen, spec)
        for i, lab in enumerate(chosen.index):
            contributions = [
                {"feature": c, "value": _plain(shown[c].iat[i]), "shap": float(got["values"][i, j])}
                for j, c in enumerate(spec.features)
            ]
            contributions.sort(key=lambda c: -abs(c["shap"]))
            a = actual[i] if actual is not None else None
            p = _native(predicted[i])
            rows.append(
                ShapRow(
                    row_id(lab),
                    p,
                    float(proba[i, engine.pos]),
                    float(got["output"][i]),
                    contributions,
                    a,
                    _error_word(spec, p, a, error_kind),
                )
            )
    base = got["base"] if got is not None else None
    return ShapExplanationResult(
        getattr(model, "name", "model"),
        spec.task,
        engine.method,
        engine.output,
        base,
        rows,
        selection,
        engine.background_rows,
        engine.nsamples if engine.method == "kernel" else None,
        int(engine.random_state),
        got["seconds"] if got is not None else None,
    )


def _importance(model, data, given, random_state, threads):
    if given is not None:
        return given, []
    spec = model.spec
    if spec.target is None or spec.target not in data.columns or data[spec.target].notna().sum() < 10:
        return None, ["No permutation importance to compare with: the data has no labels."]
    from workbench.explain._global_api import permutation_importance

    return permutation_importance(
        model, data, n_repeats=3, max_rows=2000, random_state=random_state, threads=threads
    ), []


def _lime(model, data, reference, random_state, threads):
    from workbench.explain._api import explain_local

    rows = list(data.sample(min(10, len(data)), random_state=random_state).index)
    ref = data if reference is None else reference
    if len(ref) < 50:
        return []
    p = len(model.spec.features)
    return explain_local(
        model,
        data,
        rows=rows,
        reference=ref,
        num_features=p,
        num_samples=2000,
        random_state=random_state,
        threads=threads,
    )


def _plain(v: Any) -> Any:
    """A cell as JSON holds it: a number, a text, or None for a missing value."""
    v = _native(v)
    if (isinstance(v, float) and not np.isfinite(v)) or v == MISSING:
        return None
    return v
