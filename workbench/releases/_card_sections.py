"""A model card's sections, in the order of Mitchell et al.'s model card, as blocks to format.

A block is a tuple: ``("h", text)`` a sub-heading, ``("p", text)``,
``("kv", [(label, value)])`` a key-value table, ``("table", columns, rows)``,
``("list", items)``, ``("absent", sentence)`` what is not on record and
``("placeholder", sentence)`` a field people have not filled yet.
:mod:`~workbench.releases._card_render` turns them into Markdown and HTML.

Private: :meth:`ModelCard.html` and :meth:`ModelCard.markdown` are the public face.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workbench._html import fmt
from workbench.releases._card_info import FIELDS, INFO_FILE

_ACTIONS = {"request": "requested", "register": "register", "promote": "promote", "force": "FORCED"}

Block = tuple


def sections(card) -> list[tuple[str, list[Block]]]:
    """The card's sections, in the order of Mitchell et al.'s model card, each a list of blocks."""
    missing = (
        [("list", list(card.missing))] if card.missing else [("p", "Every part of this card is on record.")]
    )
    return [
        ("Model details", _details(card)),
        ("Intended use", _user(card.info, "intended_use")),
        ("Factors", _factors(card)),
        ("Training data", _training(card)),
        ("Metrics", _metrics(card)),
        ("Fairness by group", _fairness(card)),
        ("Global explanations", _explanations(card)),
        ("Lineage", _lineage(card)),
        ("Monitoring", _monitoring(card)),
        ("Releases", _releases(card)),
        ("Ethical considerations and caveats", _user(card.info, "considerations")),
        ("Not on record", missing),
    ]


def _details(card) -> list[Block]:
    m, reg = card.model, card.registry or {}
    rows = [
        ("Model", m.get("name")),
        ("Registered as", f"{reg['uri']}" + _aliases(reg.get("aliases")) if reg else None),
        (
            "Asked for as",
            f"models:/{m['registered_name']}@{m['alias_asked']}" if m.get("alias_asked") else None,
        ),
        ("Artifact", m.get("artifact")),
        ("Task", m.get("task")),
        ("Recipe", m.get("recipe")),
        ("Kind", m.get("kind")),
        ("Decision threshold", m.get("threshold")),
        ("Saved", m.get("saved_at")),
        ("Registered", reg.get("created")),
        ("Description", reg.get("description")),
        ("File hash (sha256)", reg.get("file_sha256")),
        ("Model hash (sha256)", m.get("model_sha256")),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items()) or None),
    ]
    out: list[Block] = [("kv", [(k, v) for k, v in rows if v not in (None, "")])]
    return out + _user(card.info, "model_details")


def _user(info: Mapping, section: str) -> list[Block]:
    out: list[Block] = []
    for s, f, label in FIELDS:
        if s != section:
            continue
        text = (info.get(s) or {}).get(f)
        out.append(("h", label))
        out.append(("p", text) if text else ("placeholder", f"Not stated yet: fill {s}.{f} in {INFO_FILE}."))
    return out


def _factors(card) -> list[Block]:
    out = _user(card.info, "factors")
    sensitive = card.model.get("sensitive") or []
    out.append(("h", "Sensitive columns in the model's spec"))
    if sensitive:
        out.append(("p", ", ".join(sensitive)))
    else:
        out.append(("absent", "No sensitive column is declared in the model's spec."))
    return out


def _training(card) -> list[Block]:
    t, m = card.training, card.model
    fp = t.get("data_fingerprint") or {}
    rows = [
        ("Data fingerprint (sha256)", fp.get("sha256") if isinstance(fp, Mapping) else fp),
        ("Rows in the training table", fp.get("rows") if isinstance(fp, Mapping) else None),
        ("Columns", fp.get("columns") if isinstance(fp, Mapping) else None),
        ("Rows the model was fitted on", t.get("trained_rows")),
        ("Target", m.get("target")),
        ("Positive class", m.get("positive_label")),
        ("Classes", ", ".join(map(str, m.get("classes") or [])) or None),
        (f"Features ({len(m.get('features') or [])})", ", ".join(m.get("features") or []) or None),
        ("Numeric", ", ".join(m.get("numeric") or []) or None),
        ("Categorical", ", ".join(m.get("categorical") or []) or None),
        ("Hyper-parameters", _compact(t.get("params"))),
        ("Imbalance handling", t.get("imbalance")),
        ("Cost matrix", _compact(t.get("cost"))),
    ]
    out: list[Block] = [("kv", [(k, v) for k, v in rows if v not in (None, "", "{}")])]
    if not fp:
        out.append(("absent", "The training data's fingerprint is not recorded in the model's meta.json."))
    return out


def _metrics(card) -> list[Block]:
    out: list[Block] = []
    if card.metrics:
        out.append(("p", "Measured on the validation rows when the model was trained (its meta.json)."))
        out.append(("table", ["metric", "value"], [[k, v] for k, v in card.metrics.items()]))
    else:
        out.append(("absent", "No validation metrics are stored with the model."))
    out.append(("h", "Leaderboard"))
    if card.leaderboard:
        cols = list(card.leaderboard[0])
        out.append(("table", cols, [[row.get(c) for c in cols] for row in card.leaderboard]))
    else:
        out.append(("absent", "No leaderboard of the candidates was stored with the model."))
    return out


def _fairness(card) -> list[Block]:
    f = card.fairness
    if not f:
        return [("absent", "Fairness by group is not known: no bias run recorded for this model yet.")]
    conf = f.get("confidence")
    boot = f.get("n_bootstrap")
    out: list[Block] = [
        (
            "p",
            f"From the bias run {f['run']} ({f.get('period') or 'no period'}): {fmt(f.get('n_rows'))} rows, "
            f"{fmt(f.get('n_labelled'))} labelled; intervals "
            + (f"at {conf:.0%} from {fmt(boot)} bootstrap resamples." if conf and boot else "not computed."),
        )
    ]
    for a in f.get("attributes") or []:
        out.append(("h", f"{a['name']} (most favoured: {a.get('most_favoured') or '—'})"))
        cols = ["group", "rows", "selection rate", "accuracy", "TPR", "FPR", "impact ratio"]
        rows = [
            [g["group"] + (" (too small to judge)" if g.get("too_small") else ""), g.get("count")]
            + [_with_ci(g.get(r), g.get(f"{r}_ci")) for r in ("selection_rate", "accuracy", "tpr", "fpr")]
            + [_with_ci(g.get("impact_ratio"), g.get("impact_ratio_ci"))]
            for g in a.get("groups") or []
        ]
        out.append(("table", cols, rows))
        disp = [[d["metric"], _with_ci(d.get("value"), d.get("ci"))] for d in a.get("disparities") or []]
        if disp:
            out.append(("table", ["disparity", "value [interval]"], disp))
    if card.weakest:
        out.append(("h", "Weakest slices"))
        out.append(
            (
                "list",
                [
                    f"{w['attribute']} = {w['group']}: {w['measure']} {_with_ci(w['value'], w.get('ci'))}"
                    + (f" (overall {fmt(w['overall'])})" if w.get("overall") is not None else "")
                    + f", {fmt(w.get('count'))} rows"
                    for w in card.weakest
                ],
            )
        )
    return out


def _explanations(card) -> list[Block]:
    if not card.explanations:
        return [
            (
                "absent",
                "No global explanation (permutation importance, surrogate rules) is stored for this model.",
            )
        ]
    out: list[Block] = []
    for e in card.explanations:
        if e["kind"] == "permutation_importance":
            out.append(("h", f"Permutation importance ({e.get('scoring')}, run {e['run']})"))
            out.append(
                (
                    "table",
                    ["feature", "importance", "± std"],
                    [
                        [x["feature"], x.get("importance_mean"), x.get("importance_std")]
                        for x in e["features"]
                    ],
                )
            )
        else:
            out.append(
                (
                    "h",
                    f"Surrogate rules (depth {e.get('max_depth')}, {e.get('fidelity_metric')} "
                    f"{fmt(e.get('fidelity'))}, run {e['run']})",
                )
            )
            out.append(("list", list(e.get("rules") or [])))
    return out


def _lineage(card) -> list[Block]:
    lin = card.lineage or {}
    comp = lin.get("compression") or {}
    rows = [
        ("Made by", lin.get("technique")),
        ("Parent model", lin.get("parent")),
        ("Technique parameters", _compact(lin.get("params"))),
        ("Registered parent", lin.get("registered_parent")),
        ("Compressed from", comp.get("original")),
        ("Held-out score", f"{comp.get('metric')} {fmt(comp.get('score'))}" if comp else None),
        ("Registered versions derived from it", ", ".join(lin.get("registered_children") or []) or None),
    ]
    kept = [(k, v) for k, v in rows if v not in (None, "", "{}")]
    return [("kv", kept)] if kept else [("absent", "No lineage is recorded in the model's meta.json.")]


def _monitoring(card) -> list[Block]:
    from workbench.releases._card_runs import EXPECTED_KINDS
    from workbench.releases.card import KIND_WORDS

    reports = (card.sources or {}).get("reports")
    if not reports:
        return [("absent", "No reports directory was read: monitoring runs are not included.")]
    out: list[Block] = [("p", f"The latest run of each kind made for this model, from {reports}.")]
    for run in card.monitoring:
        n = card.run_counts.get(run["kind"], 1)
        out.append(
            (
                "h",
                f"{run['kind'].capitalize()}: run {run['id']} ({run.get('period') or 'no period'}), "
                f"{str(run.get('status')).replace('_', ' ')}" + (f" — latest of {n}" if n > 1 else ""),
            )
        )
        if run.get("headline"):
            out.append(("p", run["headline"]))
        if run.get("checks"):
            out.append(("table", ["check", "outcome", "status"], [_check_row(c) for c in run["checks"]]))
        if run.get("metrics"):
            out.append(("table", ["key figure", "value"], [[k, v] for k, v in run["metrics"].items()]))
    out += [
        ("absent", f"No {KIND_WORDS[k]} run recorded for this model yet.")
        for k in EXPECTED_KINDS
        if k not in card.run_counts
    ]
    return out


def _releases(card) -> list[Block]:
    reg = card.registry
    if not reg:
        return [
            (
                "absent",
                "Not read from the registry: the card was written for a model file, not a models:/ URI.",
            )
        ]
    out: list[Block] = [
        ("p", f"From the registry {reg.get('location')}."),
        ("kv", [("Aliases of " + reg["name"], _aliases_text(reg.get("model_aliases")) or "none")]),
        ("h", "Versions"),
    ]
    waiting = {p["to_version"] for p in card.pending}
    rows = [
        [
            f"v{v['version']}" + (" (this card)" if v["version"] == reg["version"] else ""),
            v.get("created"),
            v.get("recipe"),
            _key_metric(v.get("metrics") or {}),
            v.get("parent"),
            " ".join(f"@{a}" for a in v.get("aliases") or []) or None,
            "pending approval" if v["version"] in waiting else None,
        ]
        for v in reg.get("versions") or []
    ]
    out.append(("table", ["version", "created", "recipe", "metric", "parent", "aliases", "state"], rows))
    out.append(("h", "Release history"))
    if card.history:
        out.append(
            (
                "table",
                ["when (UTC)", "action", "alias", "from → to", "by", "reason", "comparison"],
                [_move_row(m) for m in card.history],
            )
        )
    else:
        out.append(("absent", f"No alias move of {reg['name']} is on record."))
    out.append(("h", "Pending approvals"))
    if card.pending:
        out.append(
            (
                "table",
                ["version", "alias", "requested by", "when (UTC)", "reason"],
                [
                    [f"v{p['to_version']}", f"@{p['alias']}", p.get("by"), p["when"][:19], p.get("reason")]
                    for p in card.pending
                ],
            )
        )
    else:
        out.append(("p", "None."))
    if card.comparisons:
        out.append(("h", "Comparison runs"))
        out.append(
            ("list", [f"{c['id']} ({c.get('status')}): {c.get('headline') or '—'}" for c in card.comparisons])
        )
    return out


# -- formatting -----------------------------------------------------------------------------------
def _check_row(c: Mapping) -> list:
    from workbench.checks import Check

    check = Check.from_dict(c)
    return [check.name, check.outcome_text(), check.status]


def _move_row(m: Mapping) -> list:
    before = "none" if m.get("from_version") is None else f"v{m['from_version']}"
    action = _ACTIONS.get(m["action"], m["action"]) + (
        " (forced)" if m.get("forced") and m["action"] != "force" else ""
    )
    by = m.get("by") or "unknown"
    if m.get("requested_by"):
        by += f" (requested by {m['requested_by']})"
    run = m.get("comparison_run")
    comparison = f"{run['id']} ({str(run.get('status')).replace('_', ' ')})" if run else m.get("comparison")
    return [
        m["when"][:19],
        action,
        f"@{m['alias']}",
        f"{before} → v{m['to_version']}",
        by,
        m.get("reason"),
        comparison,
    ]


def _key_metric(metrics: Mapping) -> str | None:
    key = next((k for k in ("roc_auc", "r2", "accuracy") if isinstance(metrics.get(k), int | float)), None)
    return f"{key} {fmt(metrics[key])}" if key else None


def _with_ci(value: Any, ci: Sequence | None) -> str:
    if value is None:
        return "—"
    text = fmt(value, 3)
    if ci and len(ci) == 2 and all(isinstance(x, int | float) for x in ci):
        text += f" [{fmt(ci[0], 3)}, {fmt(ci[1], 3)}]"
    return text


def _aliases(aliases: Sequence | None) -> str:
    return f" ({' '.join(f'@{a}' for a in aliases)})" if aliases else ""


def _aliases_text(aliases: Mapping | None) -> str:
    return ", ".join(f"@{a} → v{v}" for a, v in sorted((aliases or {}).items()))


def _compact(value: Any) -> str | None:
    if value in (None, {}, []):
        return None
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_compact(v) if isinstance(v, Mapping) else fmt(v)}" for k, v in value.items())
    return fmt(value)
