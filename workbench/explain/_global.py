"""Global explanations computed: permutation importance, partial dependence/ICE, surrogate tree.

scikit-learn is imported inside the functions. Every model call goes through
the workbench model's DataFrame interface (original column names), so the same
code explains scikit-learn pipelines and ONNX variants alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import MISSING, prepare_frame
from workbench.errors import WorkbenchError
from workbench.explain._global_results import (
    ImportanceResult,
    PartialDependenceResult,
    SurrogateResult,
)
from workbench.explain._lime import _num, limited_threads

#: scoring name -> (higher is better, tasks)
SCORINGS = {
    "roc_auc": (True, ("binary",)),
    "accuracy": (True, ("binary", "multiclass")),
    "log_loss": (False, ("binary", "multiclass")),
    "r2": (True, ("regression",)),
    "rmse": (False, ("regression",)),
    "mae": (False, ("regression",)),
}
DEFAULT_SCORING = {"binary": "roc_auc", "multiclass": "accuracy", "regression": "r2"}


class _AsEstimator:
    """The workbench model seen as a fitted scikit-learn estimator (permutation_importance asks for `fit`)."""

    def __init__(self, model: Any):
        self.model = model

    def fit(self, X, y=None):  # never called: the model is already trained
        return self

    def predict(self, X):
        return self.model.predict(X)

    def predict_proba(self, X):
        return self.model.predict_proba(X)


def permutation_importance(
    model,
    X: pd.DataFrame,
    y: np.ndarray,
    *,
    scoring: str,
    n_repeats: int,
    random_state: int,
    threads: int | None,
) -> ImportanceResult:
    from sklearn.inspection import permutation_importance as sk_permutation_importance

    scorer = _scorer(model, scoring)
    with limited_threads(threads):
        r = sk_permutation_importance(
            _AsEstimator(model),
            X,
            y,
            scoring=scorer,
            n_repeats=n_repeats,
            random_state=random_state,
            n_jobs=1,
        )
        baseline = scorer(_AsEstimator(model), X, y)
    higher = SCORINGS[scoring][0]
    sign = 1.0 if higher else -1.0
    rows = [
        {"feature": c, "importance_mean": float(m), "importance_std": float(s)}
        for c, m, s in zip(X.columns, r.importances_mean, r.importances_std, strict=True)
    ]
    rows.sort(key=lambda f: -f["importance_mean"])
    return ImportanceResult(
        getattr(model, "name", "model"),
        model.spec.task,
        scoring,
        float(sign * baseline),
        rows,
        int(n_repeats),
        int(len(X)),
        int(random_state),
    )


def _scorer(model, scoring: str):
    """A scikit-learn scorer (estimator, X, y) -> score, higher is better.

    It scores through the model's DataFrame interface.
    """
    spec = model.spec

    def score(est, X, y):
        if scoring == "roc_auc":
            from sklearn.metrics import roc_auc_score

            return roc_auc_score(np.asarray(y) == spec.positive_label, model.predict_score(X))
        if scoring == "accuracy":
            return float(np.mean(model.predict(X) == np.asarray(y, dtype=object)))
        if scoring == "log_loss":
            from sklearn.metrics import log_loss

            return -log_loss(
                np.asarray(y, dtype=object),
                np.clip(model.predict_proba(X), 1e-15, 1),
                labels=list(model.classes_),
            )
        pred = np.asarray(model.predict(X), dtype=float)
        y = np.asarray(y, dtype=float)
        if scoring == "r2":
            ss = float(np.sum((y - y.mean()) ** 2))
            return 1.0 - float(np.sum((pred - y) ** 2)) / ss if ss > 0 else 0.0
        if scoring == "rmse":
            return -float(np.sqrt(np.mean((pred - y) ** 2)))
        return -float(np.mean(np.abs(pred - y)))

    return score


# -- partial dependence / ICE ---------------------------------------------------------
def partial_dependence(
    model,
    data: pd.DataFrame,
    feature: str,
    *,
    grid_resolution: int,
    percentiles: tuple,
    max_rows: int,
    ice_lines: int,
    target_class: Any,
    max_categories: int,
    random_state: int,
    threads: int | None,
) -> PartialDependenceResult:
    """PD/ICE by brute force: every sampled row at every grid value, in ONE model call.

    scikit-learn's ``partial_dependence`` needs a scikit-learn estimator (it
    checks fitted attributes and estimator tags, and its fast "recursion" path
    reads tree internals in the encoded column space); a workbench model is a
    DataFrame-in wrapper around a pipeline or an ONNX graph with its own input
    typing. So the grid is built here and the model sees the stacked copies
    through its own interface; one batched call keeps it fast.
    """
    spec = model.spec
    numeric = feature in spec.numeric
    rows = data if len(data) <= max_rows else data.sample(max_rows, random_state=random_state)
    X = rows[spec.features]
    notes: list[str] = []
    column = data[feature]
    counts = None
    if numeric:
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            raise WorkbenchError(f"the feature '{feature}' has no numeric values to vary")
        uniq = np.unique(values)
        if len(uniq) <= grid_resolution:
            grid = uniq
        else:
            grid = np.unique(
                np.quantile(values, np.linspace(percentiles[0], percentiles[1], grid_resolution))
            )
            if len(grid) < 3:  # most rows share a value (capital-gain is 0 for 92% of Adult)
                grid = np.linspace(uniq[0], uniq[-1], grid_resolution)
                notes.append(
                    f"Most rows of '{feature}' share a few values, so the grid spans its whole range "
                    "evenly instead of following its quantiles."
                )
        grid_values = [float(v) for v in grid]
    else:
        raw = data[feature].astype(object)
        prepared = raw.where(raw.notna(), MISSING).astype(str)
        vc = prepared.value_counts()
        if len(vc) > max_categories:
            notes.append(
                f"Only the {max_categories} most common of {len(vc)} categories of '{feature}' are shown."
            )
            vc = vc.iloc[:max_categories]
        grid_values = [str(c) for c in vc.index]
        counts = [int(n) for n in vc.to_numpy()]
        grid = np.asarray(grid_values, dtype=object)
    n, g = len(X), len(grid_values)
    stacked = X.iloc[np.tile(np.arange(n), g)].reset_index(drop=True)
    stacked[feature] = np.repeat(grid if numeric else np.asarray(grid, dtype=object), n)
    classes = None
    with limited_threads(threads):
        if spec.task == "regression":
            out = np.asarray(model.predict(stacked), dtype=float)
            output = f"predicted {spec.target or 'value'}"
        else:
            proba = np.asarray(model.predict_proba(stacked), dtype=float)
            classes = [_native(c) for c in model.classes_]
            if target_class is None and spec.task == "binary":
                target_class = spec.positive_label
            if target_class is not None:
                if target_class not in classes and str(target_class) not in map(str, classes):
                    raise WorkbenchError(f"the class {target_class!r} is not one of the model's classes")
                k = [str(c) for c in classes].index(str(target_class))
                out = proba[:, k]
                output = f"probability of '{classes[k]}'"
            else:
                out = None
                output = "probability of each class"
    averages: dict = {}
    ice: list = []
    if out is not None:
        curves = out.reshape(g, n).T  # one row per sampled data row
        average = curves.mean(axis=0).tolist()
        pick = np.random.RandomState(random_state).permutation(n)[:ice_lines]
        ice = [[float(v) for v in curves[i]] for i in sorted(pick)]
    else:
        average = []
        for k, c in enumerate(classes):
            averages[str(c)] = proba[:, k].reshape(g, n).mean(axis=1).tolist()
    shown_grid = grid_values if numeric else ["(missing)" if v == MISSING else v for v in grid_values]
    return PartialDependenceResult(
        getattr(model, "name", "model"),
        spec.task,
        feature,
        "numeric" if numeric else "categorical",
        shown_grid,
        [float(v) for v in average],
        output,
        ice,
        averages,
        counts,
        int(n),
        notes,
    )


# -- surrogate tree -------------------------------------------------------------------
def surrogate_tree(
    model,
    data: pd.DataFrame,
    *,
    max_depth: int,
    holdout: float,
    max_rows: int,
    min_leaf_share: float,
    max_categories: int,
    random_state: int,
    threads: int | None,
) -> SurrogateResult:
    from sklearn.model_selection import train_test_split
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    spec = model.spec
    rows = data if len(data) <= max_rows else data.sample(max_rows, random_state=random_state)
    with limited_threads(threads):
        if spec.task == "regression":
            target = np.asarray(model.predict(rows), dtype=float)
            score = target
        else:
            proba = np.asarray(model.predict_proba(rows), dtype=float)
            target = np.asarray(model.labels_from_proba(proba), dtype=object).astype(str)
            score = proba[:, model.positive_index] if spec.task == "binary" else None
    X, names, parts = _encode_for_tree(prepare_frame(rows, spec), spec, max_categories)
    idx_fit, idx_hold = train_test_split(np.arange(len(X)), test_size=holdout, random_state=random_state)
    min_leaf = max(1, int(min_leaf_share * len(idx_fit)))
    regression = spec.task == "regression"

    def fit(depth: int):
        cls = DecisionTreeRegressor if regression else DecisionTreeClassifier
        return cls(max_depth=depth, min_samples_leaf=min_leaf, random_state=random_state).fit(
            X[idx_fit], target[idx_fit]
        )

    def fidelity(tree, idx) -> float:
        pred = tree.predict(X[idx])
        if regression:
            t = target[idx]
            ss = float(np.sum((t - t.mean()) ** 2))
            return 1.0 - float(np.sum((pred - t) ** 2)) / ss if ss > 0 else 1.0
        return float(np.mean(pred == target[idx]))

    curve = []
    for depth in range(1, max(max_depth, 6) + 1):
        tree = fit(depth)
        curve.append(
            {
                "depth": depth,
                "fidelity": fidelity(tree, idx_hold),
                "fidelity_train": fidelity(tree, idx_fit),
                "leaves": int(tree.get_n_leaves()),
            }
        )
    tree = fit(max_depth)
    if regression:
        baseline = 0.0
    else:
        held = pd.Series(target[idx_hold]).value_counts(normalize=True)
        baseline = float(held.iloc[0]) if len(held) else 0.0
    rules = _rules(tree, X, names, parts, target, score, regression)
    notes = []
    imputed = [c for c in spec.numeric if rows[c].isna().any()]
    if imputed:
        notes.append(
            f"Missing values of {', '.join(repr(c) for c in imputed)} were given the median for the tree."
        )
    return SurrogateResult(
        getattr(model, "name", "model"),
        spec.task,
        int(max_depth),
        fidelity(tree, idx_hold),
        "r2" if regression else "agreement",
        fidelity(tree, idx_fit),
        baseline,
        curve,
        rules,
        int(tree.get_n_leaves()),
        int(len(idx_fit)),
        int(len(idx_hold)),
        notes,
    )


def _encode_for_tree(prepared: pd.DataFrame, spec, max_categories: int):
    """Numeric columns as they are (median for missing); one indicator column per common category."""
    cols, names, parts = [], [], []
    for c in spec.features:
        v = prepared[c].to_numpy()
        if c in spec.numeric:
            med = float(np.nanmedian(v)) if np.isfinite(v).any() else 0.0
            cols.append(np.where(np.isnan(v), med, v))
            names.append(c)
            parts.append((c, None))
        else:
            for cat in pd.Series(v).value_counts().index[:max_categories]:
                cols.append((v == cat).astype(float))
                names.append(f"{c} = {cat}")
                parts.append((c, str(cat)))
    return np.column_stack(cols), names, parts


def _rules(tree, X, names, parts, target, score, regression: bool) -> list[dict]:
    t = tree.tree_
    leaf_of = tree.apply(X)
    out = []

    def walk(node: int, path: list):
        if t.children_left[node] == -1:
            out.append(_leaf_rule(node, path, leaf_of, parts, target, score, regression, tree))
            return
        j, thr = int(t.feature[node]), float(t.threshold[node])
        walk(int(t.children_left[node]), [*path, (j, "<=", thr)])
        walk(int(t.children_right[node]), [*path, (j, ">", thr)])

    walk(0, [])
    out.sort(key=lambda r: -r["rows"])
    return out


def _leaf_rule(node, path, leaf_of, parts, target, score, regression, tree) -> dict:
    conditions = _merge_conditions(path, parts)
    mask = leaf_of == node
    n = int(mask.sum())
    if regression:
        pred = float(tree.tree_.value[node].ravel()[0])
        vals = target[mask]
        prediction, share = pred, None
        mean_score = float(vals.mean()) if n else pred
        tail = f"(sd {float(vals.std()) if n else 0.0:.3g}, {n:,} rows)"
        then = f"{pred:.4g}"
    else:
        k = int(np.argmax(tree.tree_.value[node].ravel()))
        prediction = str(tree.classes_[k])
        share = float(np.mean(target[mask] == prediction)) if n else 0.0
        mean_score = float(score[mask].mean()) if (score is not None and n) else None
        tail = f"(p={share:.2f}, {n:,} rows)"
        then = prediction
    cond = " AND ".join(conditions) if conditions else "always"
    return {
        "conditions": conditions,
        "text": f"IF {cond} THEN {then} {tail}",
        "prediction": prediction,
        "share": share,
        "rows": n,
        "mean_score": mean_score,
    }


def _merge_conditions(path, parts) -> list[str]:
    """Conditions on one column merged: '30 < age <= 45', 'relationship = Husband', 'race not in {...}'."""
    bounds: dict[str, list] = {}
    equal: dict[str, str] = {}
    not_in: dict[str, list] = {}
    order: list[str] = []
    for j, op, thr in path:
        col, cat = parts[j]
        if col not in order:
            order.append(col)
        if cat is None:
            lo, hi = bounds.setdefault(col, [None, None])
            if op == "<=":
                bounds[col][1] = thr if hi is None else min(hi, thr)
            else:
                bounds[col][0] = thr if lo is None else max(lo, thr)
        elif op == ">":  # the indicator is 1: the row is in this category
            equal[col] = cat
        else:
            not_in.setdefault(col, []).append(cat)
    out = []
    for col in order:
        if col in bounds:
            lo, hi = bounds[col]
            if lo is not None and hi is not None:
                out.append(f"{_num(lo)} < {col} <= {_num(hi)}")
            elif hi is not None:
                out.append(f"{col} <= {_num(hi)}")
            else:
                out.append(f"{col} > {_num(lo)}")
        elif col in equal:
            out.append(f"{col} is missing" if equal[col] == MISSING else f"{col} = {equal[col]}")
        else:
            cats = ["missing" if c == MISSING else c for c in not_in[col]]
            out.append(f"{col} != {cats[0]}" if len(cats) == 1 else f"{col} not in {{{', '.join(cats)}}}")
    return out


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
