"""Registered versions: register a workbench artifact, read versions back, move aliases.

Registering stores the artifact unchanged (the ``.wbm`` zip or the folder
with ``meta.json``) inside an MLflow model whose code is
:mod:`workbench.registry.pyfunc_model` (models from code: no pickle), in a
run of the ``workbench-models`` experiment (its metrics and options as the
run's metrics and params, for MLflow's UI), and creates a model version with
what workbench knows as tags (``workbench.*``): the file hash, the data
fingerprint, metrics, recipe and options, lineage and the parent version.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench._records import TextRecord
from workbench.errors import ModelNotFoundError, RegistryValueError

TAG_PREFIX = "workbench."
#: tags longer than this are left out (older tracking servers cap tag values at 5,000 characters)
MAX_TAG_CHARS = 5000
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,254}$")


@dataclass(frozen=True)
class ModelVersionInfo(TextRecord):
    """One registered version: its number, aliases, the workbench tags and when it was created."""

    name: str
    version: int
    aliases: tuple[str, ...] = ()
    tags: dict[str, str] = field(default_factory=dict)
    created: str | None = None  # ISO 8601, UTC
    description: str | None = None
    run_id: str | None = None
    source: str | None = None  # where MLflow keeps the model (artifact URI)

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION``."""
        return f"models:/{self.name}/{self.version}"

    @property
    def sha256(self) -> str | None:
        """The artifact's file hash registered with the version (checked when it is loaded)."""
        return self.tags.get(TAG_PREFIX + "sha256")

    @property
    def parent(self) -> str | None:
        """The parent version's URI (compressed or retrained models), if one was registered."""
        return self.tags.get(TAG_PREFIX + "parent")

    @property
    def metrics(self) -> dict:
        """The model's metrics, as registered with the version (``{}`` when none were)."""
        return _json_tag(self.tags.get(TAG_PREFIX + "metrics")) or {}

    def __repr__(self) -> str:
        aliases = "".join(f" @{a}" for a in self.aliases)
        return f"<ModelVersionInfo {self.uri}{aliases} created {self.created}>"

    def to_dict(self) -> dict:
        """JSON-safe form, with the version's URI (:meth:`from_dict` reads it back)."""
        return {
            "name": self.name,
            "version": self.version,
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
            "created": self.created,
            "description": self.description,
            "run_id": self.run_id,
            "source": self.source,
            "uri": self.uri,
        }

    @classmethod
    def from_dict(cls, d: dict) -> ModelVersionInfo:
        """Rebuild from :meth:`to_dict`'s output (the URI is derived, not read)."""
        return cls(
            d["name"],
            int(d["version"]),
            tuple(d.get("aliases") or ()),
            dict(d.get("tags") or {}),
            d.get("created"),
            d.get("description"),
            d.get("run_id"),
            d.get("source"),
        )

    def _repr_html_(self) -> str:
        esc = html.escape
        aliases = ", ".join(f"<b>@{esc(a)}</b>" for a in self.aliases) or "no alias"
        metrics = ", ".join(
            f"{esc(k)} {v:.4g}" for k, v in self.metrics.items() if isinstance(v, int | float)
        )
        rows = [
            ("aliases", aliases),
            ("created", esc(self.created or "—")),
            ("recipe", esc(self.tags.get(TAG_PREFIX + "recipe") or "—")),
            ("metrics", metrics or "—"),
            ("parent", esc(self.parent or "—")),
            ("file sha256", esc((self.sha256 or "—")[:16])),
        ]
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
            for k, v in rows
        )
        return f"<div><b>{esc(self.uri)}</b><table>{body}</table></div>"


def register_model(
    model_path: str | os.PathLike,
    name: str,
    *,
    registry: str | os.PathLike | None = None,
    parent: str | int | ModelVersionInfo | None = None,
    description: str | None = None,
    aliases: Sequence[str] = (),
    by: str | None = None,
) -> ModelVersionInfo:
    """Register the workbench artifact at `model_path` as a new version of `name`; return that version.

    The artifact is checked as :func:`workbench.load_model` checks it and
    stored unchanged. `parent`: the version it derives from (a compressed or
    retrained model), as a version number of `name`, a ``models:/`` URI or a
    :class:`ModelVersionInfo`; it must exist. Without it, a model compressed
    from a registered one names that version (its ``lineage.registered_parent``).
    `aliases`: pointed at the new version, each move an audit record
    (action ``register``, by `by`, else the OS user; see
    :mod:`workbench.registry.audit`). `registry`: see
    :func:`~workbench.registry.location.registry_location`.
    """
    from workbench.modeling.artifact import read_model_info
    from workbench.registry.integrity import artifact_sha256
    from workbench.registry.session import open_registry
    from workbench.registry.uris import is_model_uri, resolve_model_uri

    check_name(name)
    aliases = [check_alias(a) for a in ([aliases] if isinstance(aliases, str) else aliases or ())]
    if isinstance(model_path, str) and is_model_uri(model_path):
        model_path = resolve_model_uri(model_path, registry=registry).path
    path = Path(model_path).expanduser().resolve()
    info = read_model_info(path)  # refuses anything that is not a sound workbench artifact
    sha = artifact_sha256(path)
    with open_registry(registry, create=True) as session:
        parent_uri = _parent_uri(session, name, parent)
        if parent_uri is None:  # compressed from a models:/ model: the version it came from, as recorded
            parent_uri = (info.meta.get("lineage") or {}).get("registered_parent")
        tags = version_tags(info.meta, sha, path.name, parent_uri)
        source, run_id = _log_model(session, name, path, info.meta, sha, tags)
        _ensure_registered_model(session, name)
        mv = session.client.create_model_version(
            name, source, run_id=run_id, tags=tags, description=description
        )
        version = int(mv.version)
    if aliases:
        from workbench.registry.audit import move_alias

        for alias in dict.fromkeys(aliases):
            move_alias(name, alias, version, action="register", by=by, registry=registry)
    with open_registry(registry) as session:
        return _info(session.client.get_model_version(name, str(version)))


def set_alias(
    name: str, alias: str, version: int | str, *, registry: str | os.PathLike | None = None
) -> ModelVersionInfo:
    """Point `alias` (``champion``, ``challenger``, ...) of `name` at `version`; return that version."""
    from workbench.registry.session import open_registry

    check_name(name)
    check_alias(alias)
    version = check_version(version)
    with open_registry(registry) as session:
        _version(session, name, version)  # a clear sentence for an unknown name or version
        session.client.set_registered_model_alias(name, alias, str(version))
        return _info(session.client.get_model_version(name, str(version)))


def get_alias(name: str, alias: str, *, registry: str | os.PathLike | None = None) -> ModelVersionInfo:
    """The version `alias` of `name` points at (a :class:`ModelNotFoundError` when it is not set)."""
    from workbench.registry.session import open_registry

    check_name(name)
    check_alias(alias)
    with open_registry(registry) as session:
        return aliased_version(session, name, alias)


def list_versions(name: str, *, registry: str | os.PathLike | None = None) -> list[ModelVersionInfo]:
    """Every version of `name`, oldest first, with its aliases, tags and creation time."""
    from workbench.registry.session import open_registry

    check_name(name)
    with open_registry(registry) as session:
        _registered_model(session, name)
        found = session.client.search_model_versions(f"name = '{name}'")
        # search results may omit aliases on some stores: read them from the registered model
        aliases: dict[str, list[str]] = {}
        for alias, version in (session.client.get_registered_model(name).aliases or {}).items():
            aliases.setdefault(str(version), []).append(alias)
        out = [_info(mv, aliases.get(str(mv.version), ())) for mv in found]
        return sorted(out, key=lambda v: v.version)


# -- validation (names go into URIs and search filters) ------------------------------------------
def check_name(name: Any) -> str:
    """`name` if it can be a registered model's name (it goes into URIs and search filters).

    Raises
    ------
    RegistryValueError
        For anything but letters, digits, '_', '-' or '.', starting with a letter or digit, at most 128.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise RegistryValueError(
            f"{name!r} is not a registered model name: use letters, digits, '_', '-' or '.' "
            "(starting with a letter or digit, at most 128 characters)"
        )
    return name


def check_alias(alias: Any) -> str:
    """`alias` if it can be an alias: letters, digits, '_' or '-', starting with a letter.

    Raises
    ------
    RegistryValueError
        Also for ``latest`` and ``v<number>``, which MLflow reserves.
    """
    if (
        not isinstance(alias, str)
        or not _ALIAS.match(alias)
        or alias.lower() == "latest"
        or re.fullmatch(r"[vV]\d+", alias)
    ):
        raise RegistryValueError(
            f"{alias!r} is not an alias: use letters, digits, '_' or '-', starting with a letter "
            "(not 'latest' nor v<number>, which MLflow reserves)"
        )
    return alias


def check_version(version: Any) -> int:
    """`version` as an int if it is a whole number from 1 (digits as text are accepted).

    Raises
    ------
    RegistryValueError
        For anything else.
    """
    if isinstance(version, str) and version.strip().isdigit():
        version = int(version)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise RegistryValueError(f"a model version is a whole number from 1, not {version!r}")
    return version


# -- reading versions (used by uris.py too) -------------------------------------------------------
def aliased_version(session, name: str, alias: str) -> ModelVersionInfo:
    """The version `alias` points to.

    Raises
    ------
    ModelNotFoundError
        When the model or the alias does not exist (the message lists the aliases).
    """
    model = _registered_model(session, name)
    version = (model.aliases or {}).get(alias)
    if version is None:
        known = ", ".join(f"@{a}" for a in sorted(model.aliases or {})) or "none"
        raise ModelNotFoundError(f"the model '{name}' has no alias '{alias}' (aliases: {known})")
    return _info(session.client.get_model_version(name, str(version)))


def numbered_version(session, name: str, version: int) -> ModelVersionInfo:
    """Version `version` of model `name`.

    Raises
    ------
    ModelNotFoundError
        When the model or the version does not exist.
    """
    return _info(_version(session, name, version))


def latest_version(session, name: str) -> ModelVersionInfo:
    """The highest version of model `name`.

    Raises
    ------
    ModelNotFoundError
        When the model does not exist or has no versions.
    """
    model = _registered_model(session, name)
    found = session.client.search_model_versions(f"name = '{name}'")
    if not found:
        raise ModelNotFoundError(f"the model '{model.name}' has no versions")
    return _info(max(found, key=lambda mv: int(mv.version)))


def version_tags(meta: dict, sha: str, file_name: str, parent_uri: str | None) -> dict[str, str]:
    """The ``workbench.*`` tags of a version: what the artifact's ``meta.json`` knows, and its file hash."""
    options = {
        k: meta.get(k) for k in ("params", "imbalance", "cost", "threshold") if meta.get(k) is not None
    }
    values = {
        "sha256": sha,
        "artifact": file_name,
        "model_sha256": meta.get("model_sha256"),
        "model_name": meta.get("name"),
        "kind": meta.get("kind"),
        "task": meta.get("task"),
        "recipe": meta.get("recipe"),
        "options": options or None,
        "data_fingerprint": meta.get("training_data"),
        "metrics": meta.get("metrics"),
        "lineage": meta.get("lineage"),
        "parent": parent_uri,
        "format_version": meta.get("format_version"),
    }
    tags = {}
    for key, value in values.items():
        if value is None:
            continue
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        tags[TAG_PREFIX + key] = text if len(text) <= MAX_TAG_CHARS else "(too long for a tag: see meta.json)"
    return tags


# -- helpers -------------------------------------------------------------------------------------
def _registered_model(session, name: str):
    from mlflow.exceptions import MlflowException

    try:
        return session.client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    names = sorted(m.name for m in session.client.search_registered_models(max_results=50))
    known = ", ".join(names) if names else "none yet"
    raise ModelNotFoundError(
        f"no model named '{name}' in the registry at {session.location.display()} (registered: {known})"
    ) from None


def _version(session, name: str, version: int):
    from mlflow.exceptions import MlflowException

    _registered_model(session, name)
    try:
        return session.client.get_model_version(name, str(version))
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise
    found = sorted(int(mv.version) for mv in session.client.search_model_versions(f"name = '{name}'"))
    raise ModelNotFoundError(
        f"the model '{name}' has no version {version} (versions: {', '.join(map(str, found)) or 'none'})"
    ) from None


def _parent_uri(session, name: str, parent) -> str | None:
    from workbench.registry.uris import parse_model_uri

    if parent is None:
        return None
    if isinstance(parent, ModelVersionInfo):
        parent_name, version = parent.name, parent.version
    elif isinstance(parent, str) and parent.startswith("models:/"):
        ref = parse_model_uri(parent)
        if ref.alias is not None:
            return aliased_version(session, ref.name, ref.alias).uri
        if ref.version is None:
            return latest_version(session, ref.name).uri
        parent_name, version = ref.name, ref.version
    else:
        parent_name, version = name, check_version(parent)
    return numbered_version(session, parent_name, version).uri


def _log_model(session, name: str, path: Path, meta: dict, sha: str, tags: dict) -> tuple[str, str]:
    """Save the MLflow model (code + the artifact unchanged) and log it in a run.

    Returns (its artifact URI, run id).
    """
    import mlflow.pyfunc
    from mlflow.entities import Metric, Param

    from workbench.registry import pyfunc_model

    with tempfile.TemporaryDirectory(prefix="wb-register-") as tmp:
        local = Path(tmp) / "model"
        mlflow.pyfunc.save_model(
            str(local),
            python_model=pyfunc_model.__file__,
            artifacts={pyfunc_model.ARTIFACT_KEY: str(path)},
            model_config={"sha256": sha, "name": name},
            pip_requirements=_requirements(),
            metadata={"workbench": {"artifact": path.name, "sha256": sha}},
        )
        run = session.client.create_run(
            session.experiment_id(), run_name=f"register {name}", tags={"workbench.registered_model": name}
        )
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        metrics = [
            Metric(k, float(v), now, 0)
            for k, v in (meta.get("metrics") or {}).items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        params = [
            Param(k[len(TAG_PREFIX) :], v[:6000])
            for k, v in tags.items()
            if k in (TAG_PREFIX + "recipe", TAG_PREFIX + "options", TAG_PREFIX + "task")
        ]
        session.client.log_batch(run_id, metrics=metrics, params=params)
        session.client.log_artifacts(run_id, str(local), "model")
        session.client.set_terminated(run_id)
    return f"{run.info.artifact_uri.rstrip('/')}/model", run_id


def _ensure_registered_model(session, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        session.client.create_registered_model(name)
    except MlflowException as exc:  # registered before (or meanwhile by another process)
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def _requirements() -> list[str]:
    """What loading the MLflow model needs, pinned to the versions here.

    Read from metadata only: nothing is installed.
    """
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for pkg in ("workbench", "mlflow-skinny", "scikit-learn", "skops", "onnxruntime", "pandas", "numpy"):
        try:
            out.append(f"{pkg}=={version(pkg)}")
        except PackageNotFoundError:
            pass
    return out


def _info(mv, aliases=None) -> ModelVersionInfo:
    created = None
    if mv.creation_timestamp:
        created = _dt.datetime.fromtimestamp(mv.creation_timestamp / 1000, _dt.UTC).isoformat(
            timespec="seconds"
        )
    found = tuple(getattr(mv, "aliases", None) or ()) or tuple(aliases or ())
    return ModelVersionInfo(
        mv.name,
        int(mv.version),
        tuple(sorted(found)),
        dict(mv.tags or {}),
        created,
        mv.description or None,
        mv.run_id or None,
        mv.source,
    )


def _json_tag(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
