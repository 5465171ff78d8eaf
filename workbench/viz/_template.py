"""The plotly template workbench's figures use: ``plotly_white``, slimmed to the trace types drawn here.

Every figure deep-copies its template when it is built. ``plotly_white`` styles
some 40 trace types; copying it is most of the cost of a small figure (~80 ms
for a LIME bar chart, ~8 ms slimmed), and it is written into every figure's
JSON (reports, notebooks, widgets). The slim copy looks the same for the types
drawn here and leaves plotly's registered templates untouched, so a user's own
figures in the same kernel are not affected.
"""

from __future__ import annotations

import functools

#: the trace types workbench's figures draw
TRACE_TYPES = ("bar", "scatter", "heatmap", "table", "histogram")


@functools.cache
def slim_template(name: str = "plotly_white"):
    """`name` restricted to :data:`TRACE_TYPES` (built once per process)."""
    import plotly.graph_objects as go
    import plotly.io as pio

    template = pio.templates[name]
    data = template.data.to_plotly_json()
    return go.layout.Template(
        layout=template.layout, data={k: v for k, v in data.items() if k in TRACE_TYPES}
    )
