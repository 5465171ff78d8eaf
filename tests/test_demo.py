"""The main job as a new user runs it: `workbench demo --quick --no-serve` from the repository root.

The demo's default output folder is relative (``workbench-demo/``) and its
report kernels start inside their run folders, so this test runs it exactly so
(in a copy of the repository, so that a developer's own ``workbench-demo/`` is
never touched) and asserts what the demo is for: every report run completed,
every injected change was found by the analysis that should find it, the
clean batch raised no alarm, the release loop ran in the demo's registry
(champion registered, challenger retrained with lineage, promoted through the
gate, rolled back), and the batches went through `workbench serve` (the
champion answering, the challenger in shadow) into a prediction log that the
reports then ran on.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

# the first test pays for the demo (its module fixture): a loaded machine takes it near the suite's
# 600 s per-test limit, and the subprocess has its own 1,500 s one
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1600)]


def _copy_repository(dest: Path) -> Path:
    """The repository's files (tracked and new, not ignored) as a fresh clone would have them."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for rel in listed:
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    repo = _copy_repository(tmp_path_factory.mktemp("clone"))
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "workbench"), "demo", "--quick", "--no-serve"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=1500,
        env=env,
    )
    return repo, proc


def test_demo_completes_every_run_from_the_repository_root(demo_run):
    repo, proc = demo_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    reports = repo / "workbench-demo" / "reports"
    from workbench.reports.ledger import Ledger

    rows = Ledger(reports).runs()
    dirs = sorted(p for p in reports.glob("*/*") if p.is_dir())
    assert len(rows) >= 10 and len(dirs) == len(rows), (len(rows), [d.name for d in dirs])
    assert not [d for d in dirs if d.name.startswith(".tmp-")]
    statuses = {r["id"]: r["status"] for r in rows}
    assert set(statuses.values()) <= {"passed", "checks_failed"}, [r.get("error") for r in rows]
    for r in rows:
        assert (Path(r["run_dir"]) if Path(r["run_dir"]).is_absolute() else repo / r["run_dir"]).is_dir()
    assert "RUN FAILED" not in proc.stdout
    # quiet: no warning a user cannot act on
    for noise in ("Traceback", "KeyboardInterrupt", "without encryption", "websocket_ping_timeout"):
        assert noise not in proc.stdout + proc.stderr, noise


def test_demo_finds_each_injected_change_and_no_false_alarm(demo_run):
    repo, proc = demo_run
    reports = repo / "workbench-demo" / "reports"
    by_batch: dict[str, dict[str, list[str]]] = {}
    for summary_path in reports.glob("*/*/summary.json"):
        summary = json.loads(summary_path.read_text())
        if summary["kind"] == "compare" or summary.get("name") == "served-log":  # their own tests, below
            continue
        batch = Path(summary["params"].get("current") or summary["params"]["data"]).stem
        failed = [c["name"] for c in summary["checks"] if not c["passed"] and c.get("severity") == "error"]
        by_batch.setdefault(batch, {})[summary["kind"]] = failed
    manifests = {
        p.name.removesuffix(".manifest.json"): json.loads(p.read_text())
        for p in (repo / "workbench-demo" / "data" / "batches").glob("*.manifest.json")
    }
    assert manifests and set(by_batch) == set(manifests)
    kinds_seen = set()
    for batch, manifest in manifests.items():
        found = by_batch[batch]
        assert set(found) == {"drift", "bias"}, batch
        if manifest["clean"]:
            assert found["drift"] == [] and found["bias"] == [], (batch, found)
            kinds_seen.add("clean")
            continue
        for change in manifest["changes"]:
            kind, cols = change["kind"], change.get("columns") or []
            kinds_seen.add(kind)
            if kind == "covariate_shift":
                assert any(f"drift.column.{c}" in found["drift"] for c in cols), (batch, found)
            elif kind == "prior_shift":
                assert "drift.target" in found["drift"], (batch, found)
            elif kind in ("missing_values", "unseen_categories", "scale_change"):
                assert any(
                    n.startswith("quality.") and n.endswith(f".{c}") for n in found["drift"] for c in cols
                ), (batch, found)
            elif kind == "bias_shift":
                assert any(n.startswith("bias.") and n.endswith(".worsened") for n in found["bias"]), (
                    batch,
                    found,
                )
    assert {"clean", "covariate_shift", "prior_shift", "missing_values", "bias_shift"} <= kinds_seen


def test_demo_registers_promotes_and_rolls_back_in_its_registry(demo_run):
    repo, proc = demo_run
    from workbench.registry import history, list_versions

    registry = repo / "workbench-demo" / "registry"
    assert (registry / "registry.db").is_file()
    versions = list_versions("adult-income", registry=registry)
    assert [(v.version, v.aliases) for v in versions] == [(1, ("champion",)), (2, ("challenger",))]
    assert versions[1].parent == "models:/adult-income/1"
    assert versions[1].tags["workbench.recipe"] == versions[0].tags["workbench.recipe"]
    moves = [
        (m.action, m.alias, m.from_version, m.to_version) for m in history("adult-income", registry=registry)
    ]
    assert moves == [
        ("register", "champion", None, 1),
        ("register", "challenger", None, 2),
        ("promote", "champion", 1, 2),
        ("rollback", "champion", 2, 1),
    ], proc.stdout[proc.stdout.find("Release:") :][:3000]
    # retrain filed its comparison as a compare run; promote's gate judged that run (the same versions on
    # the same window), not a second comparison: both audit records name it
    from workbench.reports.ledger import Ledger

    compare_runs = {
        r["id"] for r in Ledger(repo / "workbench-demo" / "reports").runs() if r["kind"] == "compare"
    }
    moves = history("adult-income", registry=registry)
    assert {moves[1].comparison, moves[2].comparison} == compare_runs and len(compare_runs) == 1
    out = proc.stdout
    assert "registered the champion as models:/adult-income/1 @champion" in out
    assert "Promote:" in out  # the comparison's verdict, printed before the gate decides
    assert "promote: version 2 of 'adult-income' is the champion" in out
    assert f"gate judged on compare run {moves[1].comparison}" in out
    assert "rollback: @champion was version 2, is version 1 again" in out


def test_demo_serves_the_champion_with_a_shadow_and_reports_on_its_log(demo_run):
    repo, proc = demo_run
    import pyarrow.parquet as pq

    from workbench.reports.ledger import Ledger
    from workbench.serving.log_table import ROLES, read_log

    demo = repo / "workbench-demo"
    log_dir = demo / "serving" / "log"
    segments = sorted(log_dir.glob("date=*/*.parquet"))
    assert segments
    roles = {r for s in segments for r in pq.read_table(s, columns=["_role"]).column("_role").to_pylist()}
    assert roles == {"champion", "shadow"}
    log = read_log(log_dir, roles=ROLES, with_meta=True)
    rows = sum(pq.read_metadata(p).num_rows for p in (demo / "data" / "batches").glob("*.parquet"))
    champion = log[log["_role"] == "champion"]
    # every batch row was sent once, with its id, and answered (or refused) by the champion: version 1
    assert len(champion) == rows and champion["_id"].is_unique and set(champion["_model_version"]) == {"1"}
    assert set(log.loc[log["_role"] == "shadow", "_model_version"]) == {"2"}
    assert "income" in log.attrs["label_columns"] and log["income"].notna().all()  # the labels joined by id
    runs = {r["kind"]: r for r in Ledger(demo / "reports").runs() if r["name"] == "served-log"}
    assert set(runs) == {"drift", "performance"}
    assert {r["status"] for r in runs.values()} <= {"passed", "checks_failed"}
    assert Path(runs["drift"]["params"]["current"]) == log_dir.resolve()
    assert Path(runs["performance"]["params"]["data"]) == log_dir.resolve()
    out = proc.stdout
    assert (
        "Serving: `workbench serve` on models:/adult-income@champion (version 1), version 2 in shadow" in out
    )
    assert f"records in {len(champion) // 100} requests of 100" in out
    assert "p50" in out and "p99" in out
    assert f"answered: {(champion['_status'] == 'ok').sum():,} by version 1" in out
    assert f"shadow version 2 scored {(log['_role'] == 'shadow').sum():,} records" in out
    assert "drift report on the log: " in out and str(runs["drift"]["run_dir"]) in out
    assert "performance report on the log: " in out and str(runs["performance"]["run_dir"]) in out


def test_a_failed_serving_step_is_named_and_its_server_stopped(tmp_path, monkeypatch, adult, release_models):
    """The serving step that fails says which step and why; the server it started is stopped."""
    import workbench._demo_serving as step
    from workbench.registry import register_model

    registry = tmp_path / "registry"
    register_model(release_models["champion"], "m", registry=registry, aliases=["champion"])
    register_model(release_models["comparable"], "m", registry=registry)
    batch = tmp_path / "batch.parquet"
    adult.test.head(300).to_parquet(batch, index=False)
    adult.train.head(2000).to_parquet(tmp_path / "reference.parquet", index=False)
    servers = []

    def refused(url, batches):
        servers.append(url)
        raise ConnectionRefusedError("connection refused (a test)")

    lines: list[str] = []
    monkeypatch.setattr(step, "replay", refused)
    done, failed = step.serving_step(
        [batch], model="m", target="income", registry=registry, reference=tmp_path / "reference.parquet",
        out=tmp_path, reports_dir=tmp_path / "reports", progress=False, echo=lines.append,
    )  # fmt: skip
    assert failed == "replaying the production batches: connection refused (a test)"
    assert "SERVING FAILED while replaying the production batches: connection refused (a test)" in lines
    assert servers and servers[0].startswith("http://127.0.0.1:")
    import urllib.request

    with pytest.raises(OSError):  # stopped: nothing listens there any more
        urllib.request.urlopen(servers[0] + "/health", timeout=5)


def test_demo_fails_loudly_when_the_release_step_fails(tmp_path, monkeypatch, capsys):
    """A release step that failed makes the demo exit 3, saying which step and why."""
    out, err = _failing_demo(
        monkeypatch,
        tmp_path,
        capsys,
        "workbench.releases.retrain:retrain",
        _registry_refuses,
        "--no-monitoring",
    )
    assert "RELEASE FAILED while retraining the challenger: the registry refused" in out
    assert "release step failed while retraining the challenger" in err


def test_demo_fails_loudly_when_a_report_run_fails(tmp_path, monkeypatch, capsys):
    """A report run that failed makes the demo exit 3, and its table says which run and why."""
    # _run_one is pickled by name; forked workers import the patched one
    out, err = _failing_demo(
        monkeypatch, tmp_path, capsys, "workbench.demo:_run_one", _bias_runs_fail, "--no-release"
    )
    assert "bias RUN FAILED: KernelDied" in out
    assert "report run(s) of the demo failed" in err


def _failing_demo(monkeypatch, tmp_path, capsys, name, replacement, *flags):
    """Run the quick demo in-process with `name` (``module:attribute``) replaced; it must exit 3, no
    traceback."""
    import importlib

    import workbench.cli as cli

    module, attribute = name.split(":")
    monkeypatch.setattr(importlib.import_module(module), attribute, replacement)
    monkeypatch.chdir(tmp_path)
    code = cli.main(["demo", "--quick", "--no-serve", "--no-compress", *flags])
    out, err = capsys.readouterr()
    assert code == 3 and "Traceback" not in err, err
    return out, err


def _registry_refuses(*args, **kwargs):
    from workbench.errors import RegistryError

    raise RegistryError("the registry refused the new version (a test)")


def _bias_runs_fail(kind, params, reports_dir, name):
    return ("KernelDied: the kernel died" if kind == "bias" else None), [], None
