"""The verdict of a comparison in plain language: promote, keep the champion, or inconclusive.

Rules, in order (the ROC AUC difference is challenger − champion, its
interval the paired bootstrap one at the comparison's confidence):

1. a gating check failed (``release.*``, severity error) -> **keep the champion**;
2. the window has no labels (or a single class)         -> **inconclusive**: it needs labels;
3. the interval lies below 0 (significantly worse)      -> **keep the champion**;
4. the interval lies above 0 (significantly better)     -> **promote**;
5. its lower end lies above ``-margin`` (non-inferior:
   not worse by more than the margin)                    -> **promote**;
6. otherwise -> **inconclusive — about N more labelled rows needed**.

Rows needed (:func:`rows_needed`): with n labelled rows the interval's
half-width is about z·se (se: the bootstrap standard error of ΔAUC), and a
standard error shrinks as 1/√rows. The interval stops straddling a decision
boundary once its half-width is below g, the distance from the observed δ to
the boundary it lies away from (``δ + margin`` for the non-inferiority bound
when δ > -margin, ``-δ`` for 0 when δ < 0; the larger, as either decides):

    N = n · (z · se / g)²        more rows = ⌈N − n⌉

With ``margin = 0`` this is n·(z·se/|δ|)², the rows at which the interval
would exclude 0, assuming the effect and its per-row variance stay as observed.

Light: no numpy, so a stored result renders its verdict anywhere.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist

PROMOTE, KEEP, INCONCLUSIVE = "promote", "keep", "inconclusive"
#: the decisions, as key_metrics writes them (a number for the ledger's trends)
DECISION_CODES = {PROMOTE: 1.0, INCONCLUSIVE: 0.0, KEEP: -1.0}
#: default non-inferiority margin on ROC AUC: a challenger at most this much worse may be promoted
NON_INFERIORITY_MARGIN = 0.01


@dataclass(frozen=True)
class Verdict:
    """The decision (:data:`PROMOTE`, :data:`KEEP` or :data:`INCONCLUSIVE`), its sentence and its reasons."""

    decision: str
    sentence: str
    reasons: list[str] = field(default_factory=list)
    #: more labelled rows an inconclusive comparison needs (None: not estimable)
    rows_needed: int | None = None

    def to_dict(self) -> dict:
        """JSON-safe form (stored with the comparison)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Verdict:
        """Rebuild a verdict from :meth:`to_dict`'s output."""
        return cls(d["decision"], d["sentence"], list(d.get("reasons") or []), d.get("rows_needed"))


def decide(
    roc_auc: Mapping | None,
    *,
    n_labelled: int,
    confidence: float,
    margin: float,
    failed: Sequence[str],
    agreement: float | None = None,
) -> Verdict:
    """The verdict from the ΔROC AUC block (``delta``, ``ci``, ``se``) and the names of the failed gates."""
    level = f"{confidence:.0%}"
    if failed:
        names = ", ".join(failed[:4]) + (f" and {len(failed) - 4} more" if len(failed) > 4 else "")
        checks = "gating checks" if len(failed) > 1 else "gating check"
        return Verdict(
            KEEP,
            f"Keep the champion: {len(failed)} {checks} failed ({names}).",
            [f"failed: {n}" for n in failed],
        )
    delta = None if roc_auc is None else roc_auc.get("delta")
    ci = None if roc_auc is None else roc_auc.get("ci")
    if delta is None or ci is None:
        seen = f" (the two models agree on {agreement:.1%} of its rows)" if agreement is not None else ""
        why = (
            "the window has no labels"
            if n_labelled == 0
            else f"its {n_labelled:,} labelled rows do not hold both classes"
        )
        return Verdict(
            INCONCLUSIVE,
            f"Inconclusive — needs labels: {why}{seen}, so whether the challenger is better "
            "cannot be measured; label the window's outcomes and compare again.",
            ["no labels" if n_labelled == 0 else "a single class"],
        )
    lo, hi = ci
    stat = f"ΔROC AUC {delta:+.4f} ({level} CI {lo:+.4f} to {hi:+.4f}) on {n_labelled:,} labelled rows"
    if hi < 0:
        return Verdict(KEEP, f"Keep the champion: the challenger is significantly worse, {stat}.", ["worse"])
    if lo > 0:
        return Verdict(
            PROMOTE,
            f"Promote: the challenger is significantly better, {stat}, and every gating check passes.",
            ["better"],
        )
    if lo > -margin:
        return Verdict(
            PROMOTE,
            f"Promote: the challenger is not worse than the champion by more than the margin of "
            f"{margin:g} ROC AUC, {stat}, and every gating check passes.",
            ["non-inferior"],
        )
    more = rows_needed(delta, roc_auc.get("se"), n_labelled, confidence, margin)
    if more is None:
        head = "Inconclusive — no number of rows would tell these models apart"
        tail = "the observed difference sits on the decision boundary"
    else:
        head = f"Inconclusive — about {more:,} more labelled rows needed"
        tail = "too wide to tell the models apart yet"
    return Verdict(INCONCLUSIVE, f"{head}: {stat}; the interval is {tail}.", ["too few rows"], more)


def rows_needed(
    delta: float, se: float | None, n: int, confidence: float, margin: float = NON_INFERIORITY_MARGIN
) -> int | None:
    """More labelled rows before the interval clears a decision boundary (see the module docstring)."""
    if se is None or not se > 0 or n <= 0:
        return None
    gaps = []
    if delta > -margin:
        gaps.append(delta + margin)  # towards non-inferiority (and, past 0, significance)
    if delta < 0:
        gaps.append(-delta)  # towards "significantly worse"
    gap = max(gaps, default=0.0)
    if gap <= 0:
        return None
    total = n * (z_value(confidence) * se / gap) ** 2
    return max(int(math.ceil(total - n)), 1)


def z_value(confidence: float) -> float:
    """The two-sided normal quantile of `confidence` (1.96 for 0.95)."""
    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)
