"""One column's drift from two tables' counts: Evidently 0.7's tests re-implemented on aggregates, PSI and KL.

Private: import the public names from :mod:`workbench.monitoring.drift`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from workbench._json import json_safe
from workbench._records import FieldRecord
from workbench.errors import SpecError
from workbench.monitoring._drift_stats import (
    ID_HIDDEN,
    ColumnStats,
    _float,
    _identifier_like,
    _mismatch,
    _same_kind,
    _shares,
    _short,
)

#: Evidently 0.7's tests: name -> (display name, default threshold, column types it accepts).
STATTESTS: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "ks": ("K-S p_value", 0.05, ("numeric",)),
    "chisquare": ("chi-square p_value", 0.05, ("categorical",)),
    "z": ("Z-test p_value", 0.05, ("categorical",)),
    "wasserstein": ("Wasserstein distance (normed)", 0.1, ("numeric",)),
    "jensenshannon": ("Jensen-Shannon distance", 0.1, ("numeric", "categorical")),
    "psi": ("PSI", 0.1, ("numeric", "categorical")),
    "kl_div": ("Kullback-Leibler divergence", 0.1, ("numeric", "categorical")),
}
_P_VALUE_TESTS = ("ks", "chisquare", "z")
SIZE_SWITCH = 1000  # Evidently: p-value tests up to this many reference rows, distances above
_PSI_BINS = 10  # reference deciles for the `psi`/`kl_divergence` fields
_EPS = 1e-4  # floor on bin shares for PSI/KL (an empty bin would make them infinite)
_SHOWN_CATEGORIES = 12
_MISSING_TEST = "all_missing"


def default_stattest(column_type: str, n_reference: int, n_values: int) -> str:
    """Evidently 0.7's default test for a column (see the module docstring)."""
    if n_reference <= SIZE_SWITCH:
        if column_type == "numeric" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if column_type == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


# -- the result -------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnDrift(FieldRecord):
    """Drift of one column: Evidently's test, score, threshold and verdict, plus PSI and KL.

    ``normalized_score`` puts every test on one scale, 1 at the threshold and
    higher for more drift (distances: score / threshold; p-values:
    log p / log threshold). ``psi`` and ``kl_divergence`` (KL of the reference
    from current) use fixed bins: reference deciles (numeric) or categories,
    shares floored at 1e-4. ``bins`` holds those shares for the figures.
    ``identifier_like``: the column identifies rows (the spec's id column, or
    text with a distinct value in nearly every row, e.g. SSNs): its values are
    never kept, so ``bins`` is empty and the summaries hold no values.
    """

    name: str
    type: str
    stattest: str
    score: float | None
    threshold: float | None
    drifted: bool
    normalized_score: float | None = None
    psi: float | None = None
    kl_divergence: float | None = None
    role: str = "feature"
    n_values: int = 0
    reference: dict = field(default_factory=dict)
    current: dict = field(default_factory=dict)
    bins: dict = field(default_factory=dict)
    note: str | None = None
    identifier_like: bool = False

    @property
    def stattest_name(self) -> str:
        """Evidently's display name of the test."""
        return STATTESTS[self.stattest][0] if self.stattest in STATTESTS else "every value missing"

    def to_dict(self) -> dict:
        """The column's fields as JSON-safe data (:meth:`from_dict` reads it back)."""
        return json_safe(super().to_dict())


# -- comparing one column ----------------------------------------------------------------
#: Why an identifier-like column's test decides nothing (the findings say it).
NOT_JUDGED = "not judged for drift: a new value in nearly every row always reads as a changed distribution"


def _compare_column(
    name: str,
    role: str,
    ref: ColumnStats | None,
    cur: ColumnStats | None,
    test: str | None,
    threshold: float | None,
    *,
    identifier: bool = False,
) -> ColumnDrift | dict:
    """Evidently's test on one column, or a dict saying why it cannot be compared.

    An identifier-like column (`identifier`, or detected from its values) is
    tested, but none of its values is kept in the result, and it is not
    judged: its values are new in nearly every row of every batch, so any
    test finds its distribution changed. It counts neither as drifted nor in
    the drift share (:data:`NOT_JUDGED`).
    """
    out = _compare(name, role, ref, cur, test, threshold)
    if isinstance(out, ColumnDrift) and (identifier or _identifier_like(ref, cur)):
        return replace(
            out,
            drifted=False,
            normalized_score=None,
            bins={},
            reference=_counts_only(out.reference),
            current=_counts_only(out.current),
            identifier_like=True,
            note=f"{out.note}; {ID_HIDDEN}" if out.note else ID_HIDDEN,
        )
    return out


def _counts_only(summary: dict) -> dict:
    return {k: summary[k] for k in ("rows", "missing_share") if k in summary}


def _compare(
    name: str,
    role: str,
    ref: ColumnStats | None,
    cur: ColumnStats | None,
    test: str | None,
    threshold: float | None,
) -> ColumnDrift | dict:
    label = {
        "feature": f"'{name}'",
        "target": f"the target '{name}'",
        "prediction": "the model's prediction",
    }[role]
    if ref is None:
        return _mismatch(
            name, "missing_in_reference", None, cur and cur.dtype, f"{label} is not in the reference"
        )
    if cur is None:
        return _mismatch(
            name, "missing_in_current", ref.dtype, None, f"{label} is missing from the current data"
        )
    if ref.n == 0:
        return _mismatch(
            name,
            "empty_in_reference",
            ref.dtype,
            cur.dtype,
            f"{label} has no values in the reference, so there is nothing to compare against",
        )
    if cur.n == 0:  # Evidently raises here; a column that went entirely missing has surely changed
        return ColumnDrift(
            name=name,
            type=ref.type,
            stattest=_MISSING_TEST,
            score=None,
            threshold=None,
            drifted=True,
            role=role,
            reference=_summary(ref, ref),
            current=_summary(cur, ref),
            note=f"every value of {label} is missing (or infinite) in the current data",
        )
    if not _same_kind(ref, cur):
        return _mismatch(
            name,
            "type",
            ref.dtype,
            cur.dtype,
            f"{label} holds {ref.dtype} values in the reference but {cur.dtype} values in current",
        )
    allv, r, c = _union_counts(ref, cur)
    kind = "numeric" if ref.numeric else "categorical"  # text in a column declared numeric: categories
    if test is not None and kind not in STATTESTS[test][2]:
        if role == "prediction":  # a global override that does not fit the model's output
            test = None
        else:
            raise SpecError(f"the drift test '{test}' does not apply to the {kind} column '{name}'")
    test = test or default_stattest(kind, ref.n, len(allv))
    thr = STATTESTS[test][1] if threshold is None else threshold
    score = _stattest_score(test, ref, cur, allv, r, c)
    with np.errstate(invalid="ignore"):
        if test == "ks":
            drifted = score <= thr
        elif test in _P_VALUE_TESTS:
            drifted = score < thr
        else:
            drifted = score >= thr
    psi, kl, bins = _fixed_bins(ref, allv, r, c)
    return ColumnDrift(
        name=name,
        type=kind,
        stattest=test,
        score=_float(score),
        threshold=float(thr),
        drifted=bool(drifted),
        normalized_score=_normalized(test, score, thr),
        psi=psi,
        kl_divergence=kl,
        role=role,
        n_values=len(allv),
        reference=_summary(ref, ref),
        current=_summary(cur, ref),
        bins=bins,
    )


def _union_counts(ref: ColumnStats, cur: ColumnStats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Both columns' counts over the sorted union of their values (one merge, no pass over rows)."""
    allv = np.union1d(ref.values, cur.values)
    r = np.zeros(len(allv), dtype=np.int64)
    c = np.zeros(len(allv), dtype=np.int64)
    r[np.searchsorted(allv, ref.values)] = ref.counts
    c[np.searchsorted(allv, cur.values)] = cur.counts
    return allv, r, c


def _stattest_score(
    test: str, ref: ColumnStats, cur: ColumnStats, allv: np.ndarray, r: np.ndarray, c: np.ndarray
) -> float:
    """Evidently 0.7's statistic, computed from counts over the union of values.

    Each branch is the formula of Evidently's ``evidently.legacy.calculations.
    stattests`` function of the same name, evaluated on aggregates instead of
    pandas Series; tests/test_drift.py checks them against Evidently's own.
    """
    n_r, n_c = int(r.sum()), int(c.sum())
    if test == "wasserstein":
        # scipy.stats.wasserstein_distance integrates |F_ref - F_cur| between
        # consecutive values of the merged sample; the CDFs only step at the
        # distinct values, so the integral over the union of values is the same
        # sum without sorting both raw columns again.
        cdf_gap = np.abs(np.cumsum(r)[:-1] / n_r - np.cumsum(c)[:-1] / n_c)
        return float(np.dot(cdf_gap, np.diff(allv))) / max(float(ref.std), 0.001)
    if test == "ks":  # only chosen for small references: scipy on the (sorted) values themselves
        from scipy.stats import ks_2samp

        return float(ks_2samp(np.repeat(allv, r), np.repeat(allv, c))[1])
    if test == "chisquare":
        from scipy.stats import chisquare

        with np.errstate(divide="ignore", invalid="ignore"):  # a category unseen in the reference: p = 0
            return float(chisquare(c, r * (n_c / n_r))[1])
    if test == "z":
        return _z_test(allv, r, c, n_r, n_c)
    p, q = _evidently_binned(ref, cur, allv, r, c, fill_zeroes=test != "jensenshannon")
    if test == "jensenshannon":
        return _jensenshannon(p, q)
    if test == "psi":
        return float(np.sum((p - q) * np.log(p / q)))
    from scipy.stats import entropy

    return float(entropy(p, q))


def _z_test(allv: np.ndarray, r: np.ndarray, c: np.ndarray, n1: int, n2: int) -> float:
    """Evidently's two-proportion Z-test on the share of rows that are not the first value."""
    if len(allv) == 1:  # both tables hold the same single value
        return 1.0
    from scipy.stats import norm

    p1, p2 = float(n1 - r[0]) / n1, float(n2 - c[0]) / n2
    pooled = float(p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2))
    return float(2 * (1 - norm.cdf(np.abs(z))))


def _evidently_binned(
    ref: ColumnStats, cur: ColumnStats, allv, r, c, fill_zeroes: bool
) -> tuple[np.ndarray, np.ndarray]:
    """``stattests.utils.get_binned_data``: Sturges bins over both tables for numeric
    columns with more than 20 reference values, else shares per value."""
    n_r, n_c = r.sum(), c.sum()
    if ref.numeric and len(ref.values) > 20:
        edges = _sturges_edges(float(allv[0]), float(allv[-1]), int(n_r + n_c), ref.integer and cur.integer)
        idx = np.clip(np.searchsorted(edges, allv, side="right") - 1, 0, len(edges) - 2)
        p = np.bincount(idx, weights=r, minlength=len(edges) - 1) / n_r
        q = np.bincount(idx, weights=c, minlength=len(edges) - 1) / n_c
    else:
        p, q = r / n_r, c / n_c
    if fill_zeroes:
        for a in (p, q):
            low = a[a != 0].min()
            a[a == 0] = low / 10**6 if low <= 0.0001 else 0.0001
    return p, q


def _sturges_edges(lo: float, hi: float, n: int, integer: bool) -> np.ndarray:
    """``np.histogram_bin_edges(combined, "sturges")`` from the combined sample's min, max and size."""
    if lo == hi:
        return np.linspace(lo - 0.5, hi + 0.5, 2)
    width = (hi - lo) / (np.log2(n) + 1.0)
    if integer and width < 1:  # numpy widens integer bins to at least 1
        width = 1
    return np.linspace(lo, hi, int(np.ceil((hi - lo) / width)) + 1)


def _jensenshannon(p: np.ndarray, q: np.ndarray) -> float:
    """``scipy.spatial.distance.jensenshannon`` (natural log) without importing scipy."""
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(p > 0, p * np.log(p / m), 0.0)
        right = np.where(q > 0, q * np.log(q / m), 0.0)
    return float(np.sqrt(max(left.sum() + right.sum(), 0.0) / 2.0))


def _fixed_bins(ref: ColumnStats, allv, r, c) -> tuple[float, float, dict]:
    """PSI and KL on bins that depend on the reference only (deciles or categories), and the shares shown."""
    if ref.numeric:
        edges = _quantile_edges(ref)
        idx = np.searchsorted(edges, allv, side="left")  # bin k holds (edge[k-1], edge[k]]
        rb = np.bincount(idx, weights=r, minlength=len(edges) + 1)
        cb = np.bincount(idx, weights=c, minlength=len(edges) + 1)
        e = [_short(x) for x in edges]
        labels = [f"≤ {e[0]}"] + [f"{a} – {b}" for a, b in zip(e[:-1], e[1:], strict=True)] + [f"> {e[-1]}"]
        shown = {"labels": labels, "reference": _shares(rb), "current": _shares(cb), "edges": edges.tolist()}
    else:
        rb, cb = r.astype(float), c.astype(float)
        rs, cs = rb / rb.sum(), cb / cb.sum()
        order = np.argsort(-np.maximum(rs, cs), kind="stable")
        top, rest = order[:_SHOWN_CATEGORIES], order[_SHOWN_CATEGORIES:]
        labels = [str(allv[i]) for i in top]
        ref_sh, cur_sh = rs[top].tolist(), cs[top].tolist()
        if len(rest):
            labels.append(f"other ({len(rest)} categories)")
            ref_sh.append(float(rs[rest].sum()))
            cur_sh.append(float(cs[rest].sum()))
        shown = {"labels": labels, "reference": ref_sh, "current": cur_sh}
    p = np.maximum(rb / rb.sum(), _EPS)
    q = np.maximum(cb / cb.sum(), _EPS)
    p, q = p / p.sum(), q / q.sum()
    return float(np.sum((q - p) * np.log(q / p))), float(np.sum(p * np.log(p / q))), shown


def _quantile_edges(ref: ColumnStats) -> np.ndarray:
    """The reference's deciles (distinct), read from its sorted values and counts."""
    cum = np.cumsum(ref.counts)
    targets = np.ceil(np.arange(1, _PSI_BINS) / _PSI_BINS * ref.n)
    return np.unique(ref.values[np.minimum(np.searchsorted(cum, targets, side="left"), len(cum) - 1)])


def _summary(s: ColumnStats, ref: ColumnStats) -> dict:
    out: dict = {"rows": s.n_rows, "missing_share": s.missing_share}
    if s.n == 0:
        return out
    if s.numeric:
        out.update(mean=s.mean(), std=s.std, min=float(s.values[0]), max=float(s.values[-1]))
    else:
        top = str(ref.values[int(np.argmax(ref.counts))]) if ref.n else None
        hit = np.flatnonzero(s.values == top) if top is not None else []
        own = int(np.argmax(s.counts))
        out.update(
            top=top,
            top_share=float(s.counts[hit[0]] / s.n) if len(hit) else 0.0,
            most_common=str(s.values[own]),
            most_common_share=float(s.counts[own] / s.n),
        )
    return out


def _normalized(test: str, score: float, thr: float) -> float | None:
    if score is None or not np.isfinite(score) or thr <= 0:
        return None
    if test in _P_VALUE_TESTS:
        if thr >= 1:
            return None
        return math.log(max(score, 1e-300)) / math.log(thr)
    return score / thr
