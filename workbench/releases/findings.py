"""The sentences a comparison says, most important first: the verdict, harm to a group, what changed.

A challenger that is better overall but significantly worse for a group is
named here: "better overall but worse for sex = Female: true positive rate
0.62 -> 0.18". *Significantly* means the group's rate got worse beyond its
simultaneous bound (see :mod:`workbench.releases.group_deltas`), so a
comparison of two equal models names a group by chance in about
``1 - confidence`` of windows, however many groups there are.
"""

from __future__ import annotations

from typing import Any

from workbench.checks import ChecksConfig

_RATE_WORDS = {
    "selection_rate": "share predicted positive",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "precision": "precision",
    "accuracy": "accuracy",
}


def comparison_findings(result: Any, config: ChecksConfig | None = None) -> list[str]:
    """The comparison's findings in plain language: the verdict, then overall, group and serving changes."""
    level = f"{result.confidence:.0%}"
    verdict = result.verdict(config)
    out = [verdict.sentence]
    auc, acc, cost = result.delta("roc_auc"), result.delta("accuracy"), result.delta("cost")
    overall = next((d for d in (auc, acc) if d.get("delta") is not None), None)
    better_overall = overall is not None and overall["delta"] > 0
    harmed: dict[tuple[str, str], list] = {}  # (attribute, group) -> its rates that got worse beyond chance
    for a in result.fairness:
        for g in a["groups"]:
            for rate, e in g["rates"].items():
                if (e.get("worse_by_at_least") or 0) > 0:
                    harmed.setdefault((a["name"], g["group"]), []).append((rate, e))
    ranked = sorted(harmed.items(), key=lambda kv: -max(e["worse_by_at_least"] for _, e in kv[1]))
    for (attr, group), rates in ranked[:5]:
        what = "ROC AUC" if overall is auc else "accuracy"
        lead = (
            f"The challenger is better overall ({what} {overall['delta']:+.3f}) but worse"
            if better_overall
            else "The challenger is worse"
        )
        changes = "; ".join(
            f"{_RATE_WORDS[rate]} {e['champion']:.3f} -> {e['challenger']:.3f} ({e['delta']:+.3f}, "
            f"{level} CI {_ci(e['ci'])})"
            for rate, e in rates
        )
        out.append(f"{lead} for {attr} = {group}: {changes}.")
    for a in result.fairness:
        for d in a["disparities"]:
            if (d.get("worse_by_at_least") or 0) > 0:
                out.append(
                    f"{a['name']}: the {d['metric'].replace('_', ' ')} worsens from {d['champion']:.3f} to "
                    f"{d['challenger']:.3f} beyond chance."
                )
    if auc.get("delta") is not None:
        dl = auc.get("delong") or {}
        out.append(
            f"ROC AUC: champion {auc['champion']:.4f}, challenger {auc['challenger']:.4f}, difference "
            f"{auc['delta']:+.4f} ({level} paired bootstrap CI {_ci(auc.get('ci'))}; DeLong "
            f"{_ci(dl.get('ci'))}, p = {_p(dl.get('p_value'))})."
        )
    mc = (result.paired or {}).get("mcnemar")
    if mc and mc.get("discordant"):
        out.append(
            f"McNemar's test on the errors at each model's threshold: {mc['b']:,} rows only the champion "
            f"gets wrong, {mc['c']:,} only the challenger ({mc['method']}, p = {_p(mc['p_value'])})."
        )
    if cost.get("delta") is not None:
        out.append(
            f"Business cost per row: {cost['champion']:.4f} -> {cost['challenger']:.4f} "
            f"({cost['delta']:+.4f}; {level} CI {_ci(cost.get('ci'))})."
        )
    if result.calibration:
        a, b = result.calibration["champion"], result.calibration["challenger"]
        out.append(
            f"Calibration: Brier {a['brier']:.4f} -> {b['brier']:.4f}, expected calibration error "
            f"{a['ece']:.4f} -> {b['ece']:.4f}."
        )
    ag = result.agreement
    if ag.get("rate") is not None:
        text = f"The models decide alike on {ag['rate']:.1%} of the {ag['n']:,} rows"
        if ag.get("rate") == 1.0:
            text += ": the challenger makes the same decision as the champion on every row"
        elif ag.get("segments"):
            s = ag["segments"][0]
            text += (
                f"; they disagree most where {s['column']} = {s['value']} "
                f"({s['disagreement']:.1%} of {s['count']:,} rows)"
            )
        out.append(text + ".")
    if result.estimates:
        a, b = (result.estimates[r]["estimated"] for r in ("champion", "challenger"))
        if a.get("accuracy") is not None and b.get("accuracy") is not None:
            out.append(
                f"Label-free estimates: accuracy {a['accuracy']:.3f} (champion) vs {b['accuracy']:.3f} "
                "(challenger)."
            )
    ops = result.operations
    if ops:
        a, b = ops["champion"], ops["challenger"]
        out.append(
            f"Serving: p95 latency {a['p95_us']:,.0f} -> {b['p95_us']:,.0f} µs, cost per million predictions "
            f"{a['cost_per_million']:.4f} -> {b['cost_per_million']:.4f} USD at "
            f"{result.price_per_core_hour:g} USD per core-hour."
        )
    out.extend(str(n) for n in result.notes)
    return out


def _ci(ci) -> str:
    return "—" if not ci else f"{ci[0]:+.3f} to {ci[1]:+.3f}"


def _p(p) -> str:
    return "—" if p is None else (f"{p:.2g}" if p >= 1e-4 else "< 0.0001")
