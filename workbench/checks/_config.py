"""Check thresholds: the defaults, overridden by a mapping or a versioned checks file (TOML, YAML or JSON)::

    # checks.toml
    "drift.share" = 0.2                     # a new threshold
    "drift.column.*" = false                # disable a family (glob patterns)
    "bias.demographic_parity_ratio.*" = { threshold = 0.75 }

The most specific pattern wins (an exact name beats any glob; a longer glob
beats a shorter one).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.checks._names import threshold_range
from workbench.errors import ParameterError, WorkbenchError
from workbench.validation import check_number

ChecksConfig = Mapping[str, Any]


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
            raise WorkbenchError(
                f"the checks file '{path}' must be TOML, YAML or JSON (not '{suffix or 'no suffix'}')"
            )
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


def _resolve(value: Any, default: float, key: str) -> float | None:
    if value is False:
        return None
    if value is True or value is None:
        return default
    if isinstance(value, Mapping):
        unknown = set(value) - {"threshold", "enabled"}
        if unknown:
            raise ParameterError(
                f"the check setting '{key}' has unknown field(s) {sorted(unknown)}; use threshold and enabled"
            )
        if value.get("enabled", True) is False:
            return None
        value = value.get("threshold", default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(
            f"the check setting '{key}' must be a number, true/false, or {{threshold = ...}}"
        )
    low, high = threshold_range(key)
    return check_number(
        value,
        f"the check setting '{key}'",
        low=None if math.isinf(low) else low,
        high=None if math.isinf(high) else high,
    )


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
