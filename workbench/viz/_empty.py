"""Charts with nothing to draw: a sentence, not an empty axis.

Every figure builder in :mod:`workbench.viz` returns :func:`no_data` when its
input holds nothing to draw (no columns, no groups, no missing values, no
runs). The result is still a ``go.Figure`` (every caller can store, publish or
write it as before), but it has no axes: the page shows one sentence saying why
there is no chart. The sentence is kept in the figure's ``layout.meta``, so it
survives a round trip through JSON (a stored notebook, a report page) and the
pages that know about it show it as text (:func:`no_data_sentence`).
"""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from workbench.viz._template import slim_template

META_KEY = "workbench_no_data"
CSS_CLASS = "wb-no-data"


def no_data(sentence: str, title: str | None = None) -> go.Figure:
    """A figure that is only `sentence` (why there is nothing to draw), under `title` when given."""
    fig = go.Figure()
    fig.add_annotation(
        text=html.escape(sentence),
        showarrow=False,
        x=0,
        xanchor="left",
        y=0.5,
        xref="paper",
        yref="paper",
        font=dict(size=14, color="#57606a"),
    )
    fig.update_layout(
        template=slim_template(),
        title=title,
        height=130 if title else 80,
        showlegend=False,
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        margin=dict(l=20, r=20, t=50 if title else 10, b=10),
        meta={META_KEY: sentence},
    )
    return fig


def no_data_sentence(fig: Any) -> str | None:
    """The sentence of a :func:`no_data` figure (a ``go.Figure`` or its JSON dict); None for a real chart."""
    try:
        layout = fig["layout"] if isinstance(fig, dict) else fig.layout
        meta = layout["meta"] if isinstance(layout, dict) else layout.meta
    except (KeyError, AttributeError, TypeError):
        return None
    if isinstance(meta, dict) and isinstance(meta.get(META_KEY), str):
        return meta[META_KEY]
    return None


def no_data_html(fig: Any) -> str | None:
    """The sentence of a :func:`no_data` figure as a paragraph (with the chart's title).

    None for a real chart.
    """
    sentence = no_data_sentence(fig)
    if sentence is None:
        return None
    try:
        title = (
            fig.layout.title.text
            if not isinstance(fig, dict)
            else (fig["layout"].get("title") or {}).get("text")
        )
    except (AttributeError, KeyError, TypeError):
        title = None
    head = f"<strong>{html.escape(str(title))}:</strong> " if title else ""
    return (
        f"<p class='{CSS_CLASS}' style='color:#57606a;font-family:system-ui,sans-serif;margin:8px 0'>"
        f"{head}{html.escape(sentence)}</p>"
    )
