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


def add_action_group(sub, name: str, *, help: str, description: str, actions: str):
    """A command made of actions (``workbench NAME ACTION``): its parser and its actions' subparsers.

    The command alone prints its usage and says which `actions` there are (exit 2).
    """
    import sys

    parser = sub.add_parser(name, help=help, description=description)

    def no_action(args) -> int:
        parser.print_usage(sys.stderr)
        print(f"workbench {name}: error: name an action: {actions}", file=sys.stderr)
        return EXIT_BAD_INPUT

    parser.set_defaults(func=no_action)
    return parser, parser.add_subparsers(dest=f"{name}_action", metavar="ACTION", parser_class=_Parser)


def add_registry_option(parser) -> None:
    """``--registry URI`` on a command that takes a model (a ``models:/`` URI is looked up there)."""
    parser.add_argument(
        "--registry",
        metavar="URI",
        help="the model registry: a folder, a .db file or an MLflow tracking URI (default: "
        "WORKBENCH_REGISTRY, else MLFLOW_TRACKING_URI, else ./workbench-work/registry)",
    )


def add_comparison_options(parser, by: str) -> None:
    """The options of a command that compares a version with the champion (``promote``, ``retrain``).

    ``--sensitive``, ``--checks``, ``--by`` (helped as `by`), ``--n-bootstrap``, ``--registry`` and
    ``--reports-dir`` (where the comparison is filed as a ``compare`` run).
    """
    parser.add_argument(
        "--sensitive", action="append", default=[], metavar="COL", help="compare fairness by this column"
    )
    parser.add_argument("--checks", metavar="FILE", help="check thresholds (TOML, YAML or JSON)")
    parser.add_argument("--by", metavar="PERSON", help=f"{by} (default: the OS user)")
    parser.add_argument("--n-bootstrap", type=int, default=1000, help="bootstrap resamples (default 1000)")
    add_registry_option(parser)
    parser.add_argument(  # the same flag and default as every command that writes or reads runs
        "--reports-dir",
        default="reports",
        metavar="DIR",
        help="where the comparison is filed as a compare run (default ./reports)",
    )
