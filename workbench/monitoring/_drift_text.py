"""The words and decisions around :class:`workbench.monitoring.drift.DriftResult`.

Findings, per-column checks, ranking, test overrides.
Private: import the public names from :mod:`workbench.monitoring.drift`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from workbench.checks import Check, ChecksConfig, make_check
from workbench.data._spec import DatasetSpec
from workbench.errors import SpecError
from workbench.monitoring._drift_columns import (
    _MISSING_TEST,
    _P_VALUE_TESTS,
    NOT_JUDGED,
    STATTESTS,
    ColumnDrift,
)
from workbench.monitoring._drift_stats import ID_HIDDEN, _role_type, _short
from workbench.validation import check_choice, check_number


def _rank(c: ColumnDrift) -> tuple:
    strength = math.inf if c.stattest == _MISSING_TEST else (c.normalized_score or 0.0)
    return (not c.drifted, -strength, c.name)


if TYPE_CHECKING:
    from workbench.monitoring.drift import DriftResult


def _column_check(name: str, c: ColumnDrift, config: ChecksConfig | None) -> Check | None:
    who = {
        "feature": f"'{c.name}'",
        "target": f"the target '{c.name}'",
        "prediction": "the model's prediction",
    }[c.role]
    who = who.replace("{", "{{").replace("}", "}}")
    if c.identifier_like:  # not judged (see _compare_column): no check to pass or fail
        return None
    if c.stattest == _MISSING_TEST:
        return make_check(name, 1.0, "<", 1.0, f"every value of {who} is missing in the current data", config)
    test = c.stattest_name
    if c.stattest in _P_VALUE_TESTS:
        op = ">" if c.stattest == "ks" else ">="
        msg = f"{who}: {test} {{value:.3g}}; drift is declared below {{threshold:.3g}}"
    else:
        op, msg = "<", f"{who}: {test} {{value:.3g}}; drift is declared at {{threshold:.3g}} or more"
    return make_check(name, c.score, op, c.threshold, msg, config)


# -- findings ---------------------------------------------------------------------------
def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    if len(quoted) == 1:
        return f"{quoted[0]} is"
    return ", ".join(quoted[:-1]) + f" and {quoted[-1]} are"


def _findings(r: DriftResult) -> list[str]:
    out: list[str] = []
    n, drifted = sum(not c.identifier_like for c in r.columns), [c for c in r.columns if c.drifted]
    ids = [c.name for c in r.columns if c.identifier_like]
    if ids:
        out.append(f"{_names(ids)} identifier-like, so {NOT_JUDGED}.")
    if n:
        line = f"{r.drift_share_threshold:.0%} dataset-drift line"
        if drifted:
            names = ", ".join(c.name for c in drifted[:6]) + (
                f" and {len(drifted) - 6} more" if len(drifted) > 6 else ""
            )
            verdict = (
                f"at or above the {line}: the data as a whole has drifted"
                if r.dataset_drift
                else f"below the {line}"
            )
            out.append(f"{len(drifted)} of {n} columns drifted ({r.drift_share:.0%}): {names} — {verdict}.")
        else:
            out.append(
                f"None of the {n} columns drifted: each is as close to the reference as "
                "Evidently's default tests expect from chance."
            )
    if r.prediction is not None:
        who = r.prediction.note or "the model's predictions"
        out.append(_describe(r.prediction, who[0].upper() + who[1:]))
    if r.target is not None:
        out.append(_describe(r.target, f"The target '{r.target.name}'"))
    for c in drifted[:5]:
        out.append(_describe(c, f"'{c.name}'"))
    for m in r.mismatches:
        out.append(m["message"][0].upper() + m["message"][1:] + "; it was not compared.")
    out.extend(r.notes)
    if n:
        out.append(
            "Drift means a column's values are distributed differently from the reference, more than "
            "chance explains (Evidently's tests: p-values below 0.05, or distances of 0.1 or more)."
        )
    return out


def _describe(c: ColumnDrift, who: str) -> str:
    if c.stattest == _MISSING_TEST:
        return (
            f"{who} is entirely missing in the current data, so its drift cannot be measured "
            "(counted as drifted)."
        )
    if c.identifier_like:
        return f"{who} is identifier-like, so it is {NOT_JUDGED} ({ID_HIDDEN})."
    verb = "drifted" if c.drifted else "did not drift"
    how = f"{c.stattest_name} {_short(c.score)}, threshold {_short(c.threshold)}"
    ref, cur = c.reference, c.current
    if c.type == "numeric" and ref.get("mean") is not None and cur.get("mean") is not None:
        change = f"average {_short(ref['mean'])} in the reference, {_short(cur['mean'])} now"
    elif c.identifier_like:
        change = ID_HIDDEN
    elif c.bins.get("labels"):
        delta = np.subtract(c.bins["current"], c.bins["reference"])
        i = max(
            range(len(delta)), key=lambda k: (round(abs(delta[k]), 9), delta[k])
        )  # ties: the one that rose
        change = (
            f"'{c.bins['labels'][i]}' is {c.bins['current'][i]:.0%} of the values, "
            f"{c.bins['reference'][i]:.0%} in the reference"
        )
    else:
        change = ""
    return f"{who} {verb} ({how})" + (f": {change}." if change else ".")


def _overrides(stattest, threshold, spec: DatasetSpec, features: list[str]) -> tuple[dict, str | None, dict]:
    """Per-column tests, the test for all other columns, per-column thresholds.

    An absent test or threshold is Evidently's default.
    """
    names = {c: _role_type(spec, c) for c in features}
    if spec.target:
        names[spec.target] = _role_type(spec, spec.target)
    names["prediction"] = None  # its type is known only once the model has predicted

    def known(test: Any) -> str:
        return check_choice(test, "drift test", STATTESTS)

    tests: dict[str, str] = {}
    global_test = None
    if isinstance(stattest, Mapping):
        for col, test in stattest.items():
            if col not in names:
                raise SpecError(f"the drift test for '{col}' names a column that is not compared")
            if names[col] and names[col] not in STATTESTS[known(test)][2]:
                raise SpecError(f"the drift test '{test}' does not apply to the {names[col]} column '{col}'")
            tests[col] = test
    elif stattest is not None:  # applies to every column whose type it fits, the others keep the default
        global_test = known(stattest)
        tests = {c: None for c, t in names.items() if t is not None and t not in STATTESTS[stattest][2]}
    thresholds: dict[str, float] = {}
    if isinstance(threshold, Mapping):
        for col, thr in threshold.items():
            if col not in names:
                raise SpecError(f"the drift threshold for '{col}' names a column that is not compared")
            thresholds[col] = check_number(thr, f"the drift threshold for '{col}'")
    elif threshold is not None:
        thr = check_number(threshold, "the drift threshold")
        thresholds = dict.fromkeys(names, thr)
    return tests, global_test, thresholds
