"""The mitigation methods: each fits fairlearn's own algorithm (or reweighs) around a workbench recipe.

Each method takes the original model, the training part of the table and the
sensitive column, and returns one or more workbench :class:`Model` objects
that predict from the same raw columns (with the sensitive column among them
where the method needs it at prediction time). Nothing here judges them:
:mod:`workbench.fairness._mitigate` does, on the validation part.

Private: import the public names from :mod:`workbench.fairness`.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.data._spec import DatasetSpec, target_values
from workbench.modeling.artifact import Model
from workbench.modeling.train import build_pipeline

#: The fairness constraints, by the names users give them: (fairlearn reductions Moment class, the
#: bias report's disparity that the constraint narrows).
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "demographic_parity": ("DemographicParity", "demographic_parity_difference"),
    "equalized_odds": ("EqualizedOdds", "equalized_odds_difference"),
    "true_positive_rate_parity": ("TruePositiveRateParity", "equal_opportunity_difference"),
}

#: The methods, by stage: (stage, whether it uses a constraint, whether the mitigated model needs the
#: sensitive column at prediction time).
METHODS: dict[str, tuple[str, bool, bool]] = {
    "reweighing": ("pre-processing", False, False),
    "correlation_remover": ("pre-processing", False, True),
    "exponentiated_gradient": ("in-processing", True, False),
    "grid_search": ("in-processing", True, False),
    "threshold_optimizer": ("post-processing", True, True),
}

#: What needing the sensitive attribute at prediction time means, said once for the result, the README
#: and the saved model's meta.
SENSITIVE_AT_PREDICTION = {
    "correlation_remover": "it removes the sensitive column's linear correlation from the other features, "
    "so it reads that column for every prediction",
    "threshold_optimizer": "it applies a different decision threshold to each group, so every prediction "
    "needs the row's group: the deployed service must collect the sensitive attribute, and using it to "
    "decide may be unlawful in some settings (e.g. credit or hiring)",
}


@dataclass(frozen=True)
class Fitted:
    """One mitigated model and how it was made (before it is judged)."""

    name: str
    method: str
    constraint: str | None
    model: Model
    params: dict


@dataclass(frozen=True)
class Inputs:
    """The training part, encoded once for every method."""

    data: pd.DataFrame
    spec: DatasetSpec  # the original spec
    spec_s: DatasetSpec  # the spec with the sensitive column as a feature
    column: str
    y: pd.Series  # original labels
    y01: np.ndarray  # 1 for the positive class
    groups: np.ndarray  # the sensitive column as the model sees it (text)
    classes: np.ndarray  # [negative, positive]
    recipe: str
    params: dict
    quick: bool
    random_state: int


def with_sensitive_feature(spec: DatasetSpec, column: str) -> DatasetSpec:
    """`spec` with `column` as a categorical feature (unchanged when it already is a feature)."""
    if column in spec.features:
        return spec
    return dataclasses.replace(
        spec, features=[*spec.features, column], categorical=[*spec.categorical, column]
    )


def encode_inputs(original: Model, data: pd.DataFrame, column: str, quick: bool, rs: int) -> Inputs:
    """The training part's labels and groups, and the original model's recipe."""
    spec = original.spec
    spec_s = with_sensitive_feature(spec, column)
    y = target_values(data, spec, where="the training part")
    keep = y.notna().to_numpy()
    data, y = data.loc[keep], y[keep]
    groups = _prepare(spec_s, data)[spec_s.model_names[column]].astype(str).to_numpy()
    pos = spec.positive_label
    neg = next(c for c in original.classes_ if c != pos)
    classes = np.asarray([neg, pos], dtype=np.asarray(original.classes_).dtype)
    return Inputs(
        data,
        spec,
        spec_s,
        column,
        y,
        (y == pos).to_numpy().astype(int),
        groups,
        classes,
        original.meta["recipe"],
        dict(original.meta.get("params") or {}),
        quick,
        rs,
    )


def fit_method(method: str, constraint: str, original: Model, inp: Inputs) -> list[Fitted]:
    """The mitigated model(s) one method makes (grid search: one per grid point)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _FITTERS[method](original, inp, constraint)


# -- pre-processing -------------------------------------------------------------------------------
def _reweighing(original: Model, inp: Inputs, constraint: str) -> list[Fitted]:
    """Weights that make group and label independent in training (Kamiran & Calders): P(a)P(y)/P(a,y)."""
    frame = pd.DataFrame({"a": inp.groups, "y": inp.y01})
    p_a = frame["a"].map(frame["a"].value_counts(normalize=True))
    p_y = frame["y"].map(frame["y"].value_counts(normalize=True))
    p_ay = frame.groupby(["a", "y"])["y"].transform("size") / len(frame)
    weights = (p_a * p_y / p_ay).to_numpy()
    pipe = _pipeline(inp, inp.spec)
    pipe.fit(_prepare(inp.spec, inp.data), inp.y, model__sample_weight=weights)
    _serial(pipe)
    return [_fitted("reweighing", None, inp.spec, pipe, original, {})]


def _correlation_remover(original: Model, inp: Inputs, constraint: str) -> list[Fitted]:
    """fairlearn's CorrelationRemover between the recipe's preprocessing and its estimator."""
    from fairlearn.preprocessing import CorrelationRemover
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder

    spec = inp.spec_s
    safe = spec.model_names[inp.column]
    pipe = _pipeline(inp, spec)
    prep = pipe.named_steps["prep"]
    # the sensitive column one-hot encoded in a transformer of its own, so its output columns are known
    parts = [(n, t, [c for c in cols if c != safe]) for n, t, cols in prep.transformers]
    parts = [p for p in parts if p[2]]
    parts.append(("sensitive", OneHotEncoder(handle_unknown="ignore", sparse_output=False), [safe]))
    prep = ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)
    X = _prepare(spec, inp.data)
    prep.fit(X)
    out = prep.output_indices_["sensitive"]
    remover = CorrelationRemover(sensitive_feature_ids=list(range(out.start, out.stop)))
    pipe = Pipeline([("prep", prep), ("decorrelate", remover), ("model", pipe.named_steps["model"])])
    pipe.fit(X, inp.y)
    _serial(pipe)
    return [_fitted("correlation_remover", None, spec, pipe, original, {"alpha": 1.0})]


# -- in-processing --------------------------------------------------------------------------------
def _exponentiated_gradient(original: Model, inp: Inputs, constraint: str) -> list[Fitted]:
    """fairlearn's ExponentiatedGradient over the recipe's estimator (a randomized mixture)."""
    from fairlearn.reductions import ExponentiatedGradient
    from sklearn.pipeline import Pipeline

    from workbench.fairness._estimators import RandomizedMixture

    prep, est, Xt = _prep_and_estimator(inp)
    max_iter = 25 if inp.quick else 50
    eg = ExponentiatedGradient(est, _moment(constraint), eps=0.01, max_iter=max_iter)
    eg.fit(Xt, inp.y01, sensitive_features=inp.groups)
    predictors = list(eg.predictors_)
    weights = eg.weights_.reindex(range(len(predictors))).fillna(0.0).to_numpy(dtype=float)
    for p in predictors:
        _serial(p)
    mixture = RandomizedMixture(predictors, weights, inp.classes, inp.random_state)
    pipe = Pipeline([("prep", prep), ("model", mixture)])
    params = {"eps": 0.01, "max_iter": max_iter, "predictors": int(np.sum(weights > 0))}
    return [_fitted(f"exponentiated_gradient:{constraint}", constraint, inp.spec, pipe, original, params)]


def _grid_search(original: Model, inp: Inputs, constraint: str) -> list[Fitted]:
    """fairlearn's GridSearch: one model per Lagrange multiplier on its grid (each a frontier point)."""
    from fairlearn.reductions import GridSearch
    from sklearn.pipeline import Pipeline

    prep, est, Xt = _prep_and_estimator(inp)
    grid_size = 7 if inp.quick else 11
    gs = GridSearch(est, _moment(constraint), grid_size=grid_size)
    gs.fit(Xt, inp.y01, sensitive_features=inp.groups)
    out = []
    for i, predictor in enumerate(gs.predictors_):
        # fitted on 0/1 labels; its classes_ renamed to the labels they stand for (prediction reads classes_)
        predictor.classes_ = inp.classes
        _serial(predictor)
        pipe = Pipeline([("prep", prep), ("model", predictor)])
        params = {"grid_point": i, "grid_size": grid_size, "fairlearn_best": i == int(gs.best_idx_)}
        out.append(_fitted(f"grid_search:{constraint}[{i}]", constraint, inp.spec, pipe, original, params))
    return out


# -- post-processing ------------------------------------------------------------------------------
def _threshold_optimizer(original: Model, inp: Inputs, constraint: str) -> list[Fitted]:
    """fairlearn's ThresholdOptimizer on the original model's scores: one threshold pair per group."""
    from fairlearn.postprocessing import ThresholdOptimizer

    from workbench.fairness._estimators import GroupThresholdClassifier

    spec = inp.spec_s
    X = _prepare(spec, inp.data)
    optimizer = ThresholdOptimizer(
        estimator=original.estimator,
        constraints=constraint,
        objective="accuracy_score",
        prefit=True,
        predict_method="predict_proba",
    )
    optimizer.fit(X, inp.y01, sensitive_features=inp.groups)
    est = GroupThresholdClassifier(
        optimizer.interpolated_thresholder_,
        spec.model_names[inp.column],
        inp.column,
        inp.classes,
        inp.random_state,
    )
    name = f"threshold_optimizer:{constraint}"
    return [_fitted(name, constraint, spec, est, original, {"objective": "accuracy_score"})]


_FITTERS = {
    "reweighing": _reweighing,
    "correlation_remover": _correlation_remover,
    "exponentiated_gradient": _exponentiated_gradient,
    "grid_search": _grid_search,
    "threshold_optimizer": _threshold_optimizer,
}


# -- helpers --------------------------------------------------------------------------------------
def _moment(constraint: str):
    import fairlearn.reductions as red

    return getattr(red, CONSTRAINTS[constraint][0])()


def _prepare(spec: DatasetSpec, data: pd.DataFrame) -> pd.DataFrame:
    return Model(None, spec).prepare(data, where="the training part")


def _pipeline(inp: Inputs, spec: DatasetSpec):
    return build_pipeline(inp.recipe, spec, params=inp.params, quick=inp.quick, random_state=inp.random_state)


def _prep_and_estimator(inp: Inputs):
    """The recipe's preprocessing, fitted, the unfitted estimator, and the transformed training rows."""
    pipe = _pipeline(inp, inp.spec)
    prep = pipe.named_steps["prep"]
    Xt = prep.fit_transform(_prepare(inp.spec, inp.data))
    return prep, pipe.named_steps["model"], Xt


def _serial(est) -> None:
    """One thread per prediction, as training leaves its models (parallel single-row prediction is slow)."""
    for step in getattr(est, "named_steps", {"model": est}).values():
        if getattr(step, "n_jobs", None) not in (None, 1):
            step.set_params(n_jobs=1)


def _fitted(name, constraint, spec, estimator, original: Model, params: dict) -> Fitted:
    method = name.split(":", 1)[0]
    threshold = original.threshold if method in ("reweighing", "correlation_remover") else 0.5
    model = Model(estimator, spec, threshold=threshold, name=name)
    return Fitted(name, method, constraint, model, params)
