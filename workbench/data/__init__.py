"""Data layer: column roles (the spec), loaders, bundled datasets, batch simulator.

Names are imported on first use (PEP 562), so that rendering a stored result,
which needs only :class:`DatasetSpec`, does not import the simulator and its
dependencies.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "DatasetSpec": "workbench.data._spec",
    "infer_spec": "workbench.data._spec",
    "prepare_frame": "workbench.data._spec",
    "load_table": "workbench.data.io",
    "fingerprint": "workbench.data.io",
    "feature_profile": "workbench.data._profile",
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
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
