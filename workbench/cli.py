"""The ``workbench`` command: a thin layer over the Python API.

Exit codes: 0 ok, 1 a check failed (when asked to fail on it), 2 bad input
(one sentence on stderr, no traceback), 3 the work itself failed (the
traceback is written to a log file whose path is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from workbench.errors import WorkbenchError

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse's own code for usage errors)
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="workbench", description="Train, compress, explain, evaluate and monitor scikit-learn models.")
    p.add_argument("--version", action="version", version=f"workbench {_version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    t = sub.add_parser("train", help="train candidate models, print the leaderboard, save the champion",
                       description="Train candidate pipelines on a table, print the leaderboard and save the champion.")
    t.add_argument("--data", required=True, help="training table (CSV or Parquet)")
    t.add_argument("--target", required=True, help="the column to predict")
    t.add_argument("--sensitive", action="append", default=[], metavar="COL",
                   help="a sensitive attribute (repeatable); kept for fairness analyses")
    t.add_argument("--model", action="append", dest="recipes", metavar="RECIPE",
                   help="recipe to train (repeatable): logistic_regression, ridge, random_forest, "
                        "hist_gradient_boosting; default: one per family")
    t.add_argument("--positive", help="the positive class of a binary target (default: 1/yes-like, else the minority)")
    t.add_argument("--task", choices=["binary", "multiclass", "regression"], help="override the inferred task")
    t.add_argument("--drop", action="append", default=[], metavar="COL", help="a column not to use as a feature")
    t.add_argument("--imbalance", default="none", choices=["none", "class_weight", "smote", "threshold"],
                   help="imbalance strategy (threshold: tune the decision threshold for the cost matrix)")
    t.add_argument("--cost-fn", type=float, help="cost of a missed positive (false negative)")
    t.add_argument("--cost-fp", type=float, help="cost of a false alarm (false positive)")
    t.add_argument("--search", action="store_true", help="randomised hyperparameter search (3-fold CV)")
    t.add_argument("--n-iter", type=int, default=8, help="settings tried per recipe by --search (default 8)")
    t.add_argument("--validation", help="held-out table for the leaderboard (default: 20%% of --data)")
    t.add_argument("--quick", action="store_true", help="smaller ensembles (previews, tests)")
    t.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    t.add_argument("--out", required=True, help="where to save the champion (file like champion.wbm, or a folder)")
    t.add_argument("--force", action="store_true", help="replace an existing model at --out")
    t.add_argument("--json", action="store_true", help="print the training result as JSON")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("evaluate", help="evaluate a saved model on a labelled table",
                       description="Evaluate a saved model on a table that holds the target column.")
    e.add_argument("--model", required=True, help="a workbench model (file or folder)")
    e.add_argument("--data", required=True, help="labelled table (CSV or Parquet)")
    e.add_argument("--threshold", type=float, help="decision threshold (binary; default: the model's)")
    e.add_argument("--slice", action="append", dest="slices", metavar="COL",
                   help="column to slice metrics by (repeatable; default: sensitive and categorical columns)")
    e.add_argument("--cost-fn", type=float, help="cost of a missed positive")
    e.add_argument("--cost-fp", type=float, help="cost of a false alarm")
    e.add_argument("--no-latency", action="store_true", help="skip the latency measurement")
    e.add_argument("--trust", action="append", default=[], metavar="TYPE",
                   help="trust this type when loading the model (only for files you trust)")
    e.add_argument("--json", action="store_true", help="print the evaluation as JSON (has a 'metrics' mapping)")
    e.set_defaults(func=cmd_evaluate)

    d = sub.add_parser("demo", help="the main job on the bundled Adult census data",
                       description="Train the three recipes on UCI Adult, print the leaderboard, evaluate and "
                                   "save the champion under --out.")
    d.add_argument("--out", default="workbench-demo", help="output folder (default ./workbench-demo)")
    d.add_argument("--quick", action="store_true", help="smaller ensembles (faster, slightly lower AUC)")
    d.add_argument("--no-serve", action="store_true", help="do not start the dashboard at the end")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args.func(args) or 0)
    except WorkbenchError as exc:
        print(f"workbench: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("workbench: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # the work itself failed: record it, say where
        log = _record_failure(args.command)
        print(f"workbench: the {args.command} failed: {type(exc).__name__}: {_first_line(exc)} "
              f"(details in {log})", file=sys.stderr)
        return EXIT_FAILED


# -- commands --------------------------------------------------------------------
def cmd_train(args) -> int:
    import workbench as wb

    data = wb.load_table(args.data, what="training data")
    spec = wb.infer_spec(data.drop(columns=[c for c in args.drop if c in data.columns]), target=args.target,
                         sensitive=args.sensitive, task=args.task, positive=args.positive)
    if any(c not in data.columns for c in args.drop):
        raise WorkbenchError(f"--drop names a column that is not in the data: {[c for c in args.drop if c not in data.columns]}")
    validation = wb.load_table(args.validation, what="validation data") if args.validation else None
    out = Path(args.out)
    if out.exists() and not args.force:
        raise WorkbenchError(f"'{out}' already exists; pass --force to replace it or choose another --out")
    result = wb.train(data, spec, recipes=args.recipes, imbalance=args.imbalance, cost=_cost(args),
                      search=args.search, n_iter=args.n_iter, validation=validation, quick=args.quick,
                      random_state=args.seed, progress=not args.json)
    path = wb.save_model(result.champion, out, overwrite=args.force)
    if args.json:
        print(json.dumps({**result.to_dict(), "model_path": str(path)}, default=_json_default))
        return EXIT_OK
    for note in result.notes:
        print(f"note: {note}")
    print(_leaderboard_text(result))
    print(f"\nchampion: {result.champion_name} -> saved to {path}")
    return EXIT_OK


def cmd_evaluate(args) -> int:
    import workbench as wb

    model = wb.load_model(args.model, trusted=args.trust)
    data = wb.load_table(args.data, what="evaluation data")
    result = wb.evaluate(model, data, threshold=args.threshold, cost=_cost(args), slices=args.slices,
                         latency=not args.no_latency)
    if args.json:
        print(json.dumps(result.to_dict(), default=_json_default))
        return EXIT_OK
    print(f"{model.name} ({result.task}) on {result.n_rows:,} rows" +
          (f", threshold {result.threshold:.3g}" if result.threshold is not None else ""))
    for k, v in result.metrics.items():
        if v is not None:
            print(f"  {k:<24} {v:.4f}" if isinstance(v, float) else f"  {k:<24} {v}")
    if result.latency:
        lat = result.latency
        print(f"  latency p50/p95          {lat['p50_us']:.0f} / {lat['p95_us']:.0f} µs per row; "
              f"{lat['throughput_rows_s']:,.0f} rows/s in batches")
    judged = [s for s in result.slices if not s["too_small"]][:5]
    if judged:
        print(f"weakest slices by {result.slice_metric}:")
        for s in judged:
            print(f"  {s['column']} = {s['value']:<28} n={s['count']:<7} {result.slice_metric}={_f(s.get(result.slice_metric))}")
    return EXIT_OK


def cmd_demo(args) -> int:
    import workbench as wb

    out = Path(args.out)
    (out / "models").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demo = wb.load_demo("adult")
    print(f"UCI Adult census data: {len(demo.train):,} training rows, {len(demo.test):,} test rows "
          f"(official split); target '{demo.spec.target}' (positive '{demo.spec.positive_label}'), "
          f"sensitive {demo.spec.sensitive}")
    result = wb.train(demo.train, demo.spec, validation=demo.test, quick=args.quick)
    print("\nLeaderboard (on the official test split):")
    print(_leaderboard_text(result))
    champion = result.champion
    path = wb.save_model(champion, out / "models" / "champion.wbm", overwrite=True)
    evaluation = wb.evaluate(wb.load_model(path), demo.test)
    (out / "leaderboard.json").write_text(json.dumps(result.to_dict(), indent=2, default=_json_default))
    (out / "evaluation.json").write_text(json.dumps(evaluation.to_dict(), indent=2, default=_json_default))
    m = evaluation.metrics
    print(f"\nchampion: {result.champion_name}  ROC AUC {m['roc_auc']:.4f}  accuracy {m['accuracy']:.4f}  "
          f"(saved to {path}, {evaluation.size_bytes:,} bytes)")
    worst = [s for s in evaluation.slices if not s["too_small"]][:3]
    if worst:
        print("weakest slices: " + "; ".join(f"{s['column']}={s['value']} (AUC {_f(s['roc_auc'])}, n={s['count']})"
                                             for s in worst))
    print(f"\ndone in {time.perf_counter() - t0:.0f} s; outputs in {out}/")
    return EXIT_OK


# -- helpers ---------------------------------------------------------------------
def _leaderboard_text(result) -> str:
    lb = result.leaderboard()
    cols = [c for c in ("roc_auc", "pr_auc", "accuracy", "f1_macro", "log_loss", "cost", "rmse", "r2", "mae",
                        "fit_time_s", "size_bytes", "latency_p50_us") if c in lb.columns]
    view = lb[cols].copy()
    view.insert(0, "", ["*" if n == result.champion_name else "" for n in view.index])
    fmt = {c: (lambda v: f"{v:,.0f}") if c in ("size_bytes", "latency_p50_us") else (lambda v: f"{v:.4f}")
           for c in cols}
    fmt["fit_time_s"] = lambda v: f"{v:.1f}"
    return view.to_string(formatters=fmt, na_rep="—")


def _cost(args):
    if args.cost_fn is None and args.cost_fp is None:
        return None
    return {"fn": 1.0 if args.cost_fn is None else args.cost_fn, "fp": 1.0 if args.cost_fp is None else args.cost_fp}


def _record_failure(command: str | None) -> str:
    fd, path = tempfile.mkstemp(prefix=f"workbench-{command or 'error'}-", suffix=".log")
    with os.fdopen(fd, "w") as f:
        f.write(traceback.format_exc())
    return path


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"


def _json_default(o):
    import numpy as np

    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _version() -> str:
    from workbench import __version__

    return __version__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
