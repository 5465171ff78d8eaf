"""``workbench approve``: approve a release left pending by ``promote --require-approval`` (a thin layer over
:func:`workbench.registry.approvals.approve`)."""

from __future__ import annotations

from workbench.cli._common import add_output_options, print_result


def add_parser(sub) -> None:
    """Add ``approve`` to the subcommands."""
    a = sub.add_parser(
        "approve",
        help="approve a pending release: move its alias (human sign-off)",
        description="Approve the pending release of a version: its alias (champion) moves to it, "
        "recorded with who approved and who asked.",
    )
    a.add_argument("name", metavar="NAME", help="the registered model")
    a.add_argument("--version", required=True, help="the pending version to approve")
    a.add_argument("--by", required=True, metavar="PERSON", help="who approves (recorded)")
    add_output_options(a, run, json="the audit record", registry=True)


def run(args) -> int:
    """Approve the pending release; print the move; return the exit code."""
    from workbench.registry.approvals import approve

    record = approve(args.name, args.version, by=args.by, registry=args.registry)
    before = "nothing" if record.from_version is None else f"version {record.from_version}"
    return print_result(
        args,
        record.to_dict(),
        f"approved: @{record.alias} of {record.name} moved from {before} to version "
        f"{record.to_version} (approved by {record.by}, requested by {record.requested_by})",
    )
