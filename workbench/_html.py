"""Small HTML building blocks for the result objects' notebook cards."""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_CARD = (
    "border:1px solid #d0d7de;border-radius:8px;padding:12px 16px;margin:6px 0;"
    "font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:13px;max-width:960px"
)
_TABLE = "border-collapse:collapse;margin:6px 0"
_CELL = "padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:left"


def esc(value: Any) -> str:
    return html.escape(str(value))


def fmt(value: Any, digits: int = 4) -> str:
    """Numbers shortened for reading; everything else as text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.{digits}g}"
    return str(value)


def size_text(size: float | None) -> str:
    """A size on disk for reading: ``1.2 MB``, ``340.0 KB``, ``512 bytes`` (``—`` when unknown)."""
    if size is None:
        return "—"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}"
    return f"{size:,.0f} bytes"


def table(
    rows: Sequence[Mapping[str, Any]], columns: Iterable[str] | None = None, highlight: str | None = None
) -> str:
    """An HTML table of dict rows; a row whose `highlight` key is truthy is tinted."""
    rows = list(rows)
    if not rows:
        return "<p><em>nothing to show</em></p>"
    cols = list(columns or rows[0].keys())
    head = "".join(f"<th style='{_CELL}'>{esc(c)}</th>" for c in cols)
    body = []
    for r in rows:
        style = " style='background:#fff5f5'" if highlight and r.get(highlight) else ""
        cells = "".join(f"<td style='{_CELL}'>{esc(fmt(r.get(c)))}</td>" for c in cols)
        body.append(f"<tr{style}>{cells}</tr>")
    return f"<table style='{_TABLE}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def card(title: str, body: str, subtitle: str = "") -> str:
    sub = f"<div style='color:#57606a;margin-bottom:6px'>{esc(subtitle)}</div>" if subtitle else ""
    title_html = f"<div style='font-weight:600;font-size:15px'>{esc(title)}</div>"
    return f"<div style='{_CARD}'>{title_html}{sub}{body}</div>"


def kv(pairs: Mapping[str, Any]) -> str:
    """Key figures as a compact one-row table."""
    return table([{k: v for k, v in pairs.items()}])
