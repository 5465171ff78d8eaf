"""``workbench promote``: the release gate (a thin layer over :func:`workbench.releases.promote.promote`).

Exit 0 when the version became the champion (or waits for approval), 1 when a
``release.*`` gate failed (the failed checks are named), 2 on bad input.
"""

from __future__ import annotations

from workbench.cli._common import add_comparison_options, add_output_options, flags, print_result
from workbench.exit_codes import EXIT_CHECK_FAILED, EXIT_OK


def add_parser(sub) -> None:
    """Add ``promote`` to the subcommands."""
    p = sub.add_parser(
        "promote",
        help="compare a version with the champion and promote it if every release check passes",
        description="Compare VERSION of NAME with its champion on a labelled window (paired statistics, "
        "fairness by group, latency, size) and move the champion alias only if every gating release.* "
        "check passes; exit 1 naming the failed checks otherwise. Every move is recorded.",
    )
    p.add_argument("name", metavar="NAME", help="the registered model")
    p.add_argument("--version", required=True, help="the candidate version")
    p.add_argument("--data", required=True, metavar="WINDOW", help="a labelled window (CSV or Parquet)")
    p.add_argument("--force", action="store_true", help="promote even if a gate fails (needs --reason)")
    p.add_argument("--reason", metavar="TEXT", help="why (recorded with the move)")
    p.add_argument(
        "--require-approval",
        action="store_true",
        help="leave the release pending until `workbench approve` (human sign-off)",
    )
    add_comparison_options(p, "who decides")
    add_output_options(p, run, json="the decision")


def run(args) -> int:
    """Run the gate; print the decision; exit 1 when a gate failed and nothing moved."""
    from workbench.releases.promote import promote

    result = promote(
        args.name,
        args.version,
        args.data,
        **flags(
            args,
            "sensitive",
            "checks",
            "force",
            "reason",
            "require_approval",
            "by",
            "registry",
            "reports_dir",
            "n_bootstrap",
        ),
    )
    comparison = f"\ncomparison run: {result.comparison_path}" if result.comparison_path else ""
    print_result(args, result.to_dict(), result.sentence + comparison)
    return EXIT_OK if result.passed else EXIT_CHECK_FAILED
