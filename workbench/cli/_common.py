"""What the command modules share: the parser class and the checks of common options (all light)."""

from __future__ import annotations

import argparse

from workbench.errors import ParameterError
from workbench.exit_codes import EXIT_BAD_INPUT
from workbench.validation import check_number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own code for usage errors)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _cost(args):
    if args.cost_fn is None and args.cost_fp is None:
        return None
    cost = {
        "fn": 1.0 if args.cost_fn is None else args.cost_fn,
        "fp": 1.0 if args.cost_fp is None else args.cost_fp,
    }
    for key, value in cost.items():
        check_number(value, f"--cost-{key}", low=0)
    if cost["fn"] == 0 and cost["fp"] == 0:
        raise ParameterError("--cost-fn and --cost-fp cannot both be 0: nothing would have a cost")
    return cost


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"


def add_model_option(parser) -> None:
    """``--model MODEL`` (a file, folder or ``models:/`` URI) and the ``--registry`` it is looked up in."""
    parser.add_argument(
        "--model", required=True, help="a workbench model (file or folder, or models:/NAME@ALIAS)"
    )
    add_registry_option(parser)


def add_registry_option(parser) -> None:
    """``--registry URI`` on a command that takes a model (a ``models:/`` URI is looked up there)."""
    parser.add_argument(
        "--registry",
        metavar="URI",
        help="the model registry: a folder, a .db file or an MLflow tracking URI (default: "
        "WORKBENCH_REGISTRY, else MLFLOW_TRACKING_URI, else ./workbench-work/registry)",
    )
