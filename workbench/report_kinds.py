"""The report kinds, defined once: each kind's notebook template, headline and the results it stores.

The runner (templates), the report (headlines), the check-name validation
(families, per stored result kind), the CLI's choices and the Monitor panel's
menu all read this table. Light on purpose: the CLI builds its parser from it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ReportKind:
    """One kind of report run."""

    name: str
    #: the notebook under ``workbench/templates`` that a run executes
    template: str
    #: what the run's headline says it is about ("Fairness for 2026-11: ...")
    title: str
    #: the result kinds (see :data:`workbench.results.RESULT_MODULES`) a run may store; their check
    #: families are the checks a run of this kind can produce
    results: tuple[str, ...]


REPORT_KINDS: dict[str, ReportKind] = {
    k.name: k
    for k in (
        ReportKind(
            "drift",
            "monitoring/drift_report.ipynb",
            "Data drift and quality",
            ("drift", "quality", "performance"),
        ),
        ReportKind("bias", "monitoring/bias_report.ipynb", "Fairness", ("bias",)),
        ReportKind(
            "performance", "monitoring/performance_report.ipynb", "Model performance", ("performance",)
        ),
        ReportKind("compare", "releases/compare_report.ipynb", "Champion vs challenger", ("compare",)),
        ReportKind("canary", "releases/canary_report.ipynb", "Canary vs champion", ("canary",)),
    )
}
#: The kinds' names, in the order the CLI and the panels list them.
KIND_NAMES: tuple[str, ...] = tuple(REPORT_KINDS)
#: The kinds that judge one model on one batch (what the Monitor panel runs); ``compare`` takes two models,
#: ``canary`` a prediction log.
MONITORING_KINDS: tuple[str, ...] = ("drift", "bias", "performance")
