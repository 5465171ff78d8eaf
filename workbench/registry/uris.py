"""Model URIs: ``models:/NAME/VERSION`` and ``models:/NAME@ALIAS`` to a verified local artifact.

Everything that takes a model path takes a model URI too
(:func:`workbench.modeling.artifact.load_model` calls :func:`resolve_model_uri`).
The artifact is located in place for an embedded store, else downloaded once
into ``workbench-work/registry/downloads``; either way its file hash is
checked against the one registered, and a mismatch is refused.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from workbench._records import TextRecord
from workbench.errors import RegistryError, RegistryValueError

SCHEME = "models:/"
_URI = re.compile(r"^models:/([^/@]+)(?:/([^/@]+)|@([^/@]+))$")
_USAGE = (
    "write models:/NAME/VERSION (e.g. models:/credit/3) or models:/NAME@ALIAS (e.g. models:/credit@champion)"
)


@dataclass(frozen=True)
class ModelRef:
    """A parsed model URI: a version number, an alias, or neither (``/latest``)."""

    name: str
    version: int | None = None
    alias: str | None = None


@dataclass(frozen=True)
class ResolvedModel(TextRecord):
    """Where a model reference points on this machine, and which registered version it is.

    A plain path passes through with ``name``, ``version`` and ``alias`` None.
    """

    path: Path
    name: str | None = None
    version: int | None = None
    alias: str | None = None

    @property
    def uri(self) -> str | None:
        """``models:/NAME/VERSION`` of a registered model (an alias pinned to its version), else None."""
        return f"{SCHEME}{self.name}/{self.version}" if self.name is not None else None

    def to_dict(self) -> dict:
        """JSON-safe form, with the URI (:meth:`from_dict` reads it back)."""
        return {
            "path": str(self.path),
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "uri": self.uri,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ResolvedModel:
        """Rebuild from :meth:`to_dict`'s output (the URI is derived, not read)."""
        version = d.get("version")
        return cls(Path(d["path"]), d.get("name"), None if version is None else int(version), d.get("alias"))

    def _repr_html_(self) -> str:
        if self.name is None:
            return f"<div>model file <code>{html.escape(str(self.path))}</code></div>"
        alias = f" (@{html.escape(self.alias)})" if self.alias else ""
        return (
            f"<div><b>{html.escape(self.uri or '')}</b>{alias} at "
            f"<code>{html.escape(str(self.path))}</code></div>"
        )


def is_model_uri(text) -> bool:
    """True for text that starts with ``models:/`` (well-formed or not: :func:`parse_model_uri` says)."""
    return isinstance(text, str) and text.strip().startswith(SCHEME)


def parse_model_uri(uri: str) -> ModelRef:
    """``models:/NAME/VERSION``, ``models:/NAME@ALIAS`` or ``models:/NAME/latest`` as a :class:`ModelRef`."""
    from workbench.registry.versions import check_alias, check_name, check_version

    text = uri.strip() if isinstance(uri, str) else uri
    match = _URI.match(text) if isinstance(text, str) else None
    if match is None:
        raise RegistryValueError(f"{uri!r} is not a model URI: {_USAGE}")
    name, version, alias = match.groups()
    try:
        check_name(name)
        if alias is not None:
            return ModelRef(name, alias=check_alias(alias))
        if version == "latest":
            return ModelRef(name)
        return ModelRef(name, version=check_version(version))
    except RegistryValueError as exc:
        raise RegistryValueError(f"{uri!r} is not a model URI ({exc}); {_USAGE}") from None


def resolve_model_uri(uri: str | os.PathLike, *, registry: str | os.PathLike | None = None) -> ResolvedModel:
    """The local, verified artifact of a model URI; a plain path as it is (not checked here).

    Unknown names, versions or aliases raise a
    :class:`~workbench.errors.ModelNotFoundError`; an artifact deleted or
    altered since it was registered a :class:`~workbench.errors.RegistryError`.
    """
    if not is_model_uri(uri):
        return ResolvedModel(Path(uri))
    from workbench.registry.integrity import verify_artifact
    from workbench.registry.session import open_registry
    from workbench.registry.versions import aliased_version, latest_version, numbered_version

    ref = parse_model_uri(uri)
    with open_registry(registry) as session:
        if ref.alias is not None:
            info = aliased_version(session, ref.name, ref.alias)
        elif ref.version is not None:
            info = numbered_version(session, ref.name, ref.version)
        else:
            info = latest_version(session, ref.name)
        path = _local_artifact(session, info)
    verify_artifact(path, info.sha256, info.uri)
    return ResolvedModel(path, info.name, info.version, ref.alias)


def _local_artifact(session, info) -> Path:
    """The version's artifact on this machine: in place when its store is local, else a checked download."""
    from workbench.registry.versions import TAG_PREFIX

    file_name = info.tags.get(TAG_PREFIX + "artifact")
    if not file_name or not info.source:
        raise RegistryError(
            f"{info.uri} was not registered by workbench (it has no workbench.artifact tag); "
            "register the workbench model file with workbench.registry.register_model"
        )
    parsed = urlparse(info.source)
    if parsed.scheme in ("", "file"):
        path = Path(unquote(parsed.path)) / "artifacts" / file_name
        if not os.path.lexists(path):
            raise RegistryError(
                f"the artifact of {info.uri} is missing from '{path}': it was deleted after "
                "registration; register the model file again"
            )
        return path
    return _download(session, info, file_name)


def _download(session, info, file_name: str) -> Path:
    import mlflow.artifacts

    from workbench.registry.integrity import artifact_sha256
    from workbench.registry.location import DEFAULT_DIR

    target = (DEFAULT_DIR / "downloads" / (info.sha256 or f"{info.name}-{info.version}")[:16]).resolve()
    cached = target / file_name
    if os.path.lexists(cached) and artifact_sha256(cached) == info.sha256:
        return cached
    target.mkdir(parents=True, exist_ok=True)
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=f"{info.source.rstrip('/')}/artifacts/{file_name}",
        dst_path=str(target),
        tracking_uri=session.location.uri,
    )
    return Path(local)
