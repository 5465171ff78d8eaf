"""``workbench registry register|list|show|history``: the model registry (each a thin layer over one call of
:mod:`workbench.registry`)."""

from __future__ import annotations

from workbench.cli._common import add_group, add_output_options, print_records, print_result


def add_parser(sub) -> None:
    """Add ``registry register|list|show|history`` to the subcommands."""
    rsub = add_group(
        sub,
        "registry",
        help="register models; list, show and trace versions and aliases (MLflow Model Registry)",
        description="The model registry (MLflow's Model Registry; an embedded SQLite store by default).",
        dest="registry_action",
        metavar="ACTION",
        what="an action: register, list, show or history",
    )
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
    ls = rsub.add_parser("list", help="every registered model", description="List the registered models.")
    show = rsub.add_parser(
        "show",
        help="one model: versions, aliases, tags, pending releases",
        description="Show a registered model: its versions, aliases, tags, pending releases, latest moves.",
    )
    show.add_argument("name", metavar="NAME")
    hist = rsub.add_parser(
        "history",
        help="every alias move of a model, oldest first",
        description="The audit records of a model: every alias move (and pending request), oldest first.",
    )
    hist.add_argument("name", metavar="NAME")
    for p, run in ((reg, run_register), (ls, run_list), (show, run_show), (hist, run_history)):
        add_output_options(p, run, json="the result", registry=True)


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
    aliases = "".join(f" @{a}" for a in version.aliases)
    return print_result(
        args,
        version.to_dict(),
        f"registered {version.uri}{aliases} (version {version.version} of {version.name})",
    )


def run_list(args) -> int:
    """Run ``workbench registry list``; return the exit code."""
    from workbench.registry.catalog import list_models

    return print_records(
        args,
        list_models(registry=args.registry),
        empty="no models registered yet — run `workbench registry register PATH --name NAME`",
    )


def run_show(args) -> int:
    """Run ``workbench registry show NAME``; return the exit code."""
    from workbench.registry.catalog import describe_model

    model = describe_model(args.name, registry=args.registry)
    return print_result(args, model.to_dict(), model.text)


def run_history(args) -> int:
    """Run ``workbench registry history NAME``; return the exit code."""
    from workbench.registry.audit import history

    records = history(args.name, registry=args.registry)
    return print_records(args, records, empty=f"no alias moves recorded for '{args.name}' yet")
