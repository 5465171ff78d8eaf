"""Seeded production batches with known, injected changes: the ground truth for monitoring.

A real holdout becomes a sequence of daily batches. A clean batch is a random
sample of it; every other batch carries changes injected on purpose (drift,
quality faults, bias shifts) and a manifest saying exactly what, so tests can
assert that the reports find it.

Examples
--------
>>> from workbench.data import load_demo
>>> demo = load_demo("adult")
>>> batches = simulate_batches(demo.test, demo.spec, ["clean", "prior_shift"], random_state=0)
>>> [b.name for b in batches], batches[1].manifest["expected"]["prior_shift"]
(['batch-01-clean', 'batch-02-prior_shift'], True)
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._spec import DatasetSpec, target_values
from workbench.errors import DataError, SpecError

__all__ = [
    "KINDS", "Change", "Batch", "Scenario", "default_scenarios", "simulate_batches", "write_batches",
]

#: The kinds of change and the parameters each takes (all optional: missing
#: ones are chosen from the holdout and recorded in the manifest).
KINDS: dict[str, tuple[str, ...]] = {
    "covariate_shift": ("column", "direction", "strength", "categories", "factor"),
    "prior_shift": ("rate", "label"),
    "concept_drift": ("column", "values", "range", "mode", "fraction"),
    "missing_values": ("column", "rate"),
    "unseen_categories": ("column", "rate", "values"),
    "scale_change": ("column", "factor"),
    "bias_shift": ("sensitive", "group", "mode", "fraction", "columns", "strength"),
}
_QUALITY = ("missing_values", "unseen_categories", "scale_change")
_Z_CLIP = 3.0  # standardised values are clipped: a few outliers must not take all the weight
_UNIT = (lambda x: 0 <= x <= 1, "between 0 and 1")
_ABOVE0 = (lambda x: x > 0, "above 0")


@dataclass(frozen=True)
class Change:
    """One injected change: kind, columns touched, resolved parameters, measured effects.

    `effects` says what the injection did to this batch (rates, means or
    medians before and after): numbers a monitoring test can check against.
    """

    kind: str
    columns: list[str]
    params: dict
    effects: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return _jsonable({"kind": self.kind, "columns": self.columns, "params": self.params,
                          "effects": self.effects})


@dataclass(frozen=True, eq=False)
class Batch:
    """One simulated production batch and the truth about it.

    `data` has the holdout's columns, target included (drop it for label-free
    checks). `replace` is true when rows were drawn with replacement
    (importance resampling, or a holdout smaller than the batch).
    """

    name: str
    period: str
    data: pd.DataFrame
    changes: list[Change]
    seed: int
    replace: bool = False
    stats: dict = field(default_factory=dict)

    @property
    def manifest(self) -> dict:
        """JSON-safe ground truth: what was injected and what a monitor should find.

        ``drifted_columns`` are the features changed on purpose (correlated
        columns may move too). ``expected["drift"]`` is true when feature drift
        should be detectable: also under a prior shift, which moves the
        features that predict the target.
        """
        kinds = {c.kind for c in self.changes}
        drifted, quality = [], []
        for c in self.changes:
            if c.kind in ("covariate_shift", "unseen_categories", "scale_change"):
                drifted.append(c.params["column"])
            elif c.kind == "bias_shift" and c.params["mode"] == "features":
                drifted.extend(c.params["columns"])
            if c.kind in _QUALITY:
                quality.append(c.params["column"])
        drifted, quality = list(dict.fromkeys(drifted)), list(dict.fromkeys(quality))
        expected = {"drift": bool(drifted) or "prior_shift" in kinds, "quality": bool(quality),
                    "prior_shift": "prior_shift" in kinds, "concept_drift": "concept_drift" in kinds,
                    "bias": "bias_shift" in kinds}
        return _jsonable({
            "name": self.name, "period": self.period, "seed": self.seed, "rows": len(self.data),
            "replace": self.replace, "clean": not self.changes,
            "changes": [c.to_dict() for c in self.changes], "drifted_columns": drifted,
            "quality_columns": quality, "expected": expected, **self.stats,
        })

    def write(self, folder: str | Path) -> Path:
        """Write ``<name>.parquet``, then ``<name>.manifest.json``, each atomically."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.parquet"
        _atomic(path, lambda p: self.data.to_parquet(p, index=False))
        text = json.dumps(self.manifest, indent=2, allow_nan=False)
        _atomic(folder / f"{self.name}.manifest.json", lambda p: p.write_text(text))
        return path


@dataclass(frozen=True)
class Scenario:
    """What to inject into one batch: a name and change dicts (none: a clean batch)."""

    name: str
    changes: list[dict] = field(default_factory=list)


def default_scenarios(spec: DatasetSpec, holdout: pd.DataFrame | None = None) -> list[Scenario]:
    """Clean, clean, each kind of change once (bias twice: labels, features), clean.

    Columns come from the spec's non-sensitive features; given the `holdout`,
    every parameter is resolved so the scenarios spell out what will be
    injected. Kinds that do not apply are skipped (no sensitive column: no
    bias shift; regression: no prior shift or concept drift; no categorical
    feature: no categorical shift or unseen category).
    """
    nums, cats = _numeric_candidates(spec, holdout), _categorical_candidates(spec, holdout)
    plan: list[dict | None] = [None, None]
    if nums:
        plan.append({"kind": "covariate_shift", "column": nums[0], "direction": "up", "strength": 0.5})
    if cats:
        plan.append({"kind": "covariate_shift", "column": cats[0]})
    if spec.target is not None and spec.is_classification:
        plan += [{"kind": "prior_shift"}, {"kind": "concept_drift"}]
    if nums:
        plan.append({"kind": "missing_values", "column": nums[-1], "rate": 0.3})
    if cats:
        plan.append({"kind": "unseen_categories", "column": cats[-1], "rate": 0.2})
    if nums:
        plan.append({"kind": "scale_change", "column": nums[1 if len(nums) > 2 else 0], "factor": 100})
    if spec.sensitive and spec.task == "binary":
        plan.append({"kind": "bias_shift", "sensitive": spec.sensitive[0], "mode": "labels"})
    if spec.sensitive and spec.task in ("binary", "regression") and nums:
        plan.append({"kind": "bias_shift", "sensitive": spec.sensitive[0], "mode": "features"})
    plan.append(None)
    ho = None if holdout is None else _Holdout(holdout, spec)
    return [Scenario("clean") if c is None else
            Scenario(c["kind"], [c if ho is None else {"kind": c["kind"], **_resolve(c, ho).params}])
            for c in plan]


def simulate_batches(
    holdout: pd.DataFrame,
    spec: DatasetSpec,
    scenarios: Sequence[Scenario | str | dict] | None = None,
    *,
    batch_size: int = 2000,
    n_clean: int | None = None,
    start: str = "2026-11-01",
    random_state: int | None = 0,
) -> list[Batch]:
    """Turn a real holdout into production batches with known, injected changes.

    Parameters
    ----------
    holdout : DataFrame
        Data the model never trained on (with the target, for label changes).
    spec : DatasetSpec
        Column roles: target, features, sensitive columns.
    scenarios : list of Scenario, str or dict, optional
        One per batch: ``"clean"``, a kind (parameters chosen from the data),
        a change ``{"kind": ..., **params}`` (see :data:`KINDS`) or
        ``{"name": ..., "changes": [...]}``. Default: :func:`default_scenarios`.
    batch_size : int
        Rows per batch; a smaller holdout is sampled with replacement.
    n_clean : int, optional
        How many clean batches open the sequence (they replace its leading clean ones).
    start : str
        ISO date of the first batch; the others follow day by day.
    random_state : int
        Seeds everything; each batch records its own derived seed.
    """
    if not isinstance(holdout, pd.DataFrame) or holdout.empty:
        raise DataError("the holdout must be a non-empty pandas DataFrame")
    if random_state is not None and (not isinstance(random_state, int | np.integer) or random_state < 0):
        raise SpecError(f"random_state must be a whole number of 0 or more, not {random_state!r}")
    spec.check_columns(holdout, where="the holdout")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise SpecError(f"batch_size must be a positive whole number, not {batch_size!r}")
    try:
        day0 = date.fromisoformat(str(start))
    except ValueError:
        raise SpecError(f"start must be an ISO date such as '2026-11-01', not {start!r}") from None
    ho = _Holdout(holdout, spec)
    if scenarios is None:
        scenarios = default_scenarios(spec, holdout)
    items = [_as_scenario(s) for s in scenarios]
    if n_clean is not None:
        if n_clean < 0:
            raise SpecError(f"n_clean must be zero or more, not {n_clean}")
        while items and not items[0].changes:
            items.pop(0)
        items = [Scenario("clean") for _ in range(n_clean)] + items
    if not items:
        raise SpecError("there is nothing to simulate: give at least one scenario or n_clean above 0")
    resolved = [[_resolve(c, ho) for c in s.changes] for s in items]  # all errors before any work
    root = np.random.SeedSequence(random_state).entropy
    out = []
    for i, (s, changes) in enumerate(zip(items, resolved, strict=True), start=1):
        seed = int(np.random.SeedSequence([root, i]).generate_state(1)[0])
        period = (day0 + timedelta(days=i - 1)).isoformat()
        name = f"batch-{i:02d}-{_safe(s.name)}"
        out.append(_make_batch(ho, name, period, changes, seed, int(batch_size)))
    return out


def write_batches(batches: Sequence[Batch], folder: str | Path) -> pd.DataFrame:
    """Write every batch (parquet + manifest) and an index ``batches.json``; return a summary."""
    folder, rows, index = Path(folder), [], []
    for b in batches:
        path, m = b.write(folder), b.manifest
        kinds = [c["kind"] for c in m["changes"]]
        index.append({"name": b.name, "period": b.period, "data": path.name,
                      "manifest": f"{b.name}.manifest.json", "changes": kinds, "rows": m["rows"]})
        rows.append({"name": b.name, "period": b.period, "changes": ", ".join(kinds) or "clean",
                     "drifted_columns": ", ".join(m["drifted_columns"]), "rows": m["rows"],
                     "path": str(path)})
    text = json.dumps({"batches": index}, indent=2)
    _atomic(folder / "batches.json", lambda p: p.write_text(text))
    return pd.DataFrame(rows, columns=["name", "period", "changes", "drifted_columns", "rows", "path"])


# -- resolving changes -------------------------------------------------------------
class _Holdout:
    """The holdout with its labels as class indices (`yi`, -1 when missing), computed once."""

    def __init__(self, df: pd.DataFrame, spec: DatasetSpec):
        self.df, self.spec = df, spec
        self.classes, self.yi, self.raw, self.pos = None, None, None, None
        if spec.target is None or spec.target not in df.columns or not spec.is_classification:
            return
        labels = target_values(df, spec, where="the holdout")
        self.classes = list(spec.classes) if spec.classes else sorted(labels.dropna().unique().tolist())
        self.yi = pd.Categorical(labels, categories=self.classes).codes.astype(np.int64)
        self.raw = np.array(self.classes, dtype=object)  # each class as the data spells it
        for k in range(len(self.classes)):
            hit = np.flatnonzero(self.yi == k)
            self.raw[k] = df[spec.target].iloc[hit[0]] if len(hit) else self.classes[k]
        if spec.positive_label in self.classes:
            self.pos = self.classes.index(spec.positive_label)

    def rate(self, yi: np.ndarray) -> float | None:
        ok = yi[yi >= 0]
        return float(np.mean(ok == self.pos)) if len(ok) and self.pos is not None else None


def _resolve(change: Any, ho: _Holdout) -> Change:
    """Validate one change and fill in its missing parameters from the holdout."""
    if not isinstance(change, dict) or "kind" not in change:
        raise SpecError(f"a change must be a dict with a 'kind' ({', '.join(KINDS)}), not {change!r}")
    kind, p = change["kind"], {k: v for k, v in change.items() if k != "kind" and v is not None}
    if kind not in KINDS:
        raise SpecError(f"unknown change kind '{kind}'; use one of {', '.join(KINDS)}")
    _only(p, KINDS[kind], f"to {kind}, which takes {', '.join(KINDS[kind])}")
    df, target = ho.df, ho.spec.target
    if kind in ("prior_shift", "concept_drift"):
        _need_labels(ho, kind)
    if kind == "bias_shift":
        return _resolve_bias(p, ho)
    if kind == "prior_shift":
        share = np.bincount(ho.yi[ho.yi >= 0], minlength=len(ho.classes)) / max((ho.yi >= 0).sum(), 1)
        if p.get("label", ho.classes[0]) not in ho.classes:
            raise DataError(f"prior_shift label {p['label']!r} is not a class of the target '{target}'")
        k = ho.classes.index(p["label"]) if "label" in p else ho.pos if ho.pos is not None else int(
            np.argmin(np.where(share > 0, share, np.inf)))
        p["label"] = ho.classes[k]
        p["rate"] = _num(p.get("rate", round(share[k] * 2 if share[k] <= 1 / 3 else share[k] / 2, 2)),
                         "prior_shift rate", *_UNIT)
        return Change(kind, [target], p)
    if kind == "concept_drift" and "column" not in p:
        p.update(_default_segment(ho))
    col = p["column"] = _column(ho, p.get("column"), kind)
    numeric = _is_num(ho, col)
    if kind == "covariate_shift" and numeric:
        _only(p, ("column", "direction", "strength"), f"to the numeric '{col}' (use direction, strength)")
        _choice(p.setdefault("direction", "up"), ("up", "down"), "covariate_shift direction")
        p["strength"] = _num(p.get("strength", 0.5), "covariate_shift strength", *_ABOVE0)
    elif kind == "covariate_shift":
        _only(p, ("column", "categories", "factor"), f"to the categorical '{col}' (use categories, factor)")
        counts = df[col].value_counts()
        p["categories"] = _present(p.get("categories", [counts.index[min(1, len(counts) - 1)]]), df, col)
        p["factor"] = _num(p.get("factor", 3.0), "covariate_shift factor", *_ABOVE0)
    elif kind == "concept_drift":
        if numeric:
            _only(p, ("column", "range", "mode", "fraction"), f"to the numeric '{col}' (use range)")
            lo, hi = p.get("range", (df[col].median(), df[col].max()))
            p["range"] = [_num(lo, "range start"), _num(hi, "range end")]
        else:
            _only(p, ("column", "values", "mode", "fraction"), f"to the categorical '{col}' (use values)")
            p["values"] = _present(p.get("values", [df[col].value_counts().index[0]]), df, col)
        _choice(p.setdefault("mode", "flip"), ("flip", "to_positive", "to_negative"), "the mode")
        if p["mode"] != "flip":
            _need_labels(ho, f"concept_drift mode '{p['mode']}'", binary=True)
        p["fraction"] = _num(p.get("fraction", 0.3), "concept_drift fraction", *_UNIT)
        if not _segment(df, col, p).any():
            raise DataError(f"the concept_drift segment of '{col}' matches no row of the holdout")
        return Change(kind, [target, col], p)
    elif kind == "scale_change":
        if not numeric:
            raise SpecError(f"scale_change needs a numeric column, but '{col}' is categorical")
        p["factor"] = _num(p.get("factor", 100), "scale_change factor", lambda x: x not in (0, 1),
                           "other than 0 and 1")
    else:
        p["rate"] = _num(p.get("rate", 0.3 if kind == "missing_values" else 0.2), f"{kind} rate", *_UNIT)
        if kind == "unseen_categories":
            if numeric:
                raise SpecError(f"unseen_categories needs a categorical column, but '{col}' is numeric")
            seen = set(df[col].dropna().astype(str))
            values = p.get("values") or [_fresh(f"Unseen-{col}", seen)]
            p["values"] = [values] if isinstance(values, str) else list(values)
            if any(str(v) in seen for v in p["values"]):
                raise DataError(f"an 'unseen' category of {p['values']} already occurs in '{col}'")
    return Change(kind, [col], p)


def _resolve_bias(p: dict, ho: _Holdout) -> Change:
    df, spec = ho.df, ho.spec
    if "sensitive" not in p and not spec.sensitive:
        raise SpecError("bias_shift needs a sensitive column: declare one in the spec or pass sensitive=")
    s = p["sensitive"] = _column(ho, p.get("sensitive") or spec.sensitive[0], "bias_shift")
    _choice(p.setdefault("mode", "labels"), ("labels", "features"), "bias_shift mode")
    share = df[s].value_counts(normalize=True)
    if "group" not in p:  # the group already worst off (or the smallest sizeable one)
        big = share[share >= 0.1] if (share >= 0.1).any() else share
        if ho.pos is None:
            p["group"] = big.index[-1]
        else:
            p["group"] = pd.Series(ho.yi == ho.pos).groupby(df[s].to_numpy()).mean()[big.index].idxmin()
    elif p["group"] not in share.index:
        raise DataError(f"the group {p['group']!r} does not occur in the sensitive column '{s}'")
    if p["mode"] == "labels":
        _need_labels(ho, "bias_shift mode 'labels'", binary=True)
        _only(p, ("sensitive", "group", "mode", "fraction"), "to mode 'labels' (use fraction)")
        p["fraction"] = _num(p.get("fraction", 0.5), "bias_shift fraction", *_UNIT)
        return Change("bias_shift", [s, spec.target], p)
    _only(p, ("sensitive", "group", "mode", "columns", "strength"), "to mode 'features' (use columns)")
    cols = p.get("columns") or _score_columns(ho, s)
    p["columns"] = [cols] if isinstance(cols, str) else list(cols)
    for c in p["columns"]:
        if not _is_num(ho, _column(ho, c, "bias_shift")):
            raise SpecError(f"bias_shift 'features' lowers numeric columns, but '{c}' is categorical")
    p["strength"] = _num(p.get("strength", 1.0), "bias_shift strength", *_ABOVE0)
    return Change("bias_shift", [s, *p["columns"]], p)


# -- making one batch --------------------------------------------------------------
def _make_batch(ho: _Holdout, name: str, period: str, changes: list[Change], seed: int, n: int) -> Batch:
    """Draw the rows (importance resampling for the shifts), then alter values and labels."""
    rng, df = np.random.default_rng(seed), ho.df
    w = np.ones(len(df))
    for c in changes:
        if c.kind == "covariate_shift":
            w = w * _covariate_weights(df, c.params)
    weighted = any(c.kind == "covariate_shift" for c in changes)
    prior = [c.params for c in changes if c.kind == "prior_shift"]
    if len(prior) > 1:
        raise SpecError(f"scenario '{name}' has more than one prior_shift; a batch has one prior")
    if prior:  # P(x|y) is kept: rows are drawn within each class
        hit = ho.yi == ho.classes.index(prior[0]["label"])
        k = int(round(prior[0]["rate"] * n))
        a, ra = _draw(np.flatnonzero(hit), w, k, rng, weighted)
        b, rb = _draw(np.flatnonzero(~hit), w, n - k, rng, weighted)
        idx, replace = rng.permutation(np.concatenate([a, b])), ra or rb
    else:
        idx, replace = _draw(np.arange(len(df)), w, n, rng, weighted)
    for c in changes:  # the group's rows are redrawn towards lower-scoring profiles
        if c.kind == "bias_shift" and c.params["mode"] == "features":
            group = (df[c.params["sensitive"]] == c.params["group"]).to_numpy()
            pool = np.flatnonzero(group)
            z = np.mean([_zscore(df[x].iloc[pool]) for x in c.params["columns"]], axis=0)
            gw = np.zeros(len(df))
            gw[pool] = np.exp(-c.params["strength"] * z)
            sel = group[idx]
            idx[sel], replace = _draw(pool, w * gw, int(sel.sum()), rng, True)[0], True
    data = df.iloc[idx].reset_index(drop=True)
    yi = None if ho.yi is None else ho.yi[idx].copy()
    done = [Change(c.kind, c.columns, c.params, _inject(c, data, yi, ho, rng)) for c in changes]
    stats: dict = {"positive_rate": None, "holdout_positive_rate": None}
    if yi is not None:
        changed = np.flatnonzero(yi != ho.yi[idx])
        if len(changed):  # write changed labels back, spelled as the data spells them
            t = data[ho.spec.target]
            values = t.to_numpy(copy=True)
            values[changed] = ho.raw[yi[changed]]
            data[ho.spec.target] = pd.Series(values, name=t.name).astype(t.dtype)
        stats["class_rates"] = {str(c): np.mean(yi[yi >= 0] == k) for k, c in enumerate(ho.classes)}
        if ho.pos is not None:
            stats.update(positive_rate=ho.rate(yi), holdout_positive_rate=ho.rate(ho.yi))
            stats["positive_rate_by_group"] = {
                s: {str(g): ho.rate(yi[(data[s] == g).to_numpy()]) for g in data[s].dropna().unique()}
                for s in ho.spec.sensitive if s in data.columns}
    return Batch(name, period, data, done, seed, bool(replace), stats)


def _inject(c: Change, data: pd.DataFrame, yi: np.ndarray | None, ho: _Holdout, rng) -> dict:
    """Apply a value-level change in place (labels change in `yi`); return its measured effects."""
    p, df, n = c.params, ho.df, len(data)
    col = p.get("column")
    if c.kind == "covariate_shift":
        if "categories" in p:
            return {"share_before": df[col].isin(p["categories"]).mean(),
                    "share_after": data[col].isin(p["categories"]).mean()}
        return {"mean_before": df[col].mean(), "mean_after": data[col].mean()}
    if c.kind == "prior_shift":
        k = ho.classes.index(p["label"])
        return {"rate_before": np.mean(ho.yi[ho.yi >= 0] == k), "rate_after": np.mean(yi[yi >= 0] == k)}
    if c.kind == "concept_drift":  # P(y|x) changes inside the segment only; features stay
        seg = _segment(data, col, p)
        pool = np.flatnonzero(seg & (yi >= 0))
        if p["mode"] != "flip":
            pool = pool[(yi[pool] == ho.pos) == (p["mode"] == "to_negative")]
        before = ho.rate(yi[seg])
        rows = rng.choice(pool, int(round(p["fraction"] * len(pool))), replace=False)
        yi[rows] = (yi[rows] + rng.integers(1, len(ho.classes), len(rows))) % len(ho.classes)
        return {"segment_rows": int(seg.sum()), "changed": len(rows), "rate_before": before,
                "rate_after": ho.rate(yi[seg]), "rate_outside": ho.rate(yi[~seg])}
    if c.kind == "bias_shift":
        group = (data[p["sensitive"]] == p["group"]).to_numpy()
        if p["mode"] == "labels":  # a share of the group's positive outcomes turn negative
            before = ho.rate(yi[group])
            pool = np.flatnonzero(group & (yi == ho.pos))
            rows = rng.choice(pool, int(round(p["fraction"] * len(pool))), replace=False)
            yi[rows] = 1 - ho.pos
            return {"group_rows": int(group.sum()), "changed": len(rows), "rate_before": before,
                    "rate_after": ho.rate(yi[group])}
        ref = (df[p["sensitive"]] == p["group"]).to_numpy()
        return {"group_rows": int(group.sum()),
                "mean_before": {x: df[x][ref].mean() for x in p["columns"]},
                "mean_after": {x: data[x][group].mean() for x in p["columns"]},
                "rate_before": None if yi is None else ho.rate(ho.yi[ref]),
                "rate_after": None if yi is None else ho.rate(yi[group])}
    s = data[col]
    if c.kind == "scale_change":  # a unit change: integers stay integers when the factor is whole
        keep_int = pd.api.types.is_integer_dtype(s) and float(p["factor"]).is_integer()
        data[col] = s * int(p["factor"]) if keep_int else s.astype("float64") * p["factor"]
        return {"median_before": df[col].median(), "median_after": data[col].median()}
    rows = rng.choice(n, int(round(p["rate"] * n)), replace=False)
    if c.kind == "missing_values":
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_integer_dtype(s):
            s = s.astype("float64" if pd.api.types.is_integer_dtype(s) else object)
        s = s.copy()
        s.iloc[rows] = np.nan
        data[col] = s
        return {"injected": len(rows), "missing_share": s.isna().mean()}
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.cat.add_categories([v for v in p["values"] if v not in s.cat.categories])
    s = s.copy()
    s.iloc[rows] = np.asarray(p["values"], dtype=object)[rng.integers(0, len(p["values"]), len(rows))]
    data[col] = s
    return {"injected": len(rows), "share": len(rows) / max(n, 1)}


# -- helpers -----------------------------------------------------------------------
def _draw(pool: np.ndarray, w: np.ndarray, k: int, rng, weighted: bool) -> tuple[np.ndarray, bool]:
    """`k` rows of `pool`: uniformly without replacement when possible, else weighted with."""
    if k == 0:
        return np.empty(0, dtype=np.int64), False
    if len(pool) == 0:
        raise DataError("the holdout has no row to draw this batch from (an empty class or group)")
    if not weighted:
        return rng.choice(pool, k, replace=k > len(pool)), k > len(pool)
    pw = w[pool]
    if not np.isfinite(pw).all() or pw.sum() <= 0:
        raise DataError("the resampling weights vanished; lower the strength of the shift")
    return rng.choice(pool, k, replace=True, p=pw / pw.sum()), True


def _zscore(s: pd.Series) -> np.ndarray:
    x = s.to_numpy(dtype="float64", na_value=np.nan)
    sd = np.nanstd(x)
    z = (x - np.nanmean(x)) / sd if sd > 0 else np.zeros_like(x)
    return np.clip(np.nan_to_num(z, nan=0.0), -_Z_CLIP, _Z_CLIP)


def _covariate_weights(df: pd.DataFrame, p: dict) -> np.ndarray:
    """Importance weights: exp(±strength·z) for a numeric column, `factor` on chosen categories."""
    if "categories" in p:
        return np.where(df[p["column"]].isin(p["categories"]).to_numpy(), p["factor"], 1.0)
    return np.exp((1 if p["direction"] == "up" else -1) * p["strength"] * _zscore(df[p["column"]]))


def _segment(data: pd.DataFrame, col: str, p: dict) -> np.ndarray:
    return (data[col].between(*p["range"]) if "range" in p else data[col].isin(p["values"])).to_numpy()


def _default_segment(ho: _Holdout) -> dict:
    """A sizeable category whose outcome is most lopsided: where a flip shows most."""
    best: tuple = (-1.0, None)
    for col in _categorical_candidates(ho.spec, ho.df):
        share = ho.df[col].value_counts(normalize=True)
        for val in share.index[(share >= 0.1) & (share <= 0.6)]:
            r = ho.rate(ho.yi[(ho.df[col] == val).to_numpy()])
            score = share[val] if r is None else abs(r - 0.5)
            best = max(best, (score, {"column": col, "values": [val]}), key=lambda t: t[0])
    if best[1] is not None:
        return best[1]
    nums = _numeric_candidates(ho.spec, ho.df)
    if not nums:
        raise SpecError("concept_drift needs a feature to define its segment; pass column=")
    return {"column": nums[0]}


def _score_columns(ho: _Holdout, sensitive: str) -> list[str]:
    """The (up to two) numeric features that rise most with the outcome."""
    df, spec = ho.df, ho.spec
    if ho.pos is not None:
        y = (ho.yi == ho.pos).astype(float)
    elif spec.task == "regression" and spec.target in df.columns:
        y = df[spec.target].to_numpy(dtype="float64", na_value=np.nan)
    else:
        raise SpecError("bias_shift mode 'features' needs a binary or regression target, or columns=")
    corr = {}
    for c in (c for c in spec.numeric if c != sensitive):
        x = df[c].to_numpy(dtype="float64", na_value=np.nan)
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > 2 and np.std(x[ok]) > 0 and np.std(y[ok]) > 0:
            corr[c] = np.corrcoef(x[ok], y[ok])[0, 1]
    best = [c for c, r in sorted(corr.items(), key=lambda kv: -kv[1]) if r > 0][:2]
    if not best:
        raise SpecError("no numeric feature rises with the outcome; pass bias_shift columns= to lower")
    return best


def _numeric_candidates(spec: DatasetSpec, df: pd.DataFrame | None) -> list[str]:
    nums = [c for c in spec.numeric if c not in spec.sensitive]
    if df is not None:  # a column that is mostly one value (capital-gain: 0) shows a shift poorly
        top = {c: df[c].value_counts(normalize=True).iloc[0] if df[c].notna().any() else 1 for c in nums}
        nums = [c for c in nums if top[c] < 0.5] or nums
    return nums


def _categorical_candidates(spec: DatasetSpec, df: pd.DataFrame | None) -> list[str]:
    cats = [c for c in spec.categorical if c not in spec.sensitive]
    if df is not None:  # a few levels, complete columns first
        few = [c for c in cats if 2 < df[c].nunique() <= 20] or [c for c in cats if df[c].nunique() > 1]
        cats = sorted(few, key=lambda c: bool(df[c].isna().any()))
    return cats


def _need_labels(ho: _Holdout, what: str, *, binary: bool = False) -> None:
    spec = ho.spec
    if spec.target is None or not spec.is_classification or (binary and spec.task != "binary"):
        need = "a binary target" if binary else "a classification target"
        raise SpecError(f"{what} needs {need}, but the spec's task is {spec.task or 'none'}")
    if ho.yi is None or (binary and ho.pos is None):
        raise DataError(f"{what} changes labels, but the holdout lacks the target '{spec.target}' "
                        f"or its positive class {spec.positive_label!r}")


def _column(ho: _Holdout, col: Any, kind: str) -> str:
    if col is None:
        pick = _categorical_candidates(ho.spec, ho.df) if kind == "unseen_categories" else \
            _numeric_candidates(ho.spec, ho.df) + _categorical_candidates(ho.spec, ho.df)
        if not pick:
            raise SpecError(f"{kind} found no suitable feature column; pass column=")
        return pick[0]
    if col not in ho.df.columns:
        raise DataError(f"{kind} names the column '{col}', which is not in the holdout")
    if col == ho.spec.target:
        raise SpecError(f"'{col}' is the target; {kind} changes features (prior_shift and "
                        "concept_drift change labels)")
    return col


def _is_num(ho: _Holdout, col: str) -> bool:
    s = ho.df[col]
    return col in ho.spec.numeric or (col not in ho.spec.categorical and pd.api.types.is_numeric_dtype(s)
                                      and not pd.api.types.is_bool_dtype(s))


def _present(values: Any, df: pd.DataFrame, col: str) -> list:
    values = [values] if isinstance(values, str) or not isinstance(values, Sequence) else list(values)
    present = set(df[col].dropna().unique())
    for v in values:
        if v not in present:
            raise DataError(f"the category {v!r} does not occur in column '{col}' of the holdout")
    return values


def _num(v: Any, what: str, ok: Callable[[float], bool] = lambda x: True, hint: str = "finite") -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        raise SpecError(f"{what} must be a number, not {v!r}") from None
    if not np.isfinite(x) or not ok(x):
        raise SpecError(f"{what} must be {hint}, not {v!r}")
    return x


def _choice(v: Any, allowed: tuple[str, ...], what: str) -> None:
    if v not in allowed:
        raise SpecError(f"{what} must be one of {', '.join(allowed)}, not {v!r}")


def _only(p: dict, allowed: tuple[str, ...], where: str) -> None:
    extra = [k for k in p if k not in allowed]
    if extra:
        raise SpecError(f"the parameter '{extra[0]}' does not apply {where}")


def _as_scenario(s: Any) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if s == "clean":
        return Scenario("clean")
    if isinstance(s, str):
        if s not in KINDS:
            raise SpecError(f"unknown scenario '{s}'; use 'clean' or one of {', '.join(KINDS)}")
        return Scenario(s, [{"kind": s}])
    if isinstance(s, dict) and "changes" in s:
        changes = list(s["changes"])
        kinds = "+".join(str(c.get("kind")) for c in changes if isinstance(c, dict))
        return Scenario(s.get("name") or kinds or "clean", changes)
    if isinstance(s, dict) and "kind" in s:
        return Scenario(s.get("name") or str(s["kind"]), [{k: v for k, v in s.items() if k != "name"}])
    raise SpecError(f"a scenario must be 'clean', a kind, or a dict with 'kind' or 'changes', not {s!r}")


def _fresh(base: str, seen: set[str]) -> str:
    name, i = base, 1
    while name in seen:
        i += 1
        name = f"{base}-{i}"
    return name


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(name)).strip("-.") or "batch"


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple | set):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float):
        return round(x, 6) if np.isfinite(x) else None
    return x.isoformat() if isinstance(x, pd.Timestamp | date) else x
