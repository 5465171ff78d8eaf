"""The fault matrix: bad input across the CLI, model files, checks files and the dashboard.

Every case must give exit code 2, one sentence on stderr (no traceback, no
library text), and change no file on disk: the workspace is fingerprinted
before and after each case. Crafted model files that try to act (callables,
crafted trees, zip tricks) have their own suite in test_model_files_hostile.py;
a few of them are here too, so that the matrix covers every door.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

WORKBENCH = str(Path(sys.executable).parent / "workbench")


@pytest.fixture(scope="module")
def ws(tmp_path_factory, adult):
    """A workspace a user might have: data, a model, checks files, a folder of their own files."""
    import numpy as np

    from workbench.modeling.artifact import save_model
    from workbench.modeling.train import train

    d = tmp_path_factory.mktemp("ws")
    sample = adult.train.sample(800, random_state=0)
    sample.to_csv(d / "data.csv", index=False)
    sample.to_parquet(d / "ref.parquet", index=False)
    adult.test.sample(600, random_state=1).to_parquet(d / "cur.parquet", index=False)
    model = train(sample, adult.spec, recipes=["logistic_regression"], progress=False, quick=True).champion
    save_model(model, d / "model.wbm")
    # bad tables
    (d / "empty.csv").write_text("")
    header = ",".join(sample.columns)
    (d / "header_only.csv").write_text(header + "\n")
    dup = sample.head(50).copy()
    dup.columns = [c if c != "fnlwgt" else "age" for c in dup.columns]
    dup.to_csv(d / "dup_columns.csv", index=False)
    inf = sample.head(200).copy().astype({"age": float})
    inf.loc[inf.index[:5], "age"] = np.inf
    inf.to_csv(d / "inf.csv", index=False)
    text = sample.head(200).copy().astype({"age": object})
    text.loc[text.index[:20], "age"] = "forty"
    text.to_csv(d / "text_in_numeric.csv", index=False)
    single = sample.head(200).copy()
    single["sex"] = "Female"
    single.to_csv(d / "single_group.csv", index=False)
    unseen = sample.head(200).copy()
    unseen.loc[unseen.index[:10], "income"] = "maybe"
    unseen.to_csv(d / "unseen_labels.csv", index=False)
    # bad checks files
    (d / "typo.toml").write_text('"drift.colum.age" = 0.1\n')
    (d / "nan.toml").write_text('"drift.share" = nan\n')
    (d / "inf.toml").write_text('"drift.share" = inf\n')
    (d / "range.toml").write_text('"drift.share" = 5\n')
    (d / "negative.toml").write_text('"quality.missing.age" = -0.1\n')
    (d / "text.toml").write_text('"drift.share" = "high"\n')
    (d / "broken.toml").write_text('"drift.share" = \n')
    (d / "checks.txt").write_text("drift.share = 0.2\n")
    (d / "field.toml").write_text('"drift.share" = { threshold = 0.2, enabeld = false }\n')
    # bad model files
    (d / "pickle.wbm").write_bytes(pickle.dumps({"a": 1}))
    (d / "garbage.wbm").write_bytes(b"this is not a model")
    with zipfile.ZipFile(d / "no_meta.wbm", "w") as z:
        z.writestr("model.skops", b"x")
    with zipfile.ZipFile(d / "traversal.wbm", "w") as z:
        z.writestr("../evil.txt", b"x")
        z.writestr("meta.json", b"{}")
    # the user's own things that must never be touched
    (d / "notes.txt").write_text("my notes\n")
    (d / "mine").mkdir()
    (d / "mine" / "thesis.tex").write_text("\\documentclass{article}\n")
    (d / "results.xml").write_text("<results>mine</results>\n")
    (d / "afile").write_text("a file, not a folder\n")
    (d / "emptydir").mkdir()
    return d


def _fingerprint(root: Path) -> dict[str, str]:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink():
            out[rel] = "link:" + os.readlink(p)
        elif p.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


R = ["--reference", "ref.parquet"]
C = ["--current", "cur.parquet"]
M = ["--model", "model.wbm"]
T = ["--data", "data.csv", "--target", "income"]
DRIFT = ["report", "drift", *R, *C, *M, "--reports-dir", "reports"]
BIAS = ["report", "bias", "--data", "cur.parquet", *M, "--reports-dir", "reports"]

CASES: dict[str, list[str]] = {
    # train
    "train: missing data file": ["train", "--data", "missing.csv", "--target", "income", "--out", "m.wbm"],
    "train: empty data file": ["train", "--data", "empty.csv", "--target", "income", "--out", "m.wbm"],
    "train: header only": ["train", "--data", "header_only.csv", "--target", "income", "--out", "m.wbm"],
    "train: unknown target": ["train", "--data", "data.csv", "--target", "nope", "--out", "m.wbm"],
    "train: duplicate column names": [
        "train",
        "--data",
        "dup_columns.csv",
        "--target",
        "income",
        "--out",
        "m.wbm",
    ],
    "train: negative seed": [*["train", *T], "--seed", "-1", "--out", "m.wbm"],
    "train: huge seed": [*["train", *T], "--seed", str(2**40), "--out", "m.wbm"],
    "train: negative cost": [*["train", *T], "--cost-fn", "-1", "--out", "m.wbm"],
    "train: nan cost": [*["train", *T], "--cost-fp", "nan", "--out", "m.wbm"],
    "train: infinite cost": [*["train", *T], "--cost-fn", "inf", "--out", "m.wbm"],
    "train: unknown recipe": [*["train", *T], "--model", "deep_net", "--out", "m.wbm"],
    "train: unknown imbalance": [*["train", *T], "--imbalance", "magic", "--out", "m.wbm"],
    "train: unknown positive": [*["train", *T], "--positive", "rich", "--out", "m.wbm"],
    "train: unknown --drop": [*["train", *T], "--drop", "nope", "--out", "m.wbm"],
    "train: unknown sensitive": [*["train", *T], "--sensitive", "nope", "--out", "m.wbm"],
    "train: out exists without force": [*["train", *T], "--out", "model.wbm"],
    "train: force over a folder of other files": [*["train", *T], "--out", "mine", "--force"],
    "train: force over a file that is not a model": [*["train", *T], "--out", "notes.txt", "--force"],
    "train: out under a file": [*["train", *T], "--out", "afile/m.wbm"],
    "train: missing validation": [*["train", *T], "--validation", "missing.csv", "--out", "m.wbm"],
    "train: n-iter zero": [*["train", *T], "--search", "--n-iter", "0", "--out", "m.wbm"],
    # evaluate
    "evaluate: missing model": ["evaluate", "--model", "missing.wbm", "--data", "data.csv"],
    "evaluate: empty model path": ["evaluate", "--model", "", "--data", "data.csv"],
    "evaluate: pickle": ["evaluate", "--model", "pickle.wbm", "--data", "data.csv"],
    "evaluate: garbage model": ["evaluate", "--model", "garbage.wbm", "--data", "data.csv"],
    "evaluate: zip without meta": ["evaluate", "--model", "no_meta.wbm", "--data", "data.csv"],
    "evaluate: zip path traversal": ["evaluate", "--model", "traversal.wbm", "--data", "data.csv"],
    "evaluate: a folder that is not a model": ["evaluate", "--model", "mine", "--data", "data.csv"],
    "evaluate: infinite feature values": ["evaluate", *M, "--data", "inf.csv"],
    "evaluate: text in a numeric column": ["evaluate", *M, "--data", "text_in_numeric.csv"],
    "evaluate: threshold above 1": ["evaluate", *M, "--data", "data.csv", "--threshold", "2"],
    "evaluate: nan threshold": ["evaluate", *M, "--data", "data.csv", "--threshold", "nan"],
    "evaluate: unknown slice": ["evaluate", *M, "--data", "data.csv", "--slice", "nope"],
    "evaluate: negative cost": ["evaluate", *M, "--data", "data.csv", "--cost-fp", "-3"],
    # reports
    "report: no kind": ["report"],
    "report: unknown kind": ["report", "fairness"],
    "report: --fail-on typo of all": [*DRIFT, "--fail-on", "al"],
    "report: --fail-on unknown name": [*DRIFT, "--fail-on", "bogus"],
    "report: --fail-on unknown column": [*DRIFT, "--fail-on", "drift.column.agee"],
    "report: --fail-on pattern matching nothing": [*DRIFT, "--fail-on", "drfit.*"],
    "report: checks key typo": [*DRIFT, "--checks", "typo.toml"],
    "report: checks nan threshold": [*DRIFT, "--checks", "nan.toml"],
    "report: checks infinite threshold": [*DRIFT, "--checks", "inf.toml"],
    "report: checks out-of-range threshold": [*DRIFT, "--checks", "range.toml"],
    "report: checks negative threshold": [*DRIFT, "--checks", "negative.toml"],
    "report: checks text threshold": [*DRIFT, "--checks", "text.toml"],
    "report: checks unparseable": [*DRIFT, "--checks", "broken.toml"],
    "report: checks wrong format": [*DRIFT, "--checks", "checks.txt"],
    "report: checks missing": [*DRIFT, "--checks", "missing.toml"],
    "report: checks unknown field": [*DRIFT, "--checks", "field.toml"],
    "report: reports-dir is a file": ["report", "drift", *R, *C, *M, "--reports-dir", "afile"],
    "report: reports-dir under a file": ["report", "drift", *R, *C, *M, "--reports-dir", "afile/reports"],
    "report: junit is a folder": [*DRIFT, "--junit", "mine"],
    "report: junit would replace another file": [*DRIFT, "--junit", "results.xml"],
    "report: junit under a file": [*DRIFT, "--junit", "afile/checks.xml"],
    "report: missing current": [
        "report",
        "drift",
        *R,
        "--current",
        "missing.parquet",
        "--reports-dir",
        "reports",
    ],
    "report: empty reference": [
        "report",
        "drift",
        "--reference",
        "empty.csv",
        *C,
        "--reports-dir",
        "reports",
    ],
    "report: pickle model": ["report", "drift", *R, *C, "--model", "pickle.wbm", "--reports-dir", "reports"],
    "report: infinite feature values": [
        "report",
        "drift",
        *R,
        "--current",
        "inf.csv",
        *M,
        "--reports-dir",
        "reports",
    ],
    "report: text in a numeric column": [
        "report",
        "drift",
        *R,
        "--current",
        "text_in_numeric.csv",
        *M,
        "--reports-dir",
        "reports",
    ],
    "report: unknown sensitive": [*BIAS, "--sensitive", "nope"],
    "report: single-group sensitive": [
        "report",
        "bias",
        "--data",
        "single_group.csv",
        *M,
        "--sensitive",
        "sex",
        "--reports-dir",
        "reports",
    ],
    "report: unseen labels": [
        "report",
        "bias",
        "--data",
        "unseen_labels.csv",
        *M,
        "--reports-dir",
        "reports",
    ],
    "report: bias --fail-on unknown": [*BIAS, "--fail-on", "bias.demographic_parity_ration.*"],
    # runs
    "runs: reports-dir is a file": ["runs", "--reports-dir", "afile"],
    "runs: reports-dir missing": ["runs", "--reports-dir", "nowhere"],
    "runs: negative limit": ["runs", "--reports-dir", "emptydir", "--limit", "-5"],
    "runs: zero limit": ["runs", "--reports-dir", "emptydir", "--limit", "0"],
    "runs: unknown kind": ["runs", "--reports-dir", "emptydir", "--kind", "fairness"],
    # compress
    "compress: missing model": ["compress", "--model", "missing.wbm", "--data", "data.csv", "--out", "c"],
    "compress: negative budget": ["compress", *M, "--data", "data.csv", "--max-auc-loss", "-1", "--out", "c"],
    "compress: nan budget": ["compress", *M, "--data", "data.csv", "--max-auc-loss", "nan", "--out", "c"],
    "compress: out is a file": ["compress", *M, "--data", "data.csv", "--out", "notes.txt"],
    "compress: out is a folder of other files": ["compress", *M, "--data", "data.csv", "--out", "mine"],
    # dashboard
    "dashboard: unresolvable host": [
        "dashboard",
        "--reports-dir",
        "emptydir",
        "--host",
        "no-such-host.invalid",
        "--no-browser",
    ],
    "dashboard: port out of range": [
        "dashboard",
        "--reports-dir",
        "emptydir",
        "--port",
        "99999",
        "--no-browser",
    ],
    "dashboard: reports-dir is a file": ["dashboard", "--reports-dir", "afile", "--no-browser"],
    # demo
    "demo: out is a file": ["demo", "--out", "notes.txt", "--no-serve"],
    # no command at all
    "no command": [],
}
USAGE_ALLOWED = {"report: no kind", "no command"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_exit_2_with_one_sentence(ws, case):
    before = _fingerprint(ws)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    proc = subprocess.run(
        [WORKBENCH, *CASES[case]], cwd=ws, capture_output=True, text=True, timeout=300, env=env
    )
    err = proc.stderr.strip()
    assert proc.returncode == 2, (case, proc.returncode, err[-1500:])
    assert "Traceback" not in err and "Traceback" not in proc.stdout, err
    lines = [line for line in err.splitlines() if line.strip()]
    if case in USAGE_ALLOWED:
        assert lines and lines[-1].startswith("workbench") and "error:" in lines[-1], err
    else:
        assert len(lines) == 1, (case, err)
        assert lines[0].startswith("workbench") and "error:" in lines[0], err
        assert len(lines[0]) < 600, lines[0]
    after = _fingerprint(ws)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    # a refused report must not even create its reports folder's run; nothing else may appear or change
    assert [c for c in changed if not c.startswith("reports")] == [], (case, changed)
    assert not list((ws / "reports").glob("*/*")) if (ws / "reports").exists() else True, case


def test_matrix_is_large_enough():
    assert len(CASES) >= 50
