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

import fnmatch
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

ChecksConfig = Mapping[str, Any]
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt, "==": operator.eq}


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
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


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


def checks_table_html(checks: Sequence[Check]) -> str:
    """The check table of a report: failed ones first."""
    from workbench import _html

    rows = sorted(checks, key=lambda c: (c.passed, c.name))
    body = "".join(
        f"<tr style='background:{'#fff5f5' if not c.passed else 'transparent'}'>"
        f"<td style='padding:3px 10px'>{'FAIL' if not c.passed else 'pass'}</td>"
        f"<td style='padding:3px 10px;font-family:monospace'>{_html.esc(c.name)}</td>"
        f"<td style='padding:3px 10px'>{_html.esc(_html.fmt(c.value))} {_html.esc(c.op)} "
        f"{_html.esc(_html.fmt(c.threshold))}</td>"
        f"<td style='padding:3px 10px'>{_html.esc(c.message)}</td></tr>"
        for c in rows
    )
    return ("<table class='wb-checks' style='border-collapse:collapse'><thead><tr><th>status</th><th>check</th>"
            f"<th>value vs threshold</th><th>meaning</th></tr></thead><tbody>{body}</tbody></table>")


def _resolve(value: Any, default: float, key: str) -> float | None:
    if value is False:
        return None
    if value is True or value is None:
        return default
    if isinstance(value, Mapping):
        if value.get("enabled", True) is False:
            return None
        value = value.get("threshold", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WorkbenchError(f"the check setting '{key}' must be a number, true/false, or {{threshold = ...}}")
    return float(value)


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
