"""``workbench demo``: the main job on the bundled Adult census data (a thin layer over
:func:`workbench.demo.run_demo`), then the dashboards over its runs unless --no-serve."""

from __future__ import annotations

import sys

from workbench.exit_codes import EXIT_FAILED, EXIT_OK


def add_parser(sub) -> None:
    """Add the ``demo`` command to `sub` (from ``parser.add_subparsers``)."""
    d = sub.add_parser(
        "demo",
        help="the main job on the bundled Adult census data",
        description="Train the three recipes on UCI Adult, print the leaderboard, evaluate and "
        "save the champion under --out, compress it, monitor simulated production batches, then release: "
        "register the champion in a registry under --out, retrain a challenger on a later window, compare, "
        "promote or refuse, roll back; serve the champion (`workbench serve`, the challenger in shadow), "
        "replay the production batches through it and run the reports on its prediction log; then serve the "
        "dashboards (the Models page shows the registry).",
    )
    d.add_argument("--out", default="workbench-demo", help="output folder (default ./workbench-demo)")
    d.add_argument("--quick", action="store_true", help="smaller ensembles (faster, slightly lower AUC)")
    d.add_argument("--no-serve", action="store_true", help="do not start the dashboard at the end")
    d.add_argument("--no-monitoring", action="store_true", help="no simulated batches and monitoring reports")
    d.add_argument("--no-compress", action="store_true", help="skip the compression study")
    d.add_argument(
        "--no-release", action="store_true", help="no registry, challenger, promotion and rollback"
    )
    d.add_argument(
        "--no-replay",
        action="store_true",
        help="no model server: the batches are not replayed through `workbench serve`",
    )
    d.set_defaults(func=run)


def run(args) -> int:
    """Run the main job (:func:`~workbench.demo.run_demo`), then serve its dashboards.

    Exit 3 when a report run, the release step or the serving step failed; no dashboard is served with
    ``--no-serve`` or ``--no-monitoring``.
    """
    from workbench.demo import run_demo

    result = run_demo(
        args.out,
        quick=args.quick,
        compress=not args.no_compress,
        monitoring=not args.no_monitoring,
        release=not args.no_release,
        serving=not args.no_replay,
    )
    if result.failed_runs:
        print(
            f"workbench: {len(result.failed_runs)} report run(s) of the demo failed: "
            + "; ".join(result.failed_runs),
            file=sys.stderr,
        )
    if result.failed_release:
        print(f"workbench: the demo's release step failed while {result.failed_release}", file=sys.stderr)
    if result.failed_serving:
        print(f"workbench: the demo's serving step failed while {result.failed_serving}", file=sys.stderr)
    if result.failed_runs or result.failed_release or result.failed_serving:
        return EXIT_FAILED
    if args.no_serve or args.no_monitoring:
        return EXIT_OK
    from workbench.dashboards.server import serve

    print("\nServing the dashboards over these runs (Ctrl-C stops it):")
    return serve(result.out / "reports", registry=result.registry)
