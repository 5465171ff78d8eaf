"""The changes the batch simulator injects.

Resolving their parameters, drawing rows, altering values and labels.

Private: import the public names from :mod:`workbench.data.simulate`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from workbench.data._simulate_checks import (
    _categorical_candidates,
    _column,
    _fresh,
    _is_num,
    _jsonable,
    _need_labels,
    _numeric_candidates,
    _present,
)
from workbench.data._spec import DatasetSpec, target_values
from workbench.errors import DataError, ParameterError, SpecError
from workbench.validation import check_choice, check_fraction, check_keys, check_number

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
_WOR_MARGIN = 5  # weighted draws go without replacement while the pool is this many times the draw
_Z_CLIP = 3.0  # standardised values are clipped: a few outliers must not take all the weight


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
        """JSON-safe form, as a batch's manifest records it."""
        return _jsonable(
            {"kind": self.kind, "columns": self.columns, "params": self.params, "effects": self.effects}
        )


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
        raise ParameterError(f"a change must be a dict with a 'kind' ({', '.join(KINDS)}), not {change!r}")
    kind, p = change["kind"], {k: v for k, v in change.items() if k != "kind" and v is not None}
    check_choice(kind, "change kind", KINDS)
    check_keys(p, KINDS[kind], f"to {kind}, which takes {', '.join(KINDS[kind])}")
    df, target = ho.df, ho.spec.target
    if kind in ("prior_shift", "concept_drift"):
        _need_labels(ho, kind)
    if kind == "bias_shift":
        return _resolve_bias(p, ho)
    if kind == "prior_shift":
        share = np.bincount(ho.yi[ho.yi >= 0], minlength=len(ho.classes)) / max((ho.yi >= 0).sum(), 1)
        if p.get("label", ho.classes[0]) not in ho.classes:
            raise DataError(f"prior_shift label {p['label']!r} is not a class of the target '{target}'")
        k = (
            ho.classes.index(p["label"])
            if "label" in p
            else ho.pos
            if ho.pos is not None
            else int(np.argmin(np.where(share > 0, share, np.inf)))
        )
        p["label"] = ho.classes[k]
        p["rate"] = check_fraction(
            p.get("rate", round(share[k] * 2 if share[k] <= 1 / 3 else share[k] / 2, 2)), "prior_shift rate"
        )
        return Change(kind, [target], p)
    if kind == "concept_drift" and "column" not in p:
        p.update(_default_segment(ho))
    col = p["column"] = _column(ho, p.get("column"), kind)
    numeric = _is_num(ho, col)
    if kind == "covariate_shift" and numeric:
        check_keys(
            p, ("column", "direction", "strength"), f"to the numeric '{col}' (use direction, strength)"
        )
        check_choice(p.setdefault("direction", "up"), "covariate_shift direction", ("up", "down"))
        p["strength"] = check_number(p.get("strength", 0.5), "covariate_shift strength", low=0, low_open=True)
    elif kind == "covariate_shift":
        check_keys(
            p, ("column", "categories", "factor"), f"to the categorical '{col}' (use categories, factor)"
        )
        counts = df[col].value_counts()
        p["categories"] = _present(p.get("categories", [counts.index[min(1, len(counts) - 1)]]), df, col)
        p["factor"] = check_number(p.get("factor", 3.0), "covariate_shift factor", low=0, low_open=True)
    elif kind == "concept_drift":
        if numeric:
            check_keys(p, ("column", "range", "mode", "fraction"), f"to the numeric '{col}' (use range)")
            lo, hi = p.get("range", (df[col].median(), df[col].max()))
            p["range"] = [
                check_number(lo, "the concept_drift range start"),
                check_number(hi, "the concept_drift range end"),
            ]
        else:
            check_keys(
                p, ("column", "values", "mode", "fraction"), f"to the categorical '{col}' (use values)"
            )
            p["values"] = _present(p.get("values", [df[col].value_counts().index[0]]), df, col)
        check_choice(
            p.setdefault("mode", "flip"), "concept_drift mode", ("flip", "to_positive", "to_negative")
        )
        if p["mode"] != "flip":
            _need_labels(ho, f"concept_drift mode '{p['mode']}'", binary=True)
        p["fraction"] = check_fraction(p.get("fraction", 0.3), "concept_drift fraction")
        if not _segment(df, col, p).any():
            raise DataError(f"the concept_drift segment of '{col}' matches no row of the holdout")
        return Change(kind, [target, col], p)
    elif kind == "scale_change":
        if not numeric:
            raise SpecError(f"scale_change needs a numeric column, but '{col}' is categorical")
        p["factor"] = check_number(p.get("factor", 100), "scale_change factor")
        if p["factor"] in (0, 1):  # no change at all, or every value set to 0
            raise ParameterError(
                f"scale_change factor must be a number other than 0 and 1, not {p['factor']:g}"
            )
    else:
        p["rate"] = check_fraction(p.get("rate", 0.3 if kind == "missing_values" else 0.2), f"{kind} rate")
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
    check_choice(p.setdefault("mode", "labels"), "bias_shift mode", ("labels", "features"))
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
        check_keys(p, ("sensitive", "group", "mode", "fraction"), "to mode 'labels' (use fraction)")
        p["fraction"] = check_fraction(p.get("fraction", 0.5), "bias_shift fraction")
        return Change("bias_shift", [s, spec.target], p)
    check_keys(p, ("sensitive", "group", "mode", "columns", "strength"), "to mode 'features' (use columns)")
    cols = p.get("columns") or _score_columns(ho, s)
    p["columns"] = [cols] if isinstance(cols, str) else list(cols)
    for c in p["columns"]:
        if not _is_num(ho, _column(ho, c, "bias_shift")):
            raise SpecError(f"bias_shift 'features' lowers numeric columns, but '{c}' is categorical")
    p["strength"] = check_number(p.get("strength", 1.0), "bias_shift strength", low=0, low_open=True)
    return Change("bias_shift", [s, *p["columns"]], p)


def _inject(c: Change, data: pd.DataFrame, yi: np.ndarray | None, ho: _Holdout, rng) -> dict:
    """Apply a value-level change in place (labels change in `yi`); return its measured effects."""
    p, df, n = c.params, ho.df, len(data)
    col = p.get("column")
    if c.kind == "covariate_shift":
        if "categories" in p:
            return {
                "share_before": df[col].isin(p["categories"]).mean(),
                "share_after": data[col].isin(p["categories"]).mean(),
            }
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
        return {
            "segment_rows": int(seg.sum()),
            "changed": len(rows),
            "rate_before": before,
            "rate_after": ho.rate(yi[seg]),
            "rate_outside": ho.rate(yi[~seg]),
        }
    if c.kind == "bias_shift":
        group = (data[p["sensitive"]] == p["group"]).to_numpy()
        if p["mode"] == "labels":  # a share of the group's positive outcomes turn negative
            before = ho.rate(yi[group])
            pool = np.flatnonzero(group & (yi == ho.pos))
            rows = rng.choice(pool, int(round(p["fraction"] * len(pool))), replace=False)
            yi[rows] = 1 - ho.pos
            return {
                "group_rows": int(group.sum()),
                "changed": len(rows),
                "rate_before": before,
                "rate_after": ho.rate(yi[group]),
            }
        ref = (df[p["sensitive"]] == p["group"]).to_numpy()
        return {
            "group_rows": int(group.sum()),
            "mean_before": {x: df[x][ref].mean() for x in p["columns"]},
            "mean_after": {x: data[x][group].mean() for x in p["columns"]},
            "rate_before": None if yi is None else ho.rate(ho.yi[ref]),
            "rate_after": None if yi is None else ho.rate(yi[group]),
        }
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
    """`k` rows of `pool` and whether some were drawn twice.

    Uniform draws are without replacement whenever the pool has `k` rows.
    Weighted draws (the shifts) are without replacement too while the pool's
    effective size under the weights (Kish: ``(Σw)² / Σw²``) is at least
    ``_WOR_MARGIN`` times `k`: then drawing without replacement keeps nearly
    all of the shift (measured on Adult: a 0.5-strength age shift in batches of
    2,000 keeps ~95% of its mean change) and adds no duplicate rows, which data
    quality would rightly report although nobody injected them. Stronger shifts
    or larger batches are drawn with replacement, and the manifest says so.
    """
    if k == 0:
        return np.empty(0, dtype=np.int64), False
    if len(pool) == 0:
        raise DataError("the holdout has no row to draw this batch from (an empty class or group)")
    if not weighted:
        return rng.choice(pool, k, replace=k > len(pool)), k > len(pool)
    pw = w[pool]
    if not np.isfinite(pw).all() or pw.sum() <= 0:
        raise DataError("the resampling weights vanished; lower the strength of the shift")
    p = pw / pw.sum()
    if k * _WOR_MARGIN <= 1.0 / float(np.dot(p, p)):
        # Efraimidis & Spirakis (2006): the k largest log(u)/w are a weighted draw without
        # replacement, in draw order once sorted (O(n log k), where numpy's choice redraws)
        with np.errstate(divide="ignore"):
            keys = np.log(rng.random(len(pool))) / pw
        top = np.argpartition(-keys, k - 1)[:k]
        return pool[top[np.argsort(-keys[top], kind="stable")]], False
    return rng.choice(pool, k, replace=True, p=p), True


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
