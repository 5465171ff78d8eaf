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
TRACE_TYPES = ("bar", "scatter", "heatmap", "table", "histogram")  # what workbench's figures draw
HEAVY = ("evidently", "fairlearn", "sklearn", "scipy", "lime", "onnxruntime", "skl2onnx", "imblearn", "papermill")


def prepare() -> None:
    """Make a dashboard kernel start and draw fast.

    ``plotly.io``'s renderers (the report notebooks set one) import nbformat,
    whose jsonschema registers an IRI format checker by importing
    ``rfc3987_syntax``, which compiles a grammar at import time: about 3 s of
    every kernel's start, for a check a dashboard never makes. Blocking that
    optional import makes jsonschema skip the checker. Then plotly's templates
    are slimmed (:func:`slim_plotly_templates`).
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[assignment]
    slim_plotly_templates()


def slim_plotly_templates(names: tuple[str, ...] = ("plotly_white", "plotly")) -> None:
    """Keep only the trace types workbench draws in plotly's templates, in this kernel.

    Every figure copies its whole template (styles for some 40 trace types)
    when it is built: about 0.25 s a figure, 10x less with the few types the
    dashboards use. The look of those types does not change.
    """
    import plotly.graph_objects as go
    import plotly.io as pio

    for name in names:
        template = pio.templates[name]
        data = template.data.to_plotly_json()
        if set(data) <= set(TRACE_TYPES):
            continue
        pio.templates[name] = go.layout.Template(layout=template.layout,
                                                 data={k: v for k, v in data.items() if k in TRACE_TYPES})


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
