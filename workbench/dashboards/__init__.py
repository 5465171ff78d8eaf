"""Voila dashboards over report runs: the index (runs, trends, one run's details) and the server.

``show_index()`` is what ``notebooks/dashboards/index.ipynb`` calls;
``workbench dashboard`` (:mod:`workbench.dashboards.server`) serves it with
Voila. Importing this package is light: the widgets come with
:mod:`workbench.dashboards.index`, Voila only with the server.
"""

from workbench.dashboards.runs import (
    Problem,
    RunsIndex,
    filter_runs,
    load_runs,
    resolve_reports_dir,
)

__all__ = ["IndexDashboard", "Problem", "RunsIndex", "filter_runs", "load_runs", "resolve_reports_dir", "serve",
           "show_index"]


def __getattr__(name: str):
    if name in ("IndexDashboard", "show_index"):
        from workbench.dashboards import index

        return getattr(index, name)
    if name == "serve":
        from workbench.dashboards.server import serve

        return serve
    raise AttributeError(name)
