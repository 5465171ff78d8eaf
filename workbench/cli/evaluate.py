"""``workbench evaluate``: evaluate a saved model on a labelled table (a thin layer over
:func:`workbench.modeling.evaluate.evaluate_from_files`)."""

from __future__ import annotations

import json

from workbench.cli._common import _cost, _f, add_cost_options, add_model_options, flags
from workbench.exit_codes import EXIT_OK


def add_parser(sub) -> None:
    """Add the ``evaluate`` command to `sub` (from ``parser.add_subparsers``)."""
    e = sub.add_parser(
        "evaluate",
        help="evaluate a saved model on a labelled table",
        description="Evaluate a saved model on a table that holds the target column.",
    )
    add_model_options(e)
    e.add_argument("--data", required=True, help="labelled table (CSV or Parquet)")
    e.add_argument("--threshold", type=float, help="decision threshold (binary; default: the model's)")
    e.add_argument(
        "--slice",
        action="append",
        dest="slices",
        metavar="COL",
        help="column to slice metrics by (repeatable; default: sensitive and categorical columns)",
    )
    add_cost_options(e)
    e.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    e.add_argument(
        "--json", action="store_true", help="print the evaluation as JSON (has a 'metrics' mapping)"
    )
    e.set_defaults(func=run)


def run(args) -> int:
    """Evaluate a saved model (``evaluate_from_files``) and print the metrics, or the dict with ``--json``."""
    from workbench._json import json_default
    from workbench.modeling.evaluate import evaluate_from_files

    result = evaluate_from_files(
        args.model,
        args.data,
        cost=_cost(args),
        latency=not args.no_latency,
        trusted=args.trust,
        **flags(args, "threshold", "slices", "registry"),
    )
    if args.json:
        print(json.dumps(result.to_dict(), default=json_default))
        return EXIT_OK
    print(
        f"{result.model_name} ({result.task}) on {result.n_rows:,} rows"
        + (f", threshold {result.threshold:.3g}" if result.threshold is not None else "")
    )
    for k, v in result.metrics.items():
        if v is not None:
            print(f"  {k:<24} {v:.4f}" if isinstance(v, float) else f"  {k:<24} {v}")
    if result.latency:
        lat = result.latency
        print(
            f"  latency p50/p95          {lat['p50_us']:.0f} / {lat['p95_us']:.0f} µs per row; "
            f"{lat['throughput_rows_s']:,.0f} rows/s in batches"
        )
    judged = [s for s in result.slices if not s["too_small"]][:5]
    if judged:
        print(f"weakest slices by {result.slice_metric}:")
        for s in judged:
            print(
                f"  {s['column']} = {s['value']:<28} n={s['count']:<7} "
                f"{result.slice_metric}={_f(s.get(result.slice_metric))}"
            )
    return EXIT_OK
