"""The names of every check a report can produce, so that a gate can be validated before a run.

A ``--fail-on`` pattern or a checks-file key that matches no check would
switch a gate off without a word (``--fail-on al``, ``"drift.colum.age"``):
both are refused as bad input before the run starts. Names are known per
report kind as families (``drift.column.{column}``); the columns come from the
tables the run will read.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence

from workbench.errors import ParameterError
from workbench.report_kinds import REPORT_KINDS

#: bias checks without a reference (``bias.<metric>.<attribute>``): metric -> (op, default threshold)
ABSOLUTE_CHECKS: dict[str, tuple[str, float]] = {
    "demographic_parity_ratio": (">=", 0.8),
    "demographic_parity_difference": ("<=", 0.1),
    "equalized_odds_difference": ("<=", 0.1),
    "equal_opportunity_difference": ("<=", 0.1),
}
#: bias metrics compared with the reference (check ``bias.<metric>.<attribute>.worsened``, default <= 0)
WORSENED_CHECKS = (
    "demographic_parity_ratio",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "predictive_parity_difference",
    "base_rate_difference",
)

#: label-based disparities estimated before labels arrive (``bias.estimated.<metric>.<attribute>.worsened``)
ESTIMATED_CHECKS = ("equalized_odds_difference", "equal_opportunity_difference")

#: disparities a challenger may not worsen beyond chance (``release.fairness.<metric>.<attribute>``); the
#: base-rate gap is the data's, the same for both models
RELEASE_FAIRNESS = (
    "demographic_parity_ratio",
    "demographic_parity_difference",
    "equalized_odds_difference",
    "equal_opportunity_difference",
    "false_positive_rate_difference",
    "predictive_parity_difference",
    "accuracy_difference",
)

_PERFORMANCE = (
    "performance.accuracy_drop",
    "performance.roc_auc_drop",
    "performance.estimated_accuracy_drop",
    "performance.estimated_roc_auc_drop",
    "performance.estimate_reliable",
    "performance.rmse_increase",
)
_QUALITY = (
    "quality.columns",
    "quality.duplicates",
    "quality.type.{column}",
    "quality.missing.{column}",
    "quality.unseen.{column}",
    "quality.range.{column}",
    "quality.constant.{column}",
)

#: check-name families per stored result kind; ``{column}`` is a table column, ``{attribute}`` a sensitive one
_BY_RESULT: dict[str, tuple[str, ...]] = {
    "drift": ("drift.share", "drift.dataset", "drift.column.{column}", "drift.prediction", "drift.target"),
    "quality": _QUALITY,
    "performance": _PERFORMANCE,
    "bias": (
        *(f"bias.{m}.{{attribute}}" for m in ABSOLUTE_CHECKS),
        *(f"bias.{m}.{{attribute}}.worsened" for m in WORSENED_CHECKS),
        *(f"bias.estimated.{m}.{{attribute}}.worsened" for m in ESTIMATED_CHECKS),
    ),
    "compare": (
        "release.auc_loss",
        "release.cost_increase",
        *(f"release.fairness.{m}.{{attribute}}" for m in RELEASE_FAIRNESS),
        "release.latency_p95",
        "release.size",
    ),
    "canary": (
        "canary.prediction_drift",
        "canary.latency",
        "canary.validation_failures",
        "canary.fallbacks",
        "canary.accuracy",
        "canary.score",
    ),
}
#: check-name families per report kind: those of the results it stores
FAMILIES: dict[str, tuple[str, ...]] = {
    name: tuple(f for r in k.results for f in _BY_RESULT[r]) for name, k in REPORT_KINDS.items()
}
#: what ``--fail-on`` accepts beside names and patterns
GATE_WORDS = ("all",)


def known_names(kind: str, columns: Iterable[str] = (), attributes: Iterable[str] = ()) -> list[str]:
    """Every concrete check name `kind` can produce over these columns and sensitive attributes."""
    columns, attributes = list(columns), list(attributes)
    out: list[str] = []
    for family in FAMILIES.get(kind, ()):
        if "{column}" in family:
            out += [family.format(column=c) for c in columns]
        elif "{attribute}" in family:
            out += [family.format(attribute=a) for a in attributes]
        else:
            out.append(family)
    return out


def validate_patterns(
    patterns: Sequence[str] | str | None,
    *,
    kind: str,
    columns: Iterable[str] = (),
    attributes: Iterable[str] = (),
    what: str = "--fail-on",
    gate: bool = True,
) -> list[str]:
    """Refuse a name or glob pattern that matches no check a `kind` run can produce.

    `gate` allows the words of :data:`GATE_WORDS` (``--fail-on all``). Checks
    files may be shared by several kinds, so `what` = a checks file also
    accepts a name of another kind's family (see :func:`validate_config_keys`).
    Returns the patterns, split on commas.
    """
    if patterns is None:
        return []
    if isinstance(patterns, str):
        patterns = [patterns]
    items = [p.strip() for item in patterns for p in str(item).split(",") if p.strip()]
    columns = list(columns)
    names = known_names(kind, columns, attributes)
    for p in items:
        if gate and p in GATE_WORDS:
            continue
        if not _matches(p, names, kind, columns_known=bool(columns)):
            raise ParameterError(
                f"{what} '{p}' matches no check of a {kind} report; use 'all', a check "
                f"name or a pattern such as {_examples(kind, names)}"
            )
    return items


def validate_config_keys(
    keys: Iterable[str],
    *,
    kind: str,
    columns: Iterable[str] = (),
    attributes: Iterable[str] = (),
    source: str = "the checks",
) -> None:
    """Refuse a checks-file key that names no check (of this kind, or of any kind for a shared file)."""
    columns = list(columns)
    names = known_names(kind, columns, attributes)
    for key in keys:
        if _matches(key, names, kind, columns_known=bool(columns)):
            continue
        if any(_family_match(key, fam) for other, fams in FAMILIES.items() if other != kind for fam in fams):
            continue  # another kind's check: a checks file may serve several reports
        raise ParameterError(
            f"{source} name '{key}', which matches no check; use a check name or a "
            f"pattern such as {_examples(kind, names)}"
        )


def _matches(pattern: str, names: Sequence[str], kind: str, *, columns_known: bool) -> bool:
    if any(pattern == n or fnmatch.fnmatchcase(n, pattern) for n in names):
        return True
    # an attribute the tables do not show by name (an intersection 'sex & race'), or columns not known
    # yet: the family's shape decides; known columns are exact ('drift.column.agee' is a typo)
    return any(
        _family_match(pattern, fam)
        for fam in FAMILIES.get(kind, ())
        if "{attribute}" in fam or ("{column}" in fam and not columns_known)
    )


def _family_match(pattern: str, family: str) -> bool:
    """Whether `pattern` (a name or glob) can name a check of `family` (``{...}`` = any non-empty text)."""
    if "{" not in family:
        return pattern == family or fnmatch.fnmatchcase(family, pattern)
    regex = re.escape(family)
    regex = re.sub(r"\\\{[a-z]+\\\}", ".+", regex)
    if not any(ch in pattern for ch in "*?["):
        return re.fullmatch(regex, pattern) is not None
    sample = re.sub(r"\{[a-z]+\}", "x", family)  # a glob: does it cover the family's shape?
    return fnmatch.fnmatchcase(sample, pattern) or fnmatch.fnmatchcase(family, pattern)


def _examples(kind: str, names: Sequence[str]) -> str:
    fams = FAMILIES.get(kind, ())
    shown = [f.replace("{column}", "*").replace("{attribute}", "*") for f in fams]
    shown = list(dict.fromkeys(shown))
    return ", ".join(f"'{s}'" for s in shown[:8]) + (", ..." if len(shown) > 8 else "")


#: the thresholds a check can meaningfully take (a share above 1 or a negative p-value is a typo)
_RANGES: tuple[tuple[str, float, float], ...] = (
    ("quality.columns", 0.0, float("inf")),
    ("quality.constant.*", 0.0, float("inf")),
    ("quality.*", 0.0, 1.0),
    ("drift.share", 0.0, 1.0),
    ("drift.dataset", 0.0, 1.0),
    ("drift.*", 0.0, float("inf")),
    ("bias.*.worsened", -1.0, 1.0),
    ("bias.*", 0.0, 1.0),
    ("performance.rmse_increase", -1.0, float("inf")),
    ("performance.*", -1.0, 1.0),
    ("release.auc_loss", -1.0, 1.0),
    ("release.fairness.*", -1.0, 1.0),
    ("release.latency_p95", 0.0, float("inf")),
    ("release.size", 0.0, float("inf")),
    ("canary.prediction_drift", 0.0, float("inf")),
    ("canary.score", 0.0, 100.0),
    ("canary.*", 0.0, 1.0),
)


def threshold_range(name: str) -> tuple[float, float]:
    """The range a threshold for check `name` (or a pattern) must lie in."""
    for pattern, low, high in _RANGES:
        if name == pattern or fnmatch.fnmatchcase(name, pattern):
            return low, high
    return float("-inf"), float("inf")
