"""The plain-language headline at the top of the dashboard.

"3 of the last 10 runs failed a check; drift in age since 2026-11-20;
demographic parity ratio for sex 0.74 (below 0.8) on 2026-11-22". Built from
ledger rows only: which checks fail in the runs of the latest data period of
each series (kind x model), and since which period they have failed without
a break.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from workbench.checks import format_pair
from workbench.dashboards.runs import by_period, check_of

LAST = 10
_WORDS = {
    "demographic_parity_ratio": "selection-rate ratio",
    "demographic_parity_difference": "selection-rate gap",
    "equalized_odds_difference": "error-rate gap",
    "equal_opportunity_difference": "true-positive-rate gap",
    "predictive_parity_difference": "precision gap",
    "base_rate_difference": "base-rate gap",
}


def headline(runs: Sequence[Mapping], *, last: int = LAST, max_phrases: int = 3) -> str:
    """One or two sentences: how many recent runs failed, and what fails since when."""
    if not runs:
        return "No report runs yet."
    recent = sorted(runs, key=lambda r: (r.get("started_at") or "", r["id"]), reverse=True)[:last]
    finished = [r for r in recent if r["status"] != "running"]
    n_checks = sum(r["status"] == "checks_failed" for r in finished)
    n_crashed = sum(r["status"] == "failed" for r in finished)
    n = len(recent)
    scope = f"the last {n} runs" if n > 1 else "the only run"
    if n_checks:
        lead = f"{n_checks} of {scope} failed a check"
    elif n_crashed:
        lead = f"No check failed in {scope}"
    else:
        latest = max((r["period_label"] for r in finished), default="—")
        lead = f"All of {scope} passed their checks (latest data period {latest})"
    if n_crashed:
        lead += f"; {n_crashed} run{'s' if n_crashed > 1 else ''} could not complete"
    failing = _failing(runs)
    shown, hidden = failing[:max_phrases], failing[max_phrases:]
    text = "; ".join([lead, *(phrase for phrase, _, _ in shown)])
    if hidden:
        text += " and " + _more(shown, hidden)
    return text + "."


def _more(shown: Sequence[tuple], hidden: Sequence[tuple]) -> str:
    """What the phrases left out are: '33 more failed checks in 5 other runs'."""
    names = {n for _, ns, _ in hidden for n in ns}
    runs = {r for _, _, rs in hidden for r in rs}
    other = runs - {r for _, _, rs in shown for r in rs}
    what = f"{len(names)} more failed check{'s' if len(names) != 1 else ''}"
    if other == runs:
        return f"{what} in {len(runs)} other run{'s' if len(runs) != 1 else ''}"
    if not other:
        return f"{what} in the same run{'s' if len(runs) != 1 else ''}"
    return f"{what} in {len(runs)} runs"


def failing_since(runs: Sequence[Mapping]) -> list[str]:
    """For each gating check failing in the latest run of its series: 'what, since when'."""
    return [phrase for phrase, _, _ in _failing(runs)]


def _failing(runs: Sequence[Mapping]) -> list[tuple[str, list[str], set[str]]]:
    """:func:`failing_since`'s phrases, each with the check names and the run ids it stands for."""
    series: dict[tuple, list] = {}
    for r in by_period(r for r in runs if r["status"] in ("passed", "checks_failed")):
        series.setdefault((r["kind"], r["model"]), []).append(r)
    found: list[
        tuple[str, str, str, str, str]
    ] = []  # (since, name, phrase-without-date, period word, run id)
    for ordered in series.values():
        # Every run of the latest period speaks (segments and batches of one period are several runs:
        # the last one alone would hide a failing segment behind a passing one), and a check has failed
        # "since" the earliest period of the unbroken stretch in which some run failed it.
        # ... and a run of the same period and name started later (a re-run) replaces the earlier one
        ordered = list({(r["period_label"], r.get("name") or ""): r for r in ordered}.values())
        failed_in: dict[str, set] = {}
        for r in ordered:
            failed_in.setdefault(r["period_label"], set()).update(r.get("failed_errors") or [])
        periods = list(failed_in)
        latest_period = periods[-1]
        for latest in (r for r in ordered if r["period_label"] == latest_period):
            for name in latest.get("failed_errors") or []:
                since = latest_period
                for earlier in reversed(periods[:-1]):
                    if name not in failed_in[earlier]:
                        break
                    since = earlier
                word = "on" if since == latest_period else "since"
                found.append((since, name, _describe(name, check_of(latest, name)), word, latest["id"]))
    names = {f[1] for f in found}
    if any(n.startswith("drift.column.") for n in names):  # the columns say it; the share and flag repeat it
        found = [f for f in found if f[1] not in ("drift.share", "drift.dataset")]
    # Drifted columns failing since the same period read as one phrase: "drift in age and income since …".
    merged: dict[tuple[str, str], tuple[list[str], list[str], set[str]]] = {}
    for since, name, phrase, word, run_id in sorted(found, key=lambda f: (_priority(f[1]), f[0], f[1])):
        key = (f"{since}|{word}", "drift" if name.startswith("drift.column.") else name)
        items, names, run_ids = merged.setdefault(key, ([], [], set()))
        items.append(name.split(".", 2)[2] if key[1] == "drift" else phrase)
        names.append(name)
        run_ids.add(run_id)
    out = []
    for (when, family), (items, names, run_ids) in merged.items():
        since, word = when.split("|")
        phrase = f"drift in {_join(items)}" if family == "drift" else items[0]
        out.append((f"{phrase} {word} {since}", names, run_ids))
    return out


def _priority(name: str) -> int:
    """What a risk manager reads first: drifted inputs, performance, fairness, then the rest."""
    order = ("drift.column.", "drift.share", "performance.", "bias.", "drift.", "quality.")
    return next((i for i, p in enumerate(order) if name.startswith(p)), len(order))


def _describe(name: str, check: Mapping | None) -> str:
    value = (check or {}).get("value")
    threshold = (check or {}).get("threshold")
    parts = name.split(".")
    family = parts[0]
    if name == "drift.share":
        if value is not None and threshold is not None:
            v, t = _pct_pair(value, threshold)
            return f"drift share {v} ({_side(value, threshold)} the limit of {t})"
        return f"drift share {_pct(value)}"
    if name in ("drift.prediction", "drift.target"):
        return "the model's scores drifted" if name == "drift.prediction" else "the target drifted"
    if name == "drift.dataset":
        return "dataset drift"
    if family == "quality":
        if name == "quality.columns":
            return "columns missing from the data"
        if name == "quality.duplicates":
            return "more duplicate rows"
        what = {
            "missing": "more missing values",
            "range": "values out of range",
            "type": "type changes",
            "categories": "unseen categories",
        }.get(parts[1], parts[1].replace("_", " "))
        col = ".".join(parts[2:])
        return f"{what} in {col}" if col else what
    if family == "performance":
        metric = parts[1].replace("_drop", "").replace("_increase", "").replace("roc_auc", "ROC AUC")
        metric = metric.replace("_", " ")
        direction = "up" if parts[1].endswith("_increase") else "down"
        return f"{metric} {direction} {_num(value)}" if value is not None else f"{metric} {direction}"
    if family == "bias" and len(parts) >= 3:
        metric = _WORDS.get(parts[1], parts[1].replace("_", " "))
        attr = parts[2]
        if parts[-1] == "worsened":
            return f"{metric} for {attr} worse than in the reference period"
        if value is not None and threshold is not None:
            v, t = (
                format_pair(value, threshold)
                if abs(value) < 0.01 or abs(threshold) < 0.01
                else _num_pair(value, threshold)
            )
            return f"{metric} for {attr} {v} ({_side(value, threshold)} {t})"
        return f"{metric} for {attr}"
    return name


def _join(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) <= 2:
        return " and ".join(items)
    if len(items) > 4:
        return ", ".join(items[:3]) + f" and {len(items) - 3} more columns"
    return ", ".join(items[:-1]) + " and " + items[-1]


def _side(value: float, threshold: float) -> str:
    """Where a value is against its limit, in words that are true ('at' only when equal)."""
    return "below" if value < threshold else "above" if value > threshold else "at"


def _num_pair(value: float, threshold: float) -> tuple[str, str]:
    """Two decimals, more where two decimals would write unequal numbers as equal."""
    for d in range(2, 17):
        v, t = f"{value:.{d}f}", f"{threshold:.{d}f}"
        if (float(v) > float(t)) - (float(v) < float(t)) == (value > threshold) - (value < threshold):
            return _trim(v), _trim(t)
    return repr(value), repr(threshold)


def _pct_pair(value: float, threshold: float) -> tuple[str, str]:
    """Percentages with as many decimals as it takes for their written order to be the true one."""
    for d in range(0, 15):
        v, t = f"{value * 100:.{d}f}", f"{threshold * 100:.{d}f}"
        if (float(v) > float(t)) - (float(v) < float(t)) == (value > threshold) - (value < threshold):
            return f"{_trim(v)}%", f"{_trim(t)}%"
    return f"{value!r}", f"{threshold!r}"


def _trim(text: str) -> str:
    """``0.800`` -> ``0.8``, ``30.00`` -> ``30`` (the same number, fewer characters)."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def _pct(v) -> str:
    return "—" if v is None else f"{v:.0%}"


def _num(v) -> str:
    return "—" if v is None else f"{v:.2f}" if abs(v) >= 0.01 else f"{v:.3g}"
