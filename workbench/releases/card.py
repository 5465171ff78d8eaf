"""Model cards (after Mitchell et al., "Model Cards for Model Reporting", 2019), from stored results only.

:func:`write_model_card` gathers what is on record about one model and writes
``model_card.html`` (self-contained: inline style, no script, nothing fetched)
and ``model_card.md``, with ``model_card.json`` (:meth:`ModelCard.to_dict`)
beside them, each atomically:

- the artifact's ``meta.json``: recipe and options, the training data's
  fingerprint, validation metrics (and a leaderboard when one was stored),
  lineage (a compressed model's parent, the registered version it came from);
- the registry (for a ``models:/`` model): its versions, aliases, the audit
  history of alias moves (:func:`workbench.registry.history`) and pending
  approvals;
- the run store under `reports_dir`: the latest run of each report kind made
  for this model (matched by the lineage the runs record), with its checks and
  key figures; fairness by group with confidence intervals from the latest
  bias run; global explanations when a stored run holds them; comparison runs;
- a small YAML file people fill: intended use, users, out-of-scope uses,
  factors, ethical considerations, caveats (:mod:`~workbench.releases._card_info`);
  a template is written next to the card when there is none.

Nothing is recomputed and nothing is invented: a part with nothing on record
says so in the card ("no bias run recorded for this model yet").

Where cards live so the dashboard finds them: ``<reports_dir>/cards/<name>/<version>/``
(:func:`card_dir`), the default when `out_dir` is not given; the Models page
links each registered version to its card there.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from workbench._atomic import write_text_atomic
from workbench.errors import ParameterError
from workbench.releases._card_info import INFO_FILE, placeholder_info, read_info, unstated, write_template

CARDS_DIR = "cards"  # the ledger skips it (workbench.reports.ledger.NOT_RUNS): it holds no runs
CARD_HTML = "model_card.html"
CARD_MD = "model_card.md"
CARD_JSON = "model_card.json"
#: what a report kind is called in a card's sentences
KIND_WORDS = {
    "drift": "drift and data quality",
    "performance": "performance",
    "bias": "bias (fairness)",
    "compare": "comparison (champion vs challenger)",
}


@dataclass(frozen=True)
class ModelCard:
    """One model's card: what is on record about it, section by section, and what is not.

    ``markdown()`` and ``html()`` render it; ``missing`` holds the sentences
    saying what is not on record; ``files`` where it was written.
    """

    kind = "model_card"

    title: str
    model: dict
    training: dict
    metrics: dict
    leaderboard: list
    lineage: dict
    registry: dict | None
    history: list
    pending: list
    monitoring: list
    run_counts: dict
    fairness: dict | None
    weakest: list
    explanations: list
    comparisons: list
    info: dict
    info_file: str | None
    missing: list
    generated_at: str
    sources: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)

    @property
    def unstated(self) -> list[str]:
        """The info fields still placeholders (``intended_use.primary_uses``, ...)."""
        return unstated(self.info)

    def markdown(self) -> str:
        """The card as Markdown."""
        from workbench.releases._card_render import render_markdown

        return render_markdown(self)

    def html(self) -> str:
        """The card as one self-contained HTML page."""
        from workbench.releases._card_render import render_html

        return render_html(self)

    def text(self) -> str:
        """What ``workbench card`` prints: where it was written and what it lacks."""
        lines = [self.title]
        for what in ("html", "md"):
            if self.files.get(what):
                lines.append(f"  {what:<4} {self.files[what]}")
        if self.files.get("info_template"):
            lines.append(
                f"  fill {self.files['info_template']} (intended use and limits), then write it again"
            )
        if self.missing:
            lines.append("not on record:")
            lines += [f"  - {m}" for m in self.missing]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-safe form (:meth:`from_dict` reads it back)."""
        return json.loads(json.dumps(asdict(self), default=str))

    @classmethod
    def from_dict(cls, d: dict) -> ModelCard:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(**{f.name: d.get(f.name) for f in fields(cls) if f.name in d})

    def figures(self) -> dict:
        """No figures: a card is tables and sentences (always ``{}``)."""
        return {}

    def _repr_html_(self) -> str:
        from workbench.releases._card_render import card_body

        return f"<div>{card_body(self)}</div>"

    def __repr__(self) -> str:
        return f"<ModelCard {self.title!r}: {len(self.missing)} parts not on record>"


def card_dir(reports_dir: str | os.PathLike, name: str, version: int | str) -> Path:
    """Where the card of version `version` of `name` is written by default, and the dashboard finds it."""
    from workbench.registry.versions import check_name, check_version

    return Path(reports_dir) / CARDS_DIR / check_name(name) / str(check_version(version))


def write_model_card(
    model: str | os.PathLike,
    out_dir: str | os.PathLike | None = None,
    *,
    reports_dir: str | os.PathLike | None = None,
    registry: str | os.PathLike | None = None,
    card_info: str | os.PathLike | None = None,
) -> ModelCard:
    """Write the model card of `model` (a path or ``models:/`` URI) into `out_dir`; return it.

    Parameters
    ----------
    model : str or path
        A workbench artifact, or ``models:/NAME/VERSION`` / ``models:/NAME@ALIAS`` (looked up in
        `registry`): only a registered model's card holds its versions, aliases and release history.
    out_dir : folder, optional
        Where ``model_card.html``, ``model_card.md`` and ``model_card.json`` go. Default, for a
        registered model and a `reports_dir`: ``<reports_dir>/cards/<name>/<version>``, where the
        dashboard's Models page links to it.
    reports_dir : folder, optional
        The run store whose runs for this model the card reports (None: the card says none was read).
    registry : str, optional
        The registry (see :func:`workbench.registry.registry_location`).
    card_info : path, optional
        The YAML file with intended use and limits. Default: ``model_card_info.yaml`` in `out_dir`,
        written there as a template (placeholders marked as such) when absent.

    Raises
    ------
    ModelNotFoundError, RegistryError
        An unknown name, version or alias; a registry that cannot be read.
    ModelFileError, DataError, ParameterError
        A model file that is not a workbench model; an unreadable info file; no place to write to.
    """
    from workbench.modeling.artifact import read_model_info
    from workbench.registry.uris import resolve_model_uri

    if model is None or (isinstance(model, str) and not model.strip()):
        raise ParameterError("name the model: a model file or a models:/NAME/VERSION URI")
    resolved = resolve_model_uri(model.strip() if isinstance(model, str) else model, registry=registry)
    if out_dir is None:
        if reports_dir is None or resolved.name is None:
            raise ParameterError(
                "say where to write the card (out_dir, --out), or give a registered model (models:/...) and "
                "a reports directory to write it under <reports>/cards/NAME/VERSION"
            )
        out_dir = card_dir(reports_dir, resolved.name, resolved.version)
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ParameterError(f"the card's folder '{out}' is a file; give a folder (--out)")
    info = read_model_info(resolved.path)
    reports = Path(reports_dir).expanduser() if reports_dir is not None else None
    info_path = Path(card_info).expanduser() if card_info is not None else out / INFO_FILE
    want_template = card_info is None and not info_path.exists()
    stated = placeholder_info() if want_template else read_info(info_path)  # a bad file: before any write

    missing: list[str] = []
    facts = _gather(info.meta, info.spec, resolved, registry, reports, missing)
    out.mkdir(parents=True, exist_ok=True)
    template = str(write_template(info_path)) if want_template else None
    gaps = unstated(stated)
    if gaps:
        missing.append(
            f"intended use and limits are placeholders ({len(gaps)} of {len(gaps) + _stated(stated)} fields "
            f"not stated): fill {info_path.name} and write the card again"
        )
    card = ModelCard(
        **facts,
        info=stated,
        info_file=None if template else str(info_path),
        missing=missing,
        generated_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    )
    files = {"html": str(out / CARD_HTML), "md": str(out / CARD_MD), "json": str(out / CARD_JSON)}
    if template:
        files["info_template"] = template
    card = ModelCard(**{**{f.name: getattr(card, f.name) for f in fields(card)}, "files": files})
    _write(out / CARD_MD, card.markdown())
    _write(out / CARD_HTML, card.html())
    _write(out / CARD_JSON, json.dumps(card.to_dict(), indent=2))
    return card


# -- gathering ------------------------------------------------------------------------------------
def _gather(meta: dict, spec, resolved, registry, reports: Path | None, missing: list[str]) -> dict:
    from workbench.releases._card_runs import EXPECTED_KINDS, Identity, read_runs, weakest_slices

    model = {
        "name": meta.get("name"),
        "artifact": resolved.path.name,
        "registered_name": resolved.name,
        "version": resolved.version,
        "uri": resolved.uri,
        "alias_asked": resolved.alias,
        "kind": meta.get("kind"),
        "task": meta.get("task") or spec.task,
        "recipe": meta.get("recipe"),
        "threshold": meta.get("threshold"),
        "saved_at": meta.get("saved_at"),
        "format_version": meta.get("format_version"),
        "model_sha256": meta.get("model_sha256"),
        "libraries": dict(meta.get("versions") or {}),
        "target": spec.target,
        "positive_label": _plain(spec.positive_label),
        "classes": [_plain(c) for c in spec.classes or []],
        "features": list(spec.features),
        "numeric": list(spec.numeric),
        "categorical": list(spec.categorical),
        "sensitive": list(spec.sensitive),
    }
    training = {
        "data_fingerprint": meta.get("training_data"),
        "trained_rows": meta.get("trained_rows"),
        "params": meta.get("params"),
        "imbalance": meta.get("imbalance"),
        "cost": meta.get("cost"),
    }
    if not training["data_fingerprint"]:
        missing.append("the training data's fingerprint is not recorded in the model's meta.json")
    metrics = {k: v for k, v in (meta.get("metrics") or {}).items() if not isinstance(v, dict | list)}
    if not metrics:
        missing.append("no validation metrics are stored with the model")
    leaderboard = list(meta.get("leaderboard") or [])
    if not leaderboard:
        missing.append(
            "no leaderboard of the candidates was stored with the model: only the chosen model's metrics"
        )
    lineage = {
        **dict(meta.get("lineage") or {}),
        "compression": meta.get("compression"),
        "onnx": meta.get("onnx"),
    }
    title = (
        f"Model card: {resolved.name} version {resolved.version}"
        if resolved.name
        else f"Model card: {meta.get('name') or resolved.path.stem} ({resolved.path.name})"
    )
    reg, moves, waiting = _registry_facts(resolved, registry, reports, missing)
    if reg is not None:
        lineage["registered_parent"] = lineage.get("registered_parent") or reg.get("parent")
        lineage["registered_children"] = reg.get("children") or []

    sources = {"reports": reports.name if reports is not None else None, "registry": None}
    monitoring, counts, fairness, explanations, comparisons = [], {}, None, [], []
    if reports is None:
        missing.append(
            "no reports directory was read: monitoring runs, fairness and explanations are not included"
        )
    elif not reports.is_dir():
        missing.append(f"the reports directory {reports.name} does not exist: no monitoring run is recorded")
    else:
        identity = Identity(resolved.name, resolved.version, meta.get("model_sha256"))
        facts = read_runs(reports, identity)
        monitoring, counts, fairness = facts.latest, facts.counts, facts.fairness
        explanations, comparisons = facts.explanations, facts.comparisons
        missing += facts.problems
        for kind in EXPECTED_KINDS:
            if kind not in counts:
                missing.append(f"no {KIND_WORDS[kind]} run recorded for this model yet in {reports.name}")
        if fairness is None and "bias" not in counts:
            missing.append("fairness by group is not known: no bias run recorded for this model yet")
        if not explanations:
            missing.append(
                "no global explanation (permutation importance, surrogate rules) is stored for this model "
                f"in {reports.name}"
            )
    if reg is not None:
        sources["registry"] = reg.get("location")
    return {
        "title": title,
        "model": model,
        "training": training,
        "metrics": metrics,
        "leaderboard": leaderboard,
        "lineage": lineage,
        "registry": reg,
        "history": moves,
        "pending": waiting,
        "monitoring": monitoring,
        "run_counts": counts,
        "fairness": fairness,
        "weakest": weakest_slices(fairness),
        "explanations": explanations,
        "comparisons": comparisons,
        "sources": sources,
    }


def _registry_facts(resolved, registry, reports: Path | None, missing: list[str]):
    """The registered model's versions, aliases, audit history and pending approvals (None for a file)."""
    if resolved.name is None:
        missing.append(
            "the model was given as a file, not a models:/ URI: its registered versions, aliases and release "
            "history are not included"
        )
        return None, [], []
    from workbench.registry import history, list_versions, pending, registry_location
    from workbench.releases._card_runs import comparison_run

    name, version = resolved.name, resolved.version
    versions = list_versions(name, registry=registry)
    moves = [m.to_dict() for m in history(name, registry=registry)]
    waiting = [m.to_dict() for m in pending(name, registry=registry)]
    this = next(v for v in versions if v.version == version)
    aliases = {a: v.version for v in versions for a in v.aliases}
    for move in moves:
        move["comparison_run"] = comparison_run(reports, move.get("comparison"))
    if not moves:
        missing.append(f"no alias move of {name} is on record (it was never promoted through workbench)")
    return (
        {
            "name": name,
            "version": version,
            "uri": this.uri,
            "aliases": list(this.aliases),
            "model_aliases": aliases,
            "created": this.created,
            "description": this.description,
            "parent": this.parent,
            "file_sha256": this.sha256,
            "children": [v.uri for v in versions if v.parent == this.uri],
            "versions": [
                {
                    "version": v.version,
                    "created": v.created,
                    "aliases": list(v.aliases),
                    "recipe": v.tags.get("workbench.recipe"),
                    "parent": v.parent,
                    "metrics": {k: m for k, m in v.metrics.items() if isinstance(m, int | float)},
                }
                for v in versions
            ],
            "location": _short_location(registry_location(registry)),
        },
        moves,
        waiting,
    )


# -- helpers --------------------------------------------------------------------------------------
def _short_location(location) -> str:
    """The registry as a card names it: a database's folder and file name, a server's URI without password."""
    db = location.database
    return f"{db.parent.name}/{db.name}" if db is not None else location.display()


def _stated(info: dict) -> int:
    return sum(1 for block in info.values() for v in block.values() if v)


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def _write(path: Path, text: str) -> None:
    """Write `text` to `path` atomically (a reader, the dashboard, never sees half a card)."""
    write_text_atomic(path, text)
