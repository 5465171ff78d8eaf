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

from workbench.data._simulate_changes import (
    _QUALITY,
    KINDS,
    Change,
    _covariate_weights,
    _draw,
    _Holdout,
    _inject,
    _resolve,
    _zscore,
)
from workbench.data._simulate_checks import _categorical_candidates, _jsonable, _numeric_candidates
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, ParameterError
from workbench.validation import check_choice, check_number

__all__ = [
    "KINDS",
    "Change",
    "Batch",
    "Scenario",
    "default_scenarios",
    "simulate_batches",
    "write_batches",
]


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
        expected = {
            "drift": bool(drifted) or "prior_shift" in kinds,
            "quality": bool(quality),
            "prior_shift": "prior_shift" in kinds,
            "concept_drift": "concept_drift" in kinds,
            "bias": "bias_shift" in kinds,
        }
        return _jsonable(
            {
                "name": self.name,
                "period": self.period,
                "seed": self.seed,
                "rows": len(self.data),
                "replace": self.replace,
                "clean": not self.changes,
                "changes": [c.to_dict() for c in self.changes],
                "drifted_columns": drifted,
                "quality_columns": quality,
                "expected": expected,
                **self.stats,
            }
        )

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
    return [
        Scenario("clean")
        if c is None
        else Scenario(c["kind"], [c if ho is None else {"kind": c["kind"], **_resolve(c, ho).params}])
        for c in plan
    ]


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
    if random_state is not None:
        random_state = check_number(random_state, "random_state", low=0, integer=True)
    spec.check_columns(holdout, where="the holdout")
    batch_size = check_number(batch_size, "batch_size", low=1, integer=True)
    try:
        day0 = date.fromisoformat(str(start))
    except ValueError:
        raise ParameterError(f"start must be an ISO date such as '2026-11-01', not {start!r}") from None
    ho = _Holdout(holdout, spec)
    if scenarios is None:
        scenarios = default_scenarios(spec, holdout)
    items = [_as_scenario(s) for s in scenarios]
    if n_clean is not None:
        n_clean = check_number(n_clean, "n_clean", low=0, integer=True)
        while items and not items[0].changes:
            items.pop(0)
        items = [Scenario("clean") for _ in range(n_clean)] + items
    if not items:
        raise ParameterError("there is nothing to simulate: give at least one scenario or n_clean above 0")
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
        index.append(
            {
                "name": b.name,
                "period": b.period,
                "data": path.name,
                "manifest": f"{b.name}.manifest.json",
                "changes": kinds,
                "rows": m["rows"],
            }
        )
        rows.append(
            {
                "name": b.name,
                "period": b.period,
                "changes": ", ".join(kinds) or "clean",
                "drifted_columns": ", ".join(m["drifted_columns"]),
                "rows": m["rows"],
                "path": str(path),
            }
        )
    text = json.dumps({"batches": index}, indent=2)
    _atomic(folder / "batches.json", lambda p: p.write_text(text))
    return pd.DataFrame(rows, columns=["name", "period", "changes", "drifted_columns", "rows", "path"])


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
        raise ParameterError(f"scenario '{name}' has more than one prior_shift; a batch has one prior")
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
            idx[sel], redrawn = _draw(pool, w * gw, int(sel.sum()), rng, True)
            replace = replace or redrawn
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
                for s in ho.spec.sensitive
                if s in data.columns
            }
    return Batch(name, period, data, done, seed, bool(replace), stats)


def _as_scenario(s: Any) -> Scenario:
    if isinstance(s, Scenario):
        return s
    if s == "clean":
        return Scenario("clean")
    if isinstance(s, str):
        check_choice(s, "scenario", ("clean", *KINDS))
        return Scenario(s, [{"kind": s}])
    if isinstance(s, dict) and "changes" in s:
        changes = list(s["changes"])
        kinds = "+".join(str(c.get("kind")) for c in changes if isinstance(c, dict))
        return Scenario(s.get("name") or kinds or "clean", changes)
    if isinstance(s, dict) and "kind" in s:
        return Scenario(s.get("name") or str(s["kind"]), [{k: v for k, v in s.items() if k != "name"}])
    raise ParameterError(f"a scenario must be 'clean', a kind, or a dict with 'kind' or 'changes', not {s!r}")


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(name)).strip("-.") or "batch"


def _atomic(path: Path, write: Callable[[Path], Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
