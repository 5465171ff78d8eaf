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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import ClassVar

import numpy as np

from workbench import _html
from workbench._lazy import lazy
from workbench.checks import (
    Check,
    ChecksConfig,
    checks_table_html,
    make_check,
    threshold_for,
)
from workbench.data._spec import DatasetSpec
from workbench.errors import DataError, UnknownNameError
from workbench.monitoring._drift_stats import (
    ID_HIDDEN,
    ColumnStats,
    TableStats,
    _check_spec,
    _clean,
    _identifier_like,
    _pct,
    _same_kind,
    _short,
    compute_table_stats,
)
from workbench.results import name_list

pd = lazy("pandas")

__all__ = ["ColumnQuality", "QualityResult", "check_quality", "DEFAULTS"]

#: Default thresholds of the checks (see the module docstring for why).
DEFAULTS = {"missing": 0.05, "unseen": 0.01, "range": 0.01, "duplicates": 0.05}
#: Fewer rows than this never fail the unseen-category and out-of-range checks (whatever their share).
MIN_ROWS = {"unseen": 10, "range": 10}
_EXAMPLES = 5


@dataclass(frozen=True)
class ColumnQuality:
    """The quality of one column in current, measured against the reference.

    ``unseen``: rows holding categories the reference never had (count,
    share of all rows, number of new values, the 5 most frequent as examples,
    ``expected``: the share expected by chance). ``out_of_range``: numeric
    values outside the reference's [min, max] (below, above, share of the
    non-missing values, ``expected`` by chance). ``type_mismatch``: the
    values are of another kind than in the reference (see the dtypes).
    ``constant``: a single distinct value in current where the reference had more.
    ``identifier_like``: the column identifies rows; no value of it is kept.
    """

    name: str
    type: str
    role: str = "feature"
    reference_dtype: str | None = None
    current_dtype: str | None = None
    reference_missing_share: float | None = None
    current_missing_share: float | None = None
    unseen: dict | None = None
    out_of_range: dict | None = None
    type_mismatch: bool = False
    constant: bool = False
    constant_value: str | None = None
    examples: list = field(default_factory=list)
    identifier_like: bool = False

    @property
    def missing_increase(self) -> float | None:
        if self.current_missing_share is None or self.reference_missing_share is None:
            return None
        return self.current_missing_share - self.reference_missing_share

    def to_dict(self) -> dict:
        return _clean(asdict(self))

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnQuality:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class QualityResult:
    """Data quality of a current table against the reference.

    Ask it things: ``result.column("age").current_missing_share``,
    ``result.issues()`` (one row per problem), ``result.checks()``,
    ``result.findings()``, ``result.figures()``.
    """

    columns: list[ColumnQuality]
    n_reference: int
    n_current: int
    missing_columns: list[str] = field(default_factory=list)
    extra_columns: list[str] = field(default_factory=list)
    missing_target: bool = False
    duplicate_share: float | None = None
    reference_duplicate_share: float | None = None

    kind: ClassVar[str] = "quality"
    SCHEMA: ClassVar[int] = 1

    def column(self, name: str) -> ColumnQuality:
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(
            f"no quality result for column '{name}'; the checked columns are "
            f"{name_list([c.name for c in self.columns])}"
        )

    def issues(self) -> list[dict]:
        """Every problem found under the default thresholds, most serious kind first."""
        return _issues(self)

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "columns": [c.to_dict() for c in self.columns],
            "missing_columns": list(self.missing_columns),
            "extra_columns": list(self.extra_columns),
            "missing_target": self.missing_target,
            "duplicate_share": _clean(self.duplicate_share),
            "reference_duplicate_share": _clean(self.reference_duplicate_share),
            "n_issues": len(self.issues()),
            "key_metrics": self.key_metrics(),
        }

    def key_metrics(self) -> dict:
        """Flat figures for the ledger and the trend charts."""
        rises = [c.missing_increase for c in self.columns if c.missing_increase is not None]
        return {
            "quality.issues": sum(i["flag"] for i in self.issues()),
            "quality.max_missing_rise": max(rises, default=0.0),
            "quality.duplicate_share": self.duplicate_share,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> QualityResult:
        return cls(
            columns=[ColumnQuality.from_dict(c) for c in d["columns"]],
            n_reference=d["n_reference"],
            n_current=d["n_current"],
            missing_columns=list(d.get("missing_columns", [])),
            extra_columns=list(d.get("extra_columns", [])),
            missing_target=d.get("missing_target", False),
            duplicate_share=d.get("duplicate_share"),
            reference_duplicate_share=d.get("reference_duplicate_share"),
        )

    def figures(self) -> dict:
        from workbench.viz import monitoring as vm

        rows = []
        for c in self.columns:
            d = c.to_dict()
            d["missing_flag"] = (c.missing_increase or 0) > DEFAULTS["missing"]
            rows.append(d)
        return {"missing": vm.missing_figure(rows), "issues": vm.quality_issues_figure(self.issues())}

    def figure(self):
        return self.figures()["issues"]

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """One sentence per problem found under the default thresholds (the check table applies `config`)."""
        found = [i["finding"] for i in self.issues()]
        if not any(i["flag"] for i in self.issues()):
            found.insert(
                0,
                "No data-quality problem found: missing values, categories, value ranges, types and "
                "columns are in line with the reference.",
            )
        return found

    def checks(self, config: ChecksConfig | None = None) -> list[Check]:
        out = [
            make_check(
                "quality.columns",
                float(len(self.missing_columns)),
                "<=",
                0,
                "{value:.0f} feature column(s) of the reference missing from the current data",
                config,
            )
        ]
        for c in self.columns:
            n = c.name.replace("{", "{{").replace("}", "}}")
            if c.current_dtype is None:
                continue
            out.append(
                make_check(
                    f"quality.type.{c.name}",
                    float(c.type_mismatch),
                    "<=",
                    0,
                    f"'{n}' holds {c.current_dtype} values (reference: {c.reference_dtype})"
                    if c.type_mismatch
                    else f"'{n}' holds the same kind of values as the reference",
                    config,
                )
            )
            out.append(
                make_check(
                    f"quality.missing.{c.name}",
                    c.missing_increase,
                    "<=",
                    DEFAULTS["missing"],
                    f"'{n}' missing rate {c.current_missing_share:.1%} vs {c.reference_missing_share:.1%} "
                    "in the reference (rise {value:.1%}, allowed {threshold:.1%})",
                    config,
                )
            )
            if c.unseen is not None:
                out.append(
                    _count_check(
                        f"quality.unseen.{c.name}",
                        "unseen",
                        c.unseen,
                        self.n_reference,
                        n,
                        "rows",
                        "hold categories never seen in the reference",
                        config,
                    )
                )
            if c.out_of_range is not None:
                o = c.out_of_range
                bounds = (
                    f"({ID_HIDDEN})"
                    if c.identifier_like
                    else f"[{_short(o['reference_min'])} – {_short(o['reference_max'])}]"
                )
                out.append(
                    _count_check(
                        f"quality.range.{c.name}",
                        "range",
                        o,
                        self.n_reference,
                        n,
                        "values",
                        f"lie outside the reference's range {bounds}",
                        config,
                    )
                )
            if c.constant:
                out.append(
                    make_check(
                        f"quality.constant.{c.name}",
                        1.0,
                        ">=",
                        2,
                        f"'{n}' holds a single value in the current data",
                        config,
                    )
                )
        if self.duplicate_share is not None:
            rise = self.duplicate_share - (self.reference_duplicate_share or 0.0)
            out.append(
                make_check(
                    "quality.duplicates",
                    rise,
                    "<=",
                    DEFAULTS["duplicates"],
                    f"{self.duplicate_share:.1%} of rows are duplicates "
                    f"({(self.reference_duplicate_share or 0):.1%} in the reference; "
                    "rise {value:.1%}, allowed {threshold:.1%})",
                    config,
                )
            )
        return [c for c in out if c is not None]

    def _repr_html_(self, config: ChecksConfig | None = None) -> str:
        """The result's card; its checks under `config` (a report passes its run's check settings)."""
        body = "<ul>" + "".join(f"<li>{_html.esc(f)}</li>" for f in self.findings()) + "</ul>"
        checks = self.checks(config)
        problems = _column_problems(checks)
        rows = [
            {
                "column": c.name,
                "missing (ref)": c.reference_missing_share,
                "missing (current)": c.current_missing_share,
                "unseen rows": (c.unseen or {}).get("rows"),
                "out of range": (c.out_of_range or {}).get("rows"),
                "type": c.current_dtype,
                "problem": ", ".join(problems.get(c.name, [])) or False,
            }
            for c in self.columns
        ]
        body += _html.table(rows, highlight="problem")
        body += checks_table_html(checks)
        return _html.card(
            "Data quality",
            body,
            f"{self.n_current:,} current rows against {self.n_reference:,} reference rows",
        )


def _allowed(kind: str, found: Mapping, share_threshold: float) -> float:
    """The share a count check allows: the threshold plus chance, and never fewer than MIN_ROWS rows.

    "More than `share_threshold` + expected, and at least MIN_ROWS rows" is
    one comparison: share > max(share_threshold + expected, (MIN_ROWS - 1) / total).
    """
    total = found.get("total") or 0
    floor = (MIN_ROWS[kind] - 1) / total if total else 0.0
    return max(share_threshold + (found.get("expected") or 0.0), floor)


def _count_check(
    name: str,
    kind: str,
    found: Mapping,
    n_reference: int,
    column: str,
    unit: str,
    what: str,
    config: ChecksConfig | None,
) -> Check | None:
    """The unseen/range check: its threshold and sentence state the share, the chance allowance and the minimum.

    E.g. "12 of 2,000 'age' values (0.6%) lie outside the reference's range [17 – 90]; the check fails when
    more than 1.0% + 0.7% expected by chance from a 284-value reference and at least 10 values do".
    """
    share_threshold = threshold_for(name, DEFAULTS[kind], config)
    if share_threshold is None:
        return None
    total, expected = found.get("total"), found.get("expected") or 0.0
    counted = (
        f"{found['rows']:,} of {total:,} '{column}' {unit} ({_pct(found['share'])})"
        if total
        else f"{{value:.1%}} of '{column}' {unit}"
    )
    size = found.get("reference_values", n_reference)
    chance = (
        f" + {_pct(expected)} expected by chance from a {size:,}-{unit[:-1]} reference"
        if expected >= 5e-4
        else ""
    )
    msg = (
        f"{counted} {what}; the check fails when more than {share_threshold:.1%}{chance} "
        f"and at least {MIN_ROWS[kind]} {unit} do"
    )
    return make_check(name, found["share"], "<=", _allowed(kind, found, share_threshold), msg)


def _fails(kind: str, found: Mapping | None) -> bool:
    """Whether a count check fails under the default thresholds (the findings' flag agrees with the check)."""
    return bool(found) and found["rows"] > 0 and found["share"] > _allowed(kind, found, DEFAULTS[kind])


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


_PROBLEMS = {
    "type": "type",
    "missing": "missing values",
    "unseen": "unseen categories",
    "range": "out of range",
    "constant": "constant",
}


def _column_problems(checks: list[Check]) -> dict[str, list[str]]:
    """Column -> what its failed checks say is wrong: the card's "problem" column agrees with the checks."""
    out: dict[str, list[str]] = {}
    for c in checks:
        kind, _, column = c.name.removeprefix("quality.").partition(".")
        if not c.passed and column and kind in _PROBLEMS:
            out.setdefault(column, []).append(_PROBLEMS[kind])
    return out


def _issues(r: QualityResult) -> list[dict]:
    """Problems in plain words; ``flag`` says whether it breaks a default threshold."""
    out: list[dict] = []

    def add(column, issue, detail, finding, flag=True):
        out.append({"column": column, "issue": issue, "detail": detail, "finding": finding, "flag": flag})

    if r.missing_columns:
        names = ", ".join(f"'{c}'" for c in r.missing_columns)
        add(
            ", ".join(r.missing_columns),
            "missing column",
            "in the reference, not in current",
            f"The current data lacks {len(r.missing_columns)} feature column(s) of the reference: {names}.",
        )
    for c in r.columns:
        if c.type_mismatch:
            eg = (
                f"({ID_HIDDEN})"
                if c.identifier_like
                else f"(e.g. {', '.join(repr(e) for e in c.examples[:3])})"
                if c.examples
                else ""
            )
            add(
                c.name,
                "type",
                f"{c.reference_dtype} → {c.current_dtype}",
                f"'{c.name}' holds {c.current_dtype} values in the current data where the reference had "
                f"{c.reference_dtype} values" + (f" {eg}." if eg else "."),
            )
    for c in r.columns:
        rise = c.missing_increase
        if rise is not None and (rise > DEFAULTS["missing"] or (c.current_missing_share == 1.0)):
            add(
                c.name,
                "missing values",
                f"{_pct(c.reference_missing_share)} → {_pct(c.current_missing_share)}",
                f"{_pct(c.current_missing_share)} of '{c.name}' is missing ({_pct(c.reference_missing_share)} in "
                "the reference).",
            )
    for c in r.columns:
        if c.unseen and c.unseen["rows"]:
            flag = _fails("unseen", c.unseen)
            ex = c.unseen["examples"]
            what = (
                "a category never seen before"
                if c.unseen["values"] == 1
                else f"{c.unseen['values']:,} categories never seen before"
            )
            if c.identifier_like:
                listed = f" in {c.unseen['rows']:,} rows ({ID_HIDDEN})"
            else:
                more = "" if c.unseen["values"] <= len(ex) else f" and {c.unseen['values'] - len(ex)} more"
                listed = ": " + ", ".join(f"'{e['value']}' ({e['rows']:,} rows)" for e in ex) + more
            add(
                c.name,
                "unseen categories",
                f"{c.unseen['rows']:,} rows ({_pct(c.unseen['share'])})",
                f"'{c.name}' has {what}{listed}" + ("." if flag else " — within what the check allows."),
                flag,
            )
    for c in r.columns:
        o = c.out_of_range
        if o and o["rows"]:
            flag = _fails("range", o)
            side = []
            if o["below"]:
                side.append(f"{o['below']:,} below the minimum")
            if o["above"]:
                side.append(f"{o['above']:,} above the maximum")
            if o["infinite"]:
                side.append(f"{o['infinite']:,} infinite")
            bounds = (
                f"({ID_HIDDEN})"
                if c.identifier_like
                else f"[{_short(o['reference_min'])} – {_short(o['reference_max'])}]"
            )
            add(
                c.name,
                "out of range",
                f"{o['rows']:,} values ({_pct(o['share'])})",
                f"{_pct(o['share'])} of '{c.name}' values lie outside the reference's range "
                f"{bounds} ({', '.join(side)})" + ("." if flag else " — few enough to pass the check."),
                flag,
            )
    for c in r.columns:
        if c.constant:
            add(
                c.name,
                "constant",
                f"only {c.constant_value!r}",
                f"'{c.name}' holds a single value in the current data ({c.constant_value!r}); "
                "it varied in the reference.",
            )
    if r.duplicate_share is not None:
        ref = r.reference_duplicate_share or 0.0
        if r.duplicate_share - ref > DEFAULTS["duplicates"]:
            add(
                "(all)",
                "duplicate rows",
                f"{_pct(ref)} → {_pct(r.duplicate_share)}",
                f"{_pct(r.duplicate_share)} of rows are exact duplicates of another row ({_pct(ref)} in the "
                "reference).",
            )
    if r.extra_columns:
        add(
            ", ".join(r.extra_columns),
            "extra column",
            "in current, not in the reference",
            f"The current data has {len(r.extra_columns)} column(s) the reference does not: "
            + ", ".join(f"'{c}'" for c in r.extra_columns)
            + " (ignored).",
            False,
        )
    if r.missing_target:
        add(
            "(target)",
            "no labels",
            "target column absent",
            "The current data has no target column (no labels yet): label checks were skipped.",
            False,
        )
    out.sort(key=lambda i: not i["flag"])
    return out
