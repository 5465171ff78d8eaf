"""``workbench report drift|bias|performance|compare|canary``: a monitoring or release report as a
papermill run (a thin layer over :func:`workbench.reports.runner.run_report`)."""

from __future__ import annotations

import json
import sys

from workbench.cli._common import add_group, add_output_options, add_sensitive_option, flags
from workbench.exit_codes import EXIT_CHECK_FAILED, EXIT_FAILED
from workbench.report_kinds import KIND_NAMES

# the options each kind passes to its notebook as parameters, under their own names
PARAMETERS = {
    "drift": ("reference", "current", "model", "target"),
    "bias": ("data", "model", "sensitive", "reference"),
    "performance": ("data", "model", "reference"),
    "compare": ("champion", "challenger", "current", "sensitive", "reference", "price_per_core_hour"),
    "canary": ("log", "since", "until", "min_rows"),
}


def add_parser(sub) -> None:
    """Add the ``report`` command and its kinds to `sub` (from ``parser.add_subparsers``)."""
    rsub = add_group(
        sub,
        "report",
        help="run a report (drift, bias, performance, compare, canary) with papermill",
        description="Run a monitoring report as a papermill notebook into a run directory.",
        dest="report_kind",
        metavar="KIND",
        what=f"a report kind: {', '.join(KIND_NAMES[:-1])} or {KIND_NAMES[-1]}",
    )
    rd = rsub.add_parser(
        "drift",
        help="data drift and quality (and estimated performance with --model)",
        description="Compare a current batch with the reference: drift per column, data quality, "
        "and the model's performance (estimated without labels) when --model is given.",
    )
    rd.add_argument("--reference", required=True, help="reference-period table (CSV or Parquet)")
    rd.add_argument("--current", required=True, help="the batch to check (CSV or Parquet)")
    rd.add_argument("--model", help="a workbench model: prediction drift and estimated performance")
    rd.add_argument("--target", help="target column (target drift; default: the model's)")
    rb = rsub.add_parser(
        "bias",
        help="fairness across sensitive groups (fairlearn)",
        description="Assess a binary classifier's decisions across sensitive groups; with "
        "--reference, gate on disparities that worsened beyond their confidence interval.",
    )
    rb.add_argument("--data", required=True, help="the batch to assess (CSV or Parquet)")
    rb.add_argument("--model", required=True, help="a workbench model (binary classifier)")
    add_sensitive_option(rb, "sensitive column (repeatable; default: the model's declared ones)")
    rb.add_argument("--reference", help="labelled reference-period table to compare disparities with")
    rp = rsub.add_parser(
        "performance",
        help="measured (and estimated) performance on a labelled batch",
        description="Measure the model's performance on a batch whose labels arrived, beside "
        "the label-free estimate, against the reference period.",
    )
    rp.add_argument("--data", required=True, help="the batch (CSV or Parquet), with the target column")
    rp.add_argument("--model", required=True, help="a workbench model")
    rp.add_argument(
        "--reference", help="labelled reference-period table (default: the model's validation figures)"
    )
    rc = rsub.add_parser(
        "compare",
        help="champion vs challenger on one window (paired statistics, fairness, serving cost)",
        description="Score the champion and the challenger on the same rows of one window and compare "
        "them with paired statistics, by group and in serving cost; the verdict says promote, keep the "
        "champion, or how many more labelled rows a decision needs. Gate on the release.* checks.",
    )
    rc.add_argument("--champion", required=True, help="the model in production (a path or models:/ URI)")
    rc.add_argument("--challenger", required=True, help="the candidate (a path or models:/ URI)")
    rc.add_argument(
        "--current",
        required=True,
        help="the window both are scored on (CSV or Parquet; labelled for the statistics)",
    )
    add_sensitive_option(rc, "sensitive column (repeatable; default: the champion's declared ones)")
    rc.add_argument("--reference", help="labelled reference table: calibrates the label-free estimates")
    rc.add_argument(
        "--price-per-core-hour",
        type=float,
        help="USD per core-hour for the cost per million predictions (default 0.05)",
    )
    rk = rsub.add_parser(
        "canary",
        help="canary vs champion on the traffic each served (from the prediction log)",
        description="Judge a canary from the prediction log: on the traffic each served, the canary's "
        "answers (drift tests), latency (Mann-Whitney U), validation failures and fallbacks (two-proportion "
        "tests) and, where labels were joined, accuracy, against the champion's; a score and a verdict: "
        "promote, continue or roll back. Gate on the canary.* checks.",
    )
    rk.add_argument(
        "--log", required=True, metavar="DIR", help="the prediction log folder (or one date folder)"
    )
    rk.add_argument(
        "--since", metavar="TIME", help="only traffic from this time (ISO, or back from now: 24h, 7d)"
    )
    rk.add_argument("--until", metavar="TIME", help="only traffic before this time")
    rk.add_argument(
        "--min-rows", type=int, help="answered records each arm needs before a verdict (default 100)"
    )
    for sp in (rd, rb, rp, rc, rk):
        sp.add_argument(
            "--period", help="the data period this batch covers, e.g. 2026-11-28 (trend charts use it)"
        )
        sp.add_argument("--name", help="a name for the run (part of the run directory's name)")
        sp.add_argument("--reports-dir", default="reports", help="where runs are written (default ./reports)")
        sp.add_argument("--checks", help="checks file (TOML, YAML or JSON) overriding thresholds")
        sp.add_argument(
            "--fail-on",
            action="append",
            default=[],
            metavar="CHECK",
            help="exit 1 when this check fails (a name, a glob like 'drift.*', or 'all'; repeatable)",
        )
        sp.add_argument("--junit", help="also write the checks as JUnit XML to this path")
        add_output_options(sp, run, json="the run's summary (with run_dir)", registry=True)


def run(args) -> int:
    """Run one report (:func:`~workbench.reports.run_report`); return the run's exit code (0, 1 or 3)."""
    from workbench._json import json_default
    from workbench.reports.runner import run_report

    kind = args.report_kind
    # relative paths are resolved by the runner, for every caller
    params = flags(args, *PARAMETERS[kind], "period")
    if args.registry is not None:  # else the notebook's default: the environment, then the embedded store
        params["registry"] = args.registry
    outcome = run_report(
        kind,
        params,
        progress=not args.json,
        **flags(args, "reports_dir", "name", "checks", "fail_on", "junit"),
    )
    summary = outcome.summary
    if args.json:
        print(json.dumps({**summary, "run_dir": str(outcome.run_dir)}, default=json_default))
    else:
        print(summary.get("headline", ""))
        for f in summary.get("findings", [])[:8]:
            print(f"  - {f}")
        from workbench.checks import Check

        checks = [Check.from_dict(c) for c in summary.get("checks", [])]
        for status, title in (("FAIL", "failed checks:"), ("warn", "warnings (they do not gate):")):
            shown = [c for c in checks if c.status == status]
            if shown:
                print(title)
                for c in shown:
                    print(f"  {c.name}: {c.outcome_text()}: {c.message}")
        print(f"run: {outcome.run_dir}")
        print(
            f"report: {outcome.run_dir / 'report.html'}"
            if summary.get("status") != "failed"
            else f"error: {summary.get('error')}"
        )
    if outcome.exit_code == EXIT_FAILED:
        print(
            f"workbench: the {kind} report run failed: {summary.get('error')} "
            f"(recorded in {outcome.run_dir})",
            file=sys.stderr,
        )
    elif outcome.exit_code == EXIT_CHECK_FAILED:
        print(
            f"workbench: {len(outcome.failed)} check(s) failed: {', '.join(outcome.failed[:5])}",
            file=sys.stderr,
        )
    return outcome.exit_code
