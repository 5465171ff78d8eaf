"""Mitigation: fairlearn's methods applied to a model's recipe, judged on one validation set, one chosen.

:func:`mitigate` refits the original model's recipe with each method on the
training part of a table, judges every model (the original included) on the
validation part with the same numbers (accuracy, ROC AUC, business cost and
every disparity of the bias report with its bootstrap interval, from
:func:`workbench.monitoring.bias.assess_bias`), and picks the most accurate
model whose chosen disparity is within the budget. With `out` the chosen model
is saved in the workbench model format, with its lineage to the original.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import target_values
from workbench.errors import DataError, RecipeError, SpecError
from workbench.fairness._methods import (
    CONSTRAINTS,
    METHODS,
    SENSITIVE_AT_PREDICTION,
    Fitted,
    encode_inputs,
    fit_method,
)
from workbench.fairness._result import MitigatedCandidate, MitigationResult
from workbench.metrics import classification_metrics
from workbench.modeling.artifact import Model, check_model_destination, load_model, save_model
from workbench.modeling.evaluate import CostMatrix
from workbench.validation import check_choice, check_number


def mitigate(
    model: Model | str | Path,
    data: pd.DataFrame,
    *,
    sensitive: str,
    constraint: str = "equalized_odds",
    methods: Sequence[str] | None = None,
    max_disparity: float = 0.05,
    validation: pd.DataFrame | None = None,
    validation_size: float = 0.3,
    cost: CostMatrix | Mapping[str, float] | None = None,
    min_group_size: int = 30,
    n_bootstrap: int = 200,
    out: str | Path | None = None,
    overwrite: bool = False,
    quick: bool = False,
    random_state: int = 0,
    progress: bool = True,
    registry: str | None = None,
) -> MitigationResult:
    """Reduce a binary classifier's unfairness with fairlearn's methods and choose a model within a budget.

    Parameters
    ----------
    model : Model, path or model URI
        The original model (a workbench recipe: its recipe and parameters are refitted).
    data : pandas.DataFrame
        A labelled table with the sensitive column; the methods learn from it.
    sensitive : str
        The sensitive column whose groups are compared (e.g. ``"sex"``).
    constraint : str
        ``"equalized_odds"``, ``"demographic_parity"`` or ``"true_positive_rate_parity"``: what
        the in- and post-processing methods enforce; its disparity is the one the budget limits.
    methods : sequence of str, optional
        Names from :data:`METHODS` (default: all five).
    max_disparity : float
        The budget: the chosen model is the most accurate whose disparity is at most this.
    validation : pandas.DataFrame, optional
        The table every model is judged on; default a `validation_size` share of `data`
        (stratified by label and group).
    cost : mapping, optional
        Business cost matrix, e.g. ``{"fn": 5, "fp": 1}``.
    min_group_size : int
        Rows (and, for a constraint on error rates, actual positives and negatives) every group
        needs in the training part, and what a rate needs to be judged in the bias report.
    n_bootstrap : int
        Bootstrap draws behind the disparities' intervals.
    out : path, optional
        Save the chosen model there (a mitigated one; nothing is saved when the original is chosen
        or no model meets the budget).
    overwrite : bool
        Replace a workbench model already at `out`.
    quick : bool
        Smaller recipes, fewer iterations and grid points (tests and previews).
    random_state : int
        Seed of the split, the recipes and the bootstrap.
    progress : bool
        Show a progress bar.
    registry : str, optional
        The registry a model URI is looked up in.

    Returns
    -------
    MitigationResult
        Every model's numbers, the frontier, the choice and where it was saved.

    Raises
    ------
    SpecError
        The model is not a binary classifier (the constraints compare rates of positive decisions).
    ParameterError
        A bad option, or an unknown constraint or method.
    DataError
        A missing sensitive column, a single group, or a group too small for the constraint.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> demo = load_demo("adult")
    >>> from workbench.modeling.train import train
    >>> original = train(demo.train.sample(2000, random_state=0), demo.spec,
    ...                  recipes=["logistic_regression"], quick=True, progress=False).champion
    >>> result = mitigate(original, demo.test.sample(3000, random_state=0), sensitive="sex",
    ...                   methods=["threshold_optimizer"], quick=True, progress=False, n_bootstrap=50)
    >>> [c.name for c in result.candidates]
    ['original', 'threshold_optimizer:equalized_odds']
    """
    from tqdm.auto import tqdm

    constraint = check_choice(constraint, "constraint", tuple(CONSTRAINTS))
    methods = list(dict.fromkeys(methods or METHODS))
    for m in methods:
        check_choice(m, "method", tuple(METHODS))
    max_disparity = check_number(max_disparity, "max_disparity", low=0, high=1)
    validation_size = check_number(
        validation_size, "validation_size", low=0, high=1, low_open=True, high_open=True
    )
    min_group_size = check_number(min_group_size, "min_group_size", low=1, integer=True)
    n_bootstrap = check_number(n_bootstrap, "n_bootstrap", low=10, integer=True)
    random_state = check_number(random_state, "random_state", low=0, high=2**32 - 1, integer=True)
    cost_m = CostMatrix.coerce(cost)
    if out is not None:
        out = check_model_destination(out, overwrite=overwrite)
    source = None
    if not isinstance(model, Model):
        source = str(model)
        model = load_model(model, registry=registry)
    _check_model(model, methods)
    if not isinstance(data, pd.DataFrame) or data.empty:
        raise DataError("mitigation needs a labelled table (a pandas DataFrame with rows)")
    if sensitive not in data.columns:
        raise DataError(f"the sensitive column '{sensitive}' is not in the table")
    train_part, val_part = _split(data, model, sensitive, validation, validation_size, random_state)
    inp = encode_inputs(model, train_part, sensitive, quick, random_state)
    _check_groups(inp, constraint, min_group_size)

    fitted = [Fitted("original", "original", None, model, {})]
    seconds = {"original": 0.0}
    bar = tqdm(methods, desc="mitigating", disable=not progress, unit="method")
    for method in bar:
        bar.set_postfix_str(method)
        t0 = time.perf_counter()
        made = fit_method(method, constraint, model, inp)
        for f in made:
            seconds[f.name] = round((time.perf_counter() - t0) / len(made), 3)
        fitted.extend(made)
    disparity = CONSTRAINTS[constraint][1]
    candidates = [
        _judge(f, val_part, sensitive, cost_m, min_group_size, n_bootstrap, random_state, seconds[f.name])
        for f in fitted
    ]
    candidates = _frontier(candidates, disparity, max_disparity)
    chosen = _choose(candidates, disparity)
    notes = []
    if validation is None and model.meta.get("training_data") == _fingerprint(data) is not None:
        notes.append(
            "The original model was trained on this table, so some validation rows were in its training "
            "data: its numbers here are optimistic."
        )
    saved = None
    models = {f.name: f.model for f in fitted}
    if out is not None and chosen not in (None, "original"):
        pick = next(f for f in fitted if f.name == chosen)
        cand = next(c for c in candidates if c.name == chosen)
        saved = str(_save(pick, cand, model, source, sensitive, out, overwrite))
    where = (
        "given validation table"
        if validation is not None
        else f"{validation_size:.0%} held out from the table"
    )
    return MitigationResult(
        model.name, sensitive, constraint, disparity, max_disparity, candidates, chosen, saved,
        {"rows": int(len(val_part)), "source": where}, int(len(inp.y)), cost_m.to_dict() if cost_m else None,
        0.95, notes, _models=models,
    )  # fmt: skip


def mitigate_from_files(
    model: str | Path, data: str | Path, *, validation: str | Path | None = None, **options: Any
) -> MitigationResult:
    """:func:`mitigate` on tables read from files (CSV or Parquet): what ``workbench mitigate`` does.

    Parameters
    ----------
    model : path or model URI
        The original model.
    data : path
        The labelled table.
    validation : path, optional
        A table to judge on (default: a share of `data`).
    **options
        The keyword options of :func:`mitigate`.

    Returns
    -------
    MitigationResult
        As :func:`mitigate`.
    """
    from workbench.data.io import load_table

    val = load_table(validation) if validation is not None else None
    return mitigate(model, load_table(data), validation=val, **options)


# -- internals ------------------------------------------------------------------------------------
def _check_model(model: Model, methods: list[str]) -> None:
    task = getattr(model, "task", None)
    if task != "binary":
        raise SpecError(
            f"mitigation applies to binary classification; '{model.name}' is a {task} model, and "
            "fairlearn's constraints compare rates of positive decisions between groups"
        )
    if getattr(model, "kind", "sklearn") != "sklearn":
        raise SpecError(
            f"'{model.name}' is a {model.kind} model; mitigate the scikit-learn model it was made from"
        )
    refit = [m for m in methods if m != "threshold_optimizer"]
    if refit and model.meta.get("recipe") is None:
        raise RecipeError(
            f"'{model.name}' records no recipe to refit, so only threshold_optimizer applies to it "
            "(pass methods=['threshold_optimizer'])"
        )
    if "threshold_optimizer" in methods and model.positive_index != 1:
        raise SpecError(
            f"threshold_optimizer reads the positive class from the model's second probability column, "
            f"but '{model.name}' has its positive class {model.spec.positive_label!r} first"
        )


def _split(data, model, column, validation, size, rs):
    if validation is not None:
        if not isinstance(validation, pd.DataFrame) or validation.empty:
            raise DataError("the validation table must be a pandas DataFrame with rows")
        if column not in validation.columns:
            raise DataError(f"the sensitive column '{column}' is not in the validation table")
        return data, validation
    from sklearn.model_selection import train_test_split

    y = target_values(data, model.spec, where="the table")
    data = data.loc[y.notna()]
    strata = y[y.notna()].astype(str) + "|" + data[column].astype(str)
    if strata.value_counts().min() < 2:
        strata = y[y.notna()].astype(str)
    return train_test_split(data, test_size=size, random_state=rs, stratify=strata)


def _check_groups(inp, constraint: str, min_size: int) -> None:
    groups, counts = np.unique(inp.groups, return_counts=True)
    if len(groups) < 2:
        raise DataError(
            f"the sensitive column '{inp.column}' has a single group ('{groups[0]}') in the training "
            "part; mitigation needs at least two groups to compare"
        )
    if len(groups) > 20:
        raise DataError(
            f"the sensitive column '{inp.column}' has {len(groups)} groups; mitigation compares at most "
            "20 (bin a numeric column or merge rare values first)"
        )
    needs = {
        "demographic_parity": (("rows", None),),
        "true_positive_rate_parity": (("rows", None), ("actual positives", 1)),
        "equalized_odds": (("rows", None), ("actual positives", 1), ("actual negatives", 0)),
    }[constraint]
    for what, label in needs:
        for g in groups:
            in_group = inp.groups == g
            n = int(in_group.sum() if label is None else np.sum(in_group & (inp.y01 == label)))
            if n < min_size:
                raise DataError(
                    f"the group '{g}' of '{inp.column}' has {n} {what} in the training part; the "
                    f"{constraint} constraint needs at least {min_size} (merge rare groups, use more "
                    "data or lower min_group_size)"
                )


def _judge(f: Fitted, val, column, cost_m, min_size, n_boot, rs, seconds) -> MitigatedCandidate:
    from workbench.monitoring.bias import assess_bias

    model = f.model
    y = target_values(val, model.spec, where="the validation part")
    val = val.loc[y.notna()]
    y = y[y.notna()].to_numpy()
    proba = model.predict_proba(val)
    m, _ = classification_metrics(
        y, proba, model.classes_, "binary", model.spec.positive_label, model.threshold, cost_m
    )
    bias = assess_bias(
        val,
        model.spec,
        model=model,
        sensitive=[column],
        intersections=False,
        min_group_size=min_size,
        n_bootstrap=n_boot,
        random_state=rs,
    )
    attr = bias.attribute(column)
    disparities = {name: {"value": d.value, "ci": d.ci} for name, d in attr.disparities.items()}
    stage = "original" if f.method == "original" else METHODS[f.method][0]
    needs = f.method in SENSITIVE_AT_PREDICTION
    return MitigatedCandidate(
        name=f.name,
        method=f.method,
        stage=stage,
        constraint=f.constraint,
        accuracy=m["accuracy"],
        roc_auc=m.get("roc_auc"),
        cost=m.get("cost"),
        selection_rate=m.get("selection_rate"),
        disparities=disparities,
        fit_seconds=seconds,
        sensitive_at_prediction=needs,
        params=dict(f.params),
    )


def _frontier(cands: list[MitigatedCandidate], disparity: str, budget: float) -> list[MitigatedCandidate]:
    """Mark the Pareto frontier (no other model is both more accurate and fairer) and the budget."""
    import dataclasses

    out = []
    for c in cands:
        d = c.disparity(disparity)
        dominated = d is None or any(
            o is not c
            and o.disparity(disparity) is not None
            and o.accuracy >= c.accuracy
            and o.disparity(disparity) <= d
            and (o.accuracy > c.accuracy or o.disparity(disparity) < d)
            for o in cands
        )
        within = d is not None and d <= budget
        out.append(dataclasses.replace(c, on_frontier=not dominated, within_budget=within))
    return out


def _choose(cands: list[MitigatedCandidate], disparity: str) -> str | None:
    ok = [c for c in cands if c.within_budget]
    if not ok:
        return None
    return max(ok, key=lambda c: (c.accuracy, -(c.disparity(disparity) or 0.0))).name


def _fingerprint(data: pd.DataFrame) -> str | None:
    from workbench.data.io import fingerprint

    try:
        return fingerprint(data)
    except Exception:  # a table that cannot be fingerprinted only loses the note
        return None


def _save(pick: Fitted, cand: MitigatedCandidate, original: Model, source, column, out, overwrite) -> Path:
    meta = {
        "recipe": original.meta.get("recipe"),
        "params": original.meta.get("params"),
        "training_data": original.meta.get("training_data"),
        "metrics": {"accuracy": cand.accuracy, "roc_auc": cand.roc_auc, **cand.disparities_values()},
        "lineage": {
            "parent": original.name,
            "parent_path": source,
            "parent_sha256": original.meta.get("model_sha256"),
            "technique": f"mitigation:{pick.method}",
            "params": {"constraint": pick.constraint, **pick.params},
        },
        "fairness": {
            "method": pick.method,
            "stage": cand.stage,
            "constraint": pick.constraint,
            "sensitive": column,
            "sensitive_at_prediction": [column] if cand.sensitive_at_prediction else [],
            "why": SENSITIVE_AT_PREDICTION.get(pick.method),
        },
    }
    pick.model.meta.update(meta)
    return save_model(pick.model, out, overwrite=overwrite)
