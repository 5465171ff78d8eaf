"""The ``workbench`` command: a thin layer over the Python API.

Exit codes: 0 ok, 1 a check failed (when asked to fail on it), 2 bad input
(one sentence on stderr, no traceback), 3 the work itself failed (the
traceback is written to a log file whose path is printed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from workbench._json import json_default
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
                   help="a sensitive attribute (repeatable) for the fairness analyses; it stays a model "
                        "feature unless --sensitive-not-feature")
    t.add_argument("--sensitive-not-feature", action="store_true",
                   help="leave the sensitive attributes out of the model's features (kept in the spec for the "
                        "bias report, which then needs them in its data but the model never reads them)")
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

    r = sub.add_parser("report", help="run a monitoring report (drift, bias, performance) with papermill",
                       description="Run a monitoring report as a papermill notebook into a run directory.")
    rsub = r.add_subparsers(dest="report_kind", metavar="KIND", parser_class=_Parser)
    rd = rsub.add_parser("drift", help="data drift and quality (and estimated performance with --model)",
                         description="Compare a current batch with the reference: drift per column, data quality, "
                                     "and the model's performance (estimated without labels) when --model is given.")
    rd.add_argument("--reference", required=True, help="reference-period table (CSV or Parquet)")
    rd.add_argument("--current", required=True, help="the batch to check (CSV or Parquet)")
    rd.add_argument("--model", help="a workbench model: prediction drift and estimated performance")
    rd.add_argument("--target", help="target column (target drift; default: the model's)")
    rb = rsub.add_parser("bias", help="fairness across sensitive groups (fairlearn)",
                         description="Assess a binary classifier's decisions across sensitive groups; with "
                                     "--reference, gate on disparities that worsened beyond their confidence interval.")
    rb.add_argument("--data", required=True, help="the batch to assess (CSV or Parquet)")
    rb.add_argument("--model", required=True, help="a workbench model (binary classifier)")
    rb.add_argument("--sensitive", action="append", default=[], metavar="COL",
                    help="sensitive column (repeatable; default: the model's declared ones)")
    rb.add_argument("--reference", help="labelled reference-period table to compare disparities with")
    rp = rsub.add_parser("performance", help="measured (and estimated) performance on a labelled batch",
                         description="Measure the model's performance on a batch whose labels arrived, beside "
                                     "the label-free estimate, against the reference period.")
    rp.add_argument("--data", required=True, help="the batch (CSV or Parquet), with the target column")
    rp.add_argument("--model", required=True, help="a workbench model")
    rp.add_argument("--reference", help="labelled reference-period table (default: the model's validation figures)")
    for sp in (rd, rb, rp):
        sp.add_argument("--period", help="the data period this batch covers, e.g. 2026-11-28 (trend charts use it)")
        sp.add_argument("--name", help="a name for the run (part of the run directory's name)")
        sp.add_argument("--reports-dir", default="reports", help="where runs are written (default ./reports)")
        sp.add_argument("--checks", help="checks file (TOML, YAML or JSON) overriding thresholds")
        sp.add_argument("--fail-on", action="append", default=[], metavar="CHECK",
                        help="exit 1 when this check fails (a name, a glob like 'drift.*', or 'all'; repeatable)")
        sp.add_argument("--junit", help="also write the checks as JUnit XML to this path")
        sp.add_argument("--json", action="store_true", help="print the run's summary as JSON (with run_dir)")
        sp.set_defaults(func=cmd_report)

    ru = sub.add_parser("runs", help="list report runs from the ledger",
                        description="List report runs (newest first) from the ledger of a reports directory.")
    ru.add_argument("--reports-dir", default="reports", help="reports directory (default ./reports)")
    ru.add_argument("--kind", choices=["drift", "bias", "performance"], help="only runs of this kind")
    ru.add_argument("--limit", type=int, default=50, help="at most this many runs (default 50)")
    ru.add_argument("--rebuild", action="store_true", help="rebuild the ledger from the run directories first")
    ru.add_argument("--json", action="store_true", help="print the runs as JSON")
    ru.set_defaults(func=cmd_runs)

    for module in ("workbench.cli_compress", "workbench.cli_dashboard"):
        _add_plugin(sub, module)

    d = sub.add_parser("demo", help="the main job on the bundled Adult census data",
                       description="Train the three recipes on UCI Adult, print the leaderboard, evaluate and "
                                   "save the champion under --out.")
    d.add_argument("--out", default="workbench-demo", help="output folder (default ./workbench-demo)")
    d.add_argument("--quick", action="store_true", help="smaller ensembles (faster, slightly lower AUC)")
    d.add_argument("--no-serve", action="store_true", help="do not start the dashboard at the end")
    d.add_argument("--no-monitoring", action="store_true", help="no simulated batches and monitoring reports")
    d.add_argument("--no-compress", action="store_true", help="skip the compression study")
    d.set_defaults(func=cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        if getattr(args, "command", None) == "report":
            report_parser = parser._subparsers._group_actions[0].choices["report"]  # noqa: SLF001
            report_parser.print_usage(sys.stderr)
            print("workbench report: error: name a report kind: drift, bias or performance", file=sys.stderr)
        else:
            parser.print_usage(sys.stderr)
            print("workbench: error: name a command (see workbench --help)", file=sys.stderr)
        return EXIT_BAD_INPUT
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
        print(f"workbench: the {args.command} failed: {type(exc).__name__}: {_first_line(exc)} "
              f"(details in {log})", file=sys.stderr)
        return EXIT_FAILED


# -- commands --------------------------------------------------------------------
def cmd_train(args) -> int:
    import workbench as wb

    _check_seed(args.seed)
    if args.n_iter < 1:
        raise WorkbenchError(f"--n-iter must be at least 1 setting per recipe, not {args.n_iter}")
    cost = _cost(args)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise WorkbenchError(f"'{out}' already exists; pass --force to replace it or choose another --out")
    _check_destination(out, args.force)
    data = wb.load_table(args.data, what="training data")
    spec = wb.infer_spec(data.drop(columns=[c for c in args.drop if c in data.columns]), target=args.target,
                         sensitive=args.sensitive, task=args.task, positive=args.positive,
                         sensitive_as_features=not args.sensitive_not_feature)
    if any(c not in data.columns for c in args.drop):
        raise WorkbenchError(f"--drop names a column that is not in the data: {[c for c in args.drop if c not in data.columns]}")
    validation = wb.load_table(args.validation, what="validation data") if args.validation else None
    result = wb.train(data, spec, recipes=args.recipes, imbalance=args.imbalance, cost=cost,
                      search=args.search, n_iter=args.n_iter, validation=validation, quick=args.quick,
                      random_state=args.seed, progress=not args.json)
    path = wb.save_model(result.champion, out, overwrite=args.force)
    if args.json:
        print(json.dumps({**result.to_dict(), "model_path": str(path)}, default=json_default))
        return EXIT_OK
    for note in result.notes:
        print(f"note: {note}")
    as_features = [c for c in spec.sensitive if c in spec.features]
    if as_features:
        print(f"note: the sensitive column(s) {', '.join(as_features)} are also model features; "
              "--sensitive-not-feature leaves them out")
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
        print(json.dumps(result.to_dict(), default=json_default))
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


def cmd_report(args) -> int:
    from workbench.reports.runner import run_report

    kind = args.report_kind
    if kind == "drift":
        params = {"reference": args.reference, "current": args.current, "model": args.model, "target": args.target}
    elif kind == "bias":
        params = {"data": args.data, "model": args.model, "sensitive": args.sensitive, "reference": args.reference}
    else:
        params = {"data": args.data, "model": args.model, "reference": args.reference}
    params["period"] = args.period  # relative paths are resolved by the runner, for every caller
    outcome = run_report(kind, params, reports_dir=args.reports_dir, name=args.name, checks=args.checks,
                         fail_on=args.fail_on, junit=args.junit, progress=not args.json)
    summary = outcome.summary
    if args.json:
        print(json.dumps({**summary, "run_dir": str(outcome.run_dir)}, default=json_default))
    else:
        print(summary.get("headline", ""))
        for f in summary.get("findings", [])[:8]:
            print(f"  - {f}")
        from workbench.monitoring.checks import Check

        checks = [Check.from_dict(c) for c in summary.get("checks", [])]
        for status, title in (("FAIL", "failed checks:"), ("warn", "warnings (they do not gate):")):
            shown = [c for c in checks if c.status == status]
            if shown:
                print(title)
                for c in shown:
                    print(f"  {c.name}: {c.outcome_text()}: {c.message}")
        print(f"run: {outcome.run_dir}")
        print(f"report: {outcome.run_dir / 'report.html'}" if summary.get("status") != "failed"
              else f"error: {summary.get('error')}")
    if outcome.exit_code == EXIT_FAILED:
        print(f"workbench: the {kind} report run failed: {summary.get('error')} (recorded in {outcome.run_dir})",
              file=sys.stderr)
    elif outcome.exit_code == EXIT_CHECK_FAILED:
        print(f"workbench: {len(outcome.failed)} check(s) failed: {', '.join(outcome.failed[:5])}", file=sys.stderr)
    return outcome.exit_code


def cmd_runs(args) -> int:
    from workbench.reports.ledger import Ledger

    root = Path(args.reports_dir)
    if root.exists() and not root.is_dir():
        raise WorkbenchError(f"the reports directory '{args.reports_dir}' is a file, not a folder")
    if not root.is_dir():
        raise WorkbenchError(f"the reports directory '{args.reports_dir}' does not exist")
    if args.limit is not None and args.limit < 1:
        raise WorkbenchError(f"--limit must be a positive number of runs, not {args.limit}")
    ledger = Ledger(root)
    if args.rebuild:
        n = ledger.rebuild()
        for folder, why in ledger.unreadable:
            print(f"workbench: skipped '{folder}': {why}", file=sys.stderr)
        if not args.json:
            print(f"ledger rebuilt from {n} run directories"
                  + (f"; {len(ledger.unreadable)} could not be read (listed above)" if ledger.unreadable else ""))
    runs = ledger.runs(kind=args.kind, limit=args.limit)
    if args.json:
        print(json.dumps(runs, default=json_default))
        return EXIT_OK
    if not runs:
        print("no runs yet — run `workbench report drift --reference REF --current CUR`")
        return EXIT_OK
    print(f"{'run':<48} {'kind':<12} {'period':<12} {'status':<14} failed checks / reason")
    for r in runs:
        if r["status"] == "failed":
            detail = f"error: {r.get('error') or 'no reason recorded'}"
        else:
            checks = [c for c in r.get("checks") or [] if not c.get("passed", True)]
            failed = [c["name"] for c in checks if c.get("severity", "error") == "error"]
            warned = [c["name"] for c in checks if c.get("severity", "error") != "error"]
            detail = ", ".join(failed[:3]) + (f" (+{len(failed) - 3})" if len(failed) > 3 else "")
            if warned:
                detail += ("; " if detail else "") + f"{len(warned)} warning{'s' if len(warned) > 1 else ''}"
        print(f"{r['id']:<48} {r['kind']:<12} {(r.get('period') or ''):<12} {r['status']:<14} {detail}")
    return EXIT_OK


def cmd_demo(args) -> int:
    import workbench as wb
    from workbench.reports.runner import check_writable_dir

    out = check_writable_dir(args.out, "the demo's output folder")
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
    (out / "leaderboard.json").write_text(json.dumps(result.to_dict(), indent=2, default=json_default))
    (out / "evaluation.json").write_text(json.dumps(evaluation.to_dict(), indent=2, default=json_default))
    m = evaluation.metrics
    print(f"\nchampion: {result.champion_name}  ROC AUC {m['roc_auc']:.4f}  accuracy {m['accuracy']:.4f}  "
          f"(saved to {path}, {evaluation.size_bytes:,} bytes)")
    worst = [s for s in evaluation.slices if not s["too_small"]][:3]
    if worst:
        print("weakest slices: " + "; ".join(f"{s['column']}={s['value']} (AUC {_f(s['roc_auc'])}, n={s['count']})"
                                             for s in worst))
    if not args.no_compress:
        from workbench.cli_compress import table_text
        from workbench.modeling.compress import compress

        print("\nCompression study of the champion (budget: at most 0.005 ROC AUC lost):")
        study = compress(wb.load_model(path), demo.train, validation=demo.test, max_loss=0.005,
                         out=out / "models" / "compressed", quick=args.quick)
        print(table_text(study))
        print(f"chosen: {study.chosen} -> {study.chosen_path}")
    failed_runs: list[str] = []
    if not args.no_monitoring:
        failed_runs = _demo_monitoring(demo, path, out, quick=args.quick)
    print(f"\ndone in {time.perf_counter() - t0:.0f} s; outputs in {out}/")
    if failed_runs:
        print(f"workbench: {len(failed_runs)} report run(s) of the demo failed: " + "; ".join(failed_runs),
              file=sys.stderr)
        return EXIT_FAILED
    if args.no_serve or args.no_monitoring:
        return EXIT_OK
    from workbench.dashboards.server import serve

    print("\nServing the dashboards over these runs (Ctrl-C stops it):")
    return serve(out / "reports")


def _demo_monitoring(demo, model_path: Path, out: Path, *, quick: bool) -> list[str]:
    """Simulate production batches, run the drift and bias reports on each, print what they found.

    Returns one line per report run that failed (empty when every run completed).
    """
    from sklearn.model_selection import train_test_split

    from workbench.data.simulate import default_scenarios, simulate_batches

    # Half of the official test split is the labelled reference period (the model never saw it);
    # the other half is the pool production batches are drawn from.
    reference, pool = train_test_split(demo.test, test_size=0.5, random_state=0, stratify=demo.test["income"])
    data_dir = out / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    ref_path = data_dir / "reference.parquet"
    reference.to_parquet(ref_path, index=False)
    scenarios = default_scenarios(demo.spec, pool)
    if quick:  # one clean batch and one change of each family: drift, prior shift, data quality, bias
        picked: dict[str, object] = {}
        for s in scenarios:
            family = {"covariate_shift": "drift", "missing_values": "quality"}.get(s.name, s.name)
            if family in ("clean", "drift", "prior_shift", "quality", "bias_shift"):
                picked.setdefault(family, s)
        scenarios = list(picked.values())
    batches = simulate_batches(pool, demo.spec, scenarios, batch_size=2000, random_state=0)
    reports_dir = out / "reports"
    print(f"\nMonitoring: {len(batches)} simulated production batches, drift and bias reports on each "
          f"(papermill runs into {reports_dir}/)")
    jobs = []
    for b in batches:
        bpath = str(b.write(data_dir / "batches"))
        jobs.append(("drift", {"reference": str(ref_path), "current": bpath, "model": str(model_path),
                               "period": b.period}, b.name))
        jobs.append(("bias", {"data": bpath, "model": str(model_path), "reference": str(ref_path),
                              "sensitive": list(demo.spec.sensitive), "period": b.period}, b.name))
    # Two report kernels at a time: runs are independent directories and the ledger serialises writes.
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    with ProcessPoolExecutor(max_workers=2) as pool_exec:
        futures = [pool_exec.submit(_run_one, kind, params, str(reports_dir), name) for kind, params, name in jobs]
        outcomes = [f.result() for f in tqdm(futures, desc="report runs", unit="run")]
    rows, run_failures = [], []
    for i, b in enumerate(batches):
        (drift_status, drift), (bias_status, bias) = outcomes[2 * i], outcomes[2 * i + 1]
        m = b.manifest
        injected = ", ".join(f"{c['kind']}({c['columns'][0]})" if c.get("columns") else c["kind"]
                             for c in m["changes"]) or "clean"
        failed = drift + bias
        drifted = [n.split(".", 2)[2] for n in drift if n.startswith("drift.column.")]
        other_drift = [n.split(".", 1)[1] for n in drift if n in ("drift.prediction", "drift.target")]
        quality = sorted({n.split(".", 1)[1] for n in drift if n.startswith("quality.")})
        perf = [n.split(".", 1)[1] for n in drift if n.startswith("performance.")]
        biased = [n.split(".", 1)[1] for n in bias]
        found = "; ".join(x for x in (
            f"drift: {', '.join(drifted[:3])}" + ("…" if len(drifted) > 3 else "") if drifted else "",
            ", ".join(other_drift),
            f"quality: {', '.join(quality[:3])}" if quality else "",
            f"performance: {', '.join(perf[:2])}" if perf else "",
            f"bias: {', '.join(biased[:2])}" if biased else "",
        ) if x) or "nothing"
        for kind, status in (("drift", drift_status), ("bias", bias_status)):
            if status is not None:  # the run failed: its 'checks' say nothing, and the row must say so
                run_failures.append(f"{kind} report on {b.name}: {status}")
                found = f"{kind} RUN FAILED: {status}" + ("" if found == "nothing" else f"; {found}")
        rows.append((b.name, b.period, injected, found, len(failed)))
    width = max(len(r[2]) for r in rows)
    print(f"\n{'batch':<34} {'period':<11} {'injected':<{width}}  {'checks failed':>13}  found (failed gating checks)")
    for name, period, injected, found, n in rows:
        print(f"{name:<34} {period:<11} {injected:<{width}}  {n:>13}  {found}")
    print(f"\n`workbench runs --reports-dir {reports_dir}` lists every run; each has report.html")
    return run_failures


# -- helpers ---------------------------------------------------------------------
def _add_plugin(sub, module: str) -> None:
    """Commands that live in their own module (``add_parser(subparsers)``), registered when present."""
    import importlib

    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return
        raise
    mod.add_parser(sub)


def _run_one(kind: str, params: dict, reports_dir: str, name: str) -> tuple[str | None, list[str]]:
    """One report run in a worker process: (the run's error or None, its failed gating checks)."""
    from workbench.reports.runner import run_report

    try:
        out = run_report(kind, params, reports_dir=reports_dir, name=name, progress=False)
    except WorkbenchError as exc:  # refused before it started: still a failure of the demo
        return f"refused: {exc}", []
    error = out.summary.get("error") if out.summary.get("status") == "failed" else None
    failed = [c["name"] for c in out.summary.get("checks", []) if not c["passed"] and c.get("severity") == "error"]
    return error, failed


def _leaderboard_text(result) -> str:
    lb = result.leaderboard()
    cols = [c for c in ("roc_auc", "pr_auc", "accuracy", "f1_macro", "log_loss", "cost", "rmse", "r2", "mae",
                        "fit_time_s", "size_bytes", "latency_p50_us") if c in lb.columns]
    view = lb[cols].copy()
    view.index.name = None  # no stray 'name' header row in the printout
    view.insert(0, "", ["*" if n == result.champion_name else "" for n in view.index])
    fmt = {c: (lambda v: f"{v:,.0f}") if c in ("size_bytes", "latency_p50_us") else (lambda v: f"{v:.4f}")
           for c in cols}
    fmt["fit_time_s"] = lambda v: f"{v:.1f}"
    return view.to_string(formatters=fmt, na_rep="—")


def _cost(args):
    if args.cost_fn is None and args.cost_fp is None:
        return None
    cost = {"fn": 1.0 if args.cost_fn is None else args.cost_fn, "fp": 1.0 if args.cost_fp is None else args.cost_fp}
    for key, value in cost.items():
        if not math.isfinite(value) or value < 0:
            raise WorkbenchError(f"--cost-{key} must be a finite number of 0 or more, not {value:g}")
    if cost["fn"] == 0 and cost["fp"] == 0:
        raise WorkbenchError("--cost-fn and --cost-fp cannot both be 0: nothing would have a cost")
    return cost


def _check_seed(seed: int) -> None:
    if not 0 <= seed < 2**32:
        raise WorkbenchError(f"--seed must be between 0 and {2**32 - 1}, not {seed}")


def _check_destination(out: Path, force: bool) -> None:
    """Refuse an --out that could not be written (or would replace something else) before any work."""
    from workbench.modeling import artifact

    artifact.check_model_destination(out, overwrite=force)


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


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"


def _version() -> str:
    from workbench import __version__

    return __version__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
