"""What the registry holds: every registered model in a line, and one model in full.

:func:`list_models` is what ``workbench registry list`` prints;
:func:`describe_model` what ``workbench registry show NAME`` prints: the
versions, aliases, the model's own tags, the releases pending approval and
the latest alias moves.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field

from workbench._records import TextRecord
from workbench.registry.audit import AUDIT_PREFIX, AliasMove
from workbench.registry.versions import ModelVersionInfo

#: the latest moves :func:`describe_model` includes (``workbench registry history`` shows all)
RECENT_MOVES = 5


@dataclass(frozen=True)
class ModelSummary(TextRecord):
    """A registered model in one line: how many versions, the latest, its aliases, pending releases."""

    name: str
    versions: int
    latest: int | None
    aliases: dict[str, int] = field(default_factory=dict)
    pending: tuple[int, ...] = ()
    updated: str | None = None  # ISO 8601, UTC
    description: str | None = None

    def text(self) -> str:
        """One line: name, number of versions, latest version, aliases and pending releases."""
        aliases = " ".join(f"@{a}=v{v}" for a, v in sorted(self.aliases.items())) or "no alias"
        latest = f"latest v{self.latest}" if self.latest is not None else "no versions"
        pending = f"; pending: {', '.join(f'v{v}' for v in self.pending)}" if self.pending else ""
        count = f"{self.versions:>3} version{'s' if self.versions != 1 else ' '}"
        return f"{self.name:<24} {count}  {latest}  {aliases}{pending}"

    def to_dict(self) -> dict:
        """JSON-safe form (what ``registry list --json`` prints)."""
        return {
            "name": self.name,
            "versions": self.versions,
            "latest": self.latest,
            "aliases": dict(self.aliases),
            "pending": list(self.pending),
            "updated": self.updated,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelSummary:
        """Rebuild a summary from :meth:`to_dict`'s output."""
        return cls(
            d["name"],
            int(d["versions"]),
            d.get("latest"),
            {k: int(v) for k, v in (d.get("aliases") or {}).items()},
            tuple(int(v) for v in d.get("pending") or ()),
            d.get("updated"),
            d.get("description"),
        )


@dataclass(frozen=True)
class ModelDescription(TextRecord):
    """One registered model: versions (oldest first), aliases, own tags, pending releases, latest moves."""

    name: str
    versions: tuple[ModelVersionInfo, ...]
    aliases: dict[str, int] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # the model's tags, audit records left out
    pending: tuple[AliasMove, ...] = ()
    recent_moves: tuple[AliasMove, ...] = ()  # the latest RECENT_MOVES records, oldest first
    n_records: int = 0
    description: str | None = None

    def text(self) -> str:
        """What ``workbench registry show`` prints."""
        lines = [f"{self.name}" + (f": {self.description}" if self.description else "")]
        aliases = ", ".join(f"@{a} -> v{v}" for a, v in sorted(self.aliases.items())) or "none"
        lines.append(f"aliases: {aliases}")
        lines.append(f"versions ({len(self.versions)}):")
        for v in self.versions:
            key = next((k for k in ("roc_auc", "r2") if isinstance(v.metrics.get(k), int | float)), None)
            shown = [
                f"v{v.version:<3}",
                (v.created or "")[:19],
                v.tags.get("workbench.recipe") or "—",
                f"{key} {v.metrics[key]:.4f}" if key else "",
                f"parent {v.parent}" if v.parent else "",
                " ".join(f"@{a}" for a in v.aliases),
                "PENDING" if any(p.to_version == v.version for p in self.pending) else "",
            ]
            lines.append("  " + "  ".join(s for s in shown if s))
        if self.tags:
            lines.append("tags: " + ", ".join(f"{k}={_short(v)}" for k, v in sorted(self.tags.items())))
        if self.pending:
            lines.append("pending approval:")
            lines += [f"  {p.text()}" for p in self.pending]
        lines.append(
            f"history: {self.n_records} record{'s' if self.n_records != 1 else ''}"
            + (", latest:" if self.recent_moves else "")
        )
        lines += [f"  {m.text()}" for m in self.recent_moves]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-safe form (what ``registry show --json`` prints)."""
        return {
            "name": self.name,
            "description": self.description,
            "aliases": dict(self.aliases),
            "tags": dict(self.tags),
            "versions": [v.to_dict() for v in self.versions],
            "pending": [p.to_dict() for p in self.pending],
            "recent_moves": [m.to_dict() for m in self.recent_moves],
            "n_records": self.n_records,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelDescription:
        """Rebuild a description from :meth:`to_dict`'s output."""
        return cls(
            d["name"],
            tuple(ModelVersionInfo.from_dict(v) for v in d.get("versions") or ()),
            {k: int(v) for k, v in (d.get("aliases") or {}).items()},
            dict(d.get("tags") or {}),
            tuple(AliasMove.from_dict(p) for p in d.get("pending") or ()),
            tuple(AliasMove.from_dict(m) for m in d.get("recent_moves") or ()),
            int(d.get("n_records") or 0),
            d.get("description"),
        )

    def _repr_html_(self) -> str:
        return f"<div><pre>{html.escape(self.text())}</pre></div>"


def list_models(*, registry: str | os.PathLike | None = None) -> list[ModelSummary]:
    """Every registered model, by name (an embedded store not created yet holds none)."""
    from workbench.registry.location import registry_location
    from workbench.registry.session import open_registry

    db = registry_location(registry).database
    if db is not None and not db.exists():
        return []
    out = []
    with open_registry(registry) as session:
        for model in _all_models(session.client):
            found = session.client.search_model_versions(f"name = '{model.name}'")
            versions = [int(mv.version) for mv in found]
            pending = sorted(int(mv.version) for mv in found if "workbench.pending" in (mv.tags or {}))
            out.append(
                ModelSummary(
                    model.name,
                    len(versions),
                    max(versions) if versions else None,
                    {a: int(v) for a, v in (model.aliases or {}).items()},
                    tuple(pending),
                    _iso(model.last_updated_timestamp),
                    model.description or None,
                )
            )
    return sorted(out, key=lambda m: m.name)


def describe_model(name: str, *, registry: str | os.PathLike | None = None) -> ModelDescription:
    """`name` in full: versions, aliases, its tags, releases pending approval and the latest alias moves."""
    from workbench.registry.approvals import _pending
    from workbench.registry.audit import records
    from workbench.registry.session import open_registry
    from workbench.registry.versions import _registered_model, check_name, list_versions

    check_name(name)
    versions = list_versions(name, registry=registry)
    with open_registry(registry) as session:
        model = _registered_model(session, name)
        history = records(session, name)
        waiting = _pending(session, name)
    tags = {k: v for k, v in (model.tags or {}).items() if not k.startswith(AUDIT_PREFIX)}
    return ModelDescription(
        name,
        tuple(versions),
        {a: int(v) for a, v in (model.aliases or {}).items()},
        tags,
        tuple(waiting),
        tuple(history[-RECENT_MOVES:]),
        len(history),
        model.description or None,
    )


def _all_models(client) -> list:
    out, token = [], None
    while True:
        page = client.search_registered_models(max_results=100, page_token=token)
        out += list(page)
        token = getattr(page, "token", None)
        if not token:
            return out


def _iso(ms: int | None) -> str | None:
    import datetime as _dt

    return None if not ms else _dt.datetime.fromtimestamp(ms / 1000, _dt.UTC).isoformat(timespec="seconds")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
