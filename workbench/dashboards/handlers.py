"""The dashboard server's own tornado pieces, on tornado's public API only.

plotly.js for the charts the template draws, and the router rule that sends
requests for a host the server does not answer to the refusal handler. The
handlers that adapt Voila's or Jupyter's are in :mod:`workbench.dashboards.upstream`.
"""

from __future__ import annotations

import tornado.web
from tornado.routing import Matcher

from workbench.dashboards.access import HostCheck


class PlotlyJSHandler(tornado.web.StaticFileHandler):
    """plotly.js for the charts the template draws (one file per route: see dashboards.assets)."""

    def initialize(self, path, filename):
        """Serve `filename` from the folder `path` (tornado passes the route's arguments)."""
        super().initialize(path)
        self.filename = filename

    def get(self, include_body=True):
        """Send the route's file, whatever the request path says."""
        return super().get(self.filename, include_body)  # the route names the file; nothing else is served

    def head(self):
        """The headers of :meth:`get`, without the body."""
        return self.get(include_body=False)

    def set_extra_headers(self, path):
        """Let browsers cache the bundle for a day."""
        self.set_header("Cache-Control", "public, max-age=86400")


class RefusedHost(Matcher):
    """Matches a request whose ``Host`` the server does not answer to (see :class:`HostCheck`)."""

    def __init__(self, check: HostCheck) -> None:
        self.check = check

    def match(self, request):
        """``{}`` (a match: the refusal handler answers) when the ``Host`` is not allowed, else None."""
        return None if self.check.allows(request.headers.get("Host")) else {}


def plotly_routes(server_url: str) -> list[tuple]:
    """The two plotly.js routes: the bundle every page loads, and the full one.

    A page asks for the full bundle when it misses a trace type.
    """
    from jupyter_server.utils import url_path_join

    from workbench.dashboards.assets import dashboard_bundle, full_bundle

    first, full = dashboard_bundle(), full_bundle()
    return [
        (
            url_path_join(server_url, r"workbench/static/plotly\.js"),
            PlotlyJSHandler,
            {"path": str(first.parent), "filename": first.name},
        ),
        (
            url_path_join(server_url, r"workbench/static/plotly-full\.js"),
            PlotlyJSHandler,
            {"path": str(full.parent), "filename": full.name},
        ),
    ]
