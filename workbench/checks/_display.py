"""How checks are shown: the check table (failures first, passes folded), status cells, counts.

Every page, card and table words a check the same way (:meth:`Check.outcome_text`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterable, Iterator, Sequence

from workbench.checks._check import FAIL, PASS, WARN, Check

#: A check table shows at most this many passed checks unfolded; more fold behind "N checks passed".
FOLD_PASSES_OVER = 5
_STATUS_STYLE = {FAIL: ("#fff5f5", "#cf222e"), WARN: ("#fffbe6", "#9a6700"), PASS: ("transparent", "#1a7f37")}
_SHOWN_ABOVE: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "workbench_checks_shown_above", default=False
)


@contextlib.contextmanager
def checks_shown_above() -> Iterator[None]:
    """Render result cards without their own check table: the page already showed every check above.

    A report page shows all of its checks in one table, then each result's
    card; a card's table would repeat its part of it. Within this block,
    :func:`checks_table_html` gives a one-line pointer to the table above.
    """
    token = _SHOWN_ABOVE.set(True)
    try:
        yield
    finally:
        _SHOWN_ABOVE.reset(token)


def check_counts(checks: Iterable[Check]) -> dict[str, int]:
    """``{"FAIL": n, "warn": n, "pass": n}``."""
    out = {FAIL: 0, WARN: 0, PASS: 0}
    for c in checks:
        out[c.status] += 1
    return out


def counts_text(checks: Sequence[Check]) -> str:
    """``7 failed, 2 warnings, 58 passed`` (the parts that are not zero)."""
    n = check_counts(checks)
    parts = [
        f"{n[FAIL]} failed" if n[FAIL] else "",
        f"{n[WARN]} warning{'s' if n[WARN] != 1 else ''}" if n[WARN] else "",
        f"{n[PASS]} passed" if n[PASS] else "",
    ]
    return ", ".join(p for p in parts if p) or "no checks"


def status_html(status: str) -> str:
    """The status cell of a check: ``FAIL`` (red), ``warn`` (amber) or ``pass`` (green)."""
    color = _STATUS_STYLE.get(status, _STATUS_STYLE[PASS])[1]
    weight = "600" if status != PASS else "400"
    return (
        f"<span class='wb-check-{status.lower()}' style='color:{color};font-weight:{weight}'>{status}</span>"
    )


def checks_table_html(checks: Sequence[Check], *, fold_over: int = FOLD_PASSES_OVER) -> str:
    """The check table: failures, then warnings, then passes.

    More than `fold_over` passes fold behind a count.
    Every row states what happened (``0.006612 < 0.05 (must be > 0.05)``, see
    :meth:`Check.outcome_text`); a failed check of severity "warning" reads
    ``warn``, not ``FAIL``.
    """
    checks = list(checks)
    if not checks:
        return ""
    if _SHOWN_ABOVE.get():
        return (
            f"<p class='wb-checks-ref' style='color:#57606a;margin:6px 0'>Its {len(checks)} checks "
            f"({counts_text(checks)}) are in the check table above.</p>"
        )
    rank = {FAIL: 0, WARN: 1, PASS: 2}
    rows = sorted(checks, key=lambda c: (rank[c.status], c.name))
    shown = [c for c in rows if c.status != PASS]
    passes = [c for c in rows if c.status == PASS]
    if len(passes) <= fold_over:
        shown, passes = shown + passes, []
    out = (
        "<div class='wb-checks-count' style='color:#57606a;margin:4px 0'>"
        f"{len(checks)} checks: {counts_text(checks)}.</div>"
    )
    if shown:
        out += _table(shown)
    if passes:
        what = (
            f"All {len(passes)} checks passed"
            if len(passes) == len(checks)
            else f"{len(passes)} checks passed"
        )
        out += (
            f"<details class='wb-checks-passed' style='margin:6px 0'><summary style='cursor:pointer;"
            f"color:#0969da'>{what}</summary>{_table(passes)}</details>"
        )
    return f"<div class='wb-checks-block'>{out}</div>"


def _table(rows: Sequence[Check]) -> str:
    from workbench import _html

    # text-align: JupyterLab right-aligns cells
    cell = "padding:3px 10px;vertical-align:top;overflow-wrap:anywhere;text-align:left"
    body = "".join(
        f"<tr class='wb-check-row wb-check-row-{c.status.lower()}' "
        f"style='background:{_STATUS_STYLE[c.status][0]}'>"
        f"<td style='{cell}'>{status_html(c.status)}</td>"
        f"<td style='{cell};font-family:monospace'>{_html.esc(c.name)}</td>"
        f"<td style='{cell}'>{_html.esc(c.outcome_text())}</td>"
        f"<td style='{cell}'>{_html.esc(c.message)}</td></tr>"
        for c in rows
    )
    return (
        "<table class='wb-checks' style='border-collapse:collapse;table-layout:fixed;width:100%'>"
        "<colgroup><col style='width:4.5em'><col style='width:27%'><col style='width:20%'><col></colgroup>"
        "<thead><tr><th style='text-align:left;padding:3px 10px'>status</th>"
        "<th style='text-align:left;padding:3px 10px'>check</th>"
        "<th style='text-align:left;padding:3px 10px'>outcome</th>"
        f"<th style='text-align:left;padding:3px 10px'>meaning</th></tr></thead><tbody>{body}</tbody></table>"
    )
