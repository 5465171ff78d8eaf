"""The compression techniques: each turns a model into candidate variants, or says why it can't.

A technique returns :class:`Candidate` objects (a model plus how it was made)
or raises :class:`NotApplicable` with a sentence starting "not supported:" (the
model type has nothing this technique works on) or "not applicable:" (it
would be meaningless here). ONNX export is applied by the study to the
original and to every scikit-learn candidate (chaining); the parity gate and
the accuracy budget are judged there, not here.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import DatasetSpec, prepare_frame
from workbench.errors import WorkbenchError
from workbench.modeling.artifact import Model

#: Every technique, in the order the study runs them.
TECHNIQUES = ("onnx", "quantization", "drop_trees", "capacity", "feature_pruning", "distillation")

_FOREST = ("RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor")
_HIST = ("HistGradientBoostingClassifier", "HistGradientBoostingRegressor")
_BOOST = ("GradientBoostingClassifier", "GradientBoostingRegressor")
_TREE = ("DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor")
_IMPORTANCE_ROWS = 2000
_DISTILL_ROWS = 30_000


class NotApplicable(WorkbenchError):
    """A technique does not apply to this model (the message says why)."""


@dataclass
class Candidate:
    """A variant before it is measured."""

    name: str
    technique: str
    parent: str
    model: Model
    exact: bool = False
    params: dict = field(default_factory=dict)


@dataclass
class Context:
    """What the techniques may use: the original, rows to retrain on, rows to judge with."""

    model: Model
    fit: pd.DataFrame  # labelled rows for retraining (original column names)
    y_fit: pd.Series
    holdout: pd.DataFrame
    y_holdout: np.ndarray
    score: Callable[[Any, pd.DataFrame, np.ndarray], float]  # (model, rows, y) -> metric value
    higher_is_better: bool
    random_state: int = 0
    fast: Model | None = None  # an exact, faster stand-in for the original (its ONNX variant)
    quick: bool = False  # fewer rows for importance and students (tests, previews)

    @property
    def teacher(self) -> Model:
        return self.fast or self.model


def family(model: Model) -> str | None:
    """'forest', 'hist_boosting', 'boosting', 'tree' or None for the model's final estimator."""
    name = type(final_estimator(model.estimator)).__name__
    for fam, names in (("forest", _FOREST), ("hist_boosting", _HIST), ("boosting", _BOOST), ("tree", _TREE)):
        if name in names:
            return fam
    return None


def final_estimator(est: Any) -> Any:
    steps = getattr(est, "steps", None)
    return steps[-1][1] if steps else est


# -- techniques -------------------------------------------------------------------
def quantization(ctx: Context) -> list[Candidate]:
    """Linear/MLP weights in int8 through onnxruntime's dynamic quantization."""
    from workbench.compression._onnx_export import NotConvertible, quantize_weights

    model = ctx.model
    if model.estimator is None:
        raise NotApplicable("not supported: only scikit-learn models can be quantized")
    if family(model) is not None:
        raise NotApplicable(
            f"not applicable: {_type(model)} is a tree model; ONNX's tree operators have no "
            "int8 form, so there are no weights to quantize"
        )
    try:
        variant = quantize_weights(
            model, name=f"{model.name}:int8", lineage={"parent": model.name, "technique": "quantization"}
        )
    except NotConvertible as exc:
        raise NotApplicable(str(exc)) from None
    return [
        Candidate(
            "int8",
            "quantization",
            "original",
            variant,
            params={"weights": "int8", "activations": "uint8, quantized per call"},
        )
    ]


def drop_trees(ctx: Context) -> list[Candidate]:
    """Keep the first half and the first quarter of an ensemble's trees (no retraining)."""
    model = ctx.model
    fam = family(model)
    if fam not in ("forest", "hist_boosting", "boosting"):
        raise NotApplicable(
            f"not supported: only tree ensembles (forests, gradient boosting) have trees to drop; "
            f"{_type(model)} has none"
        )
    est = final_estimator(model.estimator)
    n = est.n_iter_ if fam == "hist_boosting" else len(est.estimators_)
    if n < 4:
        raise NotApplicable(f"not applicable: the ensemble has only {n} trees")
    out = []
    for keep in sorted({max(1, round(n / 2)), max(1, round(n / 4))}, reverse=True):
        pipe = copy.deepcopy(model.estimator)
        last = final_estimator(pipe)
        if fam == "forest":
            last.estimators_ = last.estimators_[:keep]
            last.n_estimators = keep
        elif fam == "hist_boosting":  # boosting stages are sequential: the first `keep` are a valid model
            last._predictors = last._predictors[:keep]
        else:
            last.estimators_ = last.estimators_[:keep]
            last.n_estimators = keep
            last.n_estimators_ = keep
            last.train_score_ = last.train_score_[:keep]
        name = f"drop_trees[keep={keep}/{n}]"
        out.append(
            Candidate(
                name,
                "drop_trees",
                "original",
                _derived(model, pipe, name, "drop_trees"),
                params={"kept_trees": keep, "of": n},
            )
        )
    return out


def capacity(ctx: Context) -> list[Candidate]:
    """Retrain with capped capacity: shallower trees, fewer or smaller boosting stages."""
    model = ctx.model
    fam = family(model)
    if fam is None:
        raise NotApplicable(
            f"not supported: capacity pruning caps tree models (forests, gradient boosting, "
            f"decision trees); {_type(model)} has no capacity setting to cap"
        )
    est = final_estimator(model.estimator)
    configs = _capacity_configs(fam, est)
    if not configs:
        raise NotApplicable(f"not applicable: {_type(model)} is already small (nothing left to cap)")
    out = []
    for params in configs:
        label = ",".join(f"{k}={_short(v)}" for k, v in params.items())
        name = f"capacity[{label}]"
        pipe = _refit(model.estimator, params, ctx.fit, ctx.y_fit, model.spec)
        out.append(
            Candidate(
                name, "capacity", "original", _derived(model, pipe, name, "capacity", params), params=params
            )
        )
    return out


def feature_pruning(ctx: Context) -> list[Candidate]:
    """Drop the least important quarter and half of the features, and retrain.

    Importance is scikit-learn's permutation importance on (a sample of) the
    held-out rows, scored with the study's metric through the fastest exact
    stand-in of the original (its ONNX export when it passed parity). The
    same rows then judge the retrained variants; with two candidates the
    selection effect on their figures is small.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.inspection import permutation_importance

    model = ctx.model
    est = model.estimator
    steps = getattr(est, "steps", None)
    if not steps or not isinstance(steps[0][1], ColumnTransformer):
        raise NotApplicable(
            "not supported: feature pruning retrains the pipeline without some columns, which "
            f"needs a Pipeline that starts with a ColumnTransformer ({_type(model, final=False)} "
            "is not one)"
        )
    prep = steps[0][1]
    if any(not _is_name_list(cols) for _, _, cols in prep.transformers):
        raise NotApplicable("not supported: the ColumnTransformer must select its columns by name")
    spec = model.spec
    if len(spec.features) < 3:
        raise NotApplicable(f"not applicable: the model has only {len(spec.features)} features")
    rows = ctx.holdout
    y = ctx.y_holdout
    n_rows = _IMPORTANCE_ROWS // 2 if ctx.quick else _IMPORTANCE_ROWS
    if len(rows) > n_rows:
        idx = np.random.default_rng(ctx.random_state).choice(len(rows), n_rows, replace=False)
        rows, y = rows.iloc[idx], y[idx]
    X = rows[spec.features]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        imp = permutation_importance(
            _Fitted(ctx.teacher),
            X,
            y,
            n_repeats=3,
            random_state=ctx.random_state,
            scoring=lambda m, X_, y_: _signed(ctx, m.model, X_, y_),
        )
    order = np.argsort(imp.importances_mean, kind="stable")  # least important first
    ranked = [spec.features[i] for i in order]
    importance = {spec.features[i]: float(imp.importances_mean[i]) for i in range(len(spec.features))}
    m = len(ranked)
    out = []
    for drop in sorted({max(1, round(m / 4)), max(1, round(m / 2))}):
        dropped = ranked[:drop]
        kept = [c for c in spec.features if c not in dropped]
        reduced = spec.replace(
            features=kept,
            numeric=[c for c in spec.numeric if c in kept],
            categorical=[c for c in spec.categorical if c in kept],
        )
        pipe = _reduced_pipeline(est, spec, reduced)
        X_fit = prepare_frame(ctx.fit, reduced).rename(columns=reduced.model_names)
        _fit(pipe, X_fit, ctx.y_fit)
        name = f"feature_pruning[drop={drop}]"
        params = {"dropped": dropped, "importance": {c: round(importance[c], 6) for c in dropped}}
        variant = _derived(model, pipe, name, "feature_pruning", params, spec=reduced)
        out.append(Candidate(name, "feature_pruning", "original", variant, params=params))
    return out


def distillation(ctx: Context) -> list[Candidate]:
    """Train small students on the teacher's soft labels: a shallow tree and a small boosting model.

    Classifiers: each training row appears once per class, weighted by the
    teacher's probability of that class. For trees this is exactly fitting the
    soft labels (the weighted Gini decrease equals the decrease in squared
    error of the probabilities); for boosting, the weighted log-loss is the
    cross-entropy to the soft labels. Students are plain scikit-learn models
    (saved with skops like any other) on the tree recipe's preprocessing.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.pipeline import Pipeline
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    from workbench.modeling.train import build_pipeline

    model, spec = ctx.model, ctx.model.spec
    fit = ctx.fit
    n_rows = _DISTILL_ROWS // 6 if ctx.quick else _DISTILL_ROWS
    if len(fit) > n_rows:
        fit = fit.sample(n_rows, random_state=ctx.random_state)
    teacher = ctx.teacher
    soft = teacher.predict_proba(fit) if spec.is_classification else teacher.predict(fit).reshape(-1, 1)
    if float(np.ptp(soft, axis=0).max()) < 1e-12:
        raise NotApplicable(
            "not applicable: the model gives every row the same prediction, so there is nothing to distil"
        )
    X = prepare_frame(fit, spec).rename(columns=spec.model_names)
    rs = ctx.random_state
    n_iter = 30 if ctx.quick else 100
    if spec.is_classification:
        students = {
            "tree": DecisionTreeClassifier(max_depth=6, min_samples_leaf=20, random_state=rs),
            "boosting": HistGradientBoostingClassifier(
                max_iter=n_iter, max_leaf_nodes=8, learning_rate=0.2, early_stopping=False, random_state=rs
            ),
        }
        k = soft.shape[1]
        X_fit = pd.concat([X] * k, ignore_index=True)
        y_fit = np.repeat(np.asarray(teacher.classes_, dtype=object), len(X))
        weight = soft.T.reshape(-1)
    else:
        students = {
            "tree": DecisionTreeRegressor(max_depth=6, min_samples_leaf=20, random_state=rs),
            "boosting": HistGradientBoostingRegressor(
                max_iter=n_iter, max_leaf_nodes=8, learning_rate=0.2, early_stopping=False, random_state=rs
            ),
        }
        X_fit, y_fit, weight = X, soft[:, 0], None
    if spec.is_classification and len(set(y_fit[weight > 0])) < 2:
        raise NotApplicable("not applicable: the teacher predicts a single class on every training row")
    out = []
    for kind, student in students.items():
        prep = build_pipeline("random_forest", spec).steps[0][1]  # imputer + ordinal encoder
        pipe = Pipeline([("prep", prep), ("model", student)])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe.fit(X_fit, y_fit, model__sample_weight=weight)
        if spec.is_classification and list(pipe.classes_) != list(teacher.classes_):
            continue  # a class the teacher never gives weight to: the student cannot stand in for it
        label = "tree,depth=6" if kind == "tree" else f"boosting,{n_iter}x8"
        name = f"distill[{label}]"
        params = {
            "student": type(student).__name__,
            **{
                k: v
                for k, v in student.get_params().items()
                if k in ("max_depth", "max_iter", "max_leaf_nodes", "learning_rate", "min_samples_leaf")
            },
        }
        out.append(
            Candidate(
                name,
                "distillation",
                "original",
                _derived(model, pipe, name, "distillation", params),
                params=params,
            )
        )
    return out


# -- helpers ------------------------------------------------------------------------
def _capacity_configs(fam: str, est: Any) -> list[dict]:
    if fam == "forest":
        n = est.n_estimators
        fewer = max(10, n // 2) if n > 10 else n
        caps = [12, 8]
        return [
            {"max_depth": d, "n_estimators": fewer}
            for d in caps
            if est.max_depth is None or est.max_depth > d
        ]
    if fam == "hist_boosting":
        leaves = est.max_leaf_nodes or 31
        lr = min(0.3, 2 * est.learning_rate)
        configs = []
        for cap in sorted({max(3, leaves // 2), max(3, leaves // 4)}, reverse=True):
            if cap < leaves:
                cfg = {"max_leaf_nodes": cap, "learning_rate": lr}
                if not est.do_early_stopping_:
                    cfg["max_iter"] = max(10, est.n_iter_ // 2)
                configs.append(cfg)
        return configs
    if fam == "boosting":
        depth = est.max_depth or 3
        base = {
            "n_estimators": max(10, est.n_estimators_ // 2),
            "learning_rate": min(1.0, 2 * est.learning_rate),
        }
        configs = [base] if est.n_estimators_ > 10 else []
        if depth > 1:
            configs.append({**base, "max_depth": depth - 1})
        return configs
    depth = est.get_depth()
    return [{"max_depth": d} for d in sorted({min(depth - 1, 12), min(depth - 1, 6)}, reverse=True) if d >= 1]


def _refit(est: Any, params: dict, fit: pd.DataFrame, y: pd.Series, spec: DatasetSpec) -> Any:
    from sklearn.base import clone

    pipe = clone(est)
    last = final_estimator(pipe)
    last.set_params(**params)
    X = prepare_frame(fit, spec).rename(columns=spec.model_names)
    _fit(pipe, X, y)
    return pipe


def _fit(pipe: Any, X: pd.DataFrame, y: pd.Series) -> None:
    last = final_estimator(pipe)
    parallel = "n_jobs" in last.get_params()
    if parallel:
        last.set_params(n_jobs=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(X, y)
    if parallel:  # parallel prediction of a single row costs far more than it saves (see train.py)
        last.set_params(n_jobs=1)


def _reduced_pipeline(est: Any, spec: DatasetSpec, reduced: DatasetSpec) -> Any:
    """An unfitted clone of `est` whose ColumnTransformer only selects `reduced`'s features."""
    from sklearn.base import clone

    old, new = spec.model_names, reduced.model_names
    remap = {old[c]: new[c] for c in reduced.features}
    pipe = clone(est)
    prep = pipe.steps[0][1]
    transformers = []
    for name, trans, cols in prep.transformers:
        kept = [remap[c] for c in cols if c in remap]
        if kept:
            transformers.append((name, trans, kept))
    prep.set_params(transformers=transformers)
    return pipe


def _derived(
    model: Model,
    estimator: Any,
    name: str,
    technique: str,
    params: dict | None = None,
    spec: DatasetSpec | None = None,
) -> Model:
    meta = {
        k: v
        for k, v in model.meta.items()
        if k in ("recipe", "params", "imbalance", "cost", "training_data", "profile")
    }
    if params and technique in ("capacity",):
        meta["params"] = {**(meta.get("params") or {}), **params}
    meta["lineage"] = {"parent": model.name, "technique": technique, "params": params or {}}
    return Model(
        estimator, spec or model.spec, threshold=model.threshold, meta=meta, name=f"{model.name}:{name}"
    )


def _signed(ctx: Context, model: Any, X: pd.DataFrame, y: np.ndarray) -> float:
    """The metric with 'higher is better' for permutation importance."""
    value = ctx.score(model, X, y)
    return value if ctx.higher_is_better else -value


class _Fitted:
    """A fitted model in the shape scikit-learn's inspection tools check for (they only call `scoring`)."""

    def __init__(self, model: Model):
        self.model = model

    def fit(self, *_args, **_kwargs):  # pragma: no cover - never called on a fitted model
        return self


def _is_name_list(cols: Any) -> bool:
    return isinstance(cols, list | tuple) and all(isinstance(c, str) for c in cols)


def _type(model: Model, final: bool = True) -> str:
    est = model.estimator
    return type(final_estimator(est) if final else est).__name__


def _short(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)
