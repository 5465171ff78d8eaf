"""What serving each model costs: single-row latency, throughput, size, and cost per million predictions.

Latency and throughput are measured as users call the model
(:func:`workbench.modeling.evaluate.measure_latency`). The cost per million
predictions comes from measured CPU time, not wall time: ``time.process_time``
around a batch prediction counts the CPU seconds of every thread of this
process, which is what a machine billed per core-hour charges for::

    cost per million = CPU seconds per row × 1,000,000 / 3,600 × price per core-hour

:data:`DEFAULT_PRICE` is 0.05 USD per core-hour, roughly one on-demand vCPU
of a general-purpose cloud instance (2025 list prices are 0.04-0.05 USD for a
vCPU with 4 GiB); pass your own ``price_per_core_hour``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

#: USD per core-hour used for the cost per million predictions (see the module docstring)
DEFAULT_PRICE = 0.05
#: rows of the batch whose CPU time is measured (the window's first rows, repeated when it is shorter)
BATCH_ROWS = 10_000


def measure_operations(
    model: Any, source: str | None, data: Any, *, price_per_core_hour: float, n_single: int = 200
) -> dict:
    """Latency p50/p95 (µs), throughput (rows/s), size (bytes), CPU seconds per row, cost per million."""
    from workbench.modeling.evaluate import measure_latency

    batch = data.iloc[:BATCH_ROWS]
    if len(batch) < 1000:  # a short window: repeat it so the CPU time is above the timer's resolution
        import pandas as pd

        batch = pd.concat([batch] * int(np.ceil(1000 / len(batch))), ignore_index=True)
    latency = measure_latency(model, batch, n_single=n_single, batch_rows=len(batch))
    cpu = []
    for _ in range(3):
        t0 = time.process_time()
        model.predict_proba(batch)
        cpu.append(time.process_time() - t0)
    per_row = float(np.median(cpu)) / len(batch)
    return {
        **latency,
        "size_bytes": model_size(model, source),
        "cpu_seconds_per_row": per_row,
        "cost_per_million": per_row * 1e6 / 3600 * price_per_core_hour,
    }


def model_size(model: Any, source: str | None) -> int | None:
    """Bytes of the model's artifact on disk (its file, or its registered copy), else as it would be saved."""
    from workbench.modeling.artifact import artifact_size, serialized_size

    registered = getattr(model, "registered_as", None)
    path = registered.path if registered is not None else source
    if path is not None and not str(path).startswith("models:/") and Path(path).exists():
        return int(artifact_size(path))
    try:
        return int(serialized_size(model))
    except Exception:  # a model type skops cannot write: its size is unknown, not an error
        return None
