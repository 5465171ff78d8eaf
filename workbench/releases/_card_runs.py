"""What the run store knows about one model, for its card: the latest runs, fairness, explanations.

Read only: the ledger of a reports directory lists the runs; each candidate
run's ``summary.json`` says which model it was made for (its lineage) and its
``results.json`` holds the stored results. Nothing is recomputed.

A run belongs to the model when a model its lineage records is that model:
for a registered card, the same registered name and version
(``lineage.model.registered``, what a report on a ``models:/`` URI records);
for a run made on a file, the same model hash (``meta.json``'s
``model_sha256``, recorded as ``lineage.model.sha256``). The lineage is
walked as a whole, so a comparison run recording two models (champion and
challenger) belongs to both.

Private: :func:`workbench.releases.card.write_model_card` is the public face.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: result kinds that describe a model as a whole (shown as its global explanations)
EXPLANATION_KINDS = ("permutation_importance", "surrogate_tree")
#: the report kinds a card says something about when none is on record (``compare`` may not exist here)
EXPECTED_KINDS = ("drift", "performance", "bias", "compare")
#: per-group rates a card shows (each with its bootstrap interval when the run computed one)
GROUP_RATES = ("selection_rate", "accuracy", "tpr", "fpr", "impact_ratio")
MAX_METRICS = 12
MAX_FINDINGS = 5
MAX_RULES = 8
MAX_FEATURES = 10


@dataclass(frozen=True)
class Identity:
    """The model a card is about: its registered name and version (if any) and its model hash."""

    name: str | None
    version: int | None
    model_sha256: str | None

    def owns(self, lineage: Any) -> bool:
        """True when a model recorded anywhere in `lineage` is this one."""
        for node in _model_nodes(lineage):
            registered = node.get("registered")
            if isinstance(registered, Mapping) and registered.get("name") and self.name:
                if registered.get("name") == self.name and _int(registered.get("version")) == self.version:
                    return True
                continue
            if self.model_sha256 and node.get("sha256") == self.model_sha256:
                return True
        return False


@dataclass(frozen=True)
class RunFacts:
    """The runs of one model found in a reports directory, and what could not be read."""

    latest: list[dict]  # the latest finished run of each kind, newest kind first
    counts: dict[str, int]  # kind -> finished runs of this model
    fairness: dict | None
    explanations: list[dict]
    comparisons: list[dict]
    problems: list[str]


def read_runs(reports_dir: Path, identity: Identity) -> RunFacts:
    """The model's runs in `reports_dir`: the latest of each kind with checks, fairness, explanations."""
    from workbench.reports.ledger import Ledger

    problems: list[str] = []
    try:
        rows = Ledger(reports_dir).runs(reconcile=False)
    except Exception as exc:  # noqa: BLE001  (a damaged ledger: the card says so and goes on)
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return RunFacts([], {}, None, [], [], [f"the ledger of {reports_dir.name} cannot be read ({first})"])
    latest: dict[str, dict] = {}
    counts: dict[str, int] = {}
    explanations: list[dict] = []
    comparisons: list[dict] = []
    for row in rows:  # newest first
        if row.get("status") not in ("passed", "checks_failed") or not _candidate(row, identity):
            continue
        run_dir = reports_dir / str(row["kind"]) / str(row["id"])
        summary = _read_json(run_dir / "summary.json")
        if not isinstance(summary, Mapping) or not identity.owns(summary.get("lineage")):
            continue
        kind = str(row["kind"])
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "compare" and len(comparisons) < 5:
            comparisons.append(run_entry(row, summary, reports_dir))
        if kind not in latest:
            latest[kind] = run_entry(row, summary, reports_dir)
        for found in _explanations(run_dir, row):
            if found["kind"] not in {e["kind"] for e in explanations}:
                explanations.append(found)
    fairness = None
    if "bias" in latest:
        fairness, problem = _fairness(reports_dir / "bias" / latest["bias"]["id"], latest["bias"])
        if problem:
            problems.append(problem)
    return RunFacts(list(latest.values()), counts, fairness, explanations, comparisons, problems)


def run_entry(row: Mapping, summary: Mapping, reports_dir: Path) -> dict:
    """A run as a card lists it: when, status, headline and findings, its checks and key figures."""
    metrics = {
        k: v
        for k, v in (summary.get("metrics") or row.get("metrics") or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }
    findings = [str(f) for f in summary.get("findings") or [] if f][:MAX_FINDINGS]
    return {
        "kind": str(row["kind"]),
        "id": str(row["id"]),
        "name": row.get("name"),
        "period": row.get("period"),
        "status": row.get("status"),
        "started_at": row.get("started_at"),
        "finished_at": row.get("finished_at"),
        "headline": summary.get("headline") or (findings[0] if findings else None),
        "findings": findings,
        "checks": [
            {k: c.get(k) for k in ("name", "passed", "value", "threshold", "op", "severity", "message")}
            for c in summary.get("checks") or row.get("checks") or []
            if isinstance(c, Mapping) and c.get("name")
        ],
        "metrics": dict(list(metrics.items())[:MAX_METRICS]),
        "path": f"{row['kind']}/{row['id']}",
    }


def comparison_run(reports_dir: Path | None, ref: str | None) -> dict | None:
    """The run an audit record's ``comparison`` names (a run id or folder), when the reports hold it."""
    if not ref or reports_dir is None:
        return None
    from workbench.reports.ledger import Ledger

    folder = Path(ref)
    summary = _read_json(folder / "summary.json") if folder.is_absolute() else None
    if not isinstance(summary, Mapping):
        try:
            row = Ledger(reports_dir).get(Path(ref).name)
        except Exception:  # noqa: BLE001  (a damaged ledger: the record keeps its reference as text)
            row = None
        if row is None:
            return None
        summary = _read_json(reports_dir / str(row["kind"]) / str(row["id"]) / "summary.json")
    if not isinstance(summary, Mapping) or not summary.get("run_id"):
        return None
    row = {
        "kind": summary.get("kind", "compare"),
        "id": summary["run_id"],
        "name": summary.get("name"),
        "period": summary.get("period"),
        "status": summary.get("status"),
        "started_at": summary.get("started_at"),
        "finished_at": summary.get("finished_at"),
    }
    return run_entry(row, summary, reports_dir)


# -- fairness -------------------------------------------------------------------------------------
def _fairness(run_dir: Path, run: Mapping) -> tuple[dict | None, str | None]:
    """Groups and disparities (with their intervals) of a stored bias result; or why they cannot be read."""
    data = None
    try:
        data = _stored_result(run_dir, "bias")
    except Exception as exc:  # noqa: BLE001  (a stored result of another shape: said, not raised)
        return (
            None,
            f"the bias run {run['id']} has stored results this card cannot read ({type(exc).__name__})",
        )
    if data is None:
        return None, f"the bias run {run['id']} stored no fairness results (its results.json is missing)"
    attributes = []
    for a in data.get("attributes") or []:
        groups = []
        for g in a.get("groups") or []:
            entry = {
                k: g.get(k) for k in ("group", "count", "n_labelled", "too_small", "unjudged", "roc_auc")
            }
            for rate in GROUP_RATES:
                entry[rate] = g.get(rate)
                entry[f"{rate}_ci"] = g.get(f"{rate}_ci")
            groups.append(entry)
        disparities = [
            {"metric": m, "value": d.get("value"), "ci": d.get("ci"), "groups": d.get("groups")}
            for m, d in (a.get("disparities") or {}).items()
        ]
        attributes.append(
            {
                "name": a.get("name"),
                "columns": list(a.get("columns") or []),
                "most_favoured": a.get("most_favoured"),
                "groups": groups,
                "disparities": disparities,
            }
        )
    overall = {k: v for k, v in (data.get("overall") or {}).items() if isinstance(v, int | float)}
    return {
        "run": run["id"],
        "period": run.get("period"),
        "path": run.get("path"),
        "confidence": data.get("confidence"),
        "n_bootstrap": data.get("n_bootstrap"),
        "n_rows": data.get("n_rows"),
        "n_labelled": data.get("n_labelled"),
        "threshold": data.get("threshold"),
        "overall": overall,
        "attributes": attributes,
    }, None


def weakest_slices(fairness: Mapping | None) -> list[dict]:
    """Per sensitive column, the judged group with the lowest accuracy and the one with the lowest TPR."""
    if not fairness:
        return []
    out = []
    overall = fairness.get("overall") or {}
    for a in fairness.get("attributes") or []:
        if len(a.get("columns") or []) != 1:
            continue
        judged = [g for g in a["groups"] if not g.get("too_small")]
        for rate in ("accuracy", "tpr"):
            scored = [g for g in judged if isinstance(g.get(rate), int | float)]
            if len(scored) < 2:
                continue
            worst = min(scored, key=lambda g: g[rate])
            out.append(
                {
                    "attribute": a["name"],
                    "group": worst["group"],
                    "measure": rate,
                    "value": worst[rate],
                    "ci": worst.get(f"{rate}_ci"),
                    "overall": overall.get(rate),
                    "count": worst.get("count"),
                }
            )
    return out


# -- explanations ---------------------------------------------------------------------------------
def _explanations(run_dir: Path, row: Mapping) -> Iterator[dict]:
    payload = _read_json(run_dir / "results.json")
    entries = ((payload or {}).get("report") or {}).get("results") if isinstance(payload, Mapping) else None
    for entry in entries or []:
        if not isinstance(entry, Mapping) or entry.get("kind") not in EXPLANATION_KINDS:
            continue
        try:
            data = _upgraded(entry)
        except Exception:  # noqa: BLE001  (an explanation of another shape: left out)
            continue
        if entry["kind"] == "permutation_importance":
            yield {
                "kind": "permutation_importance",
                "run": row["id"],
                "scoring": data.get("scoring"),
                "baseline_score": data.get("baseline_score"),
                "n_rows": data.get("n_rows"),
                "features": [
                    {k: f.get(k) for k in ("feature", "importance_mean", "importance_std")}
                    for f in (data.get("features") or [])[:MAX_FEATURES]
                ],
            }
        else:
            yield {
                "kind": "surrogate_tree",
                "run": row["id"],
                "max_depth": data.get("max_depth"),
                "fidelity": data.get("fidelity"),
                "fidelity_metric": data.get("fidelity_metric"),
                "rules": [str(r.get("text")) for r in (data.get("rules") or [])[:MAX_RULES]],
            }


# -- helpers --------------------------------------------------------------------------------------
def _candidate(row: Mapping, identity: Identity) -> bool:
    """Cheap pre-selection from the ledger row (the run's summary decides)."""
    if identity.model_sha256 and row.get("model_sha256") == identity.model_sha256:
        return True
    if row.get("kind") == "compare":
        return True
    params = json.dumps(row.get("params") or {}, default=str)
    return bool(identity.name) and f"models:/{identity.name}" in params


def _model_nodes(lineage: Any) -> Iterator[Mapping]:
    """Every mapping in a lineage that describes a model (a hash and a recipe, or a registered entry)."""
    stack = [lineage]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if "registered" in node or ("sha256" in node and "recipe" in node):
                yield node
            stack.extend(v for v in node.values() if isinstance(v, Mapping | list))
        elif isinstance(node, list):
            stack.extend(node)


def _stored_result(run_dir: Path, kind: str) -> dict | None:
    payload = _read_json(run_dir / "results.json")
    if not isinstance(payload, Mapping):
        return None
    for entry in (payload.get("report") or {}).get("results") or []:
        if isinstance(entry, Mapping) and entry.get("kind") == kind:
            return _upgraded(entry)
    return None


def _upgraded(entry: Mapping) -> dict:
    """A stored entry in today's shape (older schemas upgraded by its result class)."""
    from workbench.results import result_from_entry

    return result_from_entry(entry).to_dict()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
