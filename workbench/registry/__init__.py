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

from workbench._lazy import lazy_exports

_EXPORTS = {
    "AliasMove": "workbench.registry.audit",
    "ModelDescription": "workbench.registry.catalog",
    "ModelNotFoundError": "workbench.errors",
    "ModelSummary": "workbench.registry.catalog",
    "ModelVersionInfo": "workbench.registry.versions",
    "RegistryError": "workbench.errors",
    "RegistryLocation": "workbench.registry.location",
    "RegistryValueError": "workbench.errors",
    "ReleaseStateError": "workbench.errors",
    "ResolvedModel": "workbench.registry.uris",
    "approve": "workbench.registry.approvals",
    "describe_model": "workbench.registry.catalog",
    "get_alias": "workbench.registry.versions",
    "history": "workbench.registry.audit",
    "is_model_uri": "workbench.registry.uris",
    "list_models": "workbench.registry.catalog",
    "list_versions": "workbench.registry.versions",
    "move_alias": "workbench.registry.audit",
    "parse_model_uri": "workbench.registry.uris",
    "pending": "workbench.registry.approvals",
    "register_model": "workbench.registry.versions",
    "registry_location": "workbench.registry.location",
    "registry_uri": "workbench.registry.location",
    "request_approval": "workbench.registry.approvals",
    "resolve_model_uri": "workbench.registry.uris",
    "rollback": "workbench.registry.audit",
    "set_alias": "workbench.registry.versions",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
