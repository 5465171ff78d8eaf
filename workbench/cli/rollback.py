"""``workbench rollback``: move ``champion`` back to the previous champion in one step (a thin layer over
:func:`workbench.registry.audit.rollback`)."""

from __future__ import annotations

from workbench.cli._common import add_output_options, print_result


def add_parser(sub) -> None:
    """Add ``rollback`` to the subcommands."""
    r = sub.add_parser(
        "rollback",
        help="move the champion alias back to the previous champion",
        description="Move an alias (default champion) of a registered model back to the version it "
        "pointed at before its last move, as the model's history records it; the rollback is recorded too.",
    )
    r.add_argument("name", metavar="NAME", help="the registered model")
    r.add_argument("--alias", default="champion", help="the alias to roll back (default champion)")
    r.add_argument("--reason", help="why (recorded with the move)")
    r.add_argument("--by", metavar="PERSON", help="who decided (default: the OS user)")
    add_output_options(r, run, json="the audit record", registry=True)


def run(args) -> int:
    """Roll the alias back; print the move; return the exit code."""
    from workbench.registry.audit import rollback

    record = rollback(args.name, alias=args.alias, by=args.by, reason=args.reason, registry=args.registry)
    return print_result(
        args,
        record.to_dict(),
        f"rolled back @{record.alias} of {record.name}: version {record.from_version} -> "
        f"version {record.to_version} (models:/{record.name}/{record.to_version})",
    )
