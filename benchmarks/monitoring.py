"""Drift at scale: workbench against Evidently's DataDriftPreset run directly.

Data: UCI Adult sampled with replacement to N rows, plus 6 derived numeric
columns (20 features and the target). The reference comes from Adult's train
split; the current batch from its test split through the simulator, drifted on
purpose (older people, 5% unseen occupations, 10% of `workclass` missing) and
with one derived column in other units (hours -> minutes).

Timed, each in a fresh subprocess (so peak memory is the run's own):

(a) Evidently: ``Report([DataDriftPreset()], include_tests=True).run(current, reference)``
    with a DataDefinition built from the spec (features + target);
(b) ``detect_drift(reference, current, spec)`` in-process, cold (reference
    statistics computed inside the call), and (b') warm, with the reference
    statistics loaded from a saved ``.npz``;
(c) the whole ``workbench report drift`` CLI run (papermill, HTML, summary;
    drift + quality), when the CLI exists.

Timings of (a) and (b) exclude reading the parquet files; (c) is the whole
command. Peak memory: the process's high-water RSS during the computation
(reset after loading the tables), next to the two tables' in-memory size.

``--profile`` adds one untimed CLI run per size with ``$WORKBENCH_REPORT_PROFILE``
set: the report kernel times and cProfiles its phases (start-up and imports,
compute, static HTML), printed with the hottest functions, to see where a
run's time goes.

Usage: .venv/bin/python benchmarks/monitoring.py --rows 100000,1000000 --repeats 3 [--profile]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
DERIVED = ["log_fnlwgt", "capital_net", "age_x_hours", "hours_jitter", "education_signal", "years_to_67"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", default="100000", help="comma-separated table sizes (default 100000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per method (median reported)")
    ap.add_argument("--skip-evidently", action="store_true", help="time workbench only")
    ap.add_argument(
        "--profile", action="store_true", help="one more, profiled CLI run per size (phases, hot spots)"
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be 1 or more")
    if args.worker:
        return _worker(args.worker, Path(args.data))
    cli = _cli_available()
    for n in (int(x) for x in args.rows.split(",")):
        folder = _build(n)
        runs: dict[str, list[dict]] = {"evidently": [], "workbench": [], "workbench_warm": [], "cli": []}
        for _ in range(args.repeats):
            if not args.skip_evidently:
                runs["evidently"].append(_spawn("evidently", folder))
            runs["workbench"].append(_spawn("workbench", folder))
            runs["workbench_warm"].append(_spawn("workbench_warm", folder))
            if cli:
                runs["cli"].append(_cli_run(folder))
        _print(n, folder, runs, cli)
        if args.profile and cli:
            _profile_cli(folder)
    return 0


# -- the data ---------------------------------------------------------------------------
def _build(n: int) -> Path:
    """Reference and drifted current tables of `n` rows (cached under benchmarks/results/)."""
    folder = RESULTS / f"monitoring-{n}"
    if (folder / "spec.json").is_file():
        return folder
    import numpy as np

    from workbench.data import load_demo
    from workbench.data.simulate import simulate_batches
    from workbench.monitoring.drift import compute_reference_stats

    demo = load_demo("adult")
    reference = demo.train.sample(n, replace=True, random_state=0).reset_index(drop=True)
    drifted = {
        "name": "drifted",
        "changes": [
            {"kind": "covariate_shift", "column": "age", "strength": 0.3},
            {"kind": "unseen_categories", "column": "occupation", "rate": 0.05},
            {"kind": "missing_values", "column": "workclass", "rate": 0.1},
        ],
    }
    current = simulate_batches(demo.test, demo.spec, [drifted], batch_size=n, random_state=1)[0].data
    for df, seed, hours_unit in ((reference, 10, 1.0), (current, 11, 60.0)):
        rng = np.random.default_rng(seed)
        df["log_fnlwgt"] = np.log(df["fnlwgt"])
        df["capital_net"] = df["capital-gain"] - df["capital-loss"]
        df["age_x_hours"] = df["age"] * df["hours-per-week"]
        df["hours_jitter"] = (df["hours-per-week"] + rng.normal(0, 1, len(df))) * hours_unit
        df["education_signal"] = df["education-num"] * 1000 + rng.normal(0, 50, len(df))
        df["years_to_67"] = 67 - df["age"]
    spec = demo.spec.replace(features=[*demo.spec.features, *DERIVED], numeric=[*demo.spec.numeric, *DERIVED])
    folder.mkdir(parents=True, exist_ok=True)
    reference.to_parquet(folder / "reference.parquet", index=False)
    current.to_parquet(folder / "current.parquet", index=False)
    compute_reference_stats(reference, spec).save(folder / "reference-stats.npz")
    (folder / "spec.json").write_text(json.dumps(spec.to_dict()))
    return folder


# -- one timed run per subprocess --------------------------------------------------------
def _spawn(method: str, folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--worker", method, "--data", str(folder)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    if out.returncode != 0:
        raise SystemExit(f"the {method} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _worker(method: str, folder: Path) -> int:
    import gc

    import pandas as pd

    from workbench.data import DatasetSpec

    spec = DatasetSpec.from_dict(json.loads((folder / "spec.json").read_text()))
    reference = pd.read_parquet(folder / "reference.parquet")
    current = pd.read_parquet(folder / "current.parquet")
    table_bytes = int(reference.memory_usage(deep=True).sum() + current.memory_usage(deep=True).sum())
    if method == "evidently":
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        dd = DataDefinition(
            numerical_columns=spec.numeric, categorical_columns=[*spec.categorical, spec.target]
        )
    else:
        from workbench.monitoring.drift import ReferenceStats, detect_drift
    gc.collect()
    rss_before = _reset_peak()
    t0 = time.perf_counter()
    if method == "evidently":
        snap = Report([DataDriftPreset()], include_tests=True).run(
            Dataset.from_pandas(current, data_definition=dd),
            Dataset.from_pandas(reference, data_definition=dd),
        )
        seconds = time.perf_counter() - t0
        decisions = {
            t["name"].removeprefix("Value Drift for column "): t["status"] == "FAIL"
            for t in snap.dict()["tests"]
            if t["name"].startswith("Value Drift for column ")
        }
    else:
        stats = ReferenceStats.load(folder / "reference-stats.npz") if method == "workbench_warm" else None
        result = detect_drift(None if stats else reference, current, spec, reference_stats=stats)
        seconds = time.perf_counter() - t0
        decisions = {c.name: c.drifted for c in result.columns}
        decisions[spec.target] = result.target.drifted
    print(
        json.dumps(
            {
                "seconds": seconds,
                "decisions": decisions,
                "table_bytes": table_bytes,
                "rss_before": rss_before,
                "peak_rss": _peak(),
            }
        )
    )
    return 0


def _reset_peak() -> int:
    """Reset the high-water RSS mark (Linux) so the peak is the computation's; return the current RSS."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    return _status("VmRSS")


def _peak() -> int:
    peak = _status("VmHWM")
    if peak:
        return peak
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# -- (c) the CLI ----------------------------------------------------------------------------
def _cli_available() -> bool:
    exe = shutil.which("workbench", path=str(Path(sys.executable).parent)) or shutil.which("workbench")
    if exe is None:
        print("CLI not available yet")
        return False
    ok = subprocess.run([exe, "report", "drift", "--help"], capture_output=True).returncode == 0
    if not ok:
        print("CLI not available yet")
    return ok


def _profile_cli(folder: Path) -> None:
    """One CLI run with the report kernel's phases timed and profiled; print where the time went."""
    import pstats

    with tempfile.TemporaryDirectory() as prof:
        os.environ["WORKBENCH_REPORT_PROFILE"] = prof
        try:
            total = _cli_run(folder)["seconds"]
        finally:
            del os.environ["WORKBENCH_REPORT_PROFILE"]
        (timings,) = Path(prof).glob("*-timings.json")
        t = json.loads(timings.read_text())
        rest = total - t["kernel_age_at_start_s"] - t["compute"] - t["html"]
        print(
            f"profiled CLI run: {total:.2f} s = report kernel start-up and imports "
            f"{t['kernel_age_at_start_s']:.2f} + compute {t['compute']:.2f} + static HTML {t['html']:.2f} "
            f"+ the rest {rest:.2f} (the runner's imports and input checks, launching the kernel, "
            "the notebook's display, shutdown, filing the run)"
        )
        for phase in ("compute", "html"):
            (dump,) = Path(prof).glob(f"*-{phase}.prof")
            stats = pstats.Stats(str(dump))
            rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][3])  # cumulative time
            shown = [
                (f"{Path(f).name}:{line}({fn})", v[3])
                for (f, line, fn), v in rows
                if not fn.startswith("<") and "importlib" not in f
            ][:8]
            print(f"  {phase}: " + "; ".join(f"{name} {sec:.2f}s" for name, sec in shown))


def _cli_run(folder: Path) -> dict:
    exe = shutil.which("workbench", path=str(Path(sys.executable).parent)) or "workbench"
    spec = json.loads((folder / "spec.json").read_text())
    with tempfile.TemporaryDirectory() as reports:
        cmd = [
            exe,
            "report",
            "drift",
            "--reference",
            str(folder / "reference.parquet"),
            "--current",
            str(folder / "current.parquet"),
            "--target",
            spec["target"],
            "--reports-dir",
            reports,
            "--json",
        ]
        wrapper = (
            "import json, resource, subprocess, sys, time\n"
            "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "s = time.perf_counter() - t\n"
            "print(json.dumps({'seconds': s, 'rc': p.returncode, 'stdout': p.stdout,"
            " 'stderr': p.stderr[-2000:],"
            " 'peak_rss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))"
        )
        out = json.loads(
            subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True).stdout
        )
        if out["rc"] not in (0, 1):
            raise SystemExit(f"the CLI run failed (exit {out['rc']}):\n{out['stderr']}")
        decisions = _cli_decisions(out["stdout"], Path(reports))
    return {"seconds": out["seconds"], "peak_rss": out["peak_rss"], "decisions": decisions}


def _cli_decisions(stdout: str, reports: Path) -> dict | None:
    """Per-column decisions from the run's stored drift result (wherever the run stored it)."""
    found: list[dict] = []

    def walk(x):
        if isinstance(x, dict):
            if x.get("kind") == "drift" and "columns" in x:
                found.append(x)
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    for path in reports.rglob("*.json"):
        try:
            walk(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    if not found:
        return None
    d = found[0]
    out = {c["name"]: c["drifted"] for c in d["columns"]}
    if d.get("target"):
        out[d["target"]["name"]] = d["target"]["drifted"]
    return out


# -- printing -------------------------------------------------------------------------------
def _print(n: int, folder: Path, runs: dict, cli: bool) -> None:
    def med(key, field="seconds"):
        vals = [r[field] for r in runs[key] if r.get(field) is not None]
        return statistics.median(vals) if vals else None

    table = runs["workbench"][0]["table_bytes"]
    base = med("evidently")
    print(
        f"\n== {n:,} rows x {len(DERIVED) + 14} features + target; reference and current "
        f"{table / 2**20:,.0f} MiB in memory together; medians of {len(runs['workbench'])} run(s) =="
    )
    print(f"{'method':<50}{'seconds':>10}{'vs Evidently':>14}{'peak RSS MiB':>14}{'peak / tables':>15}")
    labels = {
        "evidently": "(a) Evidently DataDriftPreset, run directly",
        "workbench": "(b) detect_drift (cold: reference stats inside)",
        "workbench_warm": "(b') detect_drift with saved reference stats",
        "cli": "(c) workbench report drift (whole CLI run)",
    }
    for key, label in labels.items():
        if not runs[key]:
            if key == "cli" and not cli:
                print(f"{label:<50}{'CLI not available yet':>30}")
            continue
        s, peak = med(key), med(key, "peak_rss")
        ratio = f"{base / s:,.1f}x" if base and s else "—"
        print(f"{label:<50}{s:>10.2f}{ratio:>14}{peak / 2**20:>14,.0f}{peak / table:>15.2f}")
    extra = [r["peak_rss"] - r["rss_before"] for r in runs["workbench"]]
    print(
        f"detect_drift's own working memory (peak minus RSS with the tables loaded): "
        f"{statistics.median(extra) / 2**20:,.0f} MiB = {statistics.median(extra) / table:.2f}x the tables"
    )
    if runs["evidently"]:
        ev = runs["evidently"][0]["decisions"]
        for key in ("workbench", "workbench_warm", "cli"):
            if not runs[key]:
                continue
            ours = runs[key][0]["decisions"]
            if ours is None:
                print(f"{labels[key]}: no stored drift result found to compare decisions")
                continue
            diff = sorted(c for c in ev if ours.get(c) != ev[c])
            print(
                f"per-column decisions {key} vs Evidently: "
                + ("all agree" if not diff else f"DIFFER on {', '.join(diff)}")
                + f" ({sum(ev.values())} of {len(ev)} columns drifted)"
            )


if __name__ == "__main__":
    raise SystemExit(main())
