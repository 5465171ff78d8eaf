"""``workbench rollback``: move ``champion`` back to the previous champion in one step (a thin layer over
:func:`workbench.registry.audit.rollback`)."""

from __future__ import annotations

import json

from workbench.cli._common import add_registry_option
from workbench.exit_codes import EXIT_OK


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
    add_registry_option(r)
    r.add_argument("--json", action="store_true", help="print the audit record as JSON")
    r.set_defaults(func=run)


def run(args) -> int:
    """Roll the alias back; print the move; return the exit code."""
    from workbench.registry.audit import rollback

    record = rollback(args.name, alias=args.alias, by=args.by, reason=args.reason, registry=args.registry)
    if args.json:
        print(json.dumps(record.to_dict()))
    else:
        print(
            f"rolled back @{record.alias} of {record.name}: version {record.from_version} -> "
            f"version {record.to_version} (models:/{record.name}/{record.to_version})"
        )
    return EXIT_OK
