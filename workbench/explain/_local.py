"""Local explanations computed: choosing rows, the worst errors, LIME per row, stability metrics.

The engine (LIME in the original columns) is :mod:`workbench.explain._lime`;
this module turns its output into result objects. Light at import time.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import target_values
from workbench.explain._lime import get_explainer, limited_threads, row_id
from workbench.explain._local_results import LocalExplanation, LocalExplanationResult


def explain_rows(
    model,
    chosen: pd.DataFrame,
    reference: pd.DataFrame,
    selection: dict,
    error_kind: str | None,
    num_features: int,
    num_samples: int,
    random_state: int,
    threads: int | None,
) -> LocalExplanationResult:
    """LIME on the `chosen` rows (the explainer for (model, reference) reused), as a result object."""
    spec = model.spec
    explainer = get_explainer(model, reference)
    explanations, notes, seconds = [], [], None
    if len(chosen):
        raw = explainer.explain(
            chosen,
            num_features=num_features,
            num_samples=num_samples,
            random_state=random_state,
            threads=threads,
        )
        actual = _actual(chosen, spec)
        for i, lab in enumerate(chosen.index):
            a = actual[i] if actual is not None else None
            predicted, probability, explained = describe_output(model, raw[i])
            explanations.append(
                LocalExplanation(
                    row_id=row_id(lab),
                    predicted=predicted,
                    probability=probability,
                    explained_class=explained,
                    features=raw[i]["features"],
                    intercept=raw[i]["intercept"],
                    local_prediction=raw[i]["local_prediction"],
                    r2=raw[i]["r2"],
                    actual=a,
                    error=_error_word(spec, predicted, a, error_kind),
                    seconds=raw[i]["seconds"],
                    notes=raw[i]["notes"],
                )
            )
        seconds = float(np.median([r["seconds"] for r in raw]))
    if explainer.imputed:
        notes.append(
            f"Missing values of {', '.join(repr(c) for c in explainer.imputed)} in the reference were "
            "given the median for LIME's sampling."
        )
    return LocalExplanationResult(
        getattr(model, "name", "model"),
        spec.task,
        explanations,
        selection,
        int(num_features),
        int(num_samples),
        int(random_state),
        explainer.reference_rows,
        seconds,
        notes,
    )


def describe_output(model, raw: dict) -> tuple[Any, float | None, Any]:
    """What the model answered for one explained row.

    (predicted label or value, probability of the explained class, explained class).
    """
    own = raw["output"]
    if raw["label_index"] is None:
        return float(own[0]), None, None
    label = raw["label_index"]
    predicted = _native(model.labels_from_proba(own.reshape(1, -1))[0])
    return predicted, float(own[label]), _native(model.classes_[label])


def find_errors(
    model, data: pd.DataFrame, y: np.ndarray, kind: str, threads: int | None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Which rows are errors of `kind`, how confident the model was in each row, and a label for them."""
    spec = model.spec
    with limited_threads(threads):
        if spec.task == "regression":
            err = np.asarray(model.predict(data), dtype=float) - y.astype(float)
            if kind == "overestimate":
                return err > 0, err, "overestimates"
            if kind == "underestimate":
                return err < 0, -err, "underestimates"
            return err != 0, np.abs(err), "errors"
        proba = np.asarray(model.predict_proba(data), dtype=float)
    pred = np.asarray(model.labels_from_proba(proba), dtype=object)
    y = np.asarray(y, dtype=object)
    if spec.task == "multiclass":
        return pred != y, proba.max(axis=1), "misclassified rows"
    pos, neg = spec.positive_label, [c for c in spec.classes if c != spec.positive_label][0]
    score = proba[:, model.positive_index]
    if kind == "false_negative":
        return (y == pos) & (pred != pos), 1 - score, f"false negatives (actual '{pos}', predicted '{neg}')"
    if kind == "false_positive":
        return (y != pos) & (pred == pos), score, f"false positives (actual '{neg}', predicted '{pos}')"
    return pred != y, np.where(pred == pos, score, 1 - score), "misclassified rows"


def _error_word(spec, predicted: Any, actual: Any, kind: str | None) -> str | None:
    if actual is None:
        return None
    if spec.task == "regression":
        if kind in ("overestimate", "underestimate") or kind == "any":
            return "overestimate" if predicted > actual else "underestimate"
        return None
    if predicted == actual:
        return None
    if spec.task == "binary":
        return "false negative" if actual == spec.positive_label else "false positive"
    return "misclassification"


def _actual(rows: pd.DataFrame, spec) -> list | None:
    if spec.target is None or spec.target not in rows.columns:
        return None
    y = target_values(rows, spec, where="the data to explain")
    return [None if pd.isna(v) else (float(v) if spec.task == "regression" else _native(v)) for v in y]


def row_stability(rid: Any, runs: list[dict], features: list[str], top_k: int) -> dict:
    w = np.array(
        [
            [dict((f["feature"], f["weight"]) for f in r["features"]).get(c, 0.0) for c in features]
            for r in runs
        ]
    )
    mag = np.abs(w)
    tops = [set(np.argsort(-m, kind="stable")[:top_k]) for m in mag]
    pairs = list(itertools.combinations(range(len(runs)), 2))
    tau = float(np.mean([kendall_tau_b(mag[a], mag[b]) for a, b in pairs]))
    jac = float(np.mean([len(tops[a] & tops[b]) / len(tops[a] | tops[b]) for a, b in pairs]))
    union = sorted(set().union(*tops))
    same_sign = [bool(np.all(np.sign(w[:, j]) == np.sign(w[0, j]))) for j in union]
    conditions = {f["feature"]: f["condition"] for f in runs[0]["features"]}
    feats = [
        {
            "feature": features[j],
            "condition": conditions.get(features[j]),
            "mean_weight": float(w[:, j].mean()),
            "sd_weight": float(w[:, j].std()),
            "top_k_share": float(np.mean([j in t for t in tops])),
        }
        for j in union
    ]
    feats.sort(key=lambda f: -abs(f["mean_weight"]))
    return {
        "row_id": rid,
        "kendall_tau": tau,
        "top_k_jaccard": jac,
        "sign_agreement": float(np.mean(same_sign)) if same_sign else 1.0,
        "features": feats,
    }


def kendall_tau_b(a: np.ndarray, b: np.ndarray) -> float:
    """Kendall's tau-b (ties handled); 1 for identical orderings."""
    i, j = np.triu_indices(len(a), 1)
    da, db = np.sign(a[i] - a[j]), np.sign(b[i] - b[j])
    n1, n2 = int(np.count_nonzero(da)), int(np.count_nonzero(db))
    if n1 == 0 or n2 == 0:
        return 1.0 if n1 == n2 else 0.0
    return float(np.sum(da * db) / np.sqrt(n1 * n2))


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
