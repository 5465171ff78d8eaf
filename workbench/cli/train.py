"""``workbench train``: train candidate models, print the leaderboard, save the champion
(a thin layer over :func:`workbench.modeling.train.train_from_files`)."""

from __future__ import annotations

from pathlib import Path

from workbench.cli._common import (
    _cost,
    add_cost_options,
    add_output_options,
    add_sensitive_option,
    flags,
    print_result,
)
from workbench.errors import ParameterError
from workbench.validation import check_number

#: the options :func:`train_from_files` takes under their own names
PASSED_ON = (
    "out",
    "validation",
    "sensitive",
    "task",
    "positive",
    "drop",
    "recipes",
    "imbalance",
    "search",
    "n_iter",
    "quick",
)


def add_parser(sub) -> None:
    """Add the ``train`` command to `sub` (from ``parser.add_subparsers``)."""
    t = sub.add_parser(
        "train",
        help="train candidate models, print the leaderboard, save the champion",
        description="Train candidate pipelines on a table, print the leaderboard and save the champion.",
    )
    t.add_argument("--data", required=True, help="training table (CSV or Parquet)")
    t.add_argument("--target", required=True, help="the column to predict")
    add_sensitive_option(
        t,
        "a sensitive attribute (repeatable) for the fairness analyses; it stays a model "
        "feature unless --sensitive-not-feature",
    )
    t.add_argument(
        "--sensitive-not-feature",
        action="store_true",
        help="leave the sensitive attributes out of the model's features (kept in the spec for the "
        "bias report, which then needs them in its data but the model never reads them)",
    )
    t.add_argument(
        "--model",
        action="append",
        dest="recipes",
        metavar="RECIPE",
        help="recipe to train (repeatable): logistic_regression, ridge, random_forest, "
        "hist_gradient_boosting; default: one per family",
    )
    t.add_argument(
        "--positive", help="the positive class of a binary target (default: 1/yes-like, else the minority)"
    )
    t.add_argument(
        "--task", choices=["binary", "multiclass", "regression"], help="override the inferred task"
    )
    t.add_argument(
        "--drop", action="append", default=[], metavar="COL", help="a column not to use as a feature"
    )
    t.add_argument(
        "--imbalance",
        default="none",
        choices=["none", "class_weight", "smote", "threshold"],
        help="imbalance strategy (threshold: tune the decision threshold for the cost matrix)",
    )
    add_cost_options(t)
    t.add_argument("--search", action="store_true", help="randomised hyperparameter search (3-fold CV)")
    t.add_argument("--n-iter", type=int, default=8, help="settings tried per recipe by --search (default 8)")
    t.add_argument("--validation", help="held-out table for the leaderboard (default: 20%% of --data)")
    t.add_argument("--quick", action="store_true", help="smaller ensembles (previews, tests)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument(
        "--out", required=True, help="where to save the champion (file like champion.wbm, or a folder)"
    )
    t.add_argument("--force", action="store_true", help="replace an existing model at --out")
    add_output_options(t, run, json="the training result")


def run(args) -> int:
    """Train and save the champion (``train_from_files``); print the leaderboard (``--json``: the dict)."""
    from workbench.modeling.train import train_from_files

    # the options' own checks, named as flags, before any work (the API checks them again by their names)
    check_number(args.seed, "--seed", low=0, high=2**32 - 1, integer=True)
    check_number(args.n_iter, "--n-iter", low=1, integer=True, hint="settings tried per recipe")
    cost = _cost(args)
    if Path(args.out).exists() and not args.force:
        raise ParameterError(
            f"'{args.out}' already exists; pass --force to replace it or choose another --out"
        )
    result, path = train_from_files(
        args.data,
        args.target,
        sensitive_as_features=not args.sensitive_not_feature,
        cost=cost,
        random_state=args.seed,
        overwrite=args.force,
        progress=not args.json,
        **flags(args, *PASSED_ON),
    )
    return print_result(args, {**result.to_dict(), "model_path": str(path)}, lambda: _text(result, path))


def _text(result, path: Path) -> str:
    """The notes, the leaderboard and where the champion was saved."""
    spec = result.spec
    notes = [f"note: {note}" for note in result.notes]
    as_features = [c for c in spec.sensitive if c in spec.features]
    if as_features:
        notes.append(
            f"note: the sensitive column(s) {', '.join(as_features)} are also model features; "
            "--sensitive-not-feature leaves them out"
        )
    return "\n".join(
        [*notes, result.leaderboard_text(), f"\nchampion: {result.champion_name} -> saved to {path}"]
    )
