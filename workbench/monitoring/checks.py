"""Checks: named pass/fail decisions that make a report run actionable.

Every analysis result turns its figures into :class:`Check` objects with
stable names (``drift.share``, ``drift.column.age``, ``quality.missing.age``,
``performance.estimated_accuracy_drop``, ``bias.demographic_parity_ratio.sex``).
Default thresholds live with each analysis; a run may override them with a
mapping or a versioned checks file (TOML or YAML)::

    # checks.toml
    "drift.share" = 0.2                     # a new threshold
    "drift.column.*" = false                # disable a family (glob patterns)
    "bias.demographic_parity_ratio.*" = { threshold = 0.75 }

The most specific pattern wins (an exact name beats any glob; a longer glob
beats a shorter one).
"""

from __future__ import annotations

import contextlib
import contextvars
import fnmatch
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError, WorkbenchError
from workbench.validation import check_number

ChecksConfig = Mapping[str, Any]
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
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Check:
        """A check from its dict (``to_dict``, a summary's or the ledger's copy); missing fields get neutral values."""
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
        t = format_pair(self.value, self.threshold)[1] if self.value is not None else format_number(self.threshold)
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


def make_check(name: str, value: float | None, op: str, default: float, message: str,
               config: ChecksConfig | None = None, *, severity: str = "error") -> Check | None:
    """Build a check against its (possibly overridden) threshold; None when disabled.

    `message` may use ``{value}`` and ``{threshold}`` placeholders. A missing
    value (``None``/NaN: nothing to judge) passes and says so.
    """
    threshold = threshold_for(name, default, config)
    if threshold is None:
        return None
    if op not in _OPS:
        raise ValueError(f"unknown comparison {op!r}")
    if value is None or value != value:
        return Check(name, True, None, threshold, op, f"{name}: nothing to judge", severity)
    passed = bool(_OPS[op](value, threshold))
    return Check(name, passed, float(value), float(threshold), op,
                 message.format(value=value, threshold=threshold), severity)


def threshold_for(name: str, default: float, config: ChecksConfig | None) -> float | None:
    """The threshold for check `name` under `config`: default, overridden, or None (disabled)."""
    if not config:
        return default
    if name in config:
        return _resolve(config[name], default, name)
    matches = [p for p in config if any(ch in p for ch in "*?[") and fnmatch.fnmatchcase(name, p)]
    if not matches:
        return default
    best = max(matches, key=lambda p: (len(p.replace("*", "")), len(p)))
    return _resolve(config[best], default, best)


def load_checks_file(path: str | Path) -> dict:
    """Read a checks file (``.toml``, ``.yaml``/``.yml`` or ``.json``) into a config mapping."""
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"the checks file '{path}' does not exist")
    text = path.read_text()
    suffix = path.suffix.lower()
    try:
        if suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        elif suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        elif suffix == ".json":
            import json

            data = json.loads(text)
        else:
            raise WorkbenchError(f"the checks file '{path}' must be TOML, YAML or JSON (not '{suffix or 'no suffix'}')")
    except WorkbenchError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkbenchError(f"the checks file '{path}' cannot be parsed: {first}") from None
    if not isinstance(data, dict):
        raise WorkbenchError(f"the checks file '{path}' must map check names to thresholds")
    data = _flatten(data)
    for key, value in data.items():
        _resolve(value, 0.0, key)  # validate early, with the file's name in the message
    return data


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


#: A check table shows at most this many passed checks unfolded; more fold behind "N checks passed".
FOLD_PASSES_OVER = 5
_STATUS_STYLE = {FAIL: ("#fff5f5", "#cf222e"), WARN: ("#fffbe6", "#9a6700"), PASS: ("transparent", "#1a7f37")}
_SHOWN_ABOVE: contextvars.ContextVar[bool] = contextvars.ContextVar("workbench_checks_shown_above", default=False)


@contextlib.contextmanager
def checks_shown_above() -> Iterator[None]:
    """Render result cards without their own check table: the page already showed every check above.

    A report page shows all of its checks in one table, then each result's
    card; a card's table would repeat its part of it. Within this block,
    :func:`checks_table_html` gives a one-line pointer to the table above.
    """
    token = _SHOWN_ABOVE.set(True)
    try:
        yield
    finally:
        _SHOWN_ABOVE.reset(token)


def check_counts(checks: Iterable[Check]) -> dict[str, int]:
    """``{"FAIL": n, "warn": n, "pass": n}``."""
    out = {FAIL: 0, WARN: 0, PASS: 0}
    for c in checks:
        out[c.status] += 1
    return out


def counts_text(checks: Sequence[Check]) -> str:
    """``7 failed, 2 warnings, 58 passed`` (the parts that are not zero)."""
    n = check_counts(checks)
    parts = [f"{n[FAIL]} failed" if n[FAIL] else "", f"{n[WARN]} warning{'s' if n[WARN] != 1 else ''}" if n[WARN]
             else "", f"{n[PASS]} passed" if n[PASS] else ""]
    return ", ".join(p for p in parts if p) or "no checks"


def status_html(status: str) -> str:
    """The status cell of a check: ``FAIL`` (red), ``warn`` (amber) or ``pass`` (green)."""
    color = _STATUS_STYLE.get(status, _STATUS_STYLE[PASS])[1]
    weight = "600" if status != PASS else "400"
    return f"<span class='wb-check-{status.lower()}' style='color:{color};font-weight:{weight}'>{status}</span>"


def checks_table_html(checks: Sequence[Check], *, fold_over: int = FOLD_PASSES_OVER) -> str:
    """The check table: failures, then warnings, then passes (more than `fold_over` passes fold behind a count).

    Every row states what happened (``0.006612 < 0.05 (must be > 0.05)``, see
    :meth:`Check.outcome_text`); a failed check of severity "warning" reads
    ``warn``, not ``FAIL``.
    """
    checks = list(checks)
    if not checks:
        return ""
    if _SHOWN_ABOVE.get():
        return (f"<p class='wb-checks-ref' style='color:#57606a;margin:6px 0'>Its {len(checks)} checks "
                f"({counts_text(checks)}) are in the check table above.</p>")
    rank = {FAIL: 0, WARN: 1, PASS: 2}
    rows = sorted(checks, key=lambda c: (rank[c.status], c.name))
    shown = [c for c in rows if c.status != PASS]
    passes = [c for c in rows if c.status == PASS]
    if len(passes) <= fold_over:
        shown, passes = shown + passes, []
    out = f"<div class='wb-checks-count' style='color:#57606a;margin:4px 0'>{len(checks)} checks: {counts_text(checks)}.</div>"
    if shown:
        out += _table(shown)
    if passes:
        what = f"All {len(passes)} checks passed" if len(passes) == len(checks) else f"{len(passes)} checks passed"
        out += (f"<details class='wb-checks-passed' style='margin:6px 0'><summary style='cursor:pointer;"
                f"color:#0969da'>{what}</summary>{_table(passes)}</details>")
    return f"<div class='wb-checks-block'>{out}</div>"


def _table(rows: Sequence[Check]) -> str:
    from workbench import _html

    cell = "padding:3px 10px;vertical-align:top;overflow-wrap:anywhere;text-align:left"  # JupyterLab right-aligns cells
    body = "".join(
        f"<tr class='wb-check-row wb-check-row-{c.status.lower()}' style='background:{_STATUS_STYLE[c.status][0]}'>"
        f"<td style='{cell}'>{status_html(c.status)}</td>"
        f"<td style='{cell};font-family:monospace'>{_html.esc(c.name)}</td>"
        f"<td style='{cell}'>{_html.esc(c.outcome_text())}</td>"
        f"<td style='{cell}'>{_html.esc(c.message)}</td></tr>"
        for c in rows
    )
    return ("<table class='wb-checks' style='border-collapse:collapse;table-layout:fixed;width:100%'>"
            "<colgroup><col style='width:4.5em'><col style='width:27%'><col style='width:20%'><col></colgroup>"
            "<thead><tr><th style='text-align:left;padding:3px 10px'>status</th>"
            "<th style='text-align:left;padding:3px 10px'>check</th>"
            "<th style='text-align:left;padding:3px 10px'>outcome</th>"
            f"<th style='text-align:left;padding:3px 10px'>meaning</th></tr></thead><tbody>{body}</tbody></table>")


def _resolve(value: Any, default: float, key: str) -> float | None:
    if value is False:
        return None
    if value is True or value is None:
        return default
    if isinstance(value, Mapping):
        unknown = set(value) - {"threshold", "enabled"}
        if unknown:
            raise ParameterError(f"the check setting '{key}' has unknown field(s) {sorted(unknown)}; "
                                 "use threshold and enabled")
        if value.get("enabled", True) is False:
            return None
        value = value.get("threshold", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"the check setting '{key}' must be a number, true/false, or {{threshold = ...}}")
    from workbench.monitoring.check_names import threshold_range

    low, high = threshold_range(key)
    return check_number(value, f"the check setting '{key}'", low=None if math.isinf(low) else low,
                        high=None if math.isinf(high) else high)


def _flatten(data: Mapping, prefix: str = "") -> dict:
    """Allow nested tables (``[drift] share = 0.2``) as well as dotted keys."""
    out: dict = {}
    for k, v in data.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping) and not ({"threshold", "enabled"} & set(v)):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out
