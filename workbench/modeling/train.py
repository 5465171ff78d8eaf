"""Training: recipes as scikit-learn Pipelines built from the spec, a leaderboard, a champion."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench import _html
from workbench.data._spec import DatasetSpec, prepare_frame, target_values
from workbench.data.io import fingerprint
from workbench.errors import DataError, ParameterError, RecipeError, SpecError, UnknownNameError
from workbench.metrics import (
    MODEL_CLASSIFICATION_METRICS,
    MODEL_REGRESSION_METRICS,
    classification_metrics,
    regression_metrics,
)
from workbench.modeling.artifact import Model, serialized_size
from workbench.modeling.evaluate import CostMatrix, measure_latency
from workbench.results import name_list
from workbench.validation import check_choice, check_columns, check_number, check_path

IMBALANCE = ("none", "class_weight", "smote", "threshold")
#: The leaderboard's columns after the candidate's name (and the selection metric, first): what the CLI prints
#: and the panels show, from :meth:`TrainingResult.leaderboard_text` and :meth:`TrainingResult._repr_html_`.
LEADERBOARD_COLUMNS = (
    "roc_auc",
    "pr_auc",
    "accuracy",
    "f1_macro",
    "log_loss",
    "cost",
    "rmse",
    "r2",
    "mae",
    "fit_time_s",
    "size_bytes",
    "latency_p50_us",
)
LOWER_IS_BETTER = {"cost", "cost_per_row", "log_loss", "brier", "rmse", "mae", "median_abs_error"}


@dataclass(frozen=True)
class Recipe:
    """A model family: how to preprocess (from the spec) and which estimator to fit."""

    name: str
    family: str
    tasks: tuple[str, ...]
    description: str


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in [
        Recipe(
            "logistic_regression",
            "linear",
            ("binary", "multiclass"),
            "L2-regularised logistic regression on scaled numerics and one-hot categoricals",
        ),
        Recipe(
            "ridge", "linear", ("regression",), "ridge regression on scaled numerics and one-hot categoricals"
        ),
        Recipe(
            "random_forest",
            "forest",
            ("binary", "multiclass", "regression"),
            "random forest (200 trees, min 2 rows per leaf) on ordinal-encoded categoricals",
        ),
        Recipe(
            "hist_gradient_boosting",
            "boosting",
            ("binary", "multiclass", "regression"),
            "histogram gradient boosting with early stopping and L2 regularisation",
        ),
    ]
}
_ALIASES = {
    "linear": {"regression": "ridge", "*": "logistic_regression"},
    "logistic": {"*": "logistic_regression"},
    "rf": {"*": "random_forest"},
    "hgb": {"*": "hist_gradient_boosting"},
    "gbm": {"*": "hist_gradient_boosting"},
}


def default_recipes(task: str) -> list[str]:
    return [
        "ridge" if task == "regression" else "logistic_regression",
        "random_forest",
        "hist_gradient_boosting",
    ]


@dataclass(frozen=True)
class Candidate:
    """One trained candidate and its figures on the validation data."""

    name: str
    recipe: str
    model: Model
    metrics: dict
    fit_time_s: float
    size_bytes: int
    latency_p50_us: float
    latency_p95_us: float
    params: dict = field(default_factory=dict)
    search: list = field(default_factory=list)

    def row(self) -> dict:
        return {
            "name": self.name,
            "recipe": self.recipe,
            **self.metrics,
            "fit_time_s": self.fit_time_s,
            "size_bytes": self.size_bytes,
            "latency_p50_us": self.latency_p50_us,
            "latency_p95_us": self.latency_p95_us,
            "threshold": self.model.threshold,
        }


@dataclass(frozen=True)
class TrainingResult:
    """Candidates side by side and the champion (best by `select_by` on validation data)."""

    candidates: list[Candidate]
    champion_name: str
    select_by: str
    spec: DatasetSpec
    validation: dict
    imbalance: str = "none"
    cost: dict | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def champion(self) -> Model:
        return self[self.champion_name].model

    def __getitem__(self, name: str) -> Candidate:
        for c in self.candidates:
            if c.name == name:
                return c
        raise UnknownNameError(
            f"no candidate '{name}'; the candidates are {name_list(c.name for c in self.candidates)}"
        )

    def leaderboard(self) -> pd.DataFrame:
        """One row per candidate, best first."""
        df = pd.DataFrame([c.row() for c in self.candidates]).set_index("name")
        asc = self.select_by in LOWER_IS_BETTER
        return df.sort_values(self.select_by, ascending=asc, na_position="last")

    def leaderboard_text(self) -> str:
        """The leaderboard as a fixed-width text table, the champion marked with ``*`` (what the CLI prints)."""
        lb = self.leaderboard()
        cols = [c for c in LEADERBOARD_COLUMNS if c in lb.columns]
        view = lb[cols].copy()
        view.index.name = None  # no stray 'name' header row in the printout
        view.insert(0, "", ["*" if n == self.champion_name else "" for n in view.index])
        fmt = {
            c: (lambda v: f"{v:,.0f}") if c in ("size_bytes", "latency_p50_us") else (lambda v: f"{v:.4f}")
            for c in cols
        }
        fmt["fit_time_s"] = lambda v: f"{v:.1f}"
        return view.to_string(formatters=fmt, na_rep="—")

    def to_dict(self) -> dict:
        return {
            "kind": "training",
            "champion": self.champion_name,
            "select_by": self.select_by,
            "task": self.spec.task,
            "spec": self.spec.to_dict(),
            "validation": self.validation,
            "imbalance": self.imbalance,
            "cost": self.cost,
            "notes": self.notes,
            "candidates": [{**c.row(), "params": c.params} for c in self.candidates],
        }

    def figure(self):
        from workbench.viz import leaderboard_figure

        return leaderboard_figure([c.row() for c in self.candidates], self.select_by, self.champion_name)

    def _repr_html_(self) -> str:
        """The leaderboard card (best first, the champion highlighted): the notebook's view and the Train panel's."""
        board = self.leaderboard().reset_index()
        rows = [{**r, "champion": r["name"] == self.champion_name} for r in board.to_dict("records")]
        cols = [
            c for c in ("name", *dict.fromkeys([self.select_by, *LEADERBOARD_COLUMNS])) if c in board.columns
        ]
        body = _html.table(rows, cols, highlight="champion")
        notes = "".join(f"<li>{_html.esc(n)}</li>" for n in self.notes)
        body += f"<ul style='color:#57606a'>{notes}</ul>" if notes else ""
        return _html.card(
            f"Leaderboard — champion: {self.champion_name}",
            body,
            f"{self.spec.task}; validation: {self.validation.get('source')} "
            f"({self.validation.get('rows'):,} rows); best by {self.select_by}",
        )


def train(
    data: pd.DataFrame,
    spec: DatasetSpec,
    *,
    recipes: Sequence[str] | None = None,
    imbalance: str = "none",
    cost: CostMatrix | Mapping[str, float] | None = None,
    search: bool = False,
    n_iter: int = 8,
    validation: pd.DataFrame | None = None,
    validation_size: float = 0.2,
    select_by: str | None = None,
    quick: bool = False,
    random_state: int = 0,
    progress: bool = True,
) -> TrainingResult:
    """Train candidate pipelines and pick a champion.

    Parameters
    ----------
    data : the training table (features and target, original column names).
    spec : its column roles (see :func:`workbench.infer_spec`).
    recipes : names from :data:`RECIPES` (default: the three families for the task).
    imbalance : ``"none"``, ``"class_weight"``, ``"smote"`` (imbalanced-learn;
        the sampler is used in training only, never saved with the model) or
        ``"threshold"`` (tune the decision threshold on cross-validation for
        the minimum `cost`, or the best F1 without one; stored as metadata).
    cost : a cost matrix for binary tasks, e.g. ``{"fn": 10, "fp": 1}``.
    search : randomised hyperparameter search (3-fold CV, `n_iter` settings).
    validation : held-out table for the leaderboard; default: a stratified
        `validation_size` split of `data` (the models are fit on the rest).
    select_by : leaderboard metric for the champion (default ``cost`` when a
        cost matrix is given, else ``roc_auc``; ``rmse`` for regression).
    quick : smaller ensembles, for tests and previews.
    """
    from tqdm.auto import tqdm

    if spec.target is None or spec.task is None:
        raise SpecError("training needs a spec with a target column")
    recipes = resolve_recipes(recipes, spec.task)
    check_choice(imbalance, "imbalance strategy", IMBALANCE)
    n_iter = check_number(n_iter, "n_iter", low=1, integer=True, hint="settings tried per recipe")
    validation_size = check_number(
        validation_size, "validation_size", low=0, high=1, low_open=True, high_open=True
    )
    random_state = check_number(random_state, "random_state", low=0, high=2**32 - 1, integer=True)
    if imbalance != "none" and spec.task == "regression":
        raise ParameterError(f"the imbalance strategy '{imbalance}' only applies to classification")
    if imbalance == "threshold" and spec.task != "binary":
        raise ParameterError("threshold tuning only applies to binary classification")
    cost_m = CostMatrix.coerce(cost)
    if cost_m is not None and spec.task != "binary":
        raise ParameterError("a cost matrix only applies to binary classification")
    if select_by is None:
        select_by = "rmse" if spec.task == "regression" else ("cost" if cost_m else "roc_auc")

    notes: list[str] = [f"column '{c}' left out: {why}" for c, why in spec.excluded.items()]
    X, y, dropped = _xy(data, spec, "the training data")
    if dropped:
        notes.append(f"{dropped:,} training rows without a target value were left out")
    _check_trainable(y, spec, "the training data")
    if validation is not None:
        X_val, y_val, _ = _xy(validation, spec, "the validation data")
        val_info = {"source": "given validation table", "rows": int(len(y_val))}
        X_fit, y_fit = X, y
    else:
        from sklearn.model_selection import train_test_split

        strat = y if spec.is_classification and y.value_counts().min() >= 2 else None
        X_fit, X_val, y_fit, y_val = train_test_split(
            X, y, test_size=validation_size, random_state=random_state, stratify=strat
        )
        val_info = {
            "source": f"{validation_size:.0%} held out from the training data",
            "rows": int(len(y_val)),
        }
    _check_trainable(y_fit, spec, "the training part of the data")
    val_raw = validation if validation is not None else data.loc[X_val.index]
    fp = fingerprint(data)

    candidates: list[Candidate] = []
    names = _unique_names(recipes)
    bar = tqdm(list(zip(names, recipes, strict=True)), desc="training", disable=not progress, unit="model")
    for name, recipe in bar:
        bar.set_postfix_str(name)
        params: dict = {}
        trials: list = []
        if search:
            params, trials = _search(
                recipe, spec, imbalance, cost_m, X_fit, y_fit, n_iter, quick, random_state, progress
            )
        t0 = time.perf_counter()
        estimator, threshold = _fit(
            recipe, spec, imbalance, cost_m, X_fit, y_fit, params, quick, random_state
        )
        fit_time = time.perf_counter() - t0
        meta = {
            "recipe": recipe,
            "params": params,
            "imbalance": imbalance,
            "cost": cost_m.to_dict() if cost_m else None,
            "training_data": fp,
            "trained_rows": int(len(y_fit)),
        }
        model = Model(estimator, spec, threshold=threshold, meta=meta, name=name)
        metrics = _metrics(model, val_raw, y_val.to_numpy(), cost_m)
        model.meta["metrics"] = metrics
        lat = measure_latency(model, val_raw, n_single=100, batch_rows=5000)
        candidates.append(
            Candidate(
                name,
                recipe,
                model,
                metrics,
                round(fit_time, 3),
                serialized_size(model),
                round(lat["p50_us"], 1),
                round(lat["p95_us"], 1),
                params,
                trials,
            )
        )
    champion = _pick(candidates, select_by)
    return TrainingResult(
        candidates,
        champion,
        select_by,
        spec,
        val_info,
        imbalance,
        cost_m.to_dict() if cost_m else None,
        notes,
    )


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

    Loads `data` (and `validation`), infers the spec, calls :func:`train`
    and saves the champion with :func:`~workbench.modeling.artifact.save_model`.
    The destination and the options are checked before any table is read.

    Parameters
    ----------
    data : the training table: a CSV or Parquet path, or a DataFrame.
    target : the column to predict.
    out : where to save the champion (a file such as ``champion.wbm``, or a folder).
    validation : a held-out table for the leaderboard (default: 20% of `data`).
    sensitive, sensitive_as_features, task, positive : passed to :func:`~workbench.data.infer_spec`.
    drop : columns of `data` that are not to be features.
    recipes, imbalance, cost, search, n_iter, quick, random_state, progress :
        passed to :func:`train`.
    overwrite : replace a model already at `out` (never anything else).

    Returns
    -------
    result : TrainingResult
        The leaderboard and the champion.
    model_path : pathlib.Path
        Where the champion was saved.

    Examples
    --------
    >>> result, path = train_from_files("train.csv", "income", out="champion.wbm", quick=True)  # doctest: +SKIP
    >>> result.champion_name, path                                                             # doctest: +SKIP
    ('hist_gradient_boosting', PosixPath('champion.wbm'))
    """
    from workbench.data._spec import infer_spec
    from workbench.data.io import load_table
    from workbench.modeling.artifact import check_model_destination, save_model

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


def resolve_recipes(recipes: Sequence[str] | str | None, task: str) -> list[str]:
    """Recipe names checked against the task (aliases such as ``linear`` resolved)."""
    if recipes is None:
        return default_recipes(task)
    if isinstance(recipes, str):
        recipes = [recipes]
    out = []
    for r in recipes:
        key = r.strip().lower().replace("-", "_")
        if key in _ALIASES:
            key = _ALIASES[key].get(task, _ALIASES[key]["*"])
        if key not in RECIPES:
            raise RecipeError(f"unknown recipe '{r}'; choose from {', '.join(RECIPES)}")
        if task not in RECIPES[key].tasks:
            alt = "ridge" if key == "logistic_regression" else "logistic_regression"
            raise RecipeError(f"the recipe '{key}' does not do {task}; use '{alt}' instead")
        out.append(key)
    if not out:
        raise RecipeError("no recipe given")
    return out


def build_pipeline(
    recipe: str,
    spec: DatasetSpec,
    *,
    imbalance: str = "none",
    params: Mapping | None = None,
    quick: bool = False,
    random_state: int = 0,
):
    """The (unfitted) preprocessing + estimator pipeline for a recipe, on safe column names."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    names = spec.model_names
    num = [names[c] for c in spec.numeric]
    cat = [names[c] for c in spec.categorical]
    family = RECIPES[recipe].family
    transformers = []
    if family == "linear":
        if num:
            transformers.append(
                (
                    "num",
                    Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]),
                    num,
                )
            )
        if cat:
            transformers.append(("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), cat))
    else:
        if num:
            transformers.append(("num", SimpleImputer(strategy="median"), num))
        if cat:
            transformers.append(
                (
                    "cat",
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, dtype=np.float64),
                    cat,
                )
            )
    prep = ColumnTransformer(transformers, remainder="drop", verbose_feature_names_out=False)
    est = _estimator(recipe, spec.task, imbalance, quick, random_state)
    if params:
        est.set_params(**params)
    return Pipeline([("prep", prep), ("model", est)])


# -- internals ----------------------------------------------------------------------
def _estimator(recipe: str, task: str, imbalance: str, quick: bool, rs: int):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
        RandomForestClassifier,
        RandomForestRegressor,
    )
    from sklearn.linear_model import LogisticRegression, Ridge

    cw = imbalance == "class_weight"
    if recipe == "logistic_regression":
        return LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced" if cw else None)
    if recipe == "ridge":
        return Ridge(alpha=1.0)
    n_trees = 60 if quick else 200
    if recipe == "random_forest":
        if task == "regression":
            return RandomForestRegressor(
                n_estimators=n_trees, min_samples_leaf=2, max_features=0.5, n_jobs=-1, random_state=rs
            )
        return RandomForestClassifier(
            n_estimators=n_trees,
            min_samples_leaf=2,
            max_features="sqrt",
            n_jobs=-1,
            class_weight="balanced_subsample" if cw else None,
            random_state=rs,
        )
    common = dict(
        learning_rate=0.08,
        max_iter=150 if quick else 500,
        max_leaf_nodes=31,
        min_samples_leaf=20,
        l2_regularization=1.0,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        random_state=rs,
    )
    if task == "regression":
        return HistGradientBoostingRegressor(**common)
    return HistGradientBoostingClassifier(**common, class_weight="balanced" if cw else None)


def _search_space(recipe: str) -> dict:
    from scipy.stats import loguniform

    return {
        "logistic_regression": {"C": loguniform(1e-3, 1e2)},
        "ridge": {"alpha": loguniform(1e-3, 1e2)},
        "random_forest": {
            "min_samples_leaf": [1, 2, 5, 10],
            "max_depth": [None, 12, 20],
            "max_features": ["sqrt", 0.3, 0.5],
        },
        "hist_gradient_boosting": {
            "learning_rate": loguniform(0.02, 0.3),
            "max_leaf_nodes": [15, 31, 63],
            "min_samples_leaf": [10, 20, 50],
            "l2_regularization": loguniform(1e-3, 10),
        },
    }[recipe]


def _scoring(spec: DatasetSpec) -> str:
    return {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "neg_root_mean_squared_error"}[
        spec.task
    ]


def _search(recipe, spec, imbalance, cost_m, X, y, n_iter, quick, rs, progress):
    """Randomised search with 3-fold CV; one progress step per setting tried."""
    from sklearn.model_selection import ParameterSampler, cross_val_score
    from tqdm.auto import tqdm

    settings = list(ParameterSampler(_search_space(recipe), n_iter=n_iter, random_state=rs))
    trials = []
    for params in tqdm(settings, desc=f"search {recipe}", disable=not progress, leave=False, unit="setting"):
        pipe = _trainable(recipe, spec, imbalance, params, quick, rs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scores = cross_val_score(pipe, X, y, cv=3, scoring=_scoring(spec), n_jobs=1)
        trials.append({"params": _jsonable(params), "score": float(np.mean(scores))})
    best = max(range(len(trials)), key=lambda i: trials[i]["score"])
    return settings[best], trials


def _trainable(recipe, spec, imbalance, params, quick, rs):
    """The pipeline to fit: with a SMOTE step when asked (dropped again before saving)."""
    pipe = build_pipeline(recipe, spec, imbalance=imbalance, params=params, quick=quick, random_state=rs)
    if imbalance != "smote":
        return pipe
    from imblearn.over_sampling import SMOTE, SMOTENC
    from imblearn.pipeline import Pipeline as ImbPipeline

    n_num, n_cat = len(spec.numeric), len(spec.categorical)
    if RECIPES[recipe].family != "linear" and n_cat and n_num:
        sampler = SMOTENC(categorical_features=list(range(n_num, n_num + n_cat)), random_state=rs)
    else:
        sampler = SMOTE(random_state=rs)
    return ImbPipeline(
        [("prep", pipe.named_steps["prep"]), ("sampler", sampler), ("model", pipe.named_steps["model"])]
    )


def _fit(recipe, spec, imbalance, cost_m, X, y, params, quick, rs):
    from sklearn.pipeline import Pipeline

    pipe = _trainable(recipe, spec, imbalance, params, quick, rs)
    threshold = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)
        if imbalance == "threshold":
            from sklearn.metrics import f1_score, make_scorer
            from sklearn.model_selection import TunedThresholdClassifierCV

            pos = spec.positive_label
            if cost_m is not None:
                scorer = make_scorer(_negative_cost, cost=cost_m, pos_label=pos)
            else:
                scorer = make_scorer(f1_score, pos_label=pos)
            tuned = TunedThresholdClassifierCV(pipe, scoring=scorer, cv=3, refit=True, random_state=rs)
            tuned.fit(X, y)
            pipe, threshold = tuned.estimator_, float(tuned.best_threshold_)
        else:
            pipe.fit(X, y)
    if imbalance == "smote":  # the sampler is for training only: save prep + model
        pipe = Pipeline([("prep", pipe.named_steps["prep"]), ("model", pipe.named_steps["model"])])
    est = pipe.named_steps["model"]
    if getattr(est, "n_jobs", None) not in (None, 1):
        # parallel fitting pays; parallel prediction of a single row costs ~80 ms of thread start-up
        est.set_params(n_jobs=1)
    return pipe, threshold


def _negative_cost(y_true, y_pred, *, cost: CostMatrix, pos_label) -> float:
    yt, yp = np.asarray(y_true) == pos_label, np.asarray(y_pred) == pos_label
    return -float(cost.total(np.sum(yt & yp), np.sum(~yt & yp), np.sum(yt & ~yp), np.sum(~yt & ~yp)))


def _metrics(model: Model, val_raw: pd.DataFrame, y_val: np.ndarray, cost_m) -> dict:
    if model.task == "regression":
        return {
            k: v
            for k, v in regression_metrics(y_val, model.predict(val_raw)).items()
            if k in MODEL_REGRESSION_METRICS
        }
    proba = model.predict_proba(val_raw)
    m, _ = classification_metrics(
        y_val, proba, model.classes_, model.task, model.spec.positive_label, model.threshold, cost_m
    )
    keep = (*MODEL_CLASSIFICATION_METRICS, "cost")
    return {k: m[k] for k in keep if k in m}


def _pick(candidates: list[Candidate], metric: str) -> str:
    if metric not in candidates[0].metrics:
        raise RecipeError(
            f"cannot select by '{metric}': the candidates have {', '.join(candidates[0].metrics)}"
        )
    scored = [c for c in candidates if c.metrics.get(metric) is not None]
    if not scored:
        return candidates[0].name
    sign = 1 if metric in LOWER_IS_BETTER else -1
    return min(scored, key=lambda c: sign * c.metrics[metric]).name


def _xy(data: pd.DataFrame, spec: DatasetSpec, where: str) -> tuple[pd.DataFrame, pd.Series, int]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame")
    y = target_values(data, spec, where=where)
    keep = y.notna()
    dropped = int((~keep).sum())
    X = prepare_frame(data.loc[keep], spec, where=where).rename(columns=spec.model_names)
    return X, y[keep], dropped


def _check_trainable(y: pd.Series, spec: DatasetSpec, where: str) -> None:
    if len(y) < 10:
        raise DataError(f"{where} has only {len(y)} rows with a target value; at least 10 are needed")
    if spec.is_classification:
        counts = y.value_counts()
        if len(counts) < 2:
            raise DataError(
                f"the target column '{spec.target}' in {where} has a single class "
                f"({counts.index[0]!r}); a classifier needs at least two"
            )


def _unique_names(recipes: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for r in recipes:
        seen[r] = seen.get(r, 0) + 1
        out.append(r if seen[r] == 1 else f"{r}-{seen[r]}")
    return out


def _jsonable(d: Mapping) -> dict:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in d.items()}
