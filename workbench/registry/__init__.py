"""The model registry, on MLflow's Model Registry: versions, aliases, model URIs.

``register_model`` stores a workbench artifact unchanged as a new version
(an MLflow model that ``mlflow.pyfunc.load_model("models:/NAME@champion")``
loads through workbench's safe loader, no pickle) with what workbench knows as
tags; ``resolve_model_uri`` turns ``models:/NAME/VERSION`` or
``models:/NAME@ALIAS`` into a verified local artifact; ``set_alias``,
``get_alias`` and ``list_versions`` read and set aliases directly.

Release operations keep an audit history in the registry
(:mod:`workbench.registry.audit`): ``move_alias`` records, then makes, an
alias move; ``history`` lists the records; ``rollback`` moves ``champion``
back; ``request_approval``, ``approve`` and ``pending`` hold a release for a
person's sign-off (:mod:`workbench.registry.approvals`); ``list_models`` and
``describe_model`` say what the registry holds (:mod:`workbench.registry.catalog`).

Importing this package is light: MLflow is imported by the functions that
talk to the registry (see :mod:`workbench.registry.session`).
"""

from workbench.errors import ModelNotFoundError, RegistryError, RegistryValueError, ReleaseStateError
from workbench.registry.approvals import approve, pending, request_approval
from workbench.registry.audit import AliasMove, history, move_alias, rollback
from workbench.registry.catalog import ModelDescription, ModelSummary, describe_model, list_models
from workbench.registry.location import RegistryLocation, registry_location, registry_uri
from workbench.registry.uris import ResolvedModel, is_model_uri, parse_model_uri, resolve_model_uri
from workbench.registry.versions import (
    ModelVersionInfo,
    get_alias,
    list_versions,
    register_model,
    set_alias,
)

__all__ = [
    "AliasMove",
    "ModelDescription",
    "ModelNotFoundError",
    "ModelSummary",
    "ModelVersionInfo",
    "RegistryError",
    "RegistryLocation",
    "RegistryValueError",
    "ReleaseStateError",
    "ResolvedModel",
    "approve",
    "describe_model",
    "get_alias",
    "history",
    "is_model_uri",
    "list_models",
    "list_versions",
    "move_alias",
    "parse_model_uri",
    "pending",
    "register_model",
    "registry_location",
    "registry_uri",
    "request_approval",
    "resolve_model_uri",
    "rollback",
    "set_alias",
]
