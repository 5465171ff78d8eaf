"""The canary judge: on the traffic each served, is the canary version as good as the champion?

Read from the prediction log (:func:`workbench.serving.log_table.read_log`):
rows of ``_role`` champion and canary are the two arms; a row the fallback
answered is logged under the role its record was routed to with ``_fallback``
set, and counts in that arm's fallback rate (logs written before that carry
``_role`` fallback: such a row joins the arm its record id was routed to, since
canary routing is sticky by id; without one it is counted apart). Compared,
as a canary judge such as Kayenta does:

- **prediction distributions**: the drift tests of :mod:`workbench.monitoring.drift`
  (Evidently's choice of test) on the answered scores (``_proba``) or predictions;
- **latency**: Mann-Whitney U, one-sided, on the per-record ``_latency_ms``, the
  canary's latencies divided by ``1 + latency_margin`` (is it slower by more than the margin?);
- **validation failures** and **fallbacks**: one-sided two-proportion z-tests
  (is the canary's rate higher?);
- **accuracy** where labels were joined (``labels join``): the same test on the
  share answered correctly.

The score and verdict are :class:`~workbench.releases.canary_result.CanaryResult`'s.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import DataError
from workbench.releases.canary_result import ARMS, CanaryResult
from workbench.validation import check_number

#: the latency quantiles stored per arm (what the figure draws)
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95, 0.99)


def judge_canary(
    log: Any,
    *,
    since: Any = None,
    until: Any = None,
    min_rows: int = 100,
    latency_margin: float = 0.1,
) -> CanaryResult:
    """Compare the canary version with the champion on the traffic each served.

    Parameters
    ----------
    log : str, Path or DataFrame
        A prediction log (folder, date folder or segment), or :func:`read_log`'s
        output with its meta columns (``with_meta=True``).
    since, until : optional
        The window (see :func:`~workbench.serving.log_table.read_log`).
    min_rows : int
        Answered rows each arm needs before a verdict other than "continue".
    latency_margin : float
        The slowdown the canary may have (0.1: 10%) before latency counts against it.

    Returns
    -------
    CanaryResult

    Raises
    ------
    DataError
        The log has no canary rows or no champion rows in the window.
    """
    import pandas as pd

    from workbench.serving.log_table import ANSWER_ROLES, read_log

    min_rows = int(check_number(min_rows, "min_rows", low=1, integer=True))
    latency_margin = check_number(latency_margin, "latency_margin", low=0, high=10)
    if isinstance(log, str | Path):
        df = read_log(log, since=since, until=until, roles=ANSWER_ROLES, with_meta=True)
    elif isinstance(log, pd.DataFrame):
        df = log
    else:
        raise DataError(f"the log must be a prediction log folder or a DataFrame, not {type(log).__name__}")
    label = next((c for c in df.attrs.get("label_columns", []) if c in df.columns), None)
    arm = _arms(df)
    for name in ARMS:
        if not (arm == name).any():
            raise DataError(
                f"the prediction log has no {name} rows"
                + (" in the window asked for" if since or until else "")
                + "; a canary judgment needs traffic served by both the champion and the canary"
            )
    answered = (df["_status"] == "ok") & ~df["_fallback"].fillna(False).astype(bool)
    kind = _prediction_kind(df, answered)
    classifier = kind == "categorical" or bool(df.loc[answered, "_proba"].notna().any())
    arms = {name: _arm(df, arm == name, answered, label if classifier else None) for name in ARMS}
    time = pd.to_datetime(df["_time"], utc=True)
    lo, hi = time.min().date().isoformat(), time.max().date().isoformat()
    notes = []
    unattributed = int(arm.isna().sum())
    if unattributed:
        notes.append(
            f"{unattributed:,} rows answered by the fallback could not be traced to champion or canary "
            "traffic (no record id seen in either arm) and are left out"
        )
    if label is None:
        notes.append("No labels were joined into this log, so accuracy was not compared (`labels join`).")
    elif not classifier:
        notes.append("Accuracy is not compared for a regression model's predictions.")
    return CanaryResult(
        champion=arms["champion"],
        canary=arms["canary"],
        period=lo if lo == hi else f"{lo}..{hi}",
        since=None if since is None else str(since),
        until=None if until is None else str(until),
        min_rows=min_rows,
        latency_margin=latency_margin,
        unattributed=unattributed,
        label=label,
        prediction=_prediction_drift(df, arm, answered, kind),
        latency=_latency_test(df, arm, answered, latency_margin),
        validation_failures=_rate_test(arms, "rejected"),
        fallbacks=_rate_test(arms, "fallbacks"),
        accuracy=_accuracy_test(arms),
        notes=notes,
    )


def _arms(df):
    """Each row's arm: its role. For a row of an older log the fallback answered (role "fallback"), the
    arm of the same record in the same request (the model that failed, if logged), else the arm its id is
    routed to in other requests (routing is sticky by id); None when neither is known."""
    import pandas as pd

    role = df["_role"].astype(object)
    arm = pd.Series(role.where(role.isin(ARMS), None), index=df.index, dtype=object)
    fallback = role == "fallback"
    if fallback.any():
        routed = df.loc[arm.notna() & df["_id"].notna(), ["_request_id", "_id"]].assign(arm=arm)
        same = routed.drop_duplicates(["_request_id", "_id"], keep="last").set_index(["_request_id", "_id"])
        key = pd.MultiIndex.from_frame(df[["_request_id", "_id"]])
        found = pd.Series(same["arm"].reindex(key).to_numpy(), index=df.index)
        by_id = routed.drop_duplicates("_id", keep="last").set_index("_id")["arm"]
        found = found.where(found.notna(), df["_id"].map(by_id))
        arm = arm.where(~fallback, found)
    return arm


def _prediction_kind(df, answered) -> str:
    """``numeric`` (scores, or a regression's values) or ``categorical`` (predicted classes)."""
    import pandas as pd

    if df.loc[answered, "_proba"].notna().any():
        return "numeric"
    values = pd.to_numeric(df.loc[answered, "_prediction"], errors="coerce")
    return "numeric" if len(values) and values.notna().all() else "categorical"


def _predictions(df, rows, kind: str):
    import pandas as pd

    if kind == "numeric" and df.loc[rows, "_proba"].notna().any():
        return df.loc[rows, "_proba"].astype(float)
    if kind == "numeric":
        return pd.to_numeric(df.loc[rows, "_prediction"], errors="coerce")
    return df.loc[rows, "_prediction"].astype(object)


def _arm(df, rows, answered, label: str | None) -> dict:
    import numpy as np

    n = int(rows.sum())
    fallback = df["_fallback"].fillna(False).astype(bool)
    lat = df.loc[rows & answered, "_latency_ms"].astype(float).dropna().to_numpy()
    own = rows & df["_role"].isin(ARMS) & ~fallback  # the arm's own model (not the fallback's name)
    versions = sorted({str(v) for v in df.loc[own, "_model_version"].dropna()})
    names = sorted({str(v) for v in df.loc[own, "_model_name"].dropna()})
    out = {
        "model": ", ".join(names) or None,
        "versions": versions,
        "rows": n,
        "answered": int((rows & answered).sum()),
        "rejected": int((rows & (df["_status"] == "rejected")).sum()),
        "errors": int((rows & (df["_status"] == "error")).sum()),
        "fallbacks": int((rows & fallback).sum()),
        "latency_ms": {f"p{round(q * 100)}": float(np.quantile(lat, q)) for q in QUANTILES}
        if len(lat)
        else {},
        "mean_latency_ms": float(lat.mean()) if len(lat) else None,
        "labelled": 0,
        "correct": 0,
    }
    if label is not None:
        known = rows & answered & df[label].notna()
        truth = df.loc[known, label].map(_as_text)
        out["labelled"] = int(known.sum())
        out["correct"] = int((df.loc[known, "_prediction"].map(_as_text) == truth).sum())
    return out


def _prediction_drift(df, arm, answered, kind: str) -> dict | None:
    """The drift test of the canary's answers against the champion's (one column, ``prediction``)."""
    import pandas as pd

    from workbench.data._spec import DatasetSpec
    from workbench.monitoring.drift import detect_drift

    champion = _predictions(df, (arm == "champion") & answered, kind).dropna()
    canary = _predictions(df, (arm == "canary") & answered, kind).dropna()
    if champion.empty or canary.empty:
        return None
    numeric = ["prediction"] if kind == "numeric" else []
    spec = DatasetSpec(
        target=None,
        task=None,
        features=["prediction"],
        numeric=numeric,
        categorical=[] if numeric else ["prediction"],
    )
    result = detect_drift(
        pd.DataFrame({"prediction": champion.to_numpy()}),
        pd.DataFrame({"prediction": canary.to_numpy()}),
        spec,
    )
    return result.columns[0].to_dict() if result.columns else None


def _latency_test(df, arm, answered, margin: float) -> dict | None:
    from scipy.stats import mannwhitneyu

    a = df.loc[(arm == "champion") & answered, "_latency_ms"].astype(float).dropna().to_numpy()
    b = df.loc[(arm == "canary") & answered, "_latency_ms"].astype(float).dropna().to_numpy()
    if not len(a) or not len(b):
        return None
    test = mannwhitneyu(b / (1 + margin), a, alternative="greater")
    import numpy as np

    ratio = float(np.median(b) / np.median(a)) if np.median(a) > 0 else None
    return {"p_value": float(test.pvalue), "u": float(test.statistic), "median_ratio": ratio}


def _rate_test(arms: dict, key: str) -> dict:
    """One-sided two-proportion z-test: is the canary's share of `key` rows higher than the champion's?"""
    return _two_proportions(
        arms["champion"][key],
        arms["champion"]["rows"],
        arms["canary"][key],
        arms["canary"]["rows"],
        "greater",
    )


def _accuracy_test(arms: dict) -> dict | None:
    a, b = arms["champion"], arms["canary"]
    if not a["labelled"] or not b["labelled"]:
        return None
    return _two_proportions(a["correct"], a["labelled"], b["correct"], b["labelled"], "less")


def _two_proportions(k1: int, n1: int, k2: int, n2: int, alternative: str) -> dict:
    """Pooled two-proportion z-test of arm 2 against arm 1 (`alternative`: arm 2's rate greater/less)."""
    import math

    from scipy.stats import norm

    p1 = k1 / n1 if n1 else None
    p2 = k2 / n2 if n2 else None
    out = {"champion": p1, "canary": p2, "difference": None, "p_value": None}
    if p1 is None or p2 is None:
        return out
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    out["difference"] = p2 - p1
    if se == 0:
        out["p_value"] = 1.0  # both rates 0 (or both 1): no evidence either way
        return out
    z = (p2 - p1) / se
    out["p_value"] = float(norm.sf(z) if alternative == "greater" else norm.cdf(z))
    return out


def _as_text(v: Any) -> str:
    """A label or prediction as the log writes predictions: 1.0 and 1 both read '1'."""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v)
