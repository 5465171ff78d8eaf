"""The plain-language findings of :class:`workbench.monitoring.performance.PerformanceResult`.

And its tolerances.
Private: import the public names from :mod:`workbench.monitoring.performance`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.checks import ChecksConfig, threshold_for
from workbench.metrics import CLASSIFICATION_TRACKED, METRIC_LABELS
from workbench.monitoring._performance_estimate import _drop, _f, _f2, _num
from workbench.monitoring._performance_support import SUPPORT_TOLERANCE

if TYPE_CHECKING:
    from workbench.monitoring.performance import PerformanceResult

#: Default largest allowed drop of accuracy / ROC AUC below the reference period.
ACCURACY_TOLERANCE = 0.02
#: Default largest allowed relative rise of RMSE above the reference period (regression).
RMSE_TOLERANCE = 0.10
_ESTIMATE_GAP = 0.03  # an estimate this far from the measurement says the relationship changed


def _classification_findings(r: PerformanceResult, config: ChecksConfig | None) -> list[tuple[int, str]]:
    """A classifier's findings, ranked (0 first): measured or estimated metrics against the reference."""
    out = []
    ranks = (
        "positive cases above negative ones"
        if r.task == "binary"
        else "each class's cases above the others, averaged over classes"
    )
    named = {"roc_auc": f"{METRIC_LABELS['roc_auc']} (how well the model ranks {ranks})"}
    for m in CLASSIFICATION_TRACKED:
        name = named.get(m, METRIC_LABELS[m])
        est, act, ref = (
            _num((r.estimated or {}).get(m)),
            _num((r.actual or {}).get(m)),
            _num(r.reference.get(m)),
        )
        now = act if r.labelled else est
        if now is None:
            continue
        band = r.intervals.get(m) if not r.labelled else None
        band = f", 90% interval {band[0]:.2f}–{band[1]:.2f}" if band else ""
        what = (
            f"actual {name} {_f2(now)}"
            if r.labelled
            else f"estimated {name} {_f2(now)} (no labels yet{band})"
        )
        tol = threshold_for(
            f"performance.{'' if r.labelled else 'estimated_'}{m}_drop", ACCURACY_TOLERANCE, config
        )
        if ref is None:
            out.append((2, f"{what}; there is no reference value to compare it with"))
        elif tol is not None and ref - now > tol:
            out.append(
                (
                    0,
                    f"{what} vs {_f2(ref)} in the reference period: a drop of {_drop(ref - now, tol)}, "
                    f"above the {tol:g} tolerance",
                )
            )
        elif ref - now > 0.005:
            tail = f", within the {tol:g} tolerance" if tol is not None else ""
            out.append(
                (2, f"{what} vs {_f2(ref)} in the reference period: a drop of {_drop(ref - now, tol)}{tail}")
            )
        elif now - ref > 0.005:
            out.append((2, f"{what} vs {_f2(ref)} in the reference period: up by {_f2(now - ref)}"))
        else:
            out.append((2, f"{what}, the same as in the reference period ({_f2(ref)})"))
        if r.labelled and est is not None and (m == "accuracy" or abs(est - act) > _ESTIMATE_GAP):
            short = name.split(" (")[0]
            sentence = (
                f"actual {short} {_f2(act)} measured now that labels arrived; the estimate was {_f2(est)}"
            )
            missed = abs(est - act) > _ESTIMATE_GAP
            if missed:
                sentence += (
                    f": it missed by {_f2(abs(est - act))}, a sign that the relationship between the "
                    "inputs and the outcome has changed (concept drift or a shift in the outcome "
                    "rate), which a label-free estimate cannot see"
                )
            out.append((1 if missed else 2, sentence))
    if not r.labelled:
        ref_rate, est_rate = _num(r.reference.get("base_rate")), _num((r.estimated or {}).get("base_rate"))
        if r.task == "binary" and None not in (ref_rate, est_rate) and abs(est_rate - ref_rate) > 0.05:
            out.append(
                (
                    2,
                    f"the model expects {est_rate:.0%} of outcomes to be '{r.labels[1]}' in this "
                    f"batch vs {ref_rate:.0%} in the reference period",
                )
            )
        out.append(
            (
                3,
                "the estimate comes from the model's own confidence (confidence-based performance "
                "estimation, as in NannyML's CBPE): it follows changes in the inputs but cannot see a "
                "change in how the inputs relate to the outcome (concept drift); measure performance "
                "with labels when they arrive",
            )
        )
    if r.estimated is not None and not r.calibrated:
        out.append(
            (
                1,
                "the estimate is uncalibrated: without labelled reference data it trusts the model's "
                "raw probabilities, which are often over-confident; pass labelled reference data to "
                "calibrate it",
            )
        )
    return out


def _reliability_findings(r: PerformanceResult, config: ChecksConfig | None) -> list[tuple[int, str]]:
    """Whether the label-free estimate can be trusted: the reference's origin, the batch's support."""
    if r.estimated is None or r.reliability is None:
        return []
    out = []
    support = r.reliability.get("support") or {}
    share, auc = _num(support.get("uncovered_share")), _num(support.get("auc"))
    tol = threshold_for("performance.estimate_reliable", SUPPORT_TOLERANCE, config)
    tense = "was" if r.labelled else "is"
    if r.training_reference:
        out.append(
            (
                0,
                f"the estimate {tense} UNRELIABLE: the reference is the model's own training data, where "
                "the model is more confident and more often right than on new rows, so the calibration "
                "makes every estimate too optimistic; use a labelled period the model never trained on "
                "as the reference",
            )
        )
    if share is None:
        out.append(
            (
                3,
                "whether the batch lies within the reference's support was not measured (no reference "
                "rows to compare with); pass the reference data to know whether to trust the estimate",
            )
        )
        return out
    where = (
        f"{share:.0%} of the current rows lie where the reference has barely any rows (its density "
        f"below a tenth of the batch's; a classifier tells the batch from the reference with ROC AUC "
        f"{_f2(auc)})"
    )
    if tol is not None and share > tol:
        out.append(
            (
                0,
                f"the estimate {tense} UNRELIABLE: {where}, above the {tol:.0%} tolerance; there the "
                "calibration extrapolates and the estimate can be far off, even move the wrong way; "
                "trust the labels when they arrive, or use a reference period that covers these rows",
            )
        )
    elif not r.training_reference:
        out.append((3, f"the batch lies within the reference's support: {where}"))
    return out


def _regression_findings(r: PerformanceResult, config: ChecksConfig | None) -> list[tuple[int, str]]:
    """A regressor's findings, ranked: RMSE against the reference (no label-free estimate)."""
    out = []
    now, ref = _num((r.actual or {}).get("rmse")), _num(r.reference.get("rmse"))
    if now is None:
        out.append(
            (
                0,
                "a label-free performance estimate isn't available for regression models: performance "
                "can only be measured once the actual values arrive",
            )
        )
    elif ref is None or ref == 0:
        out.append(
            (
                2,
                f"actual RMSE (typical size of an error) {_f(now)}; there is no reference value to "
                "compare it with",
            )
        )
    else:
        rise = (now - ref) / ref
        tol = threshold_for("performance.rmse_increase", RMSE_TOLERANCE, config)
        judged = ("above" if tol is not None and rise > tol else "within") + (
            f" the {tol:.0%} tolerance" if tol is not None else " no set tolerance"
        )
        word = "higher" if rise >= 0 else "lower"
        out.append(
            (
                0 if tol is not None and rise > tol else 2,
                f"actual RMSE (typical size of an error) {_f(now)} vs {_f(ref)} in the reference period: "
                f"{abs(rise):.0%} {word}, {judged}",
            )
        )
    return out


# -- display -------------------------------------------------------------------
