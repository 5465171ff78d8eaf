"""``workbench labels join``: labels that arrived later joined into the prediction log by record id (a thin
layer over :func:`workbench.serving.labels.join_labels`)."""

from __future__ import annotations

from workbench.cli._common import add_group, add_output_options, print_result


def add_parser(sub) -> None:
    """Add ``labels`` and its ``join`` action to the subcommands."""
    actions = add_group(
        sub,
        "labels",
        help="join labels that arrived later into the prediction log",
        description="Work with the labels of logged predictions.",
        dest="labels_action",
        metavar="ACTION",
        what="an action: join",
    )
    j = actions.add_parser(
        "join",
        help="join labels into the log by record id",
        description="Join a table of labels into a prediction log by the records' ids. The log's segments "
        "are never rewritten: the labels are added as a side table the reports read (or, with --out, "
        "a labelled copy of the log is written). Then `report performance` and `report compare` on the "
        "log measure instead of estimating.",
    )
    j.add_argument("--log", required=True, metavar="DIR", help="the prediction log folder")
    j.add_argument("--labels", required=True, metavar="PATH", help="the labels table (CSV or Parquet)")
    j.add_argument("--id", required=True, metavar="COL", help="the labels' column of record ids")
    j.add_argument("--target", metavar="COL", help="the label column (default: the one column besides --id)")
    j.add_argument("--out", metavar="DIR", help="write a labelled copy here and leave the log as it is")
    add_output_options(j, run, json="the counts")


def run(args) -> int:
    """Join the labels; print what matched; return the exit code."""
    from workbench.serving.labels import join_labels

    result = join_labels(args.log, args.labels, id_column=args.id, target=args.target, out=args.out)
    return print_result(args, result.to_dict(), result.summary)
