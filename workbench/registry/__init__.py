"""The model registry, on MLflow's Model Registry: versions, aliases, model URIs.

``register_model`` stores a workbench artifact unchanged as a new version
(an MLflow model that ``mlflow.pyfunc.load_model("models:/NAME@champion")``
loads through workbench's safe loader, no pickle) with what workbench knows as
tags; ``resolve_model_uri`` turns ``models:/NAME/VERSION`` or
``models:/NAME@ALIAS`` into a verified local artifact; ``set_alias``,
``get_alias`` and ``list_versions`` are what promotion and rollback build on.

Importing this package is light: MLflow is imported by the functions that
talk to the registry (see :mod:`workbench.registry.session`).
"""

from workbench.errors import ModelNotFoundError, RegistryError, RegistryValueError
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
    "ModelNotFoundError",
    "ModelVersionInfo",
    "RegistryError",
    "RegistryLocation",
    "RegistryValueError",
    "ResolvedModel",
    "get_alias",
    "is_model_uri",
    "list_versions",
    "parse_model_uri",
    "register_model",
    "registry_location",
    "registry_uri",
    "resolve_model_uri",
    "set_alias",
]
