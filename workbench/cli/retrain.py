"""``workbench retrain``: the champion's recipe re-trained on a new window, registered as the challenger and
compared with the champion (a thin layer over :func:`workbench.releases.retrain.retrain`).

Exit 0 when the challenger is registered and its comparison filed (whatever the verdict: ``promote`` is the
gate), 2 on bad input (an unknown model, no champion, a window without labels or the model's columns).
"""

from __future__ import annotations

from workbench.cli._common import add_comparison_options, add_output_options, flags, print_result
from workbench.validation import check_number


def add_parser(sub) -> None:
    """Add ``retrain`` to the subcommands."""
    p = sub.add_parser(
        "retrain",
        help="retrain the champion's recipe on a new window, register it as the challenger and compare",
        description="Train the recipe of NAME's champion again, with the options it was trained with, on a "
        "new labelled window; register it with lineage to the champion, point @challenger at it and compare "
        "it with the champion (on --validation, else a held-out part of the window), filing the comparison "
        "as a compare run.",
    )
    p.add_argument("name", metavar="NAME", help="the registered model (its @champion is retrained)")
    p.add_argument("--data", required=True, metavar="WINDOW", help="the new labelled window (CSV or Parquet)")
    p.add_argument(
        "--validation",
        metavar="PATH",
        help="the labelled window to compare on (default: 30%% of --data, held out from training)",
    )
    p.add_argument("--quick", action="store_true", help="smaller ensembles (previews, tests)")
    add_comparison_options(p, "who retrains")
    add_output_options(p, run, json="the result")


def run(args) -> int:
    """Retrain, register, compare; print the new version and the verdict."""
    from workbench.releases.retrain import retrain

    check_number(args.n_bootstrap, "--n-bootstrap", low=10, integer=True)
    options = ("validation", "sensitive", "registry", "reports_dir", "checks", "quick", "by", "n_bootstrap")
    result = retrain(args.name, args.data, **flags(args, *options))
    return print_result(args, result.to_dict(), result.text)
