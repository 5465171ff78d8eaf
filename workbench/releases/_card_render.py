"""A model card as Markdown and as one self-contained HTML page, both from the same sections.

:func:`~workbench.releases._card_sections.sections` turns a
:class:`~workbench.releases.card.ModelCard` into titled blocks (paragraphs,
key-value tables, tables, lists, statements of what is absent, placeholders);
this module only formats them, so the HTML and the Markdown never say
different things. The page has its style inline and no script: it opens
offline, and sandboxed where the dashboard serves it.

Private: :meth:`ModelCard.html` and :meth:`ModelCard.markdown` are the public face.
"""

from __future__ import annotations

import html
from typing import Any

from workbench._html import fmt
from workbench.releases._card_sections import Block, sections

STYLE = """
body{font:14px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1000px;margin:0 auto;padding:24px 28px;background:#fff}
h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;
padding-bottom:4px} h3{font-size:15px;margin:16px 0 6px}
.sub{color:#57606a;font-size:12px}
table{border-collapse:collapse;margin:6px 0 10px;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#f6f8fa} table.kv th{background:none;color:#57606a;font-weight:600;white-space:nowrap}
.absent{color:#57606a;font-style:italic;border-left:4px solid #d0d7de;padding:2px 10px;margin:6px 0}
.placeholder{color:#7d4e00;background:#fff8c5;border-left:4px solid #bf8700;padding:2px 10px;margin:6px 0}
.FAIL{color:#cf222e;font-weight:600} .warn{color:#9a6700;font-weight:600} .pass{color:#1a7f37}
code{font-family:ui-monospace,monospace;font-size:12px;background:#f6f8fa;padding:0 3px;border-radius:3px}
"""


def render_markdown(card) -> str:
    out = [f"# {card.title}", "", _generated(card), ""]
    for title, blocks in sections(card):
        out += [f"## {title}", ""]
        for block in blocks:
            out += _md_block(block) + [""]
    return "\n".join(out).rstrip() + "\n"


def render_html(card) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{_e(card.title)}</title><style>{STYLE}</style></head>"
        f"<body><main class='model-card'>{card_body(card)}</main></body></html>\n"
    )


def card_body(card) -> str:
    parts = [f"<h1>{_e(card.title)}</h1><div class='sub'>{_e(_generated(card))}</div>"]
    for title, blocks in sections(card):
        slug = title.lower().replace(" ", "-")
        parts.append(f"<section id='{_e(slug)}'><h2>{_e(title)}</h2>")
        parts += [_html_block(b) for b in blocks]
        parts.append("</section>")
    return "".join(parts)


# -- sections -------------------------------------------------------------------------------------
def _generated(card) -> str:
    return f"Written {card.generated_at[:19].replace('T', ' ')} UTC by workbench, from stored results only."


def _cell(value: Any) -> str:
    return fmt(value) if not isinstance(value, str) else value


def _md_block(block: Block) -> list[str]:
    kind = block[0]
    if kind == "h":
        return [f"### {block[1]}"]
    if kind == "p":
        return [str(block[1])]
    if kind == "absent":
        return [f"> *Not on record:* {block[1]}"]
    if kind == "placeholder":
        return [f"> **Placeholder.** {block[1]}"]
    if kind == "list":
        return [f"- {_md(item)}" for item in block[1]]
    if kind == "kv":
        return ["| | |", "|---|---|"] + [f"| **{_md(k)}** | {_md(_cell(v))} |" for k, v in block[1]]
    cols, rows = block[1], block[2]
    return [
        "| " + " | ".join(_md(c) for c in cols) + " |",
        "|" + "---|" * len(cols),
        *("| " + " | ".join(_md(_cell(v)) for v in row) + " |" for row in rows),
    ]


def _html_block(block: Block) -> str:
    kind = block[0]
    if kind == "h":
        return f"<h3>{_e(block[1])}</h3>"
    if kind == "p":
        return f"<p>{_e(block[1])}</p>".replace("\n", "<br>")
    if kind == "absent":
        return f"<p class='absent'>{_e(block[1])}</p>"
    if kind == "placeholder":
        return f"<p class='placeholder'>{_e(block[1])}</p>"
    if kind == "list":
        return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in block[1]) + "</ul>"
    if kind == "kv":
        body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_cell(v))}</td></tr>" for k, v in block[1])
        return f"<table class='kv'>{body}</table>"
    cols, rows = block[1], block[2]
    head = "".join(f"<th>{_e(c)}</th>" for c in cols)
    body = "".join(
        "<tr>" + "".join(f"<td{_status_class(v)}>{_e(_cell(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _status_class(value: Any) -> str:
    return f" class='{value}'" if value in ("pass", "warn", "FAIL") else ""


def _md(value: Any) -> str:
    text = "—" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))
