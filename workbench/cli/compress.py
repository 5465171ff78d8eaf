"""``workbench compress``: the compression study from the command line (a thin layer over
:func:`workbench.compression._study.compress_from_files`).

Registered by :mod:`workbench.cli` with :func:`add_parser`; exit codes follow
the CLI's: 0 ok, 2 bad input (one sentence on stderr), 3 the study failed.
Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from workbench.cli._common import add_model_options, flags
from workbench.errors import ParameterError
from workbench.metrics import COMPRESSION_METRICS

# kept in step with workbench.compression._techniques.TECHNIQUES (a test checks), so that building the
# parser stays light (workbench.metrics is light too)
TECHNIQUES = ("onnx", "quantization", "drop_trees", "capacity", "feature_pruning", "distillation")
METRICS = tuple(COMPRESSION_METRICS)
DEFAULT_MAX_LOSS = 0.005


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``compress`` command to `subparsers` (from ``parser.add_subparsers``)."""
    c = subparsers.add_parser(
        "compress",
        help="smaller, faster variants of a model within an accuracy budget",
        description="Try the compression techniques that apply to a saved model (ONNX export, int8 weights, "
        "dropping trees, capacity pruning, feature pruning, distillation), measure every variant "
        "side by side on held-out rows and save the fastest single-row variant within the budget "
        "as OUT/model.wbm (every variant under OUT/variants/, the study in OUT/compression.json).",
    )
    add_model_options(c)
    c.add_argument(
        "--data",
        required=True,
        help="labelled table (CSV or Parquet): rows to retrain on; 30%% are held out to judge the "
        "variants unless --validation is given",
    )
    c.add_argument(
        "--validation", help="labelled table to judge the variants on (then all of --data is for retraining)"
    )
    c.add_argument(
        "--max-auc-loss",
        type=float,
        dest="max_loss",
        metavar="X",
        help=f"largest allowed drop of ROC AUC below the original's (default {DEFAULT_MAX_LOSS})",
    )
    c.add_argument(
        "--max-loss",
        type=float,
        dest="max_loss",
        metavar="X",
        help="the same budget for --metric (for regression: the drop of R², or the rise of RMSE/MAE)",
    )
    c.add_argument(
        "--metric",
        choices=METRICS,
        help="the metric the budget is on (default: roc_auc for classifiers, r2 for regression)",
    )
    c.add_argument(
        "--technique",
        action="append",
        dest="techniques",
        choices=TECHNIQUES,
        metavar="NAME",
        help=f"only this technique (repeatable; default: all of {', '.join(TECHNIQUES)})",
    )
    c.add_argument(
        "--batch-threads",
        type=int,
        default=0,
        help="onnxruntime threads for batch predictions (default 0: one per core); single rows use one",
    )
    c.add_argument(
        "--quick", action="store_true", help="shorter timing and smaller samples (previews, tests)"
    )
    c.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    c.add_argument("--out", required=True, help="output folder (model.wbm, variants/, compression.json)")
    c.add_argument(
        "--json",
        action="store_true",
        help="print the study as JSON ('variants' with their figures and verdicts, 'chosen' with its path)",
    )
    c.set_defaults(func=run)
    return c


def run(args) -> int:
    """Run a compression study (``compress_from_files``) and print its table, or its dict with ``--json``."""
    from workbench.compression._study import compress_from_files

    if args.max_loss is not None and not (math.isfinite(args.max_loss) and args.max_loss >= 0):
        what = (
            f"--max-loss (the largest allowed drop of {args.metric})"
            if args.metric
            else "--max-auc-loss (the largest allowed drop of ROC AUC)"
        )
        raise ParameterError(f"{what} must be a finite number of 0 or more, not {args.max_loss:g}")
    max_loss = DEFAULT_MAX_LOSS if args.max_loss is None else args.max_loss
    result = compress_from_files(
        args.model,
        args.data,
        max_loss=max_loss,
        random_state=args.seed,
        trusted=args.trust,
        progress=not args.json,
        **flags(args, "out", "validation", "metric", "techniques", "batch_threads", "quick", "registry"),
    )
    if args.json:
        from workbench._json import json_default

        print(json.dumps(result.to_dict(), default=json_default))
        return 0
    print(result.table_text())
    for line in result.findings()[1:]:
        print(f"  - {line}")
    print(f"\nchosen: {result.chosen} -> {result.chosen_path}")
    print(f"  {result.reason}")
    sys.stdout.flush()
    return 0
