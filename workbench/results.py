"""The result protocol: what an analysis result is, and the registry of result kinds stored in reports.

An analysis (drift, data quality, performance, bias, an explanation) returns a
frozen result object. Reports store it in ``results.json`` and render it again
later, in a dashboard kernel that never recomputes and never imports the
analysis libraries. For that to work the same way for every kind, a result
class satisfies :class:`AnalysisResult`:

- ``kind`` (a ``ClassVar[str]``): its name in ``results.json`` and in this
  registry; ``SCHEMA`` (a ``ClassVar[int]``): the version of its ``to_dict()``
  shape, bumped when the shape changes (with an entry in :data:`UPGRADES` that
  turns the older shape into the new one, so stored runs still load).
- ``to_dict()`` -> a JSON-safe dict; ``from_dict(data)`` (classmethod) rebuilds
  the object from it without recomputing: ``to_dict`` of the rebuilt object
  equals the original's.
- ``checks(config=None)`` -> a list of :class:`~workbench.checks.Check`
  under the run's check settings (``[]`` for a result without checks);
  ``findings(config=None)`` -> plain-language sentences, most important first.
- ``key_metrics()`` -> a flat ``{name: number or None}`` dict for the ledger
  and the trend charts (None: not measured in this run).
- ``figures()`` -> ``{name: plotly Figure}``, in display order.
- ``_repr_html_(config=None)`` -> the result's card (its checks under `config`).
- A lookup by name that finds nothing (``result.column("nope")``,
  ``result.attribute("nope")``, ``result["nope"]``) raises
  :class:`~workbench.errors.UnknownNameError`: a WorkbenchError (a sentence
  naming what exists) that is also a ``KeyError``.

Training, evaluation and compression results are not registered here: they
hold fitted models (or, for evaluation, sorted scores for the threshold slider)
and are never stored in a report run.

Light on purpose: nothing here imports pandas, scikit-learn or the analysis
libraries; a result class is imported when its kind is first asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

from workbench.errors import UnknownNameError, WorkbenchError

ChecksConfig = Mapping[str, Any]

#: Version of the ``results.json`` layout. 2: each stored result is ``{"kind", "schema", "data"}``
#: and the file says its own version at the top; 1 (no version written): ``{"kind", "data"}``
#: entries, read as schema 1.
STORE_SCHEMA = 2


@runtime_checkable
class AnalysisResult(Protocol):
    """What every stored analysis result provides (see the module docstring for the contract)."""

    kind: ClassVar[str]
    SCHEMA: ClassVar[int]

    def to_dict(self) -> dict:
        """A JSON-safe dict: what ``results.json`` stores."""

    @classmethod
    def from_dict(cls, data: Mapping) -> AnalysisResult:
        """The result rebuilt from :meth:`to_dict`'s output, without recomputing."""

    def checks(self, config: ChecksConfig | None = None) -> list:
        """The :class:`~workbench.checks.Check` list under the run's check settings (``[]``: none)."""

    def findings(self, config: ChecksConfig | None = None) -> list[str]:
        """Plain-language sentences, most important first."""

    def key_metrics(self) -> dict[str, float | None]:
        """A flat ``{name: number or None}`` for the ledger and the trend charts."""

    def figures(self) -> dict[str, Any]:
        """``{name: plotly Figure}``, in display order."""

    def _repr_html_(self, config: ChecksConfig | None = None) -> str: ...


#: result kind -> (module, class). Module paths live only here: a module that moves changes one line.
RESULT_MODULES: dict[str, tuple[str, str]] = {
    "drift": ("workbench.monitoring.drift", "DriftResult"),
    "quality": ("workbench.monitoring._quality_result", "QualityResult"),
    "performance": ("workbench.monitoring._performance_result", "PerformanceResult"),
    "bias": ("workbench.monitoring._bias_result", "BiasResult"),
    # Explanations (notebook 03_explain stores them the same way).
    "local_explanation": ("workbench.explain._local_results", "LocalExplanationResult"),
    "explanation_stability": ("workbench.explain._local_results", "StabilityResult"),
    "permutation_importance": ("workbench.explain._global_results", "ImportanceResult"),
    "partial_dependence": ("workbench.explain._global_results", "PartialDependenceResult"),
    "surrogate_tree": ("workbench.explain._global_results", "SurrogateResult"),
    "shap_explanation": ("workbench.explain._shap_results", "ShapExplanationResult"),
    "shap_summary": ("workbench.explain._shap_results", "ShapSummaryResult"),
    # Champion vs challenger (the compare report).
    "compare": ("workbench.releases.result", "ComparisonResult"),
    # The canary judge (the canary report, on a prediction log).
    "canary": ("workbench.releases.canary_result", "CanaryResult"),
    # Bias mitigation (notebook 05_fairness and `workbench mitigate --json`).
    "mitigation": ("workbench.fairness._result", "MitigationResult"),
}
#: Every registered result kind, in the order above.
RESULT_KINDS: tuple[str, ...] = tuple(RESULT_MODULES)


def _performance_1_to_2(data: dict) -> dict:
    """Schema 2 says whether the label-free estimate can be trusted, and its interval: unknown before."""
    return {**data, "reliability": data.get("reliability"), "intervals": data.get("intervals") or {}}


def _bias_1_to_2(data: dict) -> dict:
    """Schema 2 carries the label-free fairness estimate of an unlabelled batch: none before."""
    return {**data, "estimated": data.get("estimated")}


#: (kind, older schema) -> a function turning that shape into the next version's. Kinds not listed are at
#: schema 1, the shape stored before versions were written.
UPGRADES: dict[tuple[str, int], Callable[[dict], dict]] = {
    ("performance", 1): _performance_1_to_2,
    ("bias", 1): _bias_1_to_2,
}


def result_class(kind: str) -> type[AnalysisResult]:
    """The class of a result kind (imported on first use).

    Parameters
    ----------
    kind : str
        A registered kind (:data:`RESULT_KINDS`), as ``results.json`` names it.

    Returns
    -------
    type
        The class, which satisfies :class:`AnalysisResult`.

    Raises
    ------
    UnknownNameError
        For a kind that is not registered (a ``KeyError``; the message lists the known kinds).

    Examples
    --------
    >>> cls = result_class("drift")
    >>> cls.__name__, cls.kind, cls.SCHEMA
    ('DriftResult', 'drift', 1)
    >>> stored = result_to_entry(cls.from_dict({"columns": [], "drift_share": 0.0, "dataset_drift": False}))
    >>> stored["kind"], stored["schema"], stored["data"]["drift_share"]
    ('drift', 1, 0.0)
    >>> type(result_from_entry(stored)).__name__
    'DriftResult'
    >>> result_class("nope")
    Traceback (most recent call last):
    ...
    workbench.errors.UnknownNameError: unknown result kind 'nope'; the known kinds are 'drift', ...
    """
    try:
        module, name = RESULT_MODULES[kind]
    except KeyError:
        raise UnknownNameError(
            f"unknown result kind '{kind}'; the known kinds are "
            f"{name_list(RESULT_KINDS, limit=len(RESULT_KINDS))}"
        ) from None
    return getattr(importlib.import_module(module), name)


def result_to_entry(result: AnalysisResult) -> dict:
    """A result as stored in ``results.json``: ``{"kind", "schema", "data"}``."""
    cls = type(result)
    if RESULT_MODULES.get(getattr(cls, "kind", None)) is None:
        raise WorkbenchError(
            f"a {cls.__name__} is not a registered analysis result, so it cannot be stored; "
            f"register its kind in workbench.results.RESULT_MODULES"
        )
    return {"kind": cls.kind, "schema": cls.SCHEMA, "data": result.to_dict()}


def result_from_entry(entry: Mapping) -> AnalysisResult:
    """``{"kind", "schema", "data"}`` -> the result object.

    An entry without ``schema`` (older runs) is schema 1.
    """
    cls = result_class(entry["kind"])
    schema = int(entry.get("schema", 1))
    data = dict(entry["data"])
    if schema > cls.SCHEMA:
        raise WorkbenchError(
            f"this {entry['kind']} result was stored by a newer workbench (schema {schema}; "
            f"this one reads up to {cls.SCHEMA}): upgrade workbench to read it"
        )
    while schema < cls.SCHEMA:
        data = UPGRADES[(cls.kind, schema)](data)
        schema += 1
    return cls.from_dict(data)


def find_named(items, name: str, what: str):
    """The first of `items` whose ``.name`` is `name`.

    Raises
    ------
    UnknownNameError
        None is: "no WHAT 'NAME'; the WHATs are ..." (naming them).
    """
    for item in items:
        if item.name == name:
            return item
    raise UnknownNameError(f"no {what} '{name}'; the {what}s are {name_list(i.name for i in items)}")


def name_list(names, limit: int = 8) -> str:
    """``'a', 'b' and 'c'`` (the first `limit`, then how many more).

    What an :class:`UnknownNameError` names.
    """
    names = [f"'{n}'" for n in names]
    if not names:
        return "none"
    if len(names) > limit:
        return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
