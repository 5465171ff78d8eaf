"""The recipes training fits: model families, their names and aliases, and the pipeline each builds.

Private: import the public names from :mod:`workbench.modeling.train`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.data._spec import DatasetSpec
from workbench.errors import RecipeError


@dataclass(frozen=True)
class Recipe:
    """A model family: how to preprocess (from the spec) and which estimator to fit.

    Attributes
    ----------
    name : str
        The recipe's name, a key of :data:`RECIPES`.
    family : str
        ``"linear"`` (scaled numerics, one-hot categoricals), ``"forest"`` or
        ``"boosting"`` (ordinal-encoded categoricals).
    tasks : tuple of str
        The tasks it does: ``"binary"``, ``"multiclass"``, ``"regression"``.
    description : str
        One line for the CLI's and the panels' lists.
    """

    name: str
    family: str
    tasks: tuple[str, ...]
    description: str


#: The recipes by name.
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
    """The recipes trained when none are named: one of each family for the task.

    Parameters
    ----------
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.

    Returns
    -------
    list of str
        Recipe names (keys of :data:`RECIPES`).
    """
    return [
        "ridge" if task == "regression" else "logistic_regression",
        "random_forest",
        "hist_gradient_boosting",
    ]


def resolve_recipes(recipes: Sequence[str] | str | None, task: str) -> list[str]:
    """Recipe names checked against the task (aliases such as ``linear`` resolved).

    Parameters
    ----------
    recipes : sequence of str, str or None
        Names or aliases (``linear``, ``logistic``, ``rf``, ``hgb``, ``gbm``),
        in any case, with ``-`` or ``_``; None for :func:`default_recipes`.
    task : str
        The task the recipes must do.

    Returns
    -------
    list of str
        Keys of :data:`RECIPES`, in the order given.

    Raises
    ------
    RecipeError
        A name is unknown, a recipe does not do the task, or none is given.

    Examples
    --------
    >>> resolve_recipes(["linear", "rf"], "regression")
    ['ridge', 'random_forest']
    """
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
    """The (unfitted) preprocessing + estimator pipeline for a recipe, on safe column names.

    Parameters
    ----------
    recipe : str
        A key of :data:`RECIPES`.
    spec : DatasetSpec
        The column roles; the pipeline reads the columns by their model names
        (``spec.model_names``).
    imbalance : str
        ``"class_weight"`` weighs the classes in the estimator; the other
        strategies leave it as it is (see :func:`~workbench.modeling.train.train`).
    params : mapping, optional
        Estimator parameters set over the recipe's defaults.
    quick : bool
        Smaller ensembles, for tests and previews.
    random_state : int
        Seed of every random step.

    Returns
    -------
    sklearn.pipeline.Pipeline
        Steps ``prep`` (a ColumnTransformer) and ``model``.
    """
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


def search_space(recipe: str) -> dict:
    """The hyperparameter distributions a randomised search draws from, for a recipe."""
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
