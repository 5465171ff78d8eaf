"""What the command modules share: the parser class, the common options and their checks, and how a
result is printed (all light)."""

from __future__ import annotations

import argparse
import json as json_module
import sys
from collections.abc import Callable, Sequence

from workbench.errors import ParameterError
from workbench.exit_codes import EXIT_BAD_INPUT, EXIT_OK
from workbench.validation import check_number


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own code for usage errors)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def add_cost_options(parser) -> None:
    """``--cost-fn`` and ``--cost-fp``: a binary model's cost matrix (read by :func:`_cost`)."""
    parser.add_argument("--cost-fn", type=float, help="cost of a missed positive (false negative)")
    parser.add_argument("--cost-fp", type=float, help="cost of a false alarm (false positive)")


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


def flags(args, *names: str) -> dict:
    """The options `names` as keyword arguments (a flag named as the API's parameter is passed as it is)."""
    return {name: getattr(args, name) for name in names}


def add_sensitive_option(parser, help: str) -> None:
    """``--sensitive COL``, repeatable: the sensitive columns (into ``args.sensitive``, a list)."""
    parser.add_argument("--sensitive", **sensitive_option(help))


def sensitive_option(help: str) -> dict:
    """The ``add_argument`` keywords of ``--sensitive COL`` (repeatable, into a list), helped as `help`."""
    return {"action": "append", "default": [], "metavar": "COL", "help": help}


def add_model_options(parser, *, trust: bool = True) -> None:
    """``--model`` (a file, a folder or a ``models:/`` URI), the ``--registry`` it is looked up in, and (with
    `trust`) the types to ``--trust`` when loading it."""
    parser.add_argument(
        "--model", required=True, help="a workbench model (file or folder, or models:/NAME@ALIAS)"
    )
    add_registry_option(parser)
    if trust:
        parser.add_argument(
            "--trust",
            action="append",
            default=[],
            metavar="TYPE",
            help="trust this type when loading the model (only for files you trust)",
        )


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
    add_sensitive_option(parser, "compare fairness by this column")
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


def add_group(sub, name: str, *, help: str, description: str, dest: str, metavar: str, what: str):
    """Add command `name` whose work is done by its own subcommands; return their ``add_subparsers``.

    Without a subcommand it prints its usage and ``workbench NAME: error: name WHAT`` (exit 2); a
    subcommand's own ``func`` default replaces that.
    """
    group = sub.add_parser(name, help=help, description=description)
    group.set_defaults(func=lambda args: name_one(group, f"workbench {name}", what))
    return group.add_subparsers(dest=dest, metavar=metavar, parser_class=_Parser)


def name_one(parser, prog: str, what: str) -> int:
    """The usage of `parser` and ``PROG: error: name WHAT`` on stderr; return exit 2 (nothing was chosen)."""
    parser.print_usage(sys.stderr)
    print(f"{prog}: error: name {what}", file=sys.stderr)
    return EXIT_BAD_INPUT


def add_output_options(parser, run, *, json: str | None = None, registry: bool = False) -> None:
    """End a command's options: ``--registry`` (with `registry`), ``--json`` printing `json` (when given),
    and `run` as the function the command runs."""
    if registry:
        add_registry_option(parser)
    if json is not None:
        parser.add_argument("--json", action="store_true", help=f"print {json} as JSON")
    parser.set_defaults(func=run)


def print_result(args, data, text: str | Callable[[], str]) -> int:
    """Print `data` as one line of JSON with ``--json``, else `text` (or what it returns); exit 0."""
    from workbench._json import json_default

    print(json_module.dumps(data, default=json_default) if args.json else text() if callable(text) else text)
    return EXIT_OK


def print_records(args, records: Sequence, *, empty: str) -> int:
    """Print `records` (each with ``to_dict`` and ``text``): JSON with ``--json``, else their lines."""
    if args.json:
        return print_result(args, [r.to_dict() for r in records], "")
    print("\n".join(r.text() for r in records) if records else empty)
    return EXIT_OK
