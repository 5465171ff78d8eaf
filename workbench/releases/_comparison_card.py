"""The card of a comparison: the verdict, the paired numbers, fairness, serving, agreement, checks."""

from __future__ import annotations

from typing import Any

from workbench import _html
from workbench.checks import ChecksConfig, checks_table_html
from workbench.releases.verdict import KEEP, PROMOTE

_COLORS = {PROMOTE: "#1a7f37", KEEP: "#cf222e"}


def comparison_card(result: Any, config: ChecksConfig | None = None) -> str:
    """The comparison as an HTML card: the verdict, the deltas with their intervals, the gates."""
    verdict = result.verdict(config)
    color = _COLORS.get(verdict.decision, "#9a6700")
    body = (
        f"<div class='wb-verdict' data-decision='{_html.esc(verdict.decision)}' style='border-left:5px solid "
        f"{color};padding:4px 10px;margin:4px 0 8px 0;font-weight:600'>{_html.esc(verdict.sentence)}</div>"
    )
    level = f"{result.confidence:.0%} CI"
    rows = []
    for key, label in (
        ("roc_auc", "ROC AUC"),
        ("accuracy", "accuracy"),
        ("cost", "cost per row"),
        ("brier", "Brier score"),
    ):
        d = result.delta(key)
        if d.get("delta") is None and d.get("champion") is None:
            continue
        ci = d.get("ci")
        rows.append(
            {
                "measure": label,
                "champion": d.get("champion"),
                "challenger": d.get("challenger"),
                "difference": d.get("delta"),
                level: "—" if not ci else f"{ci[0]:+.4f} to {ci[1]:+.4f}",
            }
        )
    if rows:
        body += _html.table(rows)
    if result.calibration:
        body += _section("Calibration")
        body += _html.table(
            [
                {"model": role, "Brier": c["brier"], "expected calibration error": c["ece"]}
                for role, c in result.calibration.items()
            ]
        )
    for a in result.fairness:
        body += _section(f"Fairness by {a['name']}")
        body += _html.table(
            [
                {
                    "disparity": d["metric"],
                    "champion": d["champion"],
                    "challenger": d["challenger"],
                    "difference": d["delta"],
                    level: "—" if not d.get("ci") else f"{d['ci'][0]:+.3f} to {d['ci'][1]:+.3f}",
                    "worse by at least": d.get("worse_by_at_least"),
                }
                for d in a["disparities"]
            ]
        )
    if result.operations:
        body += _section("Serving")
        body += _html.table(
            [
                {
                    "model": role,
                    "p50 µs": o.get("p50_us"),
                    "p95 µs": o.get("p95_us"),
                    "rows/s": o.get("throughput_rows_s"),
                    "size (bytes)": o.get("size_bytes"),
                    "USD per million": o.get("cost_per_million"),
                }
                for role, o in result.operations.items()
            ]
        )
    ag = result.agreement
    if ag.get("segments"):
        body += _section(f"Where they disagree most (slices of at least {ag.get('min_group_size')} rows)")
        body += _html.table(ag["segments"])
    body += checks_table_html(result.checks(config))
    names = " vs ".join(_who(getattr(result, role)) for role in ("champion", "challenger"))
    sub = (
        f"{result.n_rows:,} rows ({result.n_labelled:,} labelled), positive = '{result.positive_label}', "
        f"{result.n_bootstrap:,} paired bootstrap draws"
    )
    return _html.card(f"Champion vs challenger: {names}", body, sub)


def _section(title: str) -> str:
    return f"<div style='margin-top:8px;font-weight:600'>{_html.esc(title)}</div>"


def _who(model: dict) -> str:
    reg = model.get("registered") or {}
    if reg.get("name"):
        return f"{reg['name']} v{reg.get('version')}"
    return str(model.get("name") or "model")
