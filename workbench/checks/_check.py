"""Checks: named pass/fail decisions that make a report run actionable.

Every analysis result turns its figures into :class:`Check` objects with
stable names (``drift.share``, ``drift.column.age``, ``quality.missing.age``,
``performance.estimated_accuracy_drop``, ``bias.demographic_parity_ratio.sex``)
through :func:`make_check`. Default thresholds live with each analysis; a run
may override them (:mod:`workbench.checks._config`). How checks are shown:
:mod:`workbench.checks._display`; every name a report can produce:
:mod:`workbench.checks._names`.
"""

from __future__ import annotations

import fnmatch
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

from workbench.checks._config import ChecksConfig, threshold_for

_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}
#: How a relation is written for a reader.
_SYMBOLS = {"<=": "≤", "<": "<", ">=": "≥", ">": ">", "==": "=", "!=": "≠"}
#: Three states a reader sees: a failed check of severity "warning" (or "info") is a warning, not a failure.
PASS, WARN, FAIL = "pass", "warn", "FAIL"


@dataclass(frozen=True)
class Check:
    """One decision: `value` `op` `threshold` -> passed, with a sentence saying what it means."""

    name: str
    passed: bool
    value: float | None
    threshold: float | None
    op: str
    message: str
    severity: str = "error"

    def to_dict(self) -> dict:
        """Its fields as a JSON-safe dict (:meth:`from_dict` reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Check:
        """A check from its dict (``to_dict``, a summary's or the ledger's copy).

        Missing fields get neutral values.
        """
        defaults = {"passed": True, "value": None, "threshold": None, "op": "", "message": ""}
        return cls(**{**defaults, **{k: d[k] for k in cls.__dataclass_fields__ if k in d}})

    # -- what a reader is told: every page, card, table and CI report words a check with these ----------
    @property
    def status(self) -> str:
        """``"pass"``, ``"warn"`` (failed, severity warning: read it, it does not gate) or ``"FAIL"``."""
        if self.passed:
            return PASS
        return FAIL if self.severity == "error" else WARN

    def relation(self) -> str:
        """What happened, as a true statement: ``0.006612 < 0.05`` for a p-value that had to be above 0.05.

        The numbers are written with as many digits as it takes for the written
        relation to hold (``0.05001 > 0.05``, never ``0.05 > 0.05``).
        """
        if self.value is None:
            return "no value"
        if self.threshold is None:
            return format_number(self.value)
        v, t = format_pair(self.value, self.threshold)
        return f"{v} {_SYMBOLS[_actual_op(self.value, self.threshold)]} {t}"

    def requirement(self) -> str:
        """The pass condition: ``must be > 0.05``."""
        if self.threshold is None or self.op not in _OPS:
            return ""
        t = (
            format_pair(self.value, self.threshold)[1]
            if self.value is not None
            else format_number(self.threshold)
        )
        return f"must be {_SYMBOLS[self.op]} {t}"

    def outcome_text(self) -> str:
        """The relation a check table, card or CI report prints.

        Passed: ``0.1 < 0.3``. Failed or warned: what happened and what was
        required, ``0.006612 < 0.05 (must be > 0.05)``. No value: ``no value
        (nothing to judge)``. Ledger rows keep no operator: their failed
        checks print the relation alone.
        """
        if self.value is None:
            return "no value (nothing to judge)"
        if self.passed or not self.requirement():
            return self.relation()
        return f"{self.relation()} ({self.requirement()})"


def format_number(x: float | None, digits: int = 4) -> str:
    """A number for reading: `digits` significant digits, thousands separated (``0.006612``, ``12,345``)."""
    if x is None:
        return "—"
    x = float(x)
    if x != x:
        return "—"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    if 1000 <= abs(x) < 1e15:
        whole = len(str(int(abs(x))))
        return f"{x:,.{max(digits - whole, 0)}f}"
    return f"{x:.{digits}g}"


def format_pair(value: float, threshold: float) -> tuple[str, str]:
    """`value` and `threshold` written so that their written order is their true order.

    ``(0.050001, 0.05)`` gives ``("0.050001", "0.05")`` where 4 digits would
    write two equal numbers for unequal ones.
    """
    value, threshold = float(value), float(threshold)
    truth = _cmp(value, threshold)
    for digits in range(4, 18):
        v, t = format_number(value, digits), format_number(threshold, digits)
        if _cmp(_parse(v), _parse(t)) == truth:
            return v, t
    return repr(value), repr(threshold)


def _parse(text: str) -> float:
    return {"∞": math.inf, "-∞": -math.inf, "—": math.nan}.get(text) or float(text.replace(",", ""))


def _cmp(a: float, b: float) -> int:
    return (a > b) - (a < b)


def _actual_op(value: float, threshold: float) -> str:
    c = _cmp(float(value), float(threshold))
    return "<" if c < 0 else ">" if c > 0 else "=="


def make_check(
    name: str,
    value: float | None,
    op: str,
    default: float,
    message: str,
    config: ChecksConfig | None = None,
    *,
    severity: str = "error",
) -> Check | None:
    """Build a check against its (possibly overridden) threshold; None when disabled.

    `message` may use ``{value}`` and ``{threshold}`` placeholders. A missing
    value (``None``/NaN: nothing to judge) passes and says so.

    Parameters
    ----------
    name : str
        The check's stable name (``drift.share``), what `config` overrides by name or pattern.
    value : float or None
        The measured value.
    op : {"<=", "<", ">=", ">", "=="}
        How `value` must compare with the threshold to pass.
    default : float
        The threshold when `config` does not override it.
    message : str
        What the check means, with ``{value}`` and ``{threshold}`` placeholders.
    config : mapping, optional
        The run's check settings (:func:`~workbench.checks.load_checks_file`).
    severity : {"error", "warning", "info"}
        A failed check of severity "error" fails; the others only warn.

    Returns
    -------
    Check or None
        None when `config` disables the check.

    Raises
    ------
    ValueError
        For an unknown `op`.

    Examples
    --------
    >>> c = make_check("drift.share", 0.4, "<=", 0.3, "{value:.0%} of the columns drifted")
    >>> c.passed, c.status, c.message, c.outcome_text()
    (False, 'FAIL', '40% of the columns drifted', '0.4 > 0.3 (must be ≤ 0.3)')
    >>> make_check("drift.share", 0.4, "<=", 0.3, "...", {"drift.share": 0.5}).passed
    True
    >>> make_check("drift.share", 0.4, "<=", 0.3, "...", {"drift.*": False}) is None
    True
    """
    threshold = threshold_for(name, default, config)
    if threshold is None:
        return None
    if op not in _OPS:
        raise ValueError(f"unknown comparison {op!r}")
    if value is None or value != value:
        return Check(name, True, None, threshold, op, f"{name}: nothing to judge", severity)
    passed = bool(_OPS[op](value, threshold))
    return Check(
        name,
        passed,
        float(value),
        float(threshold),
        op,
        message.format(value=value, threshold=threshold),
        severity,
    )


def failed_checks(checks: Iterable[Check], fail_on: Sequence[str] | str | None) -> list[Check]:
    """The failed checks that `fail_on` asks to gate on (``"all"``, names or glob patterns).

    ``"all"`` gates on every failed check of severity ``"error"``; warnings
    (e.g. absolute fairness findings without a reference) gate only when
    named explicitly or matched by a pattern.
    """
    if not fail_on:
        return []
    if isinstance(fail_on, str):
        fail_on = [fail_on]
    pats = [p.strip() for item in fail_on for p in item.split(",") if p.strip()]
    out = []
    for c in checks:
        if c.passed:
            continue
        named = any(c.name == p or fnmatch.fnmatchcase(c.name, p) for p in pats)
        if named or ("all" in pats and c.severity == "error"):
            out.append(c)
    return out
