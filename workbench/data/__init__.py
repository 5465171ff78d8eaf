"""Data layer: column roles (the spec), loaders, bundled datasets, batch simulator."""

from workbench.data._spec import DatasetSpec, infer_spec, prepare_frame
from workbench.data.datasets import list_demos, load_demo
from workbench.data.io import fingerprint, load_table
from workbench.data.simulate import (
    Batch,
    Change,
    Scenario,
    default_scenarios,
    simulate_batches,
    write_batches,
)

__all__ = [
    "DatasetSpec",
    "infer_spec",
    "prepare_frame",
    "load_table",
    "fingerprint",
    "load_demo",
    "list_demos",
    "Batch",
    "Change",
    "Scenario",
    "default_scenarios",
    "simulate_batches",
    "write_batches",
]
