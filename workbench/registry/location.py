"""Where the registry lives: an MLflow tracking URI, chosen once and made absolute (no MLflow import).

Precedence: the ``registry=`` argument, then ``WORKBENCH_REGISTRY``, then
``MLFLOW_TRACKING_URI``, then an embedded SQLite store in
``workbench-work/registry`` under the current folder (no server to start).

A value is either a URI (``sqlite:///...``, ``postgresql://...``,
``http(s)://...``, ``databricks``) or a plain folder path, which means a
SQLite store in that folder (``<folder>/registry.db``, artifacts in
``<folder>/artifacts``); a path ending in ``.db``/``.sqlite`` is the database
file itself. Relative paths are resolved here, at the boundary, because a
report kernel starts in its run's own folder.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import RegistryValueError

DEFAULT_DIR = Path("workbench-work") / "registry"
DB_FILE = "registry.db"
ARTIFACTS_DIR = "artifacts"
ENV_VARS = ("WORKBENCH_REGISTRY", "MLFLOW_TRACKING_URI")
_SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


@dataclass(frozen=True)
class RegistryLocation:
    """A registry's tracking URI, where it says it came from, and where new artifacts go."""

    uri: str
    source: str  # "argument", "WORKBENCH_REGISTRY", "MLFLOW_TRACKING_URI" or "default"
    artifact_root: str | None  # None: the server decides (http, databricks)

    @property
    def database(self) -> Path | None:
        """The SQLite file of an embedded store, else None."""
        if self.uri.startswith("sqlite:///"):
            return Path(self.uri[len("sqlite:///") :])
        return None

    @property
    def is_local(self) -> bool:
        """True for an embedded SQLite store.

        Its URI holds no credentials, so it is safe to write into a run's params.
        """
        return self.database is not None

    def display(self) -> str:
        """The URI without any password (for messages)."""
        return re.sub(r"://([^:/@]+):[^@/]*@", r"://\1:***@", self.uri)

    def to_dict(self) -> dict:
        """JSON-safe form, the URI without any password (safe to print or store)."""
        return {"uri": self.display(), "source": self.source, "artifact_root": self.artifact_root}


def registry_location(registry: str | os.PathLike | None = None) -> RegistryLocation:
    """The registry to use.

    `registry`, else ``WORKBENCH_REGISTRY``, else ``MLFLOW_TRACKING_URI``, else the default.
    A bad value (empty text, a SQLite URI without a path) is a
    :class:`~workbench.errors.RegistryValueError` naming where it came from.
    """
    if registry is not None:
        return _location(registry, "argument")
    for var in ENV_VARS:
        value = os.environ.get(var)
        if value is not None and value.strip():
            return _location(value, var)
    return _location(DEFAULT_DIR, "default")


def registry_uri(registry: str | os.PathLike | None = None) -> str:
    """The absolute MLflow tracking URI of :func:`registry_location`."""
    return registry_location(registry).uri


def _location(value: str | os.PathLike, source: str) -> RegistryLocation:
    where = (
        "the registry"
        if source == "argument"
        else ("the default registry" if source == "default" else source)
    )
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise RegistryValueError(f"{where} must be a folder or an MLflow tracking URI, not {value!r}")
    value = value.strip()
    match = _SCHEME.match(value)
    if match:
        scheme = match.group(1).lower()
        if scheme == "sqlite":
            rest = value[len("sqlite:///") :] if value.lower().startswith("sqlite:///") else ""
            if not rest or rest.startswith(":memory:"):
                raise RegistryValueError(
                    f"{where} '{value}' names no database file; use sqlite:///path/to/registry.db"
                )
            return _sqlite(Path(rest), source)
        if scheme == "file":
            raise RegistryValueError(
                f"{where} '{value}' is MLflow's file store, which has no model registry worth the name; "
                "give a folder (a SQLite store is made there) or a database/server URI"
            )
        artifact_root = None if scheme in ("http", "https") else _file_uri(Path(DEFAULT_DIR, ARTIFACTS_DIR))
        return RegistryLocation(value, source, artifact_root)
    if (
        value.lower() == "databricks"
        or value.lower().startswith("databricks-uc")
        or value.startswith("databricks:")
    ):
        return RegistryLocation(value, source, None)
    path = Path(value).expanduser()
    if path.suffix.lower() in _SQLITE_SUFFIXES:
        return _sqlite(path, source)
    return _sqlite(path / DB_FILE, source)


def _sqlite(db: Path, source: str) -> RegistryLocation:
    db = db.expanduser().resolve()
    return RegistryLocation(f"sqlite:///{db}", source, _file_uri(db.parent / ARTIFACTS_DIR))


def _file_uri(path: Path) -> str:
    return path.expanduser().resolve().as_uri()
