"""Is retraining due? Read from the ledger's recent monitoring runs of the champion.

:func:`recommend` finds the champion of a registered model, reads the latest
monitoring runs (drift, performance, bias) of exactly that model (the ledger
row's model hash), and says in one sentence whether retraining is due and why:
drift in enough of the recent runs, the label-free estimate (or the measured
metric, once labels arrived) too far below the reference period, fairness checks
failing. The thresholds are the named options below; :func:`recommend_from_runs`
is the same decision on ledger rows already read (what the dashboards use).
Standard library only: the dashboards call it without loading an analysis.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.report_kinds import MONITORING_KINDS

#: how many of the champion's latest monitoring runs are read
LAST_RUNS = 4
#: retraining is due when this many of those runs (at least) found drift (a failed ``drift.*`` check)
MIN_DRIFT_RUNS = 2
#: ... or when the latest estimated (or measured) ROC AUC or accuracy is this far below the reference
#: period (the performance checks' default tolerance)
MAX_PERFORMANCE_DROP = 0.02
#: ... or when this many of those runs (at least) failed a fairness (``bias.*``) check
MIN_BIAS_RUNS = 1
#: the performance drops a run records, the measured one first (it supersedes the estimate)
_DROPS = (
    ("performance.roc_auc_drop", "ROC AUC"),
    ("performance.estimated_roc_auc_drop", "estimated ROC AUC"),
    ("performance.accuracy_drop", "accuracy"),
    ("performance.estimated_accuracy_drop", "estimated accuracy"),
)


@dataclass(frozen=True)
class Recommendation:
    """Whether retraining `name`'s champion is due, the reasons in plain language, the runs read."""

    name: str
    version: int | None  # the champion's version (None: the model has no champion)
    due: bool
    sentence: str
    reasons: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)  # the ids of the monitoring runs read, newest first
    settings: dict = field(default_factory=dict)  # the thresholds it was decided with

    def to_dict(self) -> dict:
        """JSON-safe; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Recommendation:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def figures(self) -> dict:
        """No figures (always ``{}``): the trends page draws the runs it read."""
        return {}

    def text(self) -> str:
        """The sentence."""
        return self.sentence

    def _repr_html_(self) -> str:
        color = "#cf222e" if self.due else "#1a7f37"
        return (
            f"<div class='wb-retrain-advice' data-due='{int(self.due)}' style='border-left:6px solid {color};"
            f"padding:4px 10px'>{html.escape(self.sentence)}</div>"
        )


def recommend(
    reports_dir: str | os.PathLike | Any = "reports",
    *,
    name: str,
    registry: str | os.PathLike | None = None,
    last: int = LAST_RUNS,
    min_drift_runs: int = MIN_DRIFT_RUNS,
    max_performance_drop: float = MAX_PERFORMANCE_DROP,
    min_bias_runs: int = MIN_BIAS_RUNS,
) -> Recommendation:
    """Say whether retraining the champion of `name` is due, from its recent monitoring runs.

    Parameters
    ----------
    reports_dir : the reports directory whose ledger is read (or a :class:`~workbench.reports.ledger.Ledger`).
    name : the registered model; its ``champion`` is the model whose runs are read.
    registry : the registry (default: ``WORKBENCH_REGISTRY``, ``MLFLOW_TRACKING_URI``, the embedded store).
    last : how many of the champion's latest monitoring runs are read (:data:`LAST_RUNS`).
    min_drift_runs : due when at least this many of them found drift (:data:`MIN_DRIFT_RUNS`).
    max_performance_drop : due when the latest ROC AUC or accuracy (estimated without labels, measured
        with them) is more than this below the reference period (:data:`MAX_PERFORMANCE_DROP`).
    min_bias_runs : due when at least this many of them failed a fairness check (:data:`MIN_BIAS_RUNS`).

    Returns
    -------
    Recommendation
        ``due``, the sentence and its reasons, the runs read.

    Raises
    ------
    ModelNotFoundError
        An unknown model.
    """
    from workbench.registry.versions import list_versions
    from workbench.reports.ledger import Ledger
    from workbench.validation import check_number

    last = int(check_number(last, "last", low=1, integer=True))
    min_drift_runs = int(check_number(min_drift_runs, "min_drift_runs", low=1, integer=True))
    max_performance_drop = check_number(max_performance_drop, "max_performance_drop", low=0)
    min_bias_runs = int(check_number(min_bias_runs, "min_bias_runs", low=1, integer=True))
    champion = next(
        (v for v in list_versions(name, registry=registry) if "champion" in (v.aliases or ())), None
    )
    ledger = reports_dir if isinstance(reports_dir, Ledger) else Ledger(Path(reports_dir))
    rows = ledger.runs(reconcile=False) if champion is not None else []
    return recommend_from_runs(
        rows,
        name=name,
        version=None if champion is None else champion.version,
        model_sha256=None if champion is None else champion.tags.get("workbench.model_sha256"),
        last=last,
        min_drift_runs=min_drift_runs,
        max_performance_drop=max_performance_drop,
        min_bias_runs=min_bias_runs,
    )


def recommend_from_runs(
    runs: Iterable[Mapping],
    *,
    name: str,
    version: int | None,
    model_sha256: str | None,
    last: int = LAST_RUNS,
    min_drift_runs: int = MIN_DRIFT_RUNS,
    max_performance_drop: float = MAX_PERFORMANCE_DROP,
    min_bias_runs: int = MIN_BIAS_RUNS,
) -> Recommendation:
    """:func:`recommend`'s decision on ledger rows already read (the champion named by its model hash)."""
    settings = {
        "last": last,
        "min_drift_runs": min_drift_runs,
        "max_performance_drop": max_performance_drop,
        "min_bias_runs": min_bias_runs,
    }
    if version is None:
        sentence = f"{name} has no champion: there is no model in production to retrain."
        return Recommendation(name, None, False, sentence, settings=settings)
    mine = [
        r
        for r in runs
        if model_sha256
        and r.get("model_sha256") == model_sha256
        and r.get("kind") in MONITORING_KINDS
        and r.get("status") in ("passed", "checks_failed")
    ]
    recent = sorted(mine, key=lambda r: (r.get("started_at") or "", r["id"]), reverse=True)[:last]
    who = f"{name} (champion v{version})"
    if not recent:
        sentence = f"No monitoring run of {who} yet: nothing says retraining is due."
        return Recommendation(name, version, False, sentence, settings=settings)
    due, seen = [], []
    scope = f"the last {len(recent)} runs" if len(recent) > 1 else "the only run"

    drift_runs = [r for r in recent if r["kind"] == "drift"]
    drifted = [r for r in drift_runs if _failed(r, "drift.")]
    if drift_runs:
        n_scope = f"the last {len(drift_runs)} drift runs" if len(drift_runs) > 1 else "the only drift run"
        phrase = f"drift in {len(drifted)} of {n_scope}"
        (due if len(drifted) >= min_drift_runs else seen).append(phrase)

    drop = _latest_drop(recent)
    if drop is not None:
        value, label, trend = drop
        phrase = f"{label} {'down' if value >= 0 else 'up'} {abs(value):.2f} from the reference{trend}"
        (due if value > max_performance_drop else seen).append(phrase)

    unfair = [r for r in recent if _failed(r, "bias.")]
    if unfair:
        names = sorted({c for r in unfair for c in _failed(r, "bias.")})
        phrase = f"fairness checks failed in {len(unfair)} of {scope} ({', '.join(names[:2])})"
        (due if len(unfair) >= min_bias_runs else seen).append(phrase)

    if due:
        sentence = f"Retraining {who} is due: {'; '.join(due)}."
    else:
        sentence = f"Retraining {who} is not due" + (f": {'; '.join(seen)}." if seen else f" ({scope} pass).")
    return Recommendation(
        name, version, bool(due), sentence, due or seen, [r["id"] for r in recent], settings
    )


def _failed(run: Mapping, prefix: str) -> list[str]:
    """The gating checks of `run` whose names start with `prefix` and failed."""
    return [
        c["name"]
        for c in run.get("checks") or []
        if c["name"].startswith(prefix)
        and not c.get("passed", True)
        and c.get("severity", "error") == "error"
    ]


def _latest_drop(recent: list[Mapping]) -> tuple[float, str, str] | None:
    """(drop below the reference, what it is, its trend over the runs read) of the newest run with one."""
    for run in recent:
        metrics = run.get("metrics") or {}
        for key, label in _DROPS:
            value = metrics.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                older = [
                    r["metrics"][key]
                    for r in recent
                    if isinstance((r.get("metrics") or {}).get(key), int | float)
                ]
                trend = ""
                if len(older) >= 2 and abs(older[0] - older[-1]) >= 0.005:
                    way = "falling" if older[0] > older[-1] else "recovering"
                    trend = f", {way} over the last {len(older)} runs"
                return float(value), label, trend
    return None
