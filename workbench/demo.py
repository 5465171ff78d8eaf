"""The main job on the bundled UCI Adult census data, as one function (what ``workbench demo`` runs).

:func:`run_demo` trains the recipes, saves and evaluates the champion, runs the
compression study, simulates production batches and runs the drift and bias
reports on each (two papermill runs at a time), printing the tables as it goes,
and returns what happened. Nothing heavy is imported until it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError


@dataclass
class DemoResult:
    """What :func:`run_demo` did: its outputs and the report runs that failed (empty when all completed)."""

    out: Path
    model_path: Path
    training: Any
    evaluation: Any
    compression: Any = None
    reports_dir: Path | None = None
    failed_runs: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when every report run completed."""
        return not self.failed_runs


def run_demo(
    out: str | Path = "workbench-demo",
    *,
    quick: bool = False,
    compress: bool = True,
    monitoring: bool = True,
    progress: bool = True,
    echo: Callable[[str], Any] = print,
) -> DemoResult:
    """Train, save, evaluate, compress and monitor on UCI Adult under `out`; `echo` prints each line."""
    from workbench._json import json_default
    from workbench.data.datasets import load_demo
    from workbench.modeling.artifact import load_model, save_model
    from workbench.modeling.evaluate import evaluate
    from workbench.modeling.train import train
    from workbench.reports.runner import check_writable_dir

    out = check_writable_dir(out, "the demo's output folder")
    (out / "models").mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    demo = load_demo("adult")
    echo(
        f"UCI Adult census data: {len(demo.train):,} training rows, {len(demo.test):,} test rows "
        f"(official split); target '{demo.spec.target}' (positive '{demo.spec.positive_label}'), "
        f"sensitive {demo.spec.sensitive}"
    )
    result = train(demo.train, demo.spec, validation=demo.test, quick=quick, progress=progress)
    echo("\nLeaderboard (on the official test split):")
    echo(result.leaderboard_text())
    champion = result.champion
    path = save_model(champion, out / "models" / "champion.wbm", overwrite=True)
    evaluation = evaluate(load_model(path), demo.test)
    (out / "leaderboard.json").write_text(json.dumps(result.to_dict(), indent=2, default=json_default))
    (out / "evaluation.json").write_text(json.dumps(evaluation.to_dict(), indent=2, default=json_default))
    m = evaluation.metrics
    echo(
        f"\nchampion: {result.champion_name}  ROC AUC {m['roc_auc']:.4f}  accuracy {m['accuracy']:.4f}  "
        f"(saved to {path}, {evaluation.size_bytes:,} bytes)"
    )
    worst = [s for s in evaluation.slices if not s["too_small"]][:3]
    if worst:
        echo(
            "weakest slices: "
            + "; ".join(f"{s['column']}={s['value']} (AUC {_f(s['roc_auc'])}, n={s['count']})" for s in worst)
        )
    demo_result = DemoResult(out=out, model_path=Path(path), training=result, evaluation=evaluation)
    if compress:
        from workbench.compression._study import compress as compress_model

        echo("\nCompression study of the champion (budget: at most 0.005 ROC AUC lost):")
        study = compress_model(
            load_model(path),
            demo.train,
            validation=demo.test,
            max_loss=0.005,
            out=out / "models" / "compressed",
            quick=quick,
            progress=progress,
        )
        echo(study.table_text())
        echo(f"chosen: {study.chosen} -> {study.chosen_path}")
        demo_result.compression = study
    if monitoring:
        demo_result.reports_dir = out / "reports"
        demo_result.failed_runs = _monitoring(demo, path, out, quick=quick, progress=progress, echo=echo)
    demo_result.seconds = time.perf_counter() - t0
    echo(f"\ndone in {demo_result.seconds:.0f} s; outputs in {out}/")
    return demo_result


def _monitoring(demo, model_path: Path, out: Path, *, quick: bool, progress: bool, echo) -> list[str]:
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
    echo(
        f"\nMonitoring: {len(batches)} simulated production batches, drift and bias reports on each "
        f"(papermill runs into {reports_dir}/)"
    )
    jobs = []
    for b in batches:
        bpath = str(b.write(data_dir / "batches"))
        jobs.append(
            (
                "drift",
                {"reference": str(ref_path), "current": bpath, "model": str(model_path), "period": b.period},
                b.name,
            )
        )
        jobs.append(
            (
                "bias",
                {
                    "data": bpath,
                    "model": str(model_path),
                    "reference": str(ref_path),
                    "sensitive": list(demo.spec.sensitive),
                    "period": b.period,
                },
                b.name,
            )
        )
    # Two report kernels at a time: runs are independent directories and the ledger serialises writes.
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    with ProcessPoolExecutor(max_workers=2) as pool_exec:
        futures = [
            pool_exec.submit(_run_one, kind, params, str(reports_dir), name) for kind, params, name in jobs
        ]
        outcomes = [f.result() for f in tqdm(futures, desc="report runs", unit="run", disable=not progress)]
    rows, run_failures = [], []
    for i, b in enumerate(batches):
        (drift_status, drift), (bias_status, bias) = outcomes[2 * i], outcomes[2 * i + 1]
        m = b.manifest
        injected = (
            ", ".join(
                f"{c['kind']}({c['columns'][0]})" if c.get("columns") else c["kind"] for c in m["changes"]
            )
            or "clean"
        )
        failed = drift + bias
        drifted = [n.split(".", 2)[2] for n in drift if n.startswith("drift.column.")]
        other_drift = [n.split(".", 1)[1] for n in drift if n in ("drift.prediction", "drift.target")]
        quality = sorted({n.split(".", 1)[1] for n in drift if n.startswith("quality.")})
        perf = [n.split(".", 1)[1] for n in drift if n.startswith("performance.")]
        biased = [n.split(".", 1)[1] for n in bias]
        found = (
            "; ".join(
                x
                for x in (
                    f"drift: {', '.join(drifted[:3])}" + ("…" if len(drifted) > 3 else "") if drifted else "",
                    ", ".join(other_drift),
                    f"quality: {', '.join(quality[:3])}" if quality else "",
                    f"performance: {', '.join(perf[:2])}" if perf else "",
                    f"bias: {', '.join(biased[:2])}" if biased else "",
                )
                if x
            )
            or "nothing"
        )
        for kind, status in (("drift", drift_status), ("bias", bias_status)):
            if status is not None:  # the run failed: its 'checks' say nothing, and the row must say so
                run_failures.append(f"{kind} report on {b.name}: {status}")
                found = f"{kind} RUN FAILED: {status}" + ("" if found == "nothing" else f"; {found}")
        rows.append((b.name, b.period, injected, found, len(failed)))
    width = max(len(r[2]) for r in rows)
    echo(
        f"\n{'batch':<34} {'period':<11} {'injected':<{width}}  {'checks failed':>13}  "
        "found (failed gating checks)"
    )
    for name, period, injected, found, n in rows:
        echo(f"{name:<34} {period:<11} {injected:<{width}}  {n:>13}  {found}")
    echo(f"\n`workbench runs --reports-dir {reports_dir}` lists every run; each has report.html")
    return run_failures


def _run_one(kind: str, params: dict, reports_dir: str, name: str) -> tuple[str | None, list[str]]:
    """One report run in a worker process: (the run's error or None, its failed gating checks).

    Module-level on purpose: it is pickled by name to the worker processes.
    """
    from workbench.reports.runner import run_report

    try:
        out = run_report(kind, params, reports_dir=reports_dir, name=name, progress=False)
    except WorkbenchError as exc:  # refused before it started: still a failure of the demo
        return f"refused: {exc}", []
    error = out.summary.get("error") if out.summary.get("status") == "failed" else None
    failed = [
        c["name"] for c in out.summary.get("checks", []) if not c["passed"] and c.get("severity") == "error"
    ]
    return error, failed


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"
