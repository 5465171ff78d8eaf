"""The canary report's inputs: a prediction log and a window (checked before a run, read by the kernel)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.errors import DataError, ParameterError
from workbench.validation import check_number


def validate_canary(params: Mapping[str, Any]) -> None:
    """Refuse before a run: a missing or foreign log, an unreadable time, a window without both arms."""
    from workbench.serving.log_table import ANSWER_ROLES, is_prediction_log, parse_time, read_log

    log = params.get("log")
    if not log:
        raise ParameterError("a canary report needs the prediction log (--log DIR)")
    since, until = parse_time(params.get("since"), "--since"), parse_time(params.get("until"), "--until")
    if params.get("min_rows") is not None:
        check_number(params["min_rows"], "--min-rows", low=1, integer=True)
    if params.get("latency_margin") is not None:
        check_number(params["latency_margin"], "latency_margin", low=0, high=10)
    if not is_prediction_log(log):
        raise DataError(
            f"'{log}' is not a prediction log (a folder of date=YYYY-MM-DD folders of .parquet segments)"
        )
    roles = set(read_log(log, since=since, until=until, roles=ANSWER_ROLES, with_meta=True)["_role"])
    window = " in the window asked for" if since or until else ""
    for arm in ("champion", "canary"):
        if arm not in roles:
            raise DataError(
                f"the prediction log '{log}' has no {arm} traffic{window}; a canary report compares the "
                "canary's traffic with the champion's (serve with --mode canary)"
            )


def canary_results(params: Mapping[str, Any], lineage: dict) -> tuple[list, str]:
    """The judgment of the log in `params`, its lineage (the log, both arms' versions) and its period."""
    from workbench.releases.canary import judge_canary

    options = {k: params[k] for k in ("min_rows", "latency_margin") if params.get(k) is not None}
    result = judge_canary(params["log"], since=params.get("since"), until=params.get("until"), **options)
    lineage["data"] = {
        "log": {"path": str(params["log"]), "rows": result.champion["rows"] + result.canary["rows"]}
    }
    for arm in ("champion", "canary"):
        a = result.arm(arm)
        lineage[arm] = {"name": a["model"], "versions": a["versions"]}
    lineage["model"] = lineage["canary"]  # the model the run decides about (the ledger's model column)
    return [result], str(params.get("period") or result.period)
