"""One conversation with an MLflow registry: a client on the chosen store, quiet, errors in one sentence.

MLflow is imported here and only here (and in the models-from-code file), so
``import workbench`` never pays for it. MLflow's own chatter (database
migrations at INFO, progress bars, deprecation warnings) is silenced while
workbench talks to it; its exceptions become a
:class:`~workbench.errors.RegistryError` with one sentence, the store named
without its password.
"""

from __future__ import annotations

import logging
import os
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from workbench.errors import ModelNotFoundError, RegistryError, RegistryValueError, WorkbenchError
from workbench.registry.location import RegistryLocation, registry_location

#: the MLflow experiment whose runs hold the registered artifacts
EXPERIMENT = "workbench-models"
#: seconds before a tracking server that does not answer is reported (MLflow's default is 120, with retries)
HTTP_TIMEOUT_S = 10
_NO_ANSWER = (
    "Max retries exceeded",
    "NewConnectionError",
    "ConnectTimeout",
    "Read timed out",
    "Connection refused",
)
_QUIET_LOGGERS = ("mlflow", "alembic", "sqlalchemy", "databricks", "git", "urllib3", "opentelemetry")


@dataclass
class Session:
    """An :class:`mlflow.MlflowClient` bound to one registry location."""

    client: Any
    location: RegistryLocation

    def experiment_id(self) -> str:
        """The id of :data:`EXPERIMENT`, created on first use with the location's artifact root."""
        from mlflow.exceptions import MlflowException

        found = self.client.get_experiment_by_name(EXPERIMENT)
        if found is not None:
            return found.experiment_id
        try:
            return self.client.create_experiment(EXPERIMENT, artifact_location=self.location.artifact_root)
        except MlflowException as exc:  # created meanwhile by another process
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
            return self.client.get_experiment_by_name(EXPERIMENT).experiment_id


@contextmanager
def open_registry(registry: str | os.PathLike | None = None, *, create: bool = False) -> Iterator[Session]:
    """A :class:`Session` on the registry :func:`~workbench.registry.location.registry_location` picks.

    An embedded store that does not exist yet is only created when `create`
    (registering); a lookup in it says the registry holds no models instead.
    """
    location = registry_location(registry)
    db = location.database
    if db is not None and not db.exists():
        if not create:
            raise ModelNotFoundError(
                f"the registry at {location.display()} holds no models yet: register one first"
            )
        try:
            db.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(
                f"cannot create the registry folder '{db.parent}': {exc.strerror or exc}"
            ) from None
    with quiet(location):
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        try:
            yield Session(MlflowClient(tracking_uri=location.uri, registry_uri=location.uri), location)
        except WorkbenchError:
            raise
        except MlflowException as exc:
            raise _translate(exc, location) from None
        except (OSError, ConnectionError) as exc:
            raise RegistryError(
                f"the registry at {location.display()} could not be reached or written: "
                f"{_first_line(str(exc))}"
            ) from None
        except Exception as exc:
            if not type(exc).__module__.startswith("sqlalchemy"):
                raise
            # not MLflow's database (damaged, or another program's): its own words, in one sentence
            reason = re.sub(r"^\([\w.]+\)\s*", "", _first_line(str(exc)))
            raise RegistryError(
                f"the registry at {location.display()} cannot be read ({reason}): it is damaged or not an "
                "MLflow store; check --registry"
            ) from None


@contextmanager
def quiet(location: RegistryLocation | None = None) -> Iterator[None]:
    """Silence MLflow's logging, warnings and progress bars; a short HTTP timeout for a server.

    All are restored after.
    """
    import mlflow  # noqa: F401  (configures its loggers on import: set ours after that)

    env = {"MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false"}
    if location is not None and location.uri.lower().startswith(("http://", "https://")):
        env.update(MLFLOW_HTTP_REQUEST_TIMEOUT=str(HTTP_TIMEOUT_S), MLFLOW_HTTP_REQUEST_MAX_RETRIES="0")
    added = {k: v for k, v in env.items() if k not in os.environ}  # the user's own settings win
    loggers = [logging.getLogger(name) for name in _QUIET_LOGGERS]
    levels = [lg.level for lg in loggers]
    os.environ.update(added)
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        for key in added:
            os.environ.pop(key, None)


def _translate(exc: Exception, location: RegistryLocation) -> RegistryError:
    code = getattr(exc, "error_code", "")
    message = _first_line(getattr(exc, "message", None) or str(exc))
    if code == "RESOURCE_DOES_NOT_EXIST":
        return ModelNotFoundError(f"{message} (registry {location.display()})")
    if code == "INVALID_PARAMETER_VALUE":
        return RegistryValueError(message)
    if any(sign in message for sign in _NO_ANSWER):
        return RegistryError(
            f"the registry at {location.display()} does not answer (no connection within "
            f"{HTTP_TIMEOUT_S} s); check the URI, or start the tracking server"
        )
    return RegistryError(f"the registry at {location.display()} refused the request: {message}")


def _first_line(text: str, limit: int = 300) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "no reason given")
    return line if len(line) <= limit else line[: limit - 1] + "…"
