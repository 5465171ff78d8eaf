"""JSON helpers shared by the CLI, the model files, the notebooks and the results.

JSON has no NaN, no numpy scalars or arrays and no paths: these turn them into
what it has. Import-light (numpy only when a value needs it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any


def finite(v: Any) -> float | None:
    """`v` as a float when it is a finite number (not a bool), else None."""
    if v is None or isinstance(v, bool):
        return None
    try:
        x = float(v)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def json_safe(x: Any) -> Any:
    """`x` with numpy scalars made Python numbers and NaN/inf made None, in nested mappings and sequences
    (mapping keys become strings): what a result's ``to_dict`` stores."""
    if isinstance(x, Mapping):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if type(x).__module__ == "numpy" and hasattr(x, "item"):  # a numpy scalar, without importing numpy
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def json_default_strict(o: Any) -> Any:
    """``json.dumps(default=...)``: numpy scalars and arrays, paths; anything else is an error."""
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, PurePath):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def json_default(o: Any) -> Any:
    """As :func:`json_default_strict`, with anything else written as its ``str()`` (printed output)."""
    try:
        return json_default_strict(o)
    except TypeError:
        return str(o)
