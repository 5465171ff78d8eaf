"""Publishing a figure as plotly's own output type, without ``plotly.io.renderers``.

What ``fig.show()`` publishes with the ``plotly_mimetype`` renderer, built
directly: importing the renderers pulls nbformat and jsonschema, a few tenths
of a second of every kernel that only wants to draw (a report page, a
dashboard). JupyterLab, papermill and Voila all draw this output type;
workbench's Voila template writes it into the page as the kernel produces it.
"""

from __future__ import annotations

import json
from typing import Any

MIMETYPE = "application/vnd.plotly.v1+json"


def figure_bundle(fig: Any) -> dict[str, Any]:
    """``{mimetype: figure JSON}`` for a ``go.Figure`` (already validated when it was built)."""
    import plotly.io as pio

    return {MIMETYPE: json.loads(pio.to_json(fig, validate=False, remove_uids=True))}


def display_figure(fig: Any) -> None:
    """Publish `fig` as plotly's output type (what ``fig.show()`` shows).

    A chart with nothing to draw is published as its sentence.
    """
    from IPython.display import HTML, display

    from workbench.viz._empty import no_data_html

    sentence = no_data_html(fig)
    if sentence is not None:
        display(HTML(sentence))
        return
    display(figure_bundle(fig), raw=True)


#: Several figures as one block of workbench's Voila template (other front ends show the text).
FIGURES_MIMETYPE = "application/vnd.workbench.figures+json"


def display_figures(figs: list[Any], *, css_class: str = "") -> None:
    """Publish `figs` as one block whose element has `css_class`, for workbench's Voila template."""
    from IPython.display import display

    bundle = {
        FIGURES_MIMETYPE: {"class": css_class, "figures": [figure_bundle(f)[MIMETYPE] for f in figs]},
        "text/plain": f"{len(figs)} chart{'s' if len(figs) != 1 else ''}",
    }
    display(bundle, raw=True)
