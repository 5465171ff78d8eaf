"""What the dashboard server adds to every notebook it serves: a first cell, and a test probe.

The server (:mod:`workbench.dashboards.server`) prepends ``prepare()`` to each
notebook Voila executes, and appends ``probe()`` when
``$WORKBENCH_DASHBOARD_PROBE`` names a folder (tests use it to check which
modules a dashboard kernel imported). Neither prints anything.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

PROBE_ENV = "WORKBENCH_DASHBOARD_PROBE"
PRELUDE = "from workbench.dashboards.kernel import prepare\nprepare()"
PROBE = "from workbench.dashboards.kernel import probe\nprobe({label!r})"
HEAVY = ("evidently", "fairlearn", "sklearn", "scipy", "lime", "onnxruntime", "skl2onnx", "imblearn", "papermill")


def prepare() -> None:
    """Make a dashboard kernel start and draw fast, as report kernels do.

    See :func:`workbench.reports.report.prepare_kernel`: it keeps jsonschema from
    compiling an IRI grammar (~3 s of every kernel's start, via plotly.io's
    renderers and nbformat) and slims plotly's templates to the trace types
    workbench draws (~10x faster figure building).
    """
    from workbench.reports.report import prepare_kernel

    prepare_kernel()


def probe(label: str) -> None:
    """Record this kernel's imported modules in ``$WORKBENCH_DASHBOARD_PROBE/<pid>.json`` (tests)."""
    folder = os.environ.get(PROBE_ENV)
    if not folder:
        return
    path = Path(folder) / f"{os.getpid()}.json"
    data = {"notebook": label, "cwd": os.getcwd(), "pid": os.getpid(), "modules": sorted(sys.modules),
            "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)
