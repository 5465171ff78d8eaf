"""SHAP computed, in the original columns (the engine behind :mod:`workbench.explain._shap_api`).

Two explainers, one contract: ``values[i, j]`` is column j's share of row i's
explained output, and ``base + values[i].sum() == output[i]``.

- **tree** (``shap.TreeExplainer``, exact, path-dependent): the tree recipes'
  final estimator on the pipeline's transformed matrix. Each transformed
  column belongs to one original column (the workbench's tree recipes encode
  a category as one ordinal column; a one-hot encoder's parts are summed back
  to their column, :func:`encoded_groups`). Units are the estimator's raw
  output: the positive class's probability for forests, its log-odds for
  gradient boosting.
- **kernel** (``shap.KernelExplainer``), model-agnostic: the whole model on
  the original columns, categories integer-coded and decoded back before the
  model is called (as LIME is: :func:`~workbench.explain._lime.decode_codes`),
  so a coalition switches a whole column, never one one-hot fragment, and the
  model sees real categories. The missing columns take the values of a small
  seeded background sample of the reference rows (``background`` rows; the
  cost of one row is ``nsamples x background`` model rows). Output: the
  positive class's probability. Works for any model with ``predict_proba``,
  ONNX variants included.

shap (and numba, which it loads) is imported when an explainer is built.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import prepare_frame
from workbench.errors import ParameterError
from workbench.explain._lime import decode_codes, limited_threads

#: final estimators TreeExplainer explains exactly (scikit-learn class names)
TREE_ESTIMATORS = (
    "DecisionTreeClassifier",
    "ExtraTreesClassifier",
    "GradientBoostingClassifier",
    "HistGradientBoostingClassifier",
    "RandomForestClassifier",
)
METHODS = ("auto", "tree", "kernel")


def tree_parts(model: Any) -> tuple[Any, Any] | None:
    """(preprocessing, tree estimator) of a pipeline whose last step is a tree ensemble; else None."""
    pipe = getattr(model, "estimator", None)
    steps = getattr(pipe, "steps", None)
    if not steps or type(steps[-1][1]).__name__ not in TREE_ESTIMATORS:
        return None
    return pipe[:-1], steps[-1][1]


def resolve_method(model: Any, method: str) -> str:
    """``auto`` -> ``tree`` for the tree recipes, ``kernel`` for the others; ``tree`` checked."""
    is_tree = tree_parts(model) is not None
    if method == "auto":
        return "tree" if is_tree else "kernel"
    if method == "tree" and not is_tree:
        final = type(getattr(model, "estimator", model)).__name__
        steps = getattr(getattr(model, "estimator", None), "steps", None)
        if steps:
            final = type(steps[-1][1]).__name__
        raise ParameterError(
            f"method='tree' needs a tree model (random forest, gradient boosting), not a {final}; "
            "use method='kernel' or 'auto'"
        )
    return method


def encoded_groups(prep: Any, features: list[str], model_names: dict[str, str], width: int) -> np.ndarray:
    """For each column of the transformed matrix, the position of the original column it comes from.

    Read from the fitted ColumnTransformer: a one-hot encoder's output columns
    follow its categories (``categories_``, less a dropped one); any other
    transformer gives one output column per input column it keeps.
    """
    ct = prep.steps[-1][1] if hasattr(prep, "steps") else prep
    by_safe = {model_names.get(c, c): j for j, c in enumerate(features)}
    groups = np.full(width, -1, dtype=np.intp)
    for name, trans, cols in ct.transformers_:
        if name == "remainder" or trans == "drop" or name not in ct.output_indices_:
            continue
        out = ct.output_indices_[name]
        cols = list(cols)
        if type(trans).__name__ == "OneHotEncoder":
            drop = getattr(trans, "drop_idx_", None)
            sizes = [
                len(cats) - (0 if drop is None or drop[k] is None else 1)
                for k, cats in enumerate(trans.categories_)
            ]
            owners = np.repeat([by_safe[c] for c in cols], sizes)
        else:
            kept = (
                list(trans.get_feature_names_out(cols)) if hasattr(trans, "get_feature_names_out") else cols
            )
            owners = np.asarray([by_safe[c] for c in kept], dtype=np.intp)
        groups[out] = owners
    if (groups < 0).any():
        raise ParameterError("the model's preprocessing has columns SHAP cannot trace back to a feature")
    return groups


class ShapEngine:
    """One SHAP explainer for (model, reference): ``engine.explain(rows)`` -> values in original columns."""

    def __init__(
        self,
        model: Any,
        reference: pd.DataFrame,
        method: str,
        *,
        background: int,
        nsamples: int,
        random_state: int,
    ):
        import shap

        self.model, self.method, self.nsamples, self.random_state = model, method, nsamples, random_state
        spec = model.spec
        self.features = list(spec.features)
        self.pos = int(model.positive_index)
        self.background_rows = 0
        if method == "tree":
            self.prep, self._est = tree_parts(model)
            self.explainer = shap.TreeExplainer(self._est)
            self._groups = None
            # forests average leaf probabilities (per class); boosting adds log-odds of classes_[1]
            self.units = "probability" if np.size(self.explainer.expected_value) > 1 else "log-odds"
            self._sign = 1.0 if self.units == "probability" or self.pos == 1 else -1.0
            return
        self.units = "probability"
        self.numeric = [j for j, c in enumerate(self.features) if c in spec.numeric]
        self._decode: dict[int, np.ndarray] = {}
        self._codes: dict[int, dict[str, int]] = {}
        ref = prepare_frame(reference, spec, where="the reference data")
        k = min(int(background), len(ref))
        ref = ref.sample(k, random_state=random_state) if len(ref) > k else ref
        self.background_rows = int(len(ref))
        self.explainer = shap.KernelExplainer(self._predict, self._encode(ref), feature_names=self.features)

    @property
    def output(self) -> str:
        """What the values add up to, in words: "probability of '>50K'" or "log-odds of '>50K'"."""
        return f"{self.units} of '{self.model.spec.positive_label}'"

    def explain(self, rows: pd.DataFrame, threads: int | None = 1) -> dict:
        """SHAP values of `rows` in original columns, with the base value and the model's own output."""
        t0 = time.perf_counter()
        with limited_threads(threads):
            if self.method == "tree":
                values, base, output = self._tree(rows)
            else:
                values, base, output = self._kernel(rows)
        seconds = (time.perf_counter() - t0) / max(len(rows), 1)
        return {"values": values, "base": float(base), "output": output, "seconds": seconds}

    # -- the two explainers ---------------------------------------------------------
    def _tree(self, rows: pd.DataFrame) -> tuple[np.ndarray, float, np.ndarray]:
        Z = np.asarray(self.prep.transform(self.model.prepare(rows)), dtype=float)
        raw = np.asarray(self.explainer.shap_values(Z, check_additivity=False))
        base = np.ravel(self.explainer.expected_value)
        if raw.ndim == 3:  # (rows, columns, classes): the positive class's probability
            raw, base = raw[:, :, self.pos], base[self.pos]
            output = self.model.predict_proba(rows)[:, self.pos]
        else:  # log-odds of classes_[1]: turned round when the positive class is classes_[0]
            raw, base = self._sign * raw, self._sign * base[0]
            output = self._sign * np.asarray(self._est.decision_function(Z), dtype=float)
        if self._groups is None:
            model_names = self.model.spec.model_names
            self._groups = encoded_groups(self.prep, self.features, model_names, raw.shape[1])
        values = np.zeros((len(rows), len(self.features)))
        np.add.at(values.T, self._groups, raw.T)  # one-hot parts (if any) summed into their column
        return values, float(base), np.asarray(output, dtype=float)

    def _kernel(self, rows: pd.DataFrame) -> tuple[np.ndarray, float, np.ndarray]:
        X = self._encode(prepare_frame(rows, self.model.spec, where="the data to explain"))
        state = np.random.get_state()  # KernelExplainer samples coalitions from numpy's global generator
        np.random.seed(self.random_state)
        try:
            values = np.asarray(
                self.explainer.shap_values(X, nsamples=self.nsamples, l1_reg=False, silent=True), dtype=float
            )
        finally:
            np.random.set_state(state)
        values = values.reshape(len(rows), len(self.features))
        return values, float(np.ravel(self.explainer.expected_value)[0]), self._predict(X)

    # -- original columns as numbers, and back ------------------------------------------
    def _encode(self, frame: pd.DataFrame) -> np.ndarray:
        X = np.empty((len(frame), len(self.features)), dtype=float)
        for j, col in enumerate(self.features):
            values = frame[col].to_numpy()
            if j in self.numeric:
                X[:, j] = values.astype(float)
                continue
            codes = self._codes.setdefault(j, {})
            for v in pd.unique(values):
                if str(v) not in codes:  # a category the background lacks gets a code of its own
                    codes[str(v)] = len(codes)
            self._decode[j] = np.asarray(list(codes), dtype=object)
            X[:, j] = [codes[str(v)] for v in values]
        return X

    def _predict(self, X: np.ndarray) -> np.ndarray:
        frame = decode_codes(np.asarray(X, dtype=float), self.features, self.numeric, self._decode)
        return np.asarray(self.model.predict_proba(frame), dtype=float)[:, self.pos]


def rank_agreement(
    shap_scores: dict[str, float], other: dict[str, float], method: str, top_k: int = 5
) -> dict:
    """How far another method's column ranking agrees with SHAP's: Spearman, Kendall tau-b, top-k overlap.

    Both are scores per original column (higher: more important); a column
    the other method did not score counts as 0.
    """
    from scipy.stats import spearmanr

    from workbench.explain._local import kendall_tau_b

    cols = list(shap_scores)
    a = np.asarray([shap_scores[c] for c in cols], dtype=float)
    b = np.asarray([float(other.get(c, 0.0)) for c in cols], dtype=float)
    rho = float(spearmanr(a, b).statistic) if np.ptp(a) > 0 and np.ptp(b) > 0 else None
    k = min(top_k, len(cols))
    top_a = {cols[i] for i in np.argsort(-a, kind="stable")[:k]}
    top_b = {cols[i] for i in np.argsort(-b, kind="stable")[:k]}
    ranking = [cols[i] for i in np.argsort(-b, kind="stable")]
    return {
        "method": method,
        "spearman": None if rho is None or not np.isfinite(rho) else rho,
        "kendall": float(kendall_tau_b(a, b)),
        "top_k": int(k),
        "top_k_overlap": len(top_a & top_b) / k if k else None,
        "ranking": ranking,
    }


def lime_scores(lime: Any) -> dict[str, float]:
    """Mean |LIME weight| per original column over a LIME result's rows (0 where a row kept no condition)."""
    totals: dict[str, float] = {}
    for e in lime:
        for f in e.features:
            totals[f["feature"]] = totals.get(f["feature"], 0.0) + abs(float(f["weight"]))
    n = max(len(lime), 1)
    return {c: v / n for c, v in totals.items()}
