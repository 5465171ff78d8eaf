"""``workbench mitigate``: reduce a model's unfairness with fairlearn's methods (a thin layer over
:func:`workbench.fairness.mitigate_from_files`).

Exit codes follow the CLI's: 0 a model within the budget was found (and saved
with ``--out`` unless it is the original), 1 no model meets the budget
(nothing saved), 2 bad input (one sentence on stderr), 3 the work failed.
"""

from __future__ import annotations

from workbench.cli._common import _cost, add_model_options, add_output_options, flags, print_result
from workbench.exit_codes import EXIT_CHECK_FAILED, EXIT_OK
from workbench.validation import check_number

# kept in step with workbench.fairness.CONSTRAINTS and METHODS (a test checks), so that building the
# parser stays light
CONSTRAINTS = ("equalized_odds", "demographic_parity", "true_positive_rate_parity")
METHODS = (
    "reweighing",
    "correlation_remover",
    "exponentiated_gradient",
    "grid_search",
    "threshold_optimizer",
)


def add_parser(sub) -> None:
    """Add the ``mitigate`` command to `sub` (from ``parser.add_subparsers``)."""
    m = sub.add_parser(
        "mitigate",
        help="reduce a model's unfairness with fairlearn and pick a model within a disparity budget",
        description="Refit the model's recipe with fairlearn's mitigations (reweighing, CorrelationRemover, "
        "ExponentiatedGradient, GridSearch, ThresholdOptimizer), judge every model on one validation set "
        "(accuracy, ROC AUC, cost, every disparity with its interval) and save the most accurate one "
        "whose disparity is within --max-disparity. ThresholdOptimizer and CorrelationRemover need the "
        "sensitive column at prediction time. Exit 1 when no model meets the budget.",
    )
    add_model_options(m, trust=False)
    m.add_argument("--sensitive", required=True, metavar="COL", help="the sensitive column (e.g. sex)")
    m.add_argument("--data", required=True, help="labelled table (CSV or Parquet) with the sensitive column")
    m.add_argument("--validation", help="labelled table to judge the models on (default: 30%% of --data)")
    m.add_argument(
        "--constraint",
        default="equalized_odds",
        choices=CONSTRAINTS,
        help="what the in- and post-processing methods enforce, and whose disparity the budget limits "
        "(default equalized_odds)",
    )
    m.add_argument(
        "--method",
        action="append",
        dest="methods",
        choices=METHODS,
        help="a method to try (repeatable; default all)",
    )
    m.add_argument(
        "--max-disparity",
        type=float,
        default=0.05,
        metavar="X",
        help="the budget: the largest disparity of the chosen model (default 0.05)",
    )
    m.add_argument("--min-group-size", type=int, default=30, help="rows (and positives) a group needs")
    m.add_argument("--cost-fn", type=float, help="cost of a missed positive")
    m.add_argument("--cost-fp", type=float, help="cost of a false alarm")
    m.add_argument("--out", required=True, help="where to save the chosen model (file or folder)")
    m.add_argument("--overwrite", action="store_true", help="replace a workbench model at --out")
    m.add_argument("--quick", action="store_true", help="smaller models and fewer iterations (a preview)")
    m.add_argument("--seed", type=int, default=0, help="random seed")
    add_output_options(m, run, json="the result")


def run(args) -> int:
    """Run ``mitigate_from_files``; print the frontier (or JSON); exit 1 when nothing meets the budget."""
    from workbench.fairness import mitigate_from_files

    check_number(args.max_disparity, "--max-disparity", low=0, high=1)
    check_number(args.min_group_size, "--min-group-size", low=1, integer=True)
    passed = ("validation", "sensitive", "constraint", "methods", "max_disparity", "min_group_size", "out")
    result = mitigate_from_files(
        args.model,
        args.data,
        cost=_cost(args),
        overwrite=args.overwrite,
        quick=args.quick,
        random_state=args.seed,
        progress=not args.json,
        registry=args.registry,
        **flags(args, *passed),
    )
    saved = f"\nsaved: {result.saved_path}" if result.saved_path else ""
    print_result(args, result.to_dict(), lambda: result.text() + saved)
    return EXIT_OK if result.chosen is not None else EXIT_CHECK_FAILED
