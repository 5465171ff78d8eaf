"""The Models page: registered models, versions, aliases, pending approvals, release timeline, cards.

Rendered from what the registry stores (:mod:`workbench.registry`: versions,
aliases, the audit records of alias moves, the releases waiting for
approval) and from what the reports directory holds (each version's model
card, written by ``workbench card`` under ``cards/NAME/VERSION/``; the
comparison run an alias move names). Nothing is computed. A registry that
cannot be read is an error card with one sentence, never a traceback.

Which registry: ``workbench dashboard --registry URI`` resolves it once (the
same precedence as everywhere: the option, ``WORKBENCH_REGISTRY``,
``MLFLOW_TRACKING_URI``, ``./workbench-work/registry``) and hands it to the
page's kernel in ``$WORKBENCH_DASHBOARD_REGISTRY``.

The page is static HTML (no widgets): workbench's Voila template draws it as
the page streams. :func:`load_models` and :func:`models_page_html` are plain
functions, testable without a kernel or a browser.
"""

from __future__ import annotations

import datetime as _dt
import html
import os
from dataclasses import dataclass, field
from pathlib import Path

from workbench.dashboards import cards
from workbench.dashboards.links import Links, page_links
from workbench.dashboards.runs import Problem, display_name, resolve_reports_dir
from workbench.releases.card import CARD_HTML, CARDS_DIR
from workbench.report_kinds import MONITORING_KINDS

ENV_REGISTRY = "WORKBENCH_DASHBOARD_REGISTRY"
MODELS = "models.ipynb"
INDEX = "index.ipynb"
MAX_MOVES = 50
STYLE = """<style>
.wb-nav{margin:2px 0 8px} .wb-nav a,.wb-nav span{margin-right:14px;font-weight:600}
.wb-nav span{color:#1f2328}
.wb-model{border:1px solid #d0d7de;border-radius:8px;padding:10px 16px;margin:14px 0;background:#fff}
.wb-model h2{font-size:18px;margin:2px 0 4px}
.wb-alias{display:inline-block;border-radius:10px;padding:1px 8px;margin:1px 3px 1px 0;font-size:12px;
  font-weight:600;background:#ddf4ff;color:#0a3069;border:1px solid #b6e3ff}
.wb-alias-champion{background:#dafbe1;color:#116329;border-color:#aceebb}
.wb-action{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff;
  background:#57606a} .wb-action-promote{background:#1a7f37} .wb-action-rollback{background:#9a6700}
.wb-action-approve{background:#0969da} .wb-action-force{background:#cf222e}
.wb-action-request{background:#8250df}
table.wb-versions,table.wb-timeline{border-collapse:collapse;width:100%;font-size:13px;margin:4px 0 10px}
table.wb-versions th,table.wb-timeline th{text-align:left;background:#f6f8fa;padding:5px 8px;
  border-bottom:1px solid #d0d7de} table.wb-versions td,table.wb-timeline td{padding:4px 8px;
  border-bottom:1px solid #eaeef2;vertical-align:top;text-align:left;overflow-wrap:anywhere}
.wb-dash h3{font-size:14px;font-weight:600;margin:10px 0 4px}
.wb-dash table.wb-versions th,.wb-dash table.wb-versions td,.wb-dash table.wb-timeline th,
.wb-dash table.wb-timeline td{text-align:left}
</style>"""


@dataclass
class ModelsIndex:
    """What the registry holds, model by model, and the problems met reading it."""

    registry: str  # the registry as the page names it (no server paths, no password)
    models: list[dict] = field(
        default_factory=list
    )  # {"name", "description", "versions", "history", "pending"}
    problems: list[Problem] = field(default_factory=list)
    #: model name -> whether retraining its champion is due (a :class:`~workbench.releases.Recommendation`)
    advice: dict = field(default_factory=dict)


def load_models(registry: str | os.PathLike | None = None) -> ModelsIndex:
    """Each registered model with its versions, aliases, audit history and pending approvals; never raises."""
    from workbench.registry import history, list_models, list_versions, pending, registry_location

    registry = registry or os.environ.get(ENV_REGISTRY) or None
    try:
        location = registry_location(registry)
    except Exception as exc:  # noqa: BLE001  (a bad setting: the page says so)
        return ModelsIndex("the registry", problems=[_unreadable(str(exc))])
    index = ModelsIndex(_short(location))
    try:
        summaries = list_models(registry=location.uri)
    except Exception as exc:  # noqa: BLE001  (a registry that cannot be read: one sentence, not a traceback)
        index.problems.append(_unreadable(_sentence(exc, location)))
        return index
    if not summaries:
        index.problems.append(
            Problem(
                "no_models",
                "No models registered yet",
                f"The registry {index.registry} holds no model. Register one with "
                "`workbench registry register MODEL.wbm --name NAME --alias champion` and reload this page.",
                severity="info",
            )
        )
    for summary in summaries:
        try:
            index.models.append(
                {
                    "name": summary.name,
                    "description": summary.description,
                    "versions": [v.to_dict() for v in list_versions(summary.name, registry=location.uri)],
                    "history": [m.to_dict() for m in history(summary.name, registry=location.uri)],
                    "pending": [m.to_dict() for m in pending(summary.name, registry=location.uri)],
                }
            )
        except Exception as exc:  # noqa: BLE001  (one model that cannot be read; the others still show)
            index.problems.append(
                Problem(
                    "registry",
                    f"The model {summary.name} cannot be read",
                    _sentence(exc, location),
                )
            )
    return index


def models_page_html(index: ModelsIndex, reports_dir: str | os.PathLike, links: Links | None = None) -> str:
    """The whole page: title and navigation, error cards, then each model's aliases, versions and timeline."""
    root = Path(reports_dir)
    updated = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    n = len(index.models)
    parts = [
        cards.STYLE,
        STYLE,
        "<div class='wb-dash wb-models-page'><h1>Models</h1>",
        nav_html(links, root, current="models"),
        f"<div class='wb-sub'>{n} registered model{'s' if n != 1 else ''} in the registry "
        f"{html.escape(index.registry)} · as of {html.escape(updated)} "
        "(reload the page for new releases)</div>",
        "</div>",
        cards.problems_html(index.problems),
    ]
    parts += [_model_html({**m, "advice": index.advice.get(m["name"])}, root, links) for m in index.models]
    return "".join(parts)


def nav_html(links: Links | None, reports_dir: Path, *, current: str) -> str:
    """Links between the dashboard's pages (Runs, Models); empty outside a served dashboard."""
    if links is None:
        return ""
    out = []
    for key, label, notebook in (("runs", "Runs", INDEX), ("models", "Models", MODELS)):
        url = links.page(reports_dir / notebook)
        if key == current or url is None:
            out.append(f"<span class='wb-nav-{key}'>{label}</span>")
        else:
            out.append(f"<a class='wb-nav-{key}' href='{html.escape(url)}'>{label}</a>")
    return "<div class='wb-dash wb-nav'>" + "".join(out) + "</div>"


def show_models(reports_dir: str | os.PathLike | None = None, *, registry: str | None = None) -> ModelsIndex:
    """Display the Models page (what ``notebooks/dashboards/models.ipynb`` calls)."""
    from IPython.display import HTML, display

    root = resolve_reports_dir(reports_dir)
    index = load_models(registry)
    index.advice = retraining_advice(index, ledger_rows(root))
    display(HTML(models_page_html(index, root, page_links())))
    return index


# -- is retraining due? ---------------------------------------------------------------------------
def retraining_advice(index: ModelsIndex, runs) -> dict:
    """Each model with a champion: whether retraining it is due, from the ledger rows `runs`."""
    from workbench.releases.recommend import recommend_from_runs

    runs = list(runs)
    out = {}
    for m in index.models:
        champion = next((v for v in m["versions"] if "champion" in (v.get("aliases") or [])), None)
        if champion is not None:
            out[m["name"]] = recommend_from_runs(
                runs,
                name=m["name"],
                version=champion["version"],
                model_sha256=(champion.get("tags") or {}).get("workbench.model_sha256"),
            )
    return out


def advice_sentences(runs, registry: str | os.PathLike | None = None) -> list:
    """The retraining advice for the dashboard's headline: models whose champion has monitoring runs here.

    Never raises, and reads the registry only when one exists (an embedded store not created yet is
    not opened, so a dashboard without a registry never loads MLflow).
    """
    from workbench.registry.location import registry_location

    runs = [r for r in runs if r.get("model_sha256") and r.get("kind") in MONITORING_KINDS]
    if not runs:
        return []
    try:
        location = registry_location(registry or os.environ.get(ENV_REGISTRY) or None)
        if location.database is not None and not location.database.is_file():
            return []
        index = load_models(location.uri)
        return [a for a in retraining_advice(index, runs).values() if a.runs]
    except Exception:  # noqa: BLE001  (advice is extra: a registry that cannot be read leaves it out)
        return []


def ledger_rows(root: Path) -> list[dict]:
    """The ledger's rows of the reports directory `root` (``[]`` when it has none or cannot be read)."""
    from workbench.reports.ledger import LEDGER_NAME, Ledger

    if not (root / LEDGER_NAME).is_file():
        return []
    try:
        return Ledger(root).runs(reconcile=False)
    except Exception:  # noqa: BLE001  (the Runs page reports a damaged ledger; here it only means no advice)
        return []


# -- one model ------------------------------------------------------------------------------------
def _model_html(model: dict, root: Path, links: Links | None) -> str:
    esc = html.escape
    name = model["name"]
    aliases = {a: v["version"] for v in model["versions"] for a in v.get("aliases") or []}
    chips = " ".join(
        f"<span class='wb-alias wb-alias-{esc(a)}' data-alias='{esc(a)}'>@{esc(a)} → v{v}</span>"
        for a, v in sorted(aliases.items())
    )
    waiting = {p["to_version"]: p for p in model["pending"]}
    head = (
        f"<h2>{esc(name)}</h2>"
        + (f"<div class='wb-sub'>{esc(model['description'])}</div>" if model.get("description") else "")
        + f"<div>{chips or '<span class=wb-sub>no alias set</span>'}</div>"
    )
    body = [head]
    advice = model.get("advice")
    if advice is not None:
        state = "due" if advice.due else "not-due"
        body.append(f"<div class='wb-retrain-advice wb-retrain-{state}'>{esc(advice.sentence)}</div>")
    if waiting:
        body.append(
            cards.problems_html(
                [
                    Problem(
                        "pending",
                        f"Version {p['to_version']} waits for approval to become @{p['alias']}",
                        f"Requested by {p.get('by')} at {p['when'][:16].replace('T', ' ')} UTC"
                        + (f": {p['reason']}" if p.get("reason") else "")
                        + f". `workbench approve {name} --version {p['to_version']} --by PERSON` "
                        "releases it.",
                        severity="warning",
                    )
                    for p in waiting.values()
                ]
            )
        )
    body.append("<h3>Versions</h3>" + _versions_html(model, waiting, root, links))
    body.append("<h3>Release timeline</h3>" + _timeline_html(model["history"], root, links))
    return f"<div class='wb-dash wb-model' data-model='{esc(name)}'>{''.join(body)}</div>"


def _versions_html(model: dict, waiting: dict, root: Path, links: Links | None) -> str:
    esc = html.escape
    rows = []
    for v in reversed(model["versions"]):  # newest first
        tags = v.get("tags") or {}
        metrics = _json(tags.get("workbench.metrics")) or {}
        key = next(
            (k for k in ("roc_auc", "r2", "accuracy") if isinstance(metrics.get(k), int | float)), None
        )
        card = root / CARDS_DIR / model["name"] / str(v["version"]) / CARD_HTML
        card_url = links.file(card) if links is not None and card.is_file() else None
        card_cell = (
            f"<a class='wb-card-link' href='{esc(card_url)}' target='_blank'>model card</a>"
            if card_url
            else "<span class='wb-sub'>none written</span>"
        )
        state = "pending approval" if v["version"] in waiting else ""
        rows.append(
            f"<tr class='wb-version' data-version='{v['version']}'><td>v{v['version']}</td>"
            f"<td>{esc((v.get('created') or '—')[:16].replace('T', ' '))}</td>"
            f"<td>{esc(tags.get('workbench.recipe') or '—')}</td>"
            f"<td>{esc(f'{key} {metrics[key]:.4f}') if key else '—'}</td>"
            f"<td>{' '.join(f'@{esc(a)}' for a in v.get('aliases') or []) or '—'}</td>"
            f"<td>{esc(tags.get('workbench.parent') or '—')}</td>"
            f"<td>{esc(state) or '—'}</td><td>{card_cell}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("version", "registered", "recipe", "metric", "aliases", "parent", "state", "card")
    )
    return f"<table class='wb-versions'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _timeline_html(moves: list[dict], root: Path, links: Links | None) -> str:
    esc = html.escape
    if not moves:
        return "<div class='wb-sub'>No alias move on record yet.</div>"
    rows = []
    shown = list(reversed(moves))[:MAX_MOVES]  # newest first
    for m in shown:
        action = m["action"]
        word = "requested" if action == "request" else action
        before = "none" if m.get("from_version") is None else f"v{m['from_version']}"
        by = esc(m.get("by") or "unknown")
        if m.get("requested_by"):
            by += f" <span class='wb-sub'>(requested by {esc(m['requested_by'])})</span>"
        flags = " FORCED" if m.get("forced") and action != "force" else ""
        observed = m.get("observed_version")
        if observed is not None and observed != m["to_version"]:
            flags += f" (then found at v{observed}: another move overtook it)"
        rows.append(
            f"<tr class='wb-move wb-move-{esc(action)}'>"
            f"<td>{esc(m['when'][:19].replace('T', ' '))}</td>"
            f"<td><span class='wb-action wb-action-{esc(action)}'>{esc(word)}</span>{esc(flags)}</td>"
            f"<td>@{esc(m['alias'])}</td><td>{before} → v{m['to_version']}</td><td>{by}</td>"
            f"<td>{esc(m.get('reason') or '—')}</td>"
            f"<td>{_comparison_html(m.get('comparison'), root, links)}</td>"
            "</tr>"
        )
    more = ""
    if len(moves) > MAX_MOVES:
        more = (
            f"<div class='wb-sub'>The latest {MAX_MOVES} of {len(moves)} moves; "
            "`workbench registry history NAME` lists them all.</div>"
        )
    head = "".join(
        f"<th>{h}</th>" for h in ("when (UTC)", "action", "alias", "from → to", "by", "reason", "comparison")
    )
    table = f"<table class='wb-timeline'><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    return table + more


def _comparison_html(ref: str | None, root: Path, links: Links | None) -> str:
    """The comparison run an alias move names: a link to its report when this dashboard serves it."""
    if not ref:
        return "—"
    folder = _run_folder(ref, root)
    if folder is not None and links is not None:
        url = links.report_html(folder) if (folder / "report.html").is_file() else None
        if url:
            return (
                f"<a class='wb-comparison-link' href='{html.escape(url)}' target='_blank'>"
                f"{html.escape(folder.name)}</a>"
            )
    return f"<code>{html.escape(Path(ref).name if os.path.isabs(ref) else ref)}</code>"


def _run_folder(ref: str, root: Path) -> Path | None:
    """The run folder a comparison reference names: its recorded folder, else the run of that id here."""
    path = Path(ref)
    if path.is_absolute() and (path / "summary.json").is_file() and _under(path, root):
        return path
    name = path.name
    if not name or name.startswith("."):
        return None
    found = [
        p.parent for p in root.glob(f"*/{name}/summary.json") if not p.parent.parent.name.startswith(".")
    ]
    return found[0] if found else None


def _under(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


# -- helpers --------------------------------------------------------------------------------------
def _unreadable(sentence: str) -> Problem:
    return Problem("registry", "The registry cannot be read", sentence)


def _sentence(exc: BaseException, location) -> str:
    """The error's first line, the registry named as the page names it (no server paths)."""
    import re

    from workbench.errors import WorkbenchError

    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if not isinstance(exc, WorkbenchError):  # MLflow's or the database's own words: say what it means
        text = re.sub(r"^\([\w.]+\)\s*", "", text)
        text = f"the registry at {location.display()} cannot be read ({text}); check --registry"
    return text.replace(location.display(), _short(location))[:400]


def _short(location) -> str:
    db = location.database
    return f"{display_name(db.parent)}/{db.name}" if db is not None else location.display()


def _json(text):
    import json

    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
