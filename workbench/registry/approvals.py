"""Releases that wait for a person: request an approval, approve it, list what is pending.

:func:`request_approval` (what ``workbench promote --require-approval``
calls once the gate passed) records a ``request`` in the audit history and
marks the version with the tag ``workbench.pending`` (the request record as
JSON); nothing moves. :func:`approve` moves the alias then, recorded as an
``approve`` by the approver with the request's reason and comparison, and
clears the mark. An approval is refused when the version is not pending, and
when the alias moved since the request (the comparison it was decided on is
then against another version: request it again).
"""

from __future__ import annotations

import json
import os

from workbench.errors import ReleaseStateError
from workbench.registry.audit import (
    PENDING_TAG,
    AliasMove,
    alias_version,
    check_artifact,
    comparison_ref,
    move_locked,
    now,
    text_or_none,
    who,
    write_record,
)


def request_approval(
    name: str,
    version: int | str,
    *,
    alias: str = "champion",
    by: str | None = None,
    reason: str | None = None,
    comparison: str | os.PathLike | None = None,
    registry: str | os.PathLike | None = None,
) -> AliasMove:
    """Leave the move of `alias` to `version` pending a person's approval; return the ``request`` record.

    Refused with one sentence: an unknown name or version, a version already
    pending, a version the alias already points at, an altered artifact.
    """
    from workbench.registry.lock import registry_lock
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_alias, check_name, check_version, numbered_version

    check_name(name)
    check_alias(alias)
    version = check_version(version)
    fields = dict(
        by=who(by), reason=text_or_none(reason, "the reason"), comparison=comparison_ref(comparison)
    )
    with open_registry(registry) as session, registry_lock(session.location):
        info = numbered_version(session, name, version)
        waiting = _request(info.tags)
        if waiting is not None:
            raise ReleaseStateError(
                f"version {version} of '{name}' is already pending approval (requested by {waiting.by} "
                f"at {waiting.when[:19]}Z): approve it with `workbench approve {name} --version {version}`"
            )
        current = alias_version(session, name, alias)
        if current == version:
            raise ReleaseStateError(
                f"version {version} of '{name}' is already @{alias}: there is nothing to approve"
            )
        check_artifact(session, info)
        record = write_record(session, AliasMove(name, alias, "request", current, version, now(), **fields))
        session.client.set_model_version_tag(
            name, str(version), PENDING_TAG, json.dumps(record.to_dict(), sort_keys=True)
        )
        return record


def approve(
    name: str, version: int | str, *, by: str, registry: str | os.PathLike | None = None
) -> AliasMove:
    """Approve the pending release of `version`: move its alias, recorded as ``approve`` by `by`; the record.

    `by` (who approves) is required. Refused with one sentence: a version
    that is not pending (the pending ones are named), an alias moved since
    the request, an unknown name or version.
    """
    from workbench.registry.lock import registry_lock
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_name, check_version, numbered_version

    check_name(name)
    version = check_version(version)
    approver = text_or_none(by, "who approves (by)", limit=200)
    if approver is None:
        from workbench.errors import RegistryValueError

        raise RegistryValueError("an approval needs the name of who approves it (--by PERSON)")
    with open_registry(registry) as session, registry_lock(session.location):
        info = numbered_version(session, name, version)
        request = _request(info.tags)
        if request is None:
            waiting = [str(r.to_version) for r in _pending(session, name)]
            raise ReleaseStateError(
                f"version {version} of '{name}' is not pending approval, so there is nothing to approve "
                f"(pending: {', '.join(waiting) or 'none'})"
            )
        current = alias_version(session, name, request.alias)
        if current != request.from_version:
            before = "nothing" if request.from_version is None else f"version {request.from_version}"
            raise ReleaseStateError(
                f"@{request.alias} of '{name}' moved since the approval was requested (from {before} to "
                f"version {current}): the comparison no longer holds; request the release again"
            )
        return move_locked(
            session,
            name,
            request.alias,
            version,
            action="approve",
            by=approver,
            reason=request.reason,
            comparison=request.comparison,
            requested_by=request.by,
        )


def pending(name: str, *, registry: str | os.PathLike | None = None) -> list[AliasMove]:
    """The ``request`` records of the versions of `name` still pending approval, by version."""
    from workbench.registry.session import open_registry
    from workbench.registry.versions import check_name

    check_name(name)
    with open_registry(registry) as session:
        return _pending(session, name)


def _pending(session, name: str) -> list[AliasMove]:
    from workbench.registry.versions import _registered_model

    _registered_model(session, name)
    found = session.client.search_model_versions(f"name = '{name}'")
    out = [r for r in (_request(mv.tags or {}) for mv in found) if r is not None]
    return sorted(out, key=lambda r: r.to_version)


def _request(tags: dict) -> AliasMove | None:
    text = tags.get(PENDING_TAG)
    if not text:
        return None
    try:
        return AliasMove.from_dict(json.loads(text))
    except (KeyError, TypeError, ValueError):
        return None
