"""HTML pieces of the dashboards: style, headline, error cards, the runs table, a run's header.

Plain strings (escaped); widgets put them in ``HTML`` widgets. Where a run's
own page and static report are served comes from :mod:`~workbench.dashboards.links`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from workbench.dashboards.links import Links
from workbench.dashboards.runs import Problem, metric

MAX_CARDS = 6
MAX_ROWS = 60
STYLE = """<style>
.wb-dash{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;font-size:14px}
.wb-dash h1{font-size:22px;margin:4px 0 2px} .wb-dash .wb-sub{color:#57606a;font-size:12px}
.wb-dash-headline{font-size:18px;font-weight:600;padding:10px 14px;margin:8px 0;border-left:6px solid #1a7f37;
  background:#f6f8fa} .wb-dash-headline.wb-bad{border-left-color:#cf222e}
.wb-card{border:1px solid #d0d7de;border-left-width:6px;border-radius:6px;padding:8px 12px;margin:6px 0;
  background:#fff} .wb-card-error{border-left-color:#cf222e;background:#fff5f5}
.wb-card-warning{border-left-color:#bf8700;background:#fffbe6}
.wb-card-info{border-left-color:#0969da;background:#f3f8ff}
.wb-card-title{font-weight:600} .wb-card-detail{color:#3d444d;margin-top:2px}
.wb-runs-wrap{max-height:460px;overflow:auto;border:1px solid #d0d7de;border-radius:6px}
table.wb-runs{border-collapse:collapse;width:100%;font-size:13px;table-layout:fixed}
table.wb-runs th{position:sticky;top:0;background:#f6f8fa;text-align:left;padding:6px 8px;
  border-bottom:1px solid #d0d7de}
table.wb-runs td{padding:5px 8px;border-bottom:1px solid #eaeef2;vertical-align:top;overflow-wrap:anywhere}
table.wb-runs td.wb-nowrap{white-space:nowrap}
.wb-dash .wb-runs-wrap table.wb-runs th,.wb-dash .wb-runs-wrap table.wb-runs td{text-align:left}
details.wb-result-card,details.wb-all-checks{margin:6px 0} details>summary{cursor:pointer;color:#0969da}
tr.wb-row-checks_failed{background:#fff8f8} tr.wb-row-failed{background:#fff0f0}
.wb-status{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff}
.wb-status-passed{background:#1a7f37} .wb-status-checks_failed{background:#cf222e}
.wb-status-failed{background:#82071e} .wb-status-running{background:#0969da}
.wb-status-unknown{background:#57606a}
.wb-status-warned{background:#9a6700}
.wb-failed-check,.wb-warned-check{display:inline-block;max-width:100%;box-sizing:border-box;overflow:hidden;
  text-overflow:ellipsis;white-space:nowrap;vertical-align:bottom;border-radius:4px;padding:0 5px;margin:1px;
  font-family:ui-monospace,monospace;font-size:12px}
.wb-failed-check{background:#ffebe9;color:#82071e;border:1px solid #ffcecb}
.wb-warned-check{background:#fff8c5;color:#7d4e00;border:1px solid #f2d98c}
.wb-warned{color:#9a6700;font-size:12px} .wb-dash a{color:#0969da}
.wb-run-head{font-size:16px;font-weight:600;margin:8px 0 4px}
</style>"""
_STATUS_WORDS = {
    "passed": "passed",
    "checks_failed": "checks failed",
    "failed": "run failed",
    "running": "running",
}
#: the runs table's columns and their widths
#: (a fixed layout: long check names wrap or end in "…", never spill)
_RUN_COLUMNS = (
    ("period", "92px"),
    ("kind", "64px"),
    ("name", "12%"),
    ("model", "11%"),
    ("status", "150px"),
    ("key figures", "16%"),
    ("checks", ""),
    ("open", "92px"),
)
MAX_CHIPS = 3


def header_html(reports_dir: str, n_runs: int, updated: str) -> str:
    """The index page's title line: how many runs in which folder, as of when."""
    return (
        f"{STYLE}<div class='wb-dash'><h1>Model monitoring</h1><div class='wb-sub'>{n_runs} report run"
        f"{'s' if n_runs != 1 else ''} in {html.escape(reports_dir)} · as of {html.escape(updated)} "
        "(reload the page for new runs)</div></div>"
    )


def headline_html(text: str, bad: bool) -> str:
    """The one-sentence headline, marked bad (red) when `bad`."""
    cls = "wb-dash-headline wb-bad" if bad else "wb-dash-headline"
    return f"<div class='wb-dash'><div class='{cls}'>{html.escape(text)}</div></div>"


def problems_html(problems: Sequence[Problem], *, limit: int = MAX_CARDS) -> str:
    """Error cards, worst first; the rest counted in one line."""
    if not problems:
        return ""
    rank = {"error": 0, "warning": 1, "info": 2}
    ordered = sorted(problems, key=lambda p: rank.get(p.severity, 3))
    cards = [card_html(p) for p in ordered[:limit]]
    rest = len(ordered) - limit
    if rest > 0:
        cards.append(
            f"<div class='wb-sub'>… and {rest} more (filter by status or pick a run to see its "
            "problems).</div>"
        )
    return "<div class='wb-dash wb-problems'>" + "".join(cards) + "</div>"


def card_html(problem: Problem) -> str:
    """One problem as a card coloured by its severity (`backticked` parts shown as code)."""
    rid = f" data-run='{html.escape(problem.run_id)}'" if problem.run_id else ""
    return (
        f"<div class='wb-card wb-card-{problem.severity}' data-problem='{problem.kind}'{rid}>"
        f"<div class='wb-card-title'>{_code(problem.title)}</div>"
        f"<div class='wb-card-detail'>{_code(problem.detail)}</div></div>"
    )


def status_html(status: str, warnings: int = 0) -> str:
    """A run's badge: passed (green), passed with warnings (amber), checks failed / run failed (red)."""
    s = status if status in _STATUS_WORDS else "unknown"
    if s == "passed" and warnings:
        return (
            f"<span class='wb-status wb-status-warned' title='every gating check passed; {warnings} "
            f"warning{'s' if warnings > 1 else ''} to read'>"
            f"passed, {warnings} warning{'s' if warnings > 1 else ''}</span>"
        )
    return f"<span class='wb-status wb-status-{s}'>{html.escape(_STATUS_WORDS.get(status, status))}</span>"


def check_chips_html(failed: Sequence[str], warned: Sequence[str], *, limit: int = MAX_CHIPS) -> str:
    """A run's failed checks (red) then its warnings (amber), `limit` of each, the rest counted.

    Full names show on hover.
    """
    out = []
    for names, cls, word in ((failed, "wb-failed-check", "failed"), (warned, "wb-warned-check", "warning")):
        out += [
            f"<span class='{cls}' title='{html.escape(n)} ({word})'>{html.escape(n)}</span>"
            for n in names[:limit]
        ]
        if len(names) > limit:
            rest = len(names) - limit
            more = (
                f"more failed check{'s' if rest > 1 else ''}"
                if word == "failed"
                else f"more warning{'s' if rest > 1 else ''}"
            )
            title = html.escape(", ".join(names[limit:]))
            out.append(f"<span class='wb-sub' title='{title}'>+{rest} {more}</span>")
    return " ".join(out)


def runs_table_html(runs: Sequence[Mapping], links: Links | None = None, *, limit: int = MAX_ROWS) -> str:
    """The runs list: period, kind, name, model, status, key figures, failed checks and warnings, links."""
    if not runs:
        return "<div class='wb-dash wb-sub'>No run matches these filters.</div>"
    cols = "".join(f"<col style='width:{w}'>" if w else "<col>" for _, w in _RUN_COLUMNS)
    head = "<tr>" + "".join(f"<th>{name}</th>" for name, _ in _RUN_COLUMNS) + "</tr>"
    body = []
    for r in runs[:limit]:
        checks = check_chips_html(r["failed_errors"], r["failed_warnings"])
        if r["status"] == "failed":
            error = r.get("error") or "error"
            checks = (
                f"<span class='wb-failed-check' title='{html.escape(error)}'>{html.escape(error[:80])}</span>"
            )
        body.append(
            f"<tr class='wb-row wb-row-{html.escape(r['status'])}' data-run='{html.escape(r['id'])}'>"
            f"<td class='wb-nowrap'>{html.escape(r['period_label'])}</td><td>{html.escape(r['kind'])}</td>"
            f"<td>{html.escape(r.get('name') or '—')}</td><td>{html.escape(r['model'])}</td>"
            f"<td>{status_html(r['status'], len(r['failed_warnings']))}</td>"
            f"<td>{html.escape(key_figures(r))}</td>"
            f"<td class='wb-checks-cell'>{checks}</td>"
            f"<td class='wb-nowrap'>{links_html(r, links, sep='<br>')}</td></tr>"
        )
    more = ""
    if len(runs) > limit:
        more = (
            f"<div class='wb-sub'>Showing the newest {limit} of {len(runs)} runs; narrow the filters or pick "
            "a run below.</div>"
        )
    return (
        f"<div class='wb-dash'><div class='wb-runs-wrap'><table class='wb-runs'><colgroup>{cols}</colgroup>"
        f"<thead>{head}</thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{more}</div>"
    )


def links_html(run: Mapping, links: Links | None, *, details: bool = True, sep: str = " · ") -> str:
    """Links to the run's details on this page, its static report and its own page (what exists)."""
    arts = run.get("artifacts") or {}
    out = []
    if details:
        out.append(f"<a class='wb-link-details' href='?run={html.escape(run['id'])}'>details</a>")
    if links is not None:
        report = links.report_html(run["path"]) if arts.get("report.html") else None
        page = links.run_page(run["path"]) if arts.get("report.ipynb") and arts.get("results.json") else None
        if report:
            out.append(
                f"<a class='wb-link-html' href='{html.escape(report)}' target='_blank'>report.html</a>"
            )
        if page:
            out.append(f"<a class='wb-link-view' href='{html.escape(page)}' target='_blank'>own page</a>")
    return sep.join(out)


def key_figures(run: Mapping) -> str:
    """The two or three numbers that matter for a run of this kind."""
    parts = []
    kind = run["kind"]
    if kind == "drift":
        share = metric(run, "drift.share")
        if share is not None:
            n = metric(run, "drift.columns_drifted")
            parts.append(f"drift share {share:.0%}" + (f" ({n:.0f} col.)" if n is not None else ""))
    if kind == "bias":
        ratios = {
            k.rsplit(".", 1)[1]: v
            for k in run.get("metrics") or {}
            if k.startswith("bias.demographic_parity_ratio.")
            and "+" not in k
            and not k.endswith(".worsened")
            and (v := metric(run, k)) is not None
        }
        parts += [f"ratio {a} {v:.2f}" for a, v in list(ratios.items())[:3]]
    if kind == "compare":
        delta, decision = metric(run, "release.delta_roc_auc"), metric(run, "release.decision")
        if delta is not None:
            parts.append(f"ΔAUC {delta:+.4f}")
        if decision is not None:
            parts.append({1.0: "promote", -1.0: "keep champion"}.get(decision, "inconclusive"))
    for key, label in (("estimated_accuracy", "est. accuracy"), ("accuracy", "accuracy")):
        v = metric(run, key)
        if v is not None:
            parts.append(f"{label} {v:.3f}")
    return " · ".join(parts) or "—"


def run_header_html(run: Mapping, links: Links | None = None) -> str:
    """One run's title line: kind, name, period and status, then model, start, id and links."""
    name = f" “{html.escape(run['name'])}”" if run.get("name") else ""
    return (
        "<div class='wb-dash'><div class='wb-run-head'>"
        f"{html.escape(run['kind'].capitalize())} run{name} for {html.escape(run['period_label'])} "
        f"{status_html(run['status'], len(run.get('failed_warnings') or []))}"
        "</div><div class='wb-sub'>"
        f"model {html.escape(run['model'])} · started {html.escape(str(run.get('started_at') or '—'))} · "
        f"run {html.escape(run['id'])}{_prefixed(links_html(run, links, details=False))}</div></div>"
    )


def ledger_checks_html(run: Mapping) -> str:
    """The check table from the ledger alone: the report's own table.

    For when the stored results cannot be read.
    """
    from workbench.checks import Check, checks_table_html

    checks = [Check.from_dict(c) for c in run.get("checks") or [] if isinstance(c, Mapping) and "name" in c]
    return checks_table_html(checks)


def findings_html(findings: Sequence[str]) -> str:
    """The findings as a list (empty text when there are none)."""
    if not findings:
        return ""
    return "<ul class='wb-findings'>" + "".join(f"<li>{html.escape(str(f))}</li>" for f in findings) + "</ul>"


def _prefixed(text: str) -> str:
    return f" · {text}" if text else ""


def _code(text: str) -> str:
    """Escape, and show `backticked` parts as code."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))
