"""``workbench registry register|list|show|history``: the model registry (each a thin layer over one call of
:mod:`workbench.registry`)."""

from __future__ import annotations

import json
import sys

from workbench.cli._common import _Parser, add_registry_option
from workbench.exit_codes import EXIT_BAD_INPUT, EXIT_OK


def add_parser(sub) -> None:
    """Add ``registry register|list|show|history`` to the subcommands."""
    r = sub.add_parser(
        "registry",
        help="register models; list, show and trace versions and aliases (MLflow Model Registry)",
        description="The model registry (MLflow's Model Registry; an embedded SQLite store by default).",
    )
    r.set_defaults(func=lambda args: _no_action(r))
    rsub = r.add_subparsers(dest="registry_action", metavar="ACTION", parser_class=_Parser)
    reg = rsub.add_parser(
        "register",
        help="register a saved model as a new version",
        description="Register a workbench model (file or folder) as a new version of NAME, stored "
        "unchanged; each --alias move is recorded in the model's history.",
    )
    reg.add_argument("path", metavar="PATH", help="a workbench model (file or folder)")
    reg.add_argument("--name", required=True, help="the registered model's name, e.g. credit")
    reg.add_argument(
        "--alias", action="append", default=[], metavar="A", help="point this alias at it (repeatable)"
    )
    reg.add_argument("--description", help="a description of this version")
    reg.add_argument("--by", metavar="PERSON", help="who registers it (alias records; default: the OS user)")
    reg.set_defaults(func=run_register)
    ls = rsub.add_parser("list", help="every registered model", description="List the registered models.")
    ls.set_defaults(func=run_list)
    show = rsub.add_parser(
        "show",
        help="one model: versions, aliases, tags, pending releases",
        description="Show a registered model: its versions, aliases, tags, pending releases, latest moves.",
    )
    show.add_argument("name", metavar="NAME")
    show.set_defaults(func=run_show)
    hist = rsub.add_parser(
        "history",
        help="every alias move of a model, oldest first",
        description="The audit records of a model: every alias move (and pending request), oldest first.",
    )
    hist.add_argument("name", metavar="NAME")
    hist.set_defaults(func=run_history)
    for p in (reg, ls, show, hist):
        add_registry_option(p)
        p.add_argument("--json", action="store_true", help="print JSON")


def _no_action(parser) -> int:
    parser.print_usage(sys.stderr)
    print("workbench registry: error: name an action: register, list, show or history", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_register(args) -> int:
    """Run ``workbench registry register``; print the new version; return the exit code."""
    from workbench.registry.versions import register_model

    version = register_model(
        args.path,
        args.name,
        aliases=args.alias,
        by=args.by,
        description=args.description,
        registry=args.registry,
    )
    if args.json:
        print(json.dumps(version.to_dict()))
    else:
        aliases = "".join(f" @{a}" for a in version.aliases)
        print(f"registered {version.uri}{aliases} (version {version.version} of {version.name})")
    return EXIT_OK


def run_list(args) -> int:
    """Run ``workbench registry list``; return the exit code."""
    from workbench.registry.catalog import list_models

    models = list_models(registry=args.registry)
    if args.json:
        print(json.dumps([m.to_dict() for m in models]))
    elif not models:
        print("no models registered yet — run `workbench registry register PATH --name NAME`")
    else:
        for m in models:
            print(m.text())
    return EXIT_OK


def run_show(args) -> int:
    """Run ``workbench registry show NAME``; return the exit code."""
    from workbench.registry.catalog import describe_model

    model = describe_model(args.name, registry=args.registry)
    print(json.dumps(model.to_dict()) if args.json else model.text())
    return EXIT_OK


def run_history(args) -> int:
    """Run ``workbench registry history NAME``; return the exit code."""
    from workbench.registry.audit import history

    records = history(args.name, registry=args.registry)
    if args.json:
        print(json.dumps([r.to_dict() for r in records]))
    elif not records:
        print(f"no alias moves recorded for '{args.name}' yet")
    else:
        for r in records:
            print(r.text())
    return EXIT_OK
