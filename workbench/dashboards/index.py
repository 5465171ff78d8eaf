"""The index dashboard: headline, error cards, filters, trend charts, the runs list and one run's details.

An ipywidgets app over :mod:`workbench.dashboards.runs` (what to show) and
:mod:`workbench.dashboards.trends` (the charts). Callbacks are short and
delegate to plain functions, so the app is testable without a browser: set a
filter's value, call :meth:`IndexDashboard.select`, inspect the children.
It imports only what rendering needs: the ledger, ipywidgets and plotly;
a selected run's stored results bring the light result classes, never the
analysis libraries.

Served by ``workbench dashboard`` (``first_paint``), the page's first view is
static: header, headline, cards, trend charts and the runs table are plain
outputs that workbench's Voila template draws while the page streams, seconds
before Voila's application has connected to the kernel and drawn any widget.
The widgets (filters, run selector, details) come next; the first filter
change fills the live copies and hides the static ones (a ``<style>`` in an
``HTML`` widget: static outputs cannot be changed from the kernel).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Mapping
from contextlib import contextmanager
from urllib.parse import parse_qs

import ipywidgets as w

from workbench.dashboards import cards
from workbench.dashboards.figures import display_figures, figure_widget
from workbench.dashboards.headline import headline
from workbench.dashboards.links import SERVER_ENV, Links, page_links
from workbench.dashboards.models import advice_sentences, nav_html
from workbench.dashboards.runs import (
    STATUSES,
    Problem,
    RunsIndex,
    display_name,
    filter_runs,
    load_runs,
    run_label,
)
from workbench.dashboards.runview import run_details_widgets
from workbench.dashboards.trends import trend_figures

ALL = "all"
FIRST_PAINT = "wb-first-paint"
TRENDS_TITLE = "<div class='wb-dash'><h3>Trends</h3></div>"
RUNS_TITLE = "<div class='wb-dash'><h3>Runs</h3></div>"
NO_TREND = "<div class='wb-dash wb-sub'>No trend to draw for these runs.</div>"
PENDING = {"workbench": {"pending": "Loading the filters…"}}  # what the page says until the widgets draw
_STATUS_LABELS = {
    "passed": "passed",
    "checks_failed": "checks failed",
    "failed": "run failed",
    "running": "running",
}


class IndexDashboard:
    """The stakeholders' page: is the model still OK, and since when not?"""

    def __init__(
        self,
        reports_dir: str | os.PathLike | None = None,
        *,
        run: str | None = None,
        kind: str | None = None,
        model: str | None = None,
        status: str | None = None,
        links: Links | bool | None = None,
        first_paint: bool = False,
    ):
        self.index: RunsIndex = load_runs(reports_dir)
        runs = self.index.runs
        style = {"description_width": "initial"}
        self.kind = w.Dropdown(
            options=[("all kinds", ALL)] + [(k, k) for k in self.index.kinds()],
            value=_valid(kind, self.index.kinds()),
            description="Kind",
            style=style,
        )
        self.model = w.Dropdown(
            options=[("all models", ALL)] + [(m, m) for m in self.index.models()],
            value=_valid(model, self.index.models()),
            description="Model",
            style=style,
        )
        self.status = w.Dropdown(
            options=[("any status", ALL)] + [(_STATUS_LABELS[s], s) for s in STATUSES],
            value=_valid(status, STATUSES),
            description="Status",
            style=style,
        )
        self.run = w.Dropdown(
            options=[("— choose a run —", "")],
            value="",
            description="Show run",
            style=style,
            layout=w.Layout(width="640px"),
        )
        updated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
        if links is True:
            links = Links.for_server(self.index.reports_dir)
        self._links: Links | None = page_links() if links is None else links or None
        self._header_html = cards.header_html(display_name(self.index.reports_dir), len(runs), updated)
        self._header_html += nav_html(self._links, self.index.reports_dir, current="runs")
        self._problems_html = cards.problems_html(self.index.problems)
        self._advice = advice_sentences(runs)  # is retraining a champion due? (from its monitoring runs)
        # With a first paint, the page first shows static copies (drawn by the server as it streams);
        # these widgets stay empty until the first change, which then hides the copies (`takeover`).
        self.first_paint = first_paint
        self._live = not first_paint
        self.takeover = w.HTML()
        self.header = w.HTML("" if first_paint else self._header_html)
        self.headline = w.HTML()
        self.problems = w.HTML("" if first_paint else self._problems_html)
        self.count = w.HTML()
        self.trends = w.VBox()
        self.table = w.HTML()
        self.details = w.VBox()
        for widget, cls in (
            (self.header, "wb-header"),
            (self.headline, "wb-headline-box"),
            (self.problems, "wb-problems-box"),
            (self.trends, "wb-trends"),
            (self.table, "wb-runs-box"),
            (self.details, "wb-run-details"),
            (self.run, "wb-run-select"),
            (self.kind, "wb-filter-kind"),
            (self.model, "wb-filter-model"),
            (self.status, "wb-filter-status"),
        ):
            widget.add_class(cls)
        if runs:
            self.top = w.VBox(
                [
                    self.takeover,
                    self.header,
                    self.headline,
                    self.problems,
                    w.HBox([self.kind, self.model, self.status]),
                    self.count,
                ]
            )
            self.bottom = w.VBox([self.table, self.run, self.details])
            body = [self.top, w.HTML(TRENDS_TITLE), self.trends, w.HTML(RUNS_TITLE), self.bottom]
        else:
            self.top = w.VBox([self.takeover, self.header, self.problems])
            self.bottom = None
            body = [self.top]
        self.top.add_class("wb-index")
        self.widget = w.VBox(body)
        self.filtered: list[dict] = []
        self._muted = False
        self._painted = False
        for dropdown in (self.kind, self.model, self.status):
            dropdown.observe(self._on_filter, names="value")
        self.run.observe(self._on_run, names="value")
        self.refresh()
        if run:
            self.select(run)

    # -- what users do ----------------------------------------------------------------
    def refresh(self) -> None:
        """Apply the filters: headline, count, trend charts, runs list and the run selector."""
        if not self._live and self._painted:
            self._go_live()
        self.filtered = filter_runs(
            self.index.runs, kind=self.kind.value, model=self.model.value, status=self.status.value
        )
        text = (
            headline(self.filtered)
            if self.filtered or not self.index.runs
            else "No run matches these filters."
        )
        text = " ".join([text, *(a.sentence for a in self._advice)])
        self._headline_html = cards.headline_html(
            text,
            any(r["status"] != "passed" and r["status"] != "running" for r in self.filtered[:10])
            or any(a.due for a in self._advice),
        )
        shown = len(self.filtered)
        self.count.value = (
            f"<div class='wb-dash wb-sub'>{shown} of {len(self.index.runs)} runs match the filters.</div>"
        )
        self._figures = [f for _, f in trend_figures(self.filtered)]
        self._table_html = cards.runs_table_html(self.filtered, self._links)
        if self._live:
            self.headline.value = self._headline_html
            self.trends.children = [figure_widget(f) for f in self._figures] or [w.HTML(NO_TREND)]
            self.table.value = self._table_html
        self._painted = True
        current = self.run.value
        options = [("— choose a run —", "")] + [(run_label(r), r["id"]) for r in self.filtered]
        with self._quiet():
            self.run.options = options
            self.run.value = current if any(v == current for _, v in options) else ""
        if not self.run.value:
            self.details.children = []

    def select(self, run_id: str | None) -> None:
        """Show one run's details (findings, checks, charts from its stored results)."""
        if not run_id:
            self.run.value = ""
            return
        run = self.index.get(run_id)
        if run is None:
            self.details.children = [
                w.HTML(
                    cards.problems_html(
                        [
                            Problem(
                                "missing_run",
                                f"No run '{run_id}' in this reports directory",
                                "It may have been deleted, or the link is from another dashboard.",
                                run_id,
                                "warning",
                            )
                        ]
                    )
                )
            ]
            return
        if not any(value == run_id for _, value in self.run.options):
            with self._quiet():  # show it even when the filters hide it
                self.kind.value = self.model.value = self.status.value = ALL
            self.refresh()
        if self.run.value == run_id:
            self._render(run)
        else:
            self.run.value = run_id  # observed: renders

    def show(self) -> None:
        """Display the dashboard: the widgets, or with a first paint the static copies around them."""
        from IPython.display import HTML, display

        if not self.first_paint:
            display(self.widget)
            return
        paint = f"<div class='{FIRST_PAINT}'>{{}}</div>"
        if self.bottom is None:  # no runs: the cards say why, and there is nothing to filter
            display(HTML(self._header_html + self._problems_html))
            return
        display(HTML(paint.format(self._header_html + self._headline_html + self._problems_html)))
        display(self.top, metadata=PENDING)
        display(HTML(TRENDS_TITLE))
        if self._figures:
            display_figures(self._figures, css_class=f"{FIRST_PAINT} wb-trends")
        else:
            display(HTML(paint.format(NO_TREND)))
        display(self.trends)
        display(HTML(RUNS_TITLE + paint.format(self._table_html)))
        display(self.bottom)

    def _go_live(self) -> None:
        """The first change: the widgets take over from the static first paint (which a style hides)."""
        self._live = True
        self.header.value, self.problems.value = self._header_html, self._problems_html
        self.takeover.value = f"<style>.{FIRST_PAINT}{{display:none !important}}</style>"

    # -- callbacks ---------------------------------------------------------------------
    def _on_filter(self, change: Mapping) -> None:
        if not self._muted:
            self.refresh()

    def _on_run(self, change: Mapping) -> None:
        if self._muted:
            return
        run = self.index.get(change["new"]) if change["new"] else None
        if run is None:
            self.details.children = []
        else:
            self._render(run)

    @contextmanager
    def _quiet(self):
        self._muted = True
        try:
            yield
        finally:
            self._muted = False

    def _render(self, run: Mapping) -> None:
        self.details.children = [w.HTML("<div class='wb-dash wb-sub'>Loading the run…</div>")]
        try:
            self.details.children = run_details_widgets(run, self.index.problems_of(run["id"]), self._links)
        except Exception as exc:  # a stored result this version cannot draw: say so, keep the page alive
            self.details.children = [
                w.HTML(cards.run_header_html(run, self._links)),
                w.HTML(
                    cards.problems_html(
                        [
                            Problem(
                                "corrupt",
                                "This run cannot be drawn",
                                "Its stored results could not be rendered "
                                f"({type(exc).__name__}); open its report.html.",
                                run["id"],
                            )
                        ]
                    )
                ),
            ]


def show_index(
    reports_dir: str | os.PathLike | None = None,
    *,
    run: str | None = None,
    kind: str | None = None,
    model: str | None = None,
    status: str | None = None,
) -> IndexDashboard:
    """Display the index dashboard (what ``notebooks/dashboards/index.ipynb`` calls).

    Arguments left as None are taken from the page's query string in Voila
    (``?run=<id>&kind=drift&status=checks_failed``), so a run can be linked to.
    """
    if os.environ.get("VOILA_PREHEAT") == "True":  # a pre-heated kernel: get ready, then wait for the visit
        _warm_up()
        from voila.utils import wait_for_request

        wait_for_request()  # the runs are read after this: never a stale list
    query = request_query()
    # Served by `workbench dashboard`, whose Voila template draws static outputs as the page streams:
    # the first view is static (no wait for Voila's widget manager), the widgets take over on the
    # first change.
    dashboard = IndexDashboard(
        reports_dir,
        run=run or query.get("run"),
        kind=kind or query.get("kind"),
        model=model or query.get("model"),
        status=status or query.get("status"),
        first_paint=bool(os.environ.get(SERVER_ENV)),
    )
    dashboard.show()
    return dashboard


def _warm_up() -> None:
    """Import and exercise what the first chart needs (plotly's validators load on first use)."""
    import plotly.graph_objects as go

    fig = go.Figure(
        go.Scatter(
            x=["a"],
            y=[1.0],
            mode="lines+markers",
            marker=dict(color=["#000"]),
            customdata=[[1, 2]],
            line=dict(dash="dot"),
        )
    )
    fig.add_hrect(y0=0, y1=1, opacity=0.1, line_width=0)
    fig.update_layout(template="plotly_white", legend=dict(orientation="h"), xaxis_type="category")
    figure_widget(fig)
    w.VBox([w.HTML(), w.Dropdown(options=[("a", "a")])])


def request_query() -> dict[str, str]:
    """The page's query arguments in a Voila kernel (empty elsewhere)."""
    raw = os.environ.get("QUERY_STRING", "")
    return {k: v[0] for k, v in parse_qs(raw).items() if k != "token" and v}


def _valid(value: str | None, allowed) -> str:
    return value if value in list(allowed) else ALL
