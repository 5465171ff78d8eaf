"""Voila dashboards over report runs: the index (runs, trends, one run's details) and the server.

``show_index()`` is what ``notebooks/dashboards/index.ipynb`` calls;
``workbench dashboard`` (:mod:`workbench.dashboards.server`) serves it with
Voila. Importing this package is light: names are imported on first use, the
widgets with :mod:`workbench.dashboards.index`, Voila only with the server.
"""

from workbench._lazy import lazy_exports

_EXPORTS = {
    "Problem": "workbench.dashboards.runs",
    "RunsIndex": "workbench.dashboards.runs",
    "filter_runs": "workbench.dashboards.runs",
    "load_runs": "workbench.dashboards.runs",
    "resolve_reports_dir": "workbench.dashboards.runs",
    "IndexDashboard": "workbench.dashboards.index",
    "show_index": "workbench.dashboards.index",
    "serve": "workbench.dashboards.server",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
