"""Data quality: is the current data as well-formed as the reference?

Per column: the missing-value rate (reference vs current), categories never seen
in the reference, numbers outside the reference's observed range, values of
another kind (text where the reference had numbers), columns stuck on a single
value; per table: duplicated rows and columns present in only one of the two.

Default check thresholds, chosen so that a clean batch of a few thousand rows
passes and a real fault does not:

- ``quality.missing.<col>``: the missing rate may rise by at most 0.05 (5
  points) over the reference's: sampling noise on a 2,000-row batch is ~0.5
  point, an upstream fault usually tens of points.
- ``quality.unseen.<col>``: fails when more than 1% of rows hold categories
  the reference never had, *and* at least 10 rows do. The 1% is added to the
  share of new categories expected by chance (the reference's Good-Turing
  missing mass: its categories seen once, over its rows), so a long-tailed or
  identifier-like column does not fail on values nobody could have seen before.
  One-off values are reported in the findings but do not fail.
- ``quality.range.<col>``: fails when more than 1% of values lie outside the
  reference's [min, max], *and* at least 10 values do. The 1% is added to the
  share a new value from the same distribution falls outside a sample's range
  by chance, 2 / (n + 1) for a reference of n values (0.7% at 284 values,
  0.01% at 20,000). So 3 rows of a 284-row batch never fail; a unit change,
  which moves almost all values, always does.
- ``quality.type.<col>``: no change of value kind (0 allowed). Kinds are what
  the values are, not how a file stores them: a categorical of text (Parquet
  text columns are read as categoricals) is text, of integers numbers.
- ``quality.constant.<col>``: a column that varied in the reference must hold
  at least 2 distinct values in current.
- ``quality.columns``: no feature column of the spec missing from current.
- ``quality.duplicates``: the share of duplicated rows may rise by at most 0.05.

Identifier-like columns (the spec's ``id`` column, or text with a distinct
value in nearly every row, e.g. SSNs) never have their values listed: no
unseen-category examples, no type-mismatch examples ("identifier-like column:
values not shown").

Statistics come from :func:`workbench.monitoring.drift.compute_table_stats`,
the same per-column reduction the drift analysis uses, so a report can compute
each table's once and pass them to both (``reference_stats``/``current_stats``).

Here: :func:`check_quality` and the per-column comparison. The result class is
in ``_quality_result``, the thresholds, count checks and issue sentences in
``_quality_text``; their public names are imported from here.
"""

from __future__ import annotations

import numpy as np

from workbench._lazy import lazy
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError
from workbench.monitoring._drift_stats import (
    ID_HIDDEN,
    ColumnStats,
    TableStats,
    _check_spec,
    _identifier_like,
    _same_kind,
    _short,
    compute_table_stats,
)
from workbench.monitoring._quality_result import ColumnQuality, QualityResult
from workbench.monitoring._quality_text import DEFAULTS, MIN_ROWS  # noqa: F401  (public, kept importable here)

pd = lazy("pandas")

__all__ = ["ColumnQuality", "QualityResult", "check_quality", "DEFAULTS"]

_EXAMPLES = 5


def check_quality(
    reference: pd.DataFrame | None,
    current: pd.DataFrame | None,
    spec: DatasetSpec,
    *,
    reference_stats: TableStats | None = None,
    current_stats: TableStats | None = None,
) -> QualityResult:
    """Data quality of `current` against `reference`, column by column (roles from `spec`).

    Either table may be replaced by its :func:`compute_table_stats` (computed
    with ``duplicates=True`` for the duplicate check).

    Parameters
    ----------
    reference : the reference table (None when `reference_stats` is given).
    current : the current table (None when `current_stats` is given).
    spec : the column roles: which columns are features, the target, the id.
    reference_stats, current_stats : each table's statistics, computed once
        and shared with the drift analysis.

    Returns
    -------
    QualityResult
        Per-column missing shares, unseen categories, out-of-range values,
        type changes and constants; missing and extra columns; duplicates.

    Raises
    ------
    DataError
        Neither a table nor its statistics, a current table that is not a
        DataFrame or has no rows.
    ParameterError
        `spec` is not a DatasetSpec.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> demo = load_demo("adult")
    >>> result = check_quality(demo.train, demo.test, demo.spec)
    >>> [c.name for c in result.checks() if not c.passed]
    []
    """
    _check_spec(spec)
    if reference_stats is None:
        if reference is None:
            raise DataError("give the reference data or its statistics (reference_stats=)")
        reference_stats = compute_table_stats(reference, spec, duplicates=True, where="the reference data")
    if current_stats is None:
        if not isinstance(current, pd.DataFrame):
            raise DataError("the current data must be a pandas DataFrame")
        if len(current) == 0:
            raise DataError("the current data has no rows: there is nothing to check")
        current_stats = compute_table_stats(current, spec, duplicates=True, where="the current data")
    ref_cols, cur_cols = reference_stats.dtypes, current_stats.dtypes
    names = [c for c in [*spec.features, spec.target] if c and c in reference_stats.columns]
    columns = [
        _column(
            name,
            "target" if name == spec.target else "feature",
            reference_stats.columns[name],
            current_stats.columns.get(name),
            identifier=name == spec.id,
        )
        for name in names
    ]
    ignore = {spec.id, spec.time, spec.prediction, spec.target}
    return QualityResult(
        columns=columns,
        n_reference=reference_stats.n_rows,
        n_current=current_stats.n_rows,
        missing_columns=[c for c in spec.features if c in ref_cols and c not in cur_cols],
        extra_columns=[c for c in cur_cols if c not in ref_cols and c not in ignore],
        missing_target=bool(spec.target) and spec.target in ref_cols and spec.target not in cur_cols,
        duplicate_share=current_stats.duplicate_share,
        reference_duplicate_share=reference_stats.duplicate_share,
    )


def _column(
    name: str, role: str, ref: ColumnStats, cur: ColumnStats | None, *, identifier: bool = False
) -> ColumnQuality:
    hidden = identifier or _identifier_like(ref, cur)  # its values are never kept (privacy)
    if cur is None:
        return ColumnQuality(
            name, ref.type, role, ref.dtype, None, ref.missing_share, None, identifier_like=hidden
        )
    mismatch = "missing" not in (ref.dtype, cur.dtype) and not _same_kind(ref, cur)
    unseen = out_of_range = None
    examples: list = []
    if mismatch:  # what the unexpected values look like
        top = np.argsort(-cur.counts, kind="stable")[:_EXAMPLES]
        examples = (
            [] if hidden else [_short(cur.values[i]) if cur.numeric else str(cur.values[i]) for i in top]
        )
    elif ref.numeric and cur.numeric and ref.n:
        lo, hi = float(ref.values[0]), float(ref.values[-1])
        below = int(cur.counts[: np.searchsorted(cur.values, lo, side="left")].sum())
        above = int(cur.counts[np.searchsorted(cur.values, hi, side="right") :].sum())
        rows = below + above + cur.n_infinite
        total = cur.n + cur.n_infinite
        out_of_range = {
            "rows": rows,
            "share": rows / total if total else 0.0,
            "below": below,
            "above": above,
            "infinite": cur.n_infinite,
            "reference_min": lo,
            "reference_max": hi,
            "current_min": float(cur.values[0]) if cur.n else None,
            "current_max": float(cur.values[-1]) if cur.n else None,
            "total": total,
            "expected": 2.0 / (ref.n + 1),
            "reference_values": ref.n,
        }
        if hidden:  # an identifier's extremes are identifiers too
            out_of_range.update(reference_min=None, reference_max=None, current_min=None, current_max=None)
    elif not ref.numeric and not cur.numeric:
        new = ~np.isin(cur.values, ref.values)
        values, counts = cur.values[new], cur.counts[new]
        order = np.argsort(-counts, kind="stable")[:_EXAMPLES]
        rows = int(counts.sum())
        singletons = int(np.count_nonzero(ref.counts == 1))  # Good-Turing: P(a new category) ~ n1 / n
        unseen = {
            "rows": rows,
            "share": rows / cur.n_rows,
            "values": int(new.sum()),
            "examples": [] if hidden else [{"value": str(values[i]), "rows": int(counts[i])} for i in order],
            "total": cur.n_rows,
            "expected": singletons / ref.n if ref.n else 0.0,
            "reference_values": ref.n,
        }
    constant = len(cur.values) == 1 and len(ref.values) > 1 and cur.n > 1
    shown_constant = None
    if constant:
        shown_constant = (
            ID_HIDDEN if hidden else (str(cur.values[0]) if not cur.numeric else _short(cur.values[0]))
        )
    return ColumnQuality(
        name=name,
        type=ref.type,
        role=role,
        reference_dtype=ref.dtype,
        current_dtype=cur.dtype,
        reference_missing_share=ref.missing_share,
        current_missing_share=cur.missing_share,
        unseen=unseen,
        out_of_range=out_of_range,
        type_mismatch=bool(mismatch),
        constant=bool(constant),
        constant_value=shown_constant,
        examples=examples,
        identifier_like=hidden,
    )
