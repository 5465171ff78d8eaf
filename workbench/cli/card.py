"""``workbench card``: write a model's card from stored results (a thin layer over
:func:`workbench.releases.card.write_model_card`)."""

from __future__ import annotations

from workbench.cli._common import add_output_options, print_result


def add_parser(sub) -> None:
    """Add ``card`` to the subcommands."""
    p = sub.add_parser(
        "card",
        help="write a model card (HTML and Markdown) from stored results",
        description="Write the model card of a model file or a registered model (models:/NAME/VERSION, "
        "models:/NAME@ALIAS): details, training data, metrics, fairness by group with intervals, global "
        "explanations, lineage, the latest monitoring runs and their checks, the release history. Built "
        "only from what is stored (the model's meta.json, the registry, the runs under --reports-dir); "
        "what is not on record is said so. Intended use and limits come from a YAML file (--info); without "
        "one, a template to fill is written next to the card.",
    )
    p.add_argument("model", metavar="MODEL", help="a model file or a models:/ URI")
    p.add_argument(
        "--out",
        metavar="DIR",
        help="the folder to write model_card.html and model_card.md into (default for a registered "
        "model: REPORTS_DIR/cards/NAME/VERSION, where the dashboard's Models page links to it)",
    )
    p.add_argument(
        "--reports-dir",
        default="reports",
        metavar="DIR",
        help="the reports directory whose runs for this model the card includes (default ./reports)",
    )
    p.add_argument("--info", metavar="YAML", help="intended use and limits, as a filled template")
    add_output_options(p, run, json="the card", registry=True)


def run(args) -> int:
    """Write the model card; print where; return the exit code."""
    from workbench.releases.card import write_model_card

    card = write_model_card(
        args.model, args.out, reports_dir=args.reports_dir, registry=args.registry, card_info=args.info
    )
    return print_result(args, card.to_dict(), card.text)
