"""Plain-language findings of :class:`workbench.monitoring.bias.BiasResult`.

Private: import the public names from :mod:`workbench.monitoring.bias`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.monitoring._bias_numbers import _driver_text, _f, _fmt_ci

if TYPE_CHECKING:
    from workbench.monitoring._bias_records import AttributeResult, DisparityChange
    from workbench.monitoring.bias import BiasResult


def _attribute_findings(r: BiasResult, a: AttributeResult, pos: str) -> list[tuple[float, str]]:
    """Findings about one sensitive column or intersection, each with a score (higher: more serious)."""
    out: list[tuple[float, str]] = []
    judged = a.judged
    name = a.name.replace("+", " × ")
    inter = len(a.columns) > 1
    if len(judged) < 2:
        out.append(
            (
                0,
                f"Only {len(judged)} group of {name} is large enough to judge (at least "
                f"{r.min_group_size} rows), so its groups cannot be compared.",
            )
        )
        return out
    best = max(judged, key=lambda g: g.selection_rate)
    low = sorted(
        (g for g in judged if g is not best and g.impact_ratio is not None and g.impact_ratio < 0.8),
        key=lambda g: g.impact_ratio,
    )
    dpr = a.disparities["demographic_parity_ratio"]
    if low:
        parts = [
            (
                f"{g.group}'s share predicted {pos} is {g.impact_ratio:.2f} of {best.group}'s "
                f"({g.selection_rate:.1%} vs {best.selection_rate:.1%}"
                + (
                    f"; {r.confidence:.0%} interval {_fmt_ci(g.interval('impact_ratio'))})"
                    if g.interval("impact_ratio")
                    else ")"
                )
            )
            if g.selection_rate > 0
            else f"{g.group} is never predicted {pos} ({g.count:,} rows; {best.group}: "
            f"{best.selection_rate:.1%})"
            for g in low[:3]
        ]
        more = f" (and {len(low) - 3} more)" if len(low) > 3 else ""
        score = (0.8 - low[0].impact_ratio) / 0.8 * (5 if not inter else 2)
        out.append(
            (
                score,
                f"For {name}, "
                + "; ".join(parts)
                + more
                + ": below the four-fifths (0.8) rule for the selection rate.",
            )
        )
    elif not inter:
        out.append(
            (
                0.1,
                f"For {name}, every group's share predicted {pos} is at least 0.8 of the highest "
                f"({best.group}, {best.selection_rate:.1%}): lowest ratio "
                f"{_f(dpr.value)}, within the four-fifths rule.",
            )
        )
    for metric, rate, label in (
        ("equal_opportunity_difference", "tpr", "true positive rate"),
        ("false_positive_rate_difference", "fpr", "false positive rate"),
    ):
        d = a.disparities[metric]
        if d.value is None or d.value <= 0.1:
            continue
        gs = [g for g in a.groups if rate not in g.unjudged and g.rate(rate) is not None]
        hi, lo = max(gs, key=lambda g: g.rate(rate)), min(gs, key=lambda g: g.rate(rate))
        what = (
            f"of actual {pos} cases, the model predicts {pos} for {hi.rate(rate):.0%} of {hi.group} but "
            f"{lo.rate(rate):.0%} of {lo.group}"
            if rate == "tpr"
            else f"of actual '{r.negative_label}' cases, the model wrongly predicts {pos} for "
            f"{hi.rate(rate):.0%} of {hi.group} but {lo.rate(rate):.0%} of {lo.group}"
        )
        ci = f", {r.confidence:.0%} interval {_fmt_ci(d.ci)}" if d.ci else ""
        out.append(
            (
                (d.value - 0.1) / 0.1 * (2 if not inter else 1),
                f"For {name}, {what} ({label} gap {d.value:.2f}{ci}; above 0.1).",
            )
        )
    return out


def _worsened_sentence(r: BiasResult, c: DisparityChange) -> str:
    """One disparity that got worse than in the reference period, beyond chance, in words."""
    level = f"{r.confidence:.0%}"
    s = (
        f"Against the reference period, the {r._words(c.metric)} for {c.attribute.replace('+', ' × ')} "
        f"got worse beyond chance: {_f(c.reference)} then, {_f(c.current)} now (worse by "
        f"{_f(c.worsening)}; {level} interval {_fmt_ci(c.ci)})"
    )
    return s + _driver_text(c.driver) + "."
