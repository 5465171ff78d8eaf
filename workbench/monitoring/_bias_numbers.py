"""Numbers in bias analysis: bootstrap intervals, JSON-safe values, and how they are written.

Private to :mod:`workbench.monitoring.bias` and its modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _ci(x: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 2:
        return None
    lo, hi = np.quantile(x, [lo_q, hi_q])
    return [float(lo), float(hi)]


def _basic_ci(estimate: float, reps: np.ndarray, lo_q: float, hi_q: float) -> list | None:
    """The basic (pivot) bootstrap interval: the bootstrap deviations reflected around the estimate."""
    q = _ci(reps, lo_q, hi_q)
    return None if q is None else [2 * estimate - q[1], 2 * estimate - q[0]]


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _f(v: float | None) -> str:
    return "—" if v is None else f"{v:.3g}"


def _fmt_ci(ci: Sequence | None) -> str:
    if not ci or ci[0] is None:
        return "—"
    return f"{ci[0]:.2f} to {ci[1]:.2f}"


def _driver_text(d) -> str:
    """The group behind a disparity's change, in words.

    The change is a :class:`~workbench.monitoring._bias_records.RateChange`.
    """
    if d is None or d.change is None:
        return ""
    what = {
        "impact_ratio": "selection rate relative to the most-favoured group",
        "tpr": "true positive rate",
        "fpr": "false positive rate",
        "precision": "precision",
        "base_rate": "actual positive rate",
        "selection_rate": "selection rate",
    }[d.measure]
    verb = "fell" if d.change < 0 else "rose"
    return f"; mostly {d.group}: its {what} {verb} from {_f(d.reference)} to {_f(d.current)}"
