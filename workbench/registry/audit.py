"""Audit records of alias moves, kept in the registry: who moved which alias from which version, when and why.

Every move of an alias (``champion``, ``challenger``, ...) made through
:func:`move_alias`, :func:`rollback` or :func:`~workbench.registry.approvals.approve`
is first written as a record, then made. A record is **one tag of the
registered model**: its key is unique (``workbench.audit.<UTC time>.<random
hex>``), its value the record as JSON. Writers only ever insert their own key
and never rewrite a shared list, so two writers at once cannot lose each
other's records; the records live and die with the model in any MLflow store
(SQLite, a database, a tracking server) and MLflow's UI shows them as tags.

On an embedded store a file lock (:mod:`workbench.registry.lock`) covers the
read-record-move, so each record's ``from`` is the version the previous move
left. A remote store cannot be locked from here: the alias is read back after
the move and a record whose move was overtaken by another writer says so
(``observed_version``).
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import uuid
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from workbench._records import TextRecord
from workbench.errors import RegistryValueError, ReleaseStateError

AUDIT_PREFIX = "workbench.audit."
#: the tag of a model version waiting for approval (its value: the request record as JSON)
PENDING_TAG = "workbench.pending"
#: actions that move an alias; "request" records a release left pending (nothing moves)
MOVES = ("register", "promote", "rollback", "approve", "force")
ACTIONS = (*MOVES, "request")
MAX_TEXT_CHARS = 2000


@dataclass(frozen=True)
class AliasMove(TextRecord):
    """One audit record: `alias` of `name` moved (or, for ``request``, asked to move) to `to_version`.

    ``from_version`` is the version the alias pointed at just before (None: it
    was not set); ``observed_version`` the one read back right after the move
    (another writer's when it differs from ``to_version``, on a store without
    the lock; None when the move was never confirmed, e.g. the process died
    between record and move); ``key`` the record's tag in the registry.
    """

    name: str
    alias: str
    action: str
    from_version: int | None
    to_version: int
    when: str  # ISO 8601, UTC, microseconds
    by: str
    reason: str | None = None
    comparison: str | None = None  # the comparison run (its id or folder) the move was decided on
    forced: bool = False
    observed_version: int | None = None
    requested_by: str | None = None  # an approval: who asked for it
    key: str | None = None

    @property
    def moves_alias(self) -> bool:
        """False for a ``request`` (a release left pending approval)."""
        return self.action != "request"

    def when_key(self) -> str:
        """``20260312T101500123456Z``: the record's time in tag-key characters (no ':' or '+')."""
        return self.when[:26].replace("-", "").replace(":", "").replace(".", "") + "Z"

    def text(self) -> str:
        """One line: when, what, from -> to, who, why."""
        before = "none" if self.from_version is None else f"v{self.from_version}"
        verb = "requested" if self.action == "request" else self.action
        line = f"{self.when[:19]}Z  {verb:<9} @{self.alias}  {before} -> v{self.to_version}  by {self.by}"
        if self.forced:
            line += "  FORCED"
        if self.requested_by:
            line += f" (requested by {self.requested_by})"
        if self.reason:
            line += f"  — {self.reason}"
        if self.comparison:
            line += f"  [comparison {self.comparison}]"
        if self.observed_version not in (None, self.to_version):
            line += f"  (then found at v{self.observed_version}: another move overtook it)"
        return line

    def __repr__(self) -> str:
        return f"<AliasMove {self.name} {self.text()}>"

    def to_dict(self) -> dict:
        """JSON-safe form (the record as stored in its registry tag): its fields."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AliasMove:
        """Rebuild a record from :meth:`to_dict`'s output (a registry tag's JSON)."""

        def version(v):
            return None if v is None else int(v)

        return cls(
            str(d["name"]),
            str(d["alias"]),
            str(d["action"]),
            version(d.get("from_version")),
            int(d["to_version"]),
            str(d["when"]),
            str(d.get("by") or "unknown"),
            d.get("reason"),
            d.get("comparison"),
            bool(d.get("forced", False)),
            version(d.get("observed_version")),
            d.get("requested_by"),
            d.get("key"),
        )

    def _repr_html_(self) -> str:
        return f"<div><b>{html.escape(self.name)}</b> <code>{html.escape(self.text())}</code></div>"


def move_alias(
    name: str,
    alias: str,
    version: int | str,
    *,
    action: str,
    by: str | None = None,
    reason: str | None = None,
    comparison: str | os.PathLike | None = None,
    forced: bool = False,
    registry: str | os.PathLike | None = None,
) -> AliasMove:
    """Record, then make, the move of `alias` of `name` to `version`; return the record.

    `action`: ``register``, ``promote``, ``rollback``, ``approve`` or
    ``force`` (a forced move: ``forced`` is set and `reason` is required).
    `by`: who decided (default: the OS user). `comparison`: the comparison
    run it was decided on (its id or folder). Refused with one sentence: an
    unknown name or version, a version the alias already points at, an
    artifact deleted or altered since registration.
    """
    from workbench.registry.lock import registry_lock
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_alias, check_name, check_version

    check_name(name)
    check_alias(alias)
    version = check_version(version)
    if action not in MOVES:
        raise RegistryValueError(f"{action!r} is not an alias move: use one of {', '.join(MOVES)}")
    forced = bool(forced) or action == "force"
    fields = dict(
        by=who(by), reason=text_or_none(reason, "the reason"), comparison=comparison_ref(comparison)
    )
    if forced and not fields["reason"]:
        raise RegistryValueError("a forced move needs a reason: it is recorded with the move")
    with open_registry(registry) as session, registry_lock(session.location):
        return move_locked(session, name, alias, version, action=action, forced=forced, **fields)


def history(name: str, *, registry: str | os.PathLike | None = None) -> list[AliasMove]:
    """Every audit record of `name`, oldest first (alias moves and pending requests)."""
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_name

    check_name(name)
    with open_registry(registry) as session:
        return records(session, name)


def rollback(
    name: str,
    *,
    alias: str = "champion",
    by: str | None = None,
    reason: str | None = None,
    registry: str | os.PathLike | None = None,
) -> AliasMove:
    """Undo the last move of `alias` not undone yet: back to the version it pointed at before it; the record.

    Read from the history as a stack: each rollback undoes one move, so
    rolling back twice goes two moves back and never brings back the version
    just rolled back from. Refused with one sentence when no move is left to
    undo, when that move set the alias for the first time (no previous
    version), or when the alias was moved outside workbench since.
    """
    from workbench.registry.lock import registry_lock
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_alias, check_name

    check_name(name)
    check_alias(alias)
    fields = dict(by=who(by), reason=text_or_none(reason, "the reason"))
    with open_registry(registry) as session, registry_lock(session.location):
        standing = standing_moves(records(session, name), alias)
        if not standing:
            raise ReleaseStateError(
                f"there is no previous {alias} of '{name}' to roll back to: no move of @{alias} through "
                "workbench is left to undo (see `workbench registry history`)"
            )
        last = standing[-1]
        current = alias_version(session, name, alias)
        if current != last.to_version:
            raise ReleaseStateError(
                f"@{alias} of '{name}' points at "
                + ("nothing" if current is None else f"version {current}")
                + f", not version {last.to_version} where its last recorded move put it (it was moved "
                "outside workbench): move it with move_alias instead"
            )
        if last.from_version is None:
            raise ReleaseStateError(
                f"there is no previous {alias} of '{name}' to roll back to: version {last.to_version} "
                f"is the first @{alias} on record"
            )
        return move_locked(session, name, alias, last.from_version, action="rollback", **fields)


def standing_moves(history: list[AliasMove], alias: str) -> list[AliasMove]:
    """The moves of `alias` still standing, oldest first: each rollback takes back the latest one."""
    standing: list[AliasMove] = []
    for move in history:
        if move.alias != alias or not move.moves_alias:
            continue
        if move.action == "rollback":
            if standing:
                standing.pop()
        else:
            standing.append(move)
    return standing


# -- shared with approvals.py ---------------------------------------------------------------------
def move_locked(
    session,
    name: str,
    alias: str,
    version: int,
    *,
    action: str,
    by: str,
    reason: str | None = None,
    comparison: str | None = None,
    forced: bool = False,
    requested_by: str | None = None,
) -> AliasMove:
    """The move itself, with the store's lock held by the caller: check, record, move, read back."""
    from workbench.registry.versions import numbered_version

    info = numbered_version(session, name, version)  # an unknown name or version: one sentence
    current = alias_version(session, name, alias)
    if current == version:
        raise ReleaseStateError(
            f"version {version} of '{name}' is already @{alias}: there is nothing to move"
        )
    check_artifact(session, info)
    record = AliasMove(
        name,
        alias,
        action,
        current,
        version,
        now(),
        by,
        reason,
        comparison,
        forced,
        requested_by=requested_by,
    )
    record = write_record(session, record)
    try:
        session.client.set_registered_model_alias(name, alias, str(version))
    except BaseException:  # the move did not happen: neither does its record
        forget_record(session, record)
        raise
    # read back and recorded in the same record (its own key): another writer without our lock (a remote
    # store) may have moved the alias meanwhile; None left in a record means the move was never confirmed
    record = write_record(session, replace(record, observed_version=alias_version(session, name, alias)))
    pending = info.tags.get(PENDING_TAG)
    if pending and (_json(pending) or {}).get("alias") == alias:  # the pending release happened
        session.client.delete_model_version_tag(name, str(version), PENDING_TAG)
    return record


def write_record(session, record: AliasMove) -> AliasMove:
    """Store `record` as its own tag (a new unique key unless it has one); the record with its key."""
    key = record.key or f"{AUDIT_PREFIX}{record.when_key()}.{uuid.uuid4().hex[:12]}"
    record = replace(record, key=key)
    body = {k: v for k, v in record.to_dict().items() if k != "key"}
    session.client.set_registered_model_tag(record.name, key, json.dumps(body, sort_keys=True))
    return record


def forget_record(session, record: AliasMove) -> None:
    """Delete `record`'s tag (its move failed); errors are ignored, the move's own error is reported."""
    try:
        session.client.delete_registered_model_tag(record.name, record.key)
    except Exception:  # noqa: BLE001  (the move's own error is the one to report)
        pass


def records(session, name: str) -> list[AliasMove]:
    """The audit records of `name` (oldest first); tags that are not readable records are skipped."""
    from workbench.registry.versions import _registered_model

    model = _registered_model(session, name)
    out = []
    for key, value in (model.tags or {}).items():
        if not key.startswith(AUDIT_PREFIX):
            continue
        data = _json(value)
        try:
            out.append(AliasMove.from_dict({**data, "name": name, "key": key}))
        except (KeyError, TypeError, ValueError):
            continue
    return sorted(out, key=lambda m: (m.when, m.key))


def alias_version(session, name: str, alias: str) -> int | None:
    """The version `alias` of `name` points at now, or None when it is not set."""
    from workbench.registry.versions import _registered_model

    version = (_registered_model(session, name).aliases or {}).get(alias)
    return None if version is None else int(version)


def check_artifact(session, info) -> None:
    """Refuse to point an alias at a version whose artifact was deleted or altered since registration."""
    from workbench.registry.integrity import verify_artifact
    from workbench.registry.uris import _local_artifact

    verify_artifact(_local_artifact(session, info), info.sha256, info.uri)


def who(by: str | None) -> str:
    """`by`, else the OS user (``unknown`` where none can be found)."""
    if by is not None:
        return text_or_none(by, "who decided (by)", limit=200) or _os_user()
    return _os_user()


def text_or_none(value: Any, what: str, *, limit: int = MAX_TEXT_CHARS) -> str | None:
    """`value` as one line of text of at most `limit` characters, or None; otherwise a RegistryValueError."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RegistryValueError(f"{what} must be text, not {value!r}")
    value = " ".join(value.split())
    if len(value) > limit:
        raise RegistryValueError(f"{what} is {len(value):,} characters long; keep it under {limit:,}")
    return value or None


def comparison_ref(comparison: str | os.PathLike | None) -> str | None:
    """A comparison run as recorded: an existing folder or file made absolute, an id as given."""
    if comparison is None:
        return None
    if isinstance(comparison, os.PathLike):
        comparison = os.fspath(comparison)
    text = text_or_none(comparison, "the comparison")
    if text and os.path.exists(text):
        return str(Path(text).resolve())
    return text


def now() -> str:
    """The current UTC time, ISO 8601 with microseconds (audit records sort by it)."""
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="microseconds")


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser() or "unknown"
    except (OSError, KeyError, ImportError):  # no login name (a container without a passwd entry)
        return "unknown"


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
