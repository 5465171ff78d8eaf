"""The words and decisions around :class:`workbench.monitoring.quality.QualityResult`.

The default thresholds, the count checks (unseen categories, out of range)
with their chance allowance, the card's problem column and the issues in
plain words. Why the thresholds are what they are: :mod:`workbench.monitoring.quality`.

Private: import the public names from :mod:`workbench.monitoring.quality`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from workbench.checks import Check, ChecksConfig, make_check, threshold_for
from workbench.monitoring._drift_stats import ID_HIDDEN, _pct, _short

if TYPE_CHECKING:
    from workbench.monitoring._quality_result import QualityResult

#: Default thresholds of the checks (why: the docstring of :mod:`workbench.monitoring.quality`).
DEFAULTS = {"missing": 0.05, "unseen": 0.01, "range": 0.01, "duplicates": 0.05}
#: Fewer rows than this never fail the unseen-category and out-of-range checks (whatever their share).
MIN_ROWS = {"unseen": 10, "range": 10}


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
    """The unseen/range check: its threshold and sentence state the share, the chance allowance, the minimum.

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
                f"{_pct(c.current_missing_share)} of '{c.name}' is missing "
                f"({_pct(c.reference_missing_share)} in the reference).",
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
