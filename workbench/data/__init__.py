"""Data layer: column roles (the spec), loaders, bundled datasets, batch simulator.

Names are imported on first use (PEP 562), so that rendering a stored result,
which needs only :class:`DatasetSpec`, does not import the simulator and its
dependencies.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "DatasetSpec": "workbench.data._spec",
    "infer_spec": "workbench.data._spec",
    "prepare_frame": "workbench.data._spec",
    "load_table": "workbench.data.io",
    "fingerprint": "workbench.data.io",
    "load_demo": "workbench.data.datasets",
    "list_demos": "workbench.data.datasets",
    "Batch": "workbench.data.simulate",
    "Change": "workbench.data.simulate",
    "Scenario": "workbench.data.simulate",
    "default_scenarios": "workbench.data.simulate",
    "simulate_batches": "workbench.data.simulate",
    "write_batches": "workbench.data.simulate",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'workbench.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
