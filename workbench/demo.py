"""The main job on the bundled UCI Adult census data, as one function (what ``workbench demo`` runs).

:func:`run_demo` trains the recipes, saves and evaluates the champion, runs the
compression study, simulates production batches and runs the drift and bias
reports on each (two papermill runs at a time), then the release loop in a
registry under the output folder (register the champion, retrain a challenger
on a later window, compare, promote or refuse, roll back), printing what
happens as it goes; then serves the champion with the challenger in shadow and
replays the production batches through the server, and runs the reports on its
prediction log (:mod:`workbench._demo_serving`). It returns what happened.
Nothing heavy is imported until it runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

#: the registered model's name in the demo's registry
DEMO_MODEL = "adult-income"
#: The demo's release budgets, set explicitly. The challenger is the champion's own recipe retrained on
#: more rows: the same kind of model, the same size (240 kB both in a quick run). Its single-row p95
#: latency differs from the champion's only by the machine's noise, and on a busy 2-core machine two
#: measurements of one boosted model differ by more than the default 1.5x: 3x keeps the gate about the
#: model, not the machine. Size keeps 2x: room for more trees learned from more rows, while a change of
#: family (a boosted model over a logistic one is ~20x the size) is still refused.
DEMO_BUDGETS = {"release.latency_p95": 3.0, "release.size": 2.0}


@dataclass
class DemoResult:
    """What :func:`run_demo` did: its outputs and what failed (report runs, the release step)."""

    out: Path
    model_path: Path
    training: Any
    evaluation: Any
    compression: Any = None
    reports_dir: Path | None = None
    failed_runs: list[str] = field(default_factory=list)
    seconds: float = 0.0
    registry: Path | None = None
    release: dict = field(default_factory=dict)  # versions, the promotion's decision, champion before/after
    failed_release: str | None = None
    batches: list[Path] = field(default_factory=list)  # the simulated production batches' files
    serving: dict = field(default_factory=dict)  # the replay's counts and latencies, the log's reports
    failed_serving: str | None = None

    @property
    def ok(self) -> bool:
        """True when every report run completed, and the release and serving steps did."""
        return not self.failed_runs and self.failed_release is None and self.failed_serving is None


def run_demo(
    out: str | Path = "workbench-demo",
    *,
    quick: bool = False,
    compress: bool = True,
    monitoring: bool = True,
    release: bool = True,
    serving: bool = True,
    progress: bool = True,
    echo: Callable[[str], Any] = print,
) -> DemoResult:
    """Train, save, evaluate, compress, monitor, release and serve on UCI Adult under `out`; `echo` prints
    each line.

    The serving step needs the monitoring batches and the release step's two versions (it is skipped
    without them). A failed report run, release or serving step is recorded in the result
    (``failed_runs``, ``failed_release``, ``failed_serving``), never raised: the demo goes on and says
    what failed at the end.
    """
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
        demo_result.failed_runs, demo_result.batches = _monitoring(
            demo, path, out, quick=quick, progress=progress, echo=echo
        )
    if release:
        demo_result.registry = out / "registry"
        demo_result.release, demo_result.failed_release = _release(
            demo, Path(path), demo_result.registry, out / "reports", quick=quick, progress=progress, echo=echo
        )
    if (
        serving
        and demo_result.batches
        and demo_result.release.get("challenger")
        and not demo_result.failed_release
    ):
        from workbench._demo_serving import serving_step

        demo_result.serving, demo_result.failed_serving = serving_step(
            demo_result.batches,
            model=DEMO_MODEL,
            target=demo.spec.target,
            registry=demo_result.registry,
            reference=out / "data" / "reference.parquet",
            out=out,
            reports_dir=out / "reports",
            progress=progress,
            echo=echo,
        )
    demo_result.seconds = time.perf_counter() - t0
    echo(f"\ndone in {demo_result.seconds:.0f} s; outputs in {out}/")
    return demo_result


def _monitoring(demo, model_path: Path, out: Path, *, quick: bool, progress: bool, echo):
    """Simulate production batches, run the drift and bias reports on each, print what they found.

    Returns one line per report run that failed (empty when every run completed), and the batches' files.
    """
    from workbench.data.simulate import default_scenarios, simulate_batches

    reference, pool = periods(demo)
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
    jobs, paths = [], []
    for b in batches:
        paths.append(b.write(data_dir / "batches"))
        bpath = str(paths[-1])
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
    outcomes = run_reports(jobs, reports_dir, progress)
    rows, run_failures = [], []
    for i, b in enumerate(batches):
        (drift_status, drift, _), (bias_status, bias, _) = outcomes[2 * i], outcomes[2 * i + 1]
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
    return run_failures, paths


def run_reports(jobs: list, reports_dir: Path, progress: bool) -> list:
    """Run each (kind, params, name) of `jobs` in `reports_dir`: [(error or None, failed checks, run folder)].

    Two report kernels at a time: runs are independent directories and the ledger serialises writes.
    """
    from concurrent.futures import ProcessPoolExecutor

    from tqdm.auto import tqdm

    with ProcessPoolExecutor(max_workers=2) as pool_exec:
        futures = [
            pool_exec.submit(_run_one, kind, params, str(reports_dir), name) for kind, params, name in jobs
        ]
        return [f.result() for f in tqdm(futures, desc="report runs", unit="run", disable=not progress)]


def _release(demo, model_path: Path, registry: Path, reports_dir: Path, *, quick: bool, progress: bool, echo):
    """Register the champion, retrain a challenger on a later window, gate it, then roll it back.

    Returns what happened (versions, the decision, the champion before and after the rollback) and,
    when a step failed, one line naming the step and why (None when every step completed).
    """
    import pandas as pd

    from workbench.registry.audit import rollback
    from workbench.registry.versions import get_alias, register_model
    from workbench.releases._comparison_run import read_comparison
    from workbench.releases.promote import PROMOTED, promote
    from workbench.releases.retrain import retrain

    reference, later = periods(demo)
    done: dict[str, Any] = {}
    step = "registering the champion"
    try:
        echo(f"\nRelease: the champion and a retrained challenger in the registry {registry}/")
        champion = register_model(model_path, DEMO_MODEL, registry=registry, aliases=["champion"])
        done["champion"] = champion.version
        echo(f"registered the champion as {champion.uri} @champion")
        step = "retraining the challenger"
        # the later period, now labelled, joins the training rows: the champion's recipe on the rows to date
        window = pd.concat([demo.train, later], ignore_index=True)
        challenger = retrain(
            DEMO_MODEL,
            window,
            validation=reference,
            sensitive=demo.spec.sensitive,
            registry=registry,
            reports_dir=reports_dir,
            checks=DEMO_BUDGETS,
            quick=quick,
            progress=progress,
        )
        done["challenger"] = challenger.version
        echo(
            f"retrained the champion's recipe ({challenger.recipe}) on {len(window):,} rows (training rows "
            f"+ the later period) -> {challenger.uri} @challenger, parent models:/{DEMO_MODEL}/"
            f"{challenger.parent}"
        )
        step = "comparing and promoting the challenger"
        # promote gates on the comparison retrain filed (the same versions on the same reference period,
        # which neither model saw), found in the run ledger rather than computed again (~10 s); its
        # findings are read back from that run
        promotion = promote(
            DEMO_MODEL,
            challenger.version,
            reference,
            sensitive=demo.spec.sensitive,
            checks=DEMO_BUDGETS,
            registry=registry,
            reports_dir=reports_dir,
        )
        comparison = read_comparison(promotion.comparison_path)
        echo(f"compared on the reference period ({comparison.n_labelled:,} labelled rows):")
        for line in comparison.findings(DEMO_BUDGETS)[:4]:
            echo(f"  {line}")
        done["decision"] = promotion.decision
        echo(f"promote: {promotion.sentence}")
        if promotion.decision != PROMOTED:
            echo("rollback: nothing to roll back, the champion did not move")
            return done, None
        step = "rolling back"
        before = get_alias(DEMO_MODEL, "champion", registry=registry).version
        rollback(DEMO_MODEL, reason="the demo shows a rollback", registry=registry)
        after = get_alias(DEMO_MODEL, "champion", registry=registry).version
        done.update(before=before, after=after)
        echo(f"rollback: @champion was version {before}, is version {after} again")
        echo(f"`workbench registry history {DEMO_MODEL} --registry {registry}` lists every move")
        return done, None
    except WorkbenchError as exc:  # the registry refused or failed: the demo goes on, and fails at the end
        echo(f"RELEASE FAILED while {step}: {exc}")
        return done, f"{step}: {exc}"


def periods(demo):
    """The official test split's two halves: the labelled reference period and the later period.

    The model never saw either. Production batches are drawn from the later period; the release step
    retrains on it once it is labelled and compares the models on the reference period.
    """
    from sklearn.model_selection import train_test_split

    target = demo.spec.target
    return train_test_split(demo.test, test_size=0.5, random_state=0, stratify=demo.test[target])


def _run_one(
    kind: str, params: dict, reports_dir: str, name: str
) -> tuple[str | None, list[str], str | None]:
    """One report run in a worker process: (the run's error or None, its failed gating checks, its folder).

    Module-level on purpose: it is pickled by name to the worker processes.
    """
    from workbench.reports.runner import run_report

    try:
        out = run_report(kind, params, reports_dir=reports_dir, name=name, progress=False)
    except WorkbenchError as exc:  # refused before it started: still a failure of the demo
        return f"refused: {exc}", [], None
    error = out.summary.get("error") if out.summary.get("status") == "failed" else None
    failed = [
        c["name"] for c in out.summary.get("checks", []) if not c["passed"] and c.get("severity") == "error"
    ]
    return error, failed, str(out.run_dir)


def _f(v) -> str:
    return "—" if v is None else f"{v:.4f}"
