"""Training: recipes as scikit-learn Pipelines built from the spec, a leaderboard, a champion.

:func:`train` fits each recipe and picks the champion. The recipes and their
pipelines are in ``_recipes``, the result (:class:`TrainingResult`, the
leaderboard) in ``_leaderboard``, :func:`train_from_files` (what ``workbench
train`` does) in ``_train_files``; all are imported from here.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.data._profile import feature_profile
from workbench.data._spec import DatasetSpec, prepare_frame, target_values
from workbench.data.io import fingerprint
from workbench.errors import DataError, ParameterError, RecipeError, SpecError
from workbench.metrics import (
    MODEL_CLASSIFICATION_METRICS,
    MODEL_REGRESSION_METRICS,
    classification_metrics,
    regression_metrics,
)
from workbench.modeling._leaderboard import LEADERBOARD_COLUMNS, LOWER_IS_BETTER, Candidate, TrainingResult
from workbench.modeling._recipes import (
    RECIPES,
    Recipe,
    build_pipeline,
    default_recipes,
    resolve_recipes,
    search_space,
)
from workbench.modeling._train_files import train_from_files
from workbench.modeling.artifact import Model, serialized_size
from workbench.modeling.evaluate import CostMatrix, measure_latency
from workbench.validation import check_choice, check_number

__all__ = [
    "IMBALANCE",
    "LEADERBOARD_COLUMNS",
    "LOWER_IS_BETTER",
    "RECIPES",
    "Candidate",
    "Recipe",
    "TrainingResult",
    "build_pipeline",
    "default_recipes",
    "resolve_recipes",
    "train",
    "train_from_files",
]

#: The imbalance strategies :func:`train` takes.
IMBALANCE = ("none", "class_weight", "smote", "threshold")


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
    settings: Mapping[str, Mapping] | None = None,
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
    random_state : seed of every random step (split, search, estimators).
    progress : show a progress bar (``tqdm.auto``).
    settings : fixed hyperparameters per recipe, ``{recipe: {name: value}}`` (what a model's
        ``meta.json`` records as ``params``: a retrain reuses its champion's); `search` replaces them.

    Returns
    -------
    TrainingResult
        Every candidate with its validation metrics, size and latency, and the champion.

    Raises
    ------
    SpecError
        The spec has no target.
    RecipeError
        An unknown recipe, one that does not do the task, or a `select_by`
        metric the candidates do not have.
    ParameterError
        A bad option, or one that does not apply to the task (a cost matrix,
        an imbalance strategy).
    DataError
        Too few rows with a target value, or a single class.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> demo = load_demo("adult")
    >>> result = train(demo.train.sample(2000, random_state=0), demo.spec,
    ...                recipes=["logistic_regression"], quick=True, progress=False)
    >>> result.champion_name, result.select_by, result.champion.task
    ('logistic_regression', 'roc_auc', 'binary')
    >>> 0.8 < result["logistic_regression"].metrics["roc_auc"] <= 1
    True
    >>> result.leaderboard().index.tolist(), result.leaderboard().columns[:2].tolist()
    (['logistic_regression'], ['recipe', 'roc_auc'])
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
    profile = feature_profile(data, spec)  # what a serving guard checks records against

    candidates: list[Candidate] = []
    names = _unique_names(recipes)
    bar = tqdm(list(zip(names, recipes, strict=True)), desc="training", disable=not progress, unit="model")
    for name, recipe in bar:
        bar.set_postfix_str(name)
        params: dict = dict((settings or {}).get(recipe) or {})
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
            "profile": profile,
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


# -- internals ----------------------------------------------------------------------
def _scoring(spec: DatasetSpec) -> str:
    return {"binary": "roc_auc", "multiclass": "neg_log_loss", "regression": "neg_root_mean_squared_error"}[
        spec.task
    ]


def _search(recipe, spec, imbalance, cost_m, X, y, n_iter, quick, rs, progress):
    """Randomised search with 3-fold CV; one progress step per setting tried."""
    from sklearn.model_selection import ParameterSampler, cross_val_score
    from tqdm.auto import tqdm

    settings = list(ParameterSampler(search_space(recipe), n_iter=n_iter, random_state=rs))
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
