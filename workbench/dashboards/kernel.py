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

from workbench._atomic import write_text_atomic

PROBE_ENV = "WORKBENCH_DASHBOARD_PROBE"
PRELUDE = "from workbench.dashboards.kernel import prepare\nprepare({folder!r})"
PROBE = "from workbench.dashboards.kernel import probe\nprobe({label!r})"
HEAVY = (
    "evidently",
    "fairlearn",
    "sklearn",
    "scipy",
    "lime",
    "onnxruntime",
    "skl2onnx",
    "imblearn",
    "papermill",
)


def prepare(folder: str | None = None) -> None:
    """Make a dashboard kernel start and draw fast, as report kernels do; work in `folder`.

    See :func:`workbench.reports.report.prepare_kernel`: it keeps jsonschema from
    compiling an IRI grammar (~3 s of a kernel's start). A run page may be
    served by a spare kernel started ahead in the reports directory
    (:mod:`workbench.dashboards._kernels`): moving into the run's folder makes
    it the kernel Voila would have started there.
    """
    from workbench.reports.report import prepare_kernel

    prepare_kernel()
    if folder and os.path.isdir(folder) and os.path.realpath(folder) != os.path.realpath(os.getcwd()):
        os.chdir(folder)


def warm_up() -> None:
    """What a spare kernel does while it waits: the imports a run page needs, and one small figure.

    Nothing reads a run, so nothing can be stale; nothing heavy is imported
    (the analysis libraries stay out of dashboard kernels: see :data:`HEAVY`).
    """
    import plotly.graph_objects as go

    from workbench.reports.report import prepare_kernel
    from workbench.results import result_class
    from workbench.viz._display import figure_bundle
    from workbench.viz._template import slim_template

    prepare_kernel()
    for kind in ("drift", "quality", "performance", "bias"):
        result_class(kind)
    fig = go.Figure(
        [go.Bar(x=["a"], y=[1.0]), go.Scatter(x=["a"], y=[1.0], mode="lines+markers"), go.Heatmap(z=[[1.0]])]
    )
    fig.update_layout(template=slim_template(), title="warm", legend=dict(orientation="h"))
    figure_bundle(fig)


def probe(label: str) -> None:
    """Record this kernel's imported modules in ``$WORKBENCH_DASHBOARD_PROBE/<pid>.json`` (tests)."""
    folder = os.environ.get(PROBE_ENV)
    if not folder:
        return
    path = Path(folder) / f"{os.getpid()}.json"
    data = {
        "notebook": label,
        "cwd": os.getcwd(),
        "pid": os.getpid(),
        "spare": os.environ.get("WORKBENCH_SPARE_KERNEL") == "1",  # see dashboards/_kernels.py
        "script_name": os.environ.get("SCRIPT_NAME"),
        "modules": sorted(sys.modules),
        "heavy": sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY)),
    }
    write_text_atomic(path, json.dumps(data))
