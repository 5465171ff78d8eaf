"""One run, rendered from what it stored: findings, the check table, the cards and the charts.

Nothing is recomputed: the stored ``results.json`` is turned back into the
result objects (``Report.from_dict``), which draw their own figures. When the
results are missing or damaged, the ledger's copy of the findings and checks
is shown under an error card instead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from workbench.dashboards import cards
from workbench.dashboards.links import Links
from workbench.dashboards.runs import Problem

RESULTS = "results.json"


def load_report(run_dir: str | Path):
    """``(Report, None)`` from a run's stored results, or ``(None, reason)``; never raises."""
    path = Path(run_dir) / RESULTS
    if not path.is_file():
        return None, f"{RESULTS} is missing"
    try:
        payload = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        return None, f"{RESULTS} is not valid JSON ({exc.__class__.__name__})"
    try:
        from workbench.reports.report import Report

        return Report.from_dict(payload["report"]), None
    except Exception as exc:  # KeyError, TypeError, WorkbenchError: a stored result of another shape
        return None, f"{RESULTS} cannot be read back ({type(exc).__name__}: {str(exc)[:160]})"


def run_details_widgets(run: Mapping, problems: Sequence[Problem] = (), links: Links | None = None) -> list:
    """The widgets showing one run.

    A header with links, its problems, then the report or the ledger's summary.
    """
    import ipywidgets as w

    from workbench.dashboards.figures import figure_widget

    out: list = [w.HTML(cards.run_header_html(run, links))]
    if problems:
        out.append(w.HTML(cards.problems_html(problems)))
    if run["status"] in ("failed", "running"):
        out.append(w.HTML(_ledger_summary(run)))
        return out
    report, reason = load_report(run["path"])
    if report is None:
        if not any(p.kind in ("corrupt", "missing_artifact", "missing_run") for p in problems):
            out.append(
                w.HTML(
                    cards.problems_html(
                        [
                            Problem(
                                "corrupt",
                                "This run's stored results cannot be shown",
                                f"{reason}: the charts are unavailable; "
                                "the findings and checks below come from the ledger.",
                                run["id"],
                            )
                        ]
                    )
                )
            )
        out.append(w.HTML(_ledger_summary(run)))
        return out
    out.append(w.HTML(report_html(report)))
    from workbench.checks import checks_shown_above
    from workbench.viz._empty import no_data_html

    for result in report.results:
        kind = result.kind
        with checks_shown_above():  # the check table above holds every check: the card does not repeat it
            card = result._repr_html_(report.checks_config)
        out.append(
            w.HTML(
                f"<details class='wb-result-card'><summary>{kind.capitalize()}: the full tables"
                f"</summary>{card}</details>"
            )
        )
        for fig in result.figures().values():
            sentence = no_data_html(fig)
            out.append(w.HTML(sentence) if sentence is not None else figure_widget(fig))
    return out


def report_html(report) -> str:
    """Findings, then every check once.

    Failures and warnings in view, the passes folded behind their count.
    """
    from workbench.checks import checks_table_html

    checks = report.checks()
    table = checks_table_html(checks) or "<p>This run has no checks.</p>"
    return f"<div class='wb-run-report'>{report.summary_html()}<h3>Checks</h3>{table}</div>"


def show_unavailable(run_dir: str | Path = ".", reason: str | None = None) -> None:
    """The page of a run whose stored results are missing or damaged (the dashboard never recomputes)."""
    from IPython.display import HTML, display

    run_dir = Path(run_dir).resolve()
    summary: dict = {}
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError):
        pass
    status = summary.get("status", "unknown")
    if reason is None:
        reason = load_report(run_dir)[1] or "the stored results cannot be read"
    title = (
        f"The {summary.get('kind', 'report')} run {summary.get('name') or run_dir.name} "
        f"({summary.get('period') or 'no period'})"
    )
    if status == "failed":
        problem = Problem(
            "failed_run", f"{title} failed", str(summary.get("error") or "no error was recorded")
        )
    else:
        problem = Problem(
            "corrupt",
            f"{title} cannot be shown",
            f"{reason}. The dashboard shows stored results and never recomputes a run: "
            "open its report.html, or run the report again.",
        )
    body = cards.STYLE + "<div class='wb-dash'>" + cards.card_html(problem)
    body += cards.findings_html(summary.get("findings") or [])
    checks = [c for c in summary.get("checks") or [] if isinstance(c, dict) and "name" in c]
    if checks:
        body += "<h3>Checks</h3>" + cards.ledger_checks_html({"checks": checks})
    display(HTML(body + "</div>"))


def _ledger_summary(run: Mapping) -> str:
    parts = [cards.findings_html(run.get("findings") or [])]
    table = cards.ledger_checks_html(run)
    if table:
        parts.append("<h3>Checks</h3>" + table)
    return "<div class='wb-dash'>" + "".join(parts) + "</div>"
