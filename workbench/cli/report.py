"""``workbench report drift|bias|performance|compare|canary``: a monitoring or release report as a
papermill run (a thin layer over :func:`workbench.reports.runner.run_report`)."""

from __future__ import annotations

import json
import sys

from workbench.cli._common import add_group, add_output_options, flags, sensitive_option
from workbench.exit_codes import EXIT_CHECK_FAILED, EXIT_FAILED
from workbench.report_kinds import KIND_NAMES

#: each kind's line in ``workbench report --help`` and the description atop its own ``--help``, in the order
#: of :data:`~workbench.report_kinds.KIND_NAMES`
ABOUT = {
    "drift": (
        "data drift and quality (and estimated performance with --model)",
        "Compare a current batch with the reference: drift per column, data quality, "
        "and the model's performance (estimated without labels) when --model is given.",
    ),
    "bias": (
        "fairness across sensitive groups (fairlearn)",
        "Assess a binary classifier's decisions across sensitive groups; with "
        "--reference, gate on disparities that worsened beyond their confidence interval.",
    ),
    "performance": (
        "measured (and estimated) performance on a labelled batch",
        "Measure the model's performance on a batch whose labels arrived, beside "
        "the label-free estimate, against the reference period.",
    ),
    "compare": (
        "champion vs challenger on one window (paired statistics, fairness, serving cost)",
        "Score the champion and the challenger on the same rows of one window and compare "
        "them with paired statistics, by group and in serving cost; the verdict says promote, keep the "
        "champion, or how many more labelled rows a decision needs. Gate on the release.* checks.",
    ),
    "canary": (
        "canary vs champion on the traffic each served (from the prediction log)",
        "Judge a canary from the prediction log: on the traffic each served, the canary's "
        "answers (drift tests), latency (Mann-Whitney U), validation failures and fallbacks (two-proportion "
        "tests) and, where labels were joined, accuracy, against the champion's; a score and a verdict: "
        "promote, continue or roll back. Gate on the canary.* checks.",
    ),
}

#: each kind's own options, in ``--help`` order: (flag, ``add_argument`` keywords). A kind passes them to its
#: notebook as parameters, under their own names (see :data:`PARAMETERS`).
OPTIONS = {
    "drift": (
        ("--reference", dict(required=True, help="reference-period table (CSV or Parquet)")),
        ("--current", dict(required=True, help="the batch to check (CSV or Parquet)")),
        ("--model", dict(help="a workbench model: prediction drift and estimated performance")),
        ("--target", dict(help="target column (target drift; default: the model's)")),
    ),
    "bias": (
        ("--data", dict(required=True, help="the batch to assess (CSV or Parquet)")),
        ("--model", dict(required=True, help="a workbench model (binary classifier)")),
        (
            "--sensitive",
            sensitive_option("sensitive column (repeatable; default: the model's declared ones)"),
        ),
        ("--reference", dict(help="labelled reference-period table to compare disparities with")),
    ),
    "performance": (
        ("--data", dict(required=True, help="the batch (CSV or Parquet), with the target column")),
        ("--model", dict(required=True, help="a workbench model")),
        (
            "--reference",
            dict(help="labelled reference-period table (default: the model's validation figures)"),
        ),
    ),
    "compare": (
        ("--champion", dict(required=True, help="the model in production (a path or models:/ URI)")),
        ("--challenger", dict(required=True, help="the candidate (a path or models:/ URI)")),
        (
            "--current",
            dict(
                required=True,
                help="the window both are scored on (CSV or Parquet; labelled for the statistics)",
            ),
        ),
        (
            "--sensitive",
            sensitive_option("sensitive column (repeatable; default: the champion's declared ones)"),
        ),
        ("--reference", dict(help="labelled reference table: calibrates the label-free estimates")),
        (
            "--price-per-core-hour",
            dict(type=float, help="USD per core-hour for the cost per million predictions (default 0.05)"),
        ),
    ),
    "canary": (
        ("--log", dict(required=True, metavar="DIR", help="the prediction log folder (or one date folder)")),
        (
            "--since",
            dict(metavar="TIME", help="only traffic from this time (ISO, or back from now: 24h, 7d)"),
        ),
        ("--until", dict(metavar="TIME", help="only traffic before this time")),
        ("--min-rows", dict(type=int, help="answered records each arm needs before a verdict (default 100)")),
    ),
}
#: the parameters each kind passes to its notebook: its own options' names
PARAMETERS = {
    kind: tuple(flag[2:].replace("-", "_") for flag, _ in options) for kind, options in OPTIONS.items()
}


def add_parser(sub) -> None:
    """Add the ``report`` command and its kinds to `sub` (from ``parser.add_subparsers``)."""
    rsub = add_group(
        sub,
        "report",
        help=f"run a report ({', '.join(KIND_NAMES)}) with papermill",
        description="Run a monitoring report as a papermill notebook into a run directory.",
        dest="report_kind",
        metavar="KIND",
        what=f"a report kind: {', '.join(KIND_NAMES[:-1])} or {KIND_NAMES[-1]}",
    )
    for kind, (help, description) in ABOUT.items():
        sp = rsub.add_parser(kind, help=help, description=description)
        for flag, options in OPTIONS[kind]:
            sp.add_argument(flag, **options)
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
