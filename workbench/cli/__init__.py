"""The ``workbench`` command: a thin layer over the Python API, one module per command.

Each command module has ``add_parser(subparsers)`` and ``run(args) -> int``.
Exit codes (:mod:`workbench.exit_codes`): 0 ok, 1 a check failed (when asked
to fail on it), 2 bad input (one sentence on stderr, no traceback), 3 the work
itself failed (the traceback is written to a log file whose path is printed).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import traceback
from collections.abc import Sequence

from workbench.cli._common import _Parser, name_one
from workbench.errors import WorkbenchError
from workbench.exit_codes import EXIT_BAD_INPUT, EXIT_CHECK_FAILED, EXIT_FAILED, EXIT_OK

__all__ = ["main", "build_parser", "EXIT_OK", "EXIT_CHECK_FAILED", "EXIT_BAD_INPUT", "EXIT_FAILED"]

# in the order `workbench --help` lists them
COMMANDS = (
    "train",
    "evaluate",
    "report",
    "runs",
    "compress",
    "mitigate",
    "registry",
    "promote",
    "rollback",
    "approve",
    "retrain",
    "card",
    "serve",
    "labels",
    "dashboard",
    "demo",
)


def build_parser() -> argparse.ArgumentParser:
    """The ``workbench`` argument parser with every command of :data:`COMMANDS` added."""
    p = _Parser(
        prog="workbench", description="Train, compress, explain, evaluate and monitor scikit-learn models."
    )
    p.add_argument("--version", action="version", version=f"workbench {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"workbench.cli.{name}").add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``workbench`` command with `argv` (default: ``sys.argv[1:]``) and return its exit code.

    A :class:`~workbench.errors.WorkbenchError` becomes one line on stderr and
    exit 2; any other exception exit 3, with the traceback written to a log file
    whose path is printed; Ctrl-C exit 130.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        return name_one(parser, "workbench", "a command (see workbench --help)")
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:  # `workbench runs | head`: the reader has what it wanted
        _silence_stdout()
        return EXIT_OK
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the work itself failed: record it, say where
        log = _record_failure(args.command)
        print(
            f"workbench: the {args.command} failed: {type(exc).__name__}: {_first_line(exc)} "
            f"(details in {log})",
            file=sys.stderr,
        )
        return EXIT_FAILED


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so that Python's exit flush prints nothing."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _record_failure(command: str | None) -> str:
    fd, path = tempfile.mkstemp(prefix=f"workbench-{command or 'error'}-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(traceback.format_exc())
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _version() -> str:
    from workbench import __version__

    return __version__
