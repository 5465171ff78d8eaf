"""LIME for whole pipelines, in the original columns (the engine behind :mod:`workbench.explain._api`).

LIME (``lime.lime_tabular``) perturbs a numeric matrix. Here every categorical
column is integer-coded for LIME (``categorical_features`` +
``categorical_names``) and decoded back to its original strings before the
model is called, so the model always sees a DataFrame with the original
column names and values, and every weight belongs to a condition on an
original column ("age <= 28", "education = Bachelors"), never to a one-hot
fragment.

Speed: the hot path is the model on LIME's 5,000 sampled rows. Decoding is one
fancy-index per categorical column (no per-row Python), and the model runs with
its OpenMP/BLAS pools limited to one thread by default: on 5,000-row batches
the pools' barriers cost more than they save when cores are shared.

lime, scikit-learn and threadpoolctl are imported when an explainer is built.
"""

from __future__ import annotations

import contextlib
import math
import time
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import MISSING, prepare_frame
from workbench.errors import DataError, WorkbenchError

#: LIME only needs quartiles and category frequencies of the reference: a
#: sample this large pins them down and keeps building an explainer quick.
MAX_REFERENCE_ROWS = 10_000
MIN_REFERENCE_ROWS = 50
#: Sampled rows per model call when several rows are explained (10 rows at 5,000 samples).
BATCH_ROWS = 50_000

# model -> {reference key: LocalExplainer}; an explainer is built once per
# (model, reference) and reused (a panel explains row after row).
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_CONTROLLER = None


def limited_threads(threads: int | None):
    """A context limiting OpenMP/BLAS pools to `threads` (None: leave them alone)."""
    if threads is None:
        return contextlib.nullcontext()
    global _CONTROLLER
    if _CONTROLLER is None:
        # scanning the loaded libraries costs ~4 ms; once a model exists, its pools are loaded
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=int(threads))


def get_explainer(model: Any, reference: pd.DataFrame, *, random_state: int = 0) -> LocalExplainer:
    """The cached :class:`LocalExplainer` for (model, reference), built on first use.

    The key is the content of the reference rows LIME learns from (at most
    :data:`MAX_REFERENCE_ROWS`, a seeded sample of larger tables), so an
    explainer is rebuilt exactly when what it would learn changes.
    """
    rows = _reference_rows(reference, random_state)
    key = (len(reference), reference_key(rows, model.spec.features), random_state)
    try:
        per_model = _CACHE.setdefault(model, {})
    except TypeError:  # an object that cannot be weakly referenced: no cache
        return LocalExplainer(model, rows, random_state=random_state)
    if key not in per_model:
        per_model.clear()  # one reference per model is what a panel needs; keep memory flat
        per_model[key] = LocalExplainer(model, rows, random_state=random_state)
    return per_model[key]


def reference_key(reference: pd.DataFrame, features: Sequence[str]) -> tuple:
    """A fingerprint of the reference rows' content (in order)."""
    cols = [c for c in features if c in reference.columns]
    hashed = pd.util.hash_pandas_object(reference[cols], index=True).to_numpy()
    weights = np.arange(1, len(hashed) + 1, dtype=np.uint64)  # reordered rows give another key
    return tuple(cols), int(np.sum(hashed * weights, dtype=np.uint64))


def _reference_rows(reference: pd.DataFrame, random_state: int) -> pd.DataFrame:
    if len(reference) > MAX_REFERENCE_ROWS:
        return reference.sample(MAX_REFERENCE_ROWS, random_state=random_state)
    return reference


class LocalExplainer:
    """LIME's tabular explainer for one model and one reference table, in the original columns.

    Build once, explain many rows: ``explainer.explain(rows_frame, ...)``.
    Numeric columns are discretised into the reference's quartiles (LIME's
    default), so each weight belongs to a readable condition; categorical
    columns are sampled from the reference's category frequencies.
    """

    def __init__(self, model: Any, reference: pd.DataFrame, *, random_state: int = 0):
        from lime.lime_tabular import LimeTabularExplainer

        spec = model.spec
        try:  # the cache is keyed weakly by the model: the explainer must not keep it alive
            self._model = weakref.ref(model)
        except TypeError:
            self._model = lambda: model
        self.task = spec.task
        self.features = list(spec.features)
        if len(reference) < MIN_REFERENCE_ROWS:
            raise DataError(
                f"the reference data has only {len(reference)} rows; LIME samples around the reference "
                f"distribution and needs at least {MIN_REFERENCE_ROWS} (pass reference=the training rows)"
            )
        reference = _reference_rows(reference, random_state)
        ref = prepare_frame(reference, spec, where="the reference data")
        self.numeric = [j for j, c in enumerate(self.features) if c in spec.numeric]
        self.categorical = [j for j, c in enumerate(self.features) if c not in spec.numeric]
        self.categories: dict[int, list[str]] = {}
        self._codes: dict[int, dict[str, int]] = {}
        self._decode: dict[int, np.ndarray] = {}
        X = np.empty((len(ref), len(self.features)), dtype=float)
        self.medians: dict[int, float] = {}
        self.imputed: list[str] = []
        for j, col in enumerate(self.features):
            values = ref[col].to_numpy()
            if j in self.categorical:
                cats = sorted(map(str, pd.unique(values)))
                self._set_categories(j, cats)
                X[:, j] = pd.Categorical(values, categories=cats).codes
            else:
                med = float(np.nanmedian(values)) if np.isfinite(values).any() else 0.0
                self.medians[j] = med
                if np.isnan(values).any():
                    self.imputed.append(col)
                X[:, j] = np.where(np.isnan(values), med, values)
        mode = "regression" if self.task == "regression" else "classification"
        self.lime = LimeTabularExplainer(
            X,
            mode=mode,
            feature_names=self.features,
            categorical_features=self.categorical,
            categorical_names={j: self.categories[j] for j in self.categorical},
            discretize_continuous=True,
            discretizer="quartile",
            feature_selection="highest_weights",
            random_state=random_state,
        )
        disc = self.lime.discretizer
        # LIME's quartile edges per numeric column (duplicates removed): the conditions' bounds
        self.edges = {j: np.asarray(disc.maxs[j][:-1], dtype=float) for j in self.numeric}
        self.reference_rows = int(len(ref))

    @property
    def model(self) -> Any:
        """The explained model (held by a weak reference where the model allows one: None once it is gone)."""
        return self._model()

    # -- explaining -----------------------------------------------------------------
    def explain(
        self,
        rows: pd.DataFrame,
        *,
        num_features: int,
        num_samples: int,
        random_state: int,
        threads: int | None = 1,
    ) -> list[dict]:
        """One LIME explanation per row of `rows` (raw frame, original columns).

        The explained output is the positive class's probability (binary), the
        predicted class's (multiclass: the class the model gives the row the
        highest probability) or the prediction (regression). Each dict holds
        the conditions with their weights, LIME's intercept, local prediction
        and R², the model's own output for the row (``output``: class
        probabilities or the prediction) and the explained class index.

        Every row is explained with a fresh generator seeded with
        `random_state`, so a row's explanation does not depend on which rows
        came before it. Rows are sampled first and the model answers for a
        batch of rows in one call; LIME's own steps run in LIME's order, so the
        result equals ``explain_instance`` row by row. The model's answer for
        the row itself is LIME's first sample: no separate call is needed.
        """
        prepared = prepare_frame(rows, self.model.spec, where="the data to explain")
        batched = hasattr(self.lime, "_LimeTabularExplainer__data_inverse")
        per_batch = max(1, BATCH_ROWS // num_samples) if batched else 1
        out: list[dict] = []
        with limited_threads(threads):
            for start in range(0, len(prepared), per_batch):
                part = [prepared.iloc[i] for i in range(start, min(start + per_batch, len(prepared)))]
                t0 = time.perf_counter()
                if batched:
                    got = self._explain_batch(part, num_features, num_samples, random_state)
                else:  # a lime without the sampling step we call: its public API, one row at a time
                    got = [self._explain_one(row, num_features, num_samples, random_state) for row in part]
                each = (time.perf_counter() - t0) / len(part)
                for g in got:
                    g["seconds"] = each
                out.extend(got)
        return out

    def _label(self, own: np.ndarray) -> int | None:
        """The class index to explain, given the model's output for the row itself."""
        if self.task == "regression":
            return None
        if self.task == "binary":
            return int(self.model.positive_index)
        return int(np.argmax(own))

    def _seed(self, seed: int) -> None:
        rs = np.random.RandomState(seed)
        self.lime.random_state = rs
        self.lime.base.random_state = rs
        self.lime.discretizer.random_state = rs

    def _explain_batch(
        self, rows: list[pd.Series], num_features: int, num_samples: int, seed: int
    ) -> list[dict]:
        """LIME's explain_instance for several rows with one model call for all their samples."""
        from sklearn.metrics import pairwise_distances

        lime = self.lime
        sampled, encoded = [], []
        for row in rows:
            x, missing, notes = self._encode_row(row)
            self._seed(seed)
            data, inverse = lime._LimeTabularExplainer__data_inverse(x, num_samples)
            scaled = (data - lime.scaler.mean_) / lime.scaler.scale_
            distances = pairwise_distances(scaled, scaled[0].reshape(1, -1), metric="euclidean").ravel()
            sampled.append(inverse)
            encoded.append((x, missing, notes, scaled, distances))
        missing_rows = [(k * num_samples, j) for k, e in enumerate(encoded) for j in e[1]]
        yss_all = self._predict_fn(missing_rows)(np.vstack(sampled))
        out = []
        for k, (x, _, notes, scaled, distances) in enumerate(encoded):
            yss = yss_all[k * num_samples : (k + 1) * num_samples]
            own = yss[0]
            label = self._label(own)
            if label is None:  # regression: LIME fits the prediction itself
                yss, fit_label = yss[:, np.newaxis], 0
            else:
                fit_label = label
            intercept, weights, score, local_pred = lime.base.explain_instance_with_data(
                scaled,
                yss,
                distances,
                fit_label,
                min(num_features, len(self.features)),
                model_regressor=None,
                feature_selection=lime.feature_selection,
            )
            out.append(self._result(x, weights, intercept, local_pred, score, notes, own, label))
        return out

    def _explain_one(self, row: pd.Series, num_features: int, num_samples: int, seed: int) -> dict:
        x, missing, notes = self._encode_row(row)
        predict = self._predict_fn([(0, j) for j in missing])
        own = predict(x.reshape(1, -1))[0]
        label = self._label(own)
        lime_label = 1 if label is None else label  # LIME files a regression explanation under label 1
        self._seed(seed)
        exp = self.lime.explain_instance(
            x,
            predict,
            labels=(lime_label,),
            num_features=min(num_features, len(self.features)),
            num_samples=num_samples,
        )
        return self._result(
            x,
            exp.local_exp[lime_label],
            exp.intercept[lime_label],
            exp.local_pred,
            exp.score,
            notes,
            own,
            label,
        )

    def _result(
        self,
        x: np.ndarray,
        weights,
        intercept,
        local_pred,
        score,
        notes: list[str],
        own: np.ndarray,
        label: int | None,
    ) -> dict:
        return {
            "output": np.atleast_1d(np.asarray(own, dtype=float)),
            "label_index": label,
            "features": [self._condition(j, x[j], float(w)) for j, w in weights],
            "intercept": float(np.ravel(intercept)[0]),
            "local_prediction": float(np.ravel(local_pred)[0]) if local_pred is not None else None,
            "r2": float(score),
            "notes": notes,
        }

    def _predict_fn(self, missing: list[tuple[int, int]]):
        """The function LIME calls: decode its samples into a DataFrame of original columns, ask the model.

        `missing` lists (sample row, column) cells to set back to NaN: LIME's
        first sample of each row is the row itself, and the model must see
        its real (missing) value there, not the median LIME needed.
        """
        model, features, task = self.model, self.features, self.task
        decode, numeric = self._decode, self.numeric

        def predict(sampled: np.ndarray) -> np.ndarray:
            frame = decode_codes(sampled, features, numeric, decode)
            for i, j in missing:
                frame.iat[i, j] = np.nan
            if task == "regression":
                return np.asarray(model.predict(frame), dtype=float)
            return np.asarray(model.predict_proba(frame), dtype=float)

        return predict

    def _encode_row(self, row: pd.Series) -> tuple[np.ndarray, list[int], list[str]]:
        x = np.empty(len(self.features), dtype=float)
        missing_numeric, notes = [], []
        for j, col in enumerate(self.features):
            v = row.iloc[j]
            if j in self.categorical:
                v = str(v)
                if v not in self._codes[j]:
                    # keep it explainable: a new code LIME never samples (the reference lacks it)
                    self._set_categories(j, [*self.categories[j], v])
                    self.lime.categorical_names[j] = self.categories[j]
                    notes.append(
                        f"the value {_category_text(v)!r} of '{col}' does not occur in the reference data"
                    )
                x[j] = self._codes[j][v]
            else:
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    missing_numeric.append(j)
                    notes.append(
                        f"'{col}' is missing in this row; LIME's conditions use the median "
                        f"({_num(self.medians[j])}) in its place"
                    )
                    v = self.medians[j]
                x[j] = float(v)
        return x, missing_numeric, notes

    def _set_categories(self, j: int, cats: list[str]) -> None:
        self.categories[j] = cats
        self._codes[j] = {c: k for k, c in enumerate(cats)}
        self._decode[j] = np.asarray(cats, dtype=object)

    def _condition(self, j: int, value: float, weight: float) -> dict:
        col = self.features[j]
        if j in self.categorical:
            cat = self.categories[j][int(value)]
            return {
                "feature": col,
                "condition": _category_condition(col, cat),
                "weight": weight,
                "category": cat,
                "lower": None,
                "upper": None,
            }
        edges = self.edges[j]
        b = int(np.searchsorted(edges, value))  # LIME's own binning of the row
        lower = float(edges[b - 1]) if b > 0 else None
        upper = float(edges[b]) if b < len(edges) else None
        if lower is None:
            text = f"{col} <= {_num(upper)}"
        elif upper is None:
            text = f"{col} > {_num(lower)}"
        else:
            text = f"{_num(lower)} < {col} <= {_num(upper)}"
        return {
            "feature": col,
            "condition": text,
            "weight": weight,
            "category": None,
            "lower": lower,
            "upper": upper,
        }


def decode_codes(
    sampled: np.ndarray, features: Sequence[str], numeric: Sequence[int], decode: dict[int, np.ndarray]
) -> pd.DataFrame:
    """Coded rows (numbers as they are, categories as integer codes) as a DataFrame of the original columns.

    `decode` maps a categorical column's position to its categories (code -> text): one fancy-index per
    column, no per-row Python. LIME's and SHAP's model-agnostic explainers perturb whole original columns
    this way, so the model always sees real categories, never a fragment of a one-hot encoding.
    """
    cols: dict[str, np.ndarray] = {}
    for j in numeric:
        cols[features[j]] = sampled[:, j]
    for j, names in decode.items():
        cols[features[j]] = names[sampled[:, j].astype(np.intp)]
    return pd.DataFrame(cols, columns=list(features), copy=False)


def check_rows(data: pd.DataFrame, rows: Any, *, limit: int = 100) -> list:
    """`rows` (an index label or labels of `data`; None: every row) as a checked list."""
    if rows is None:
        labels = list(data.index)
        if len(labels) > limit:
            raise WorkbenchError(
                f"the data has {len(labels):,} rows; choose up to {limit} with rows=[...] "
                "or use explain_worst_errors"
            )
        return labels
    if isinstance(rows, pd.Index | np.ndarray | list | tuple | pd.Series):
        labels = list(rows)
    else:
        labels = [rows]
    if not labels:
        raise WorkbenchError("no rows were chosen to explain")
    if len(labels) > limit:
        raise WorkbenchError(f"{len(labels):,} rows were chosen; explain at most {limit} at a time")
    if not data.index.is_unique:
        raise DataError(
            "the data's index has duplicate labels, so rows cannot be named; reset the index first"
        )
    absent = [r for r in labels if r not in data.index]
    if absent:
        raise DataError(f"row {absent[0]!r} is not in the data (rows are named by the data's index)")
    return labels


def row_id(label: Any) -> int | str:
    """An index label as a JSON-safe id."""
    if isinstance(label, np.generic):
        label = label.item()
    if isinstance(label, bool) or not isinstance(label, int | str):
        return str(label)
    return label


def _category_condition(col: str, cat: str) -> str:
    return f"{col} is missing" if cat == MISSING else f"{col} = {cat}"


def _category_text(cat: str) -> str:
    return "missing" if cat == MISSING else cat


def _num(v: float | None) -> str:
    """A bound as people write it: 28, 0.5, 12.5, 117827."""
    if v is None:
        return "?"
    v = float(v)
    if v.is_integer():
        return str(int(v))
    if abs(v) >= 1000:
        return f"{v:.1f}"
    return f"{v:.4g}"
