"""Packaging: dependency lists in sync, a light import, a wheel that carries its notebooks and data."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, imported_after


def _norm(req: str) -> tuple[str, str]:
    req = req.split("#")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)\s*(.*)$", req)
    name, spec = m.group(1), m.group(2).replace(" ", "")
    return re.sub(r"[-_.]+", "-", name.lower()), ",".join(sorted(spec.split(","))) if spec else ""


def _pyproject_deps() -> dict:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return dict(_norm(d) for d in deps)


def test_environment_yml_and_binder_list_the_same_runtime_dependencies():
    expected = _pyproject_deps()
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip"))]
    assert dict(_norm(d) for d in conda) == expected
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(line.strip().endswith(".") for line in pip_section), "environment.yml must install the package"
    binder = [
        ln
        for ln in (ROOT / "binder" / "requirements.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert dict(_norm(d) for d in binder) == expected
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post and os.access(ROOT / "binder" / "postBuild", os.X_OK)


def test_known_pins_and_the_lock_file():
    deps = _pyproject_deps()
    assert "<3" in deps["pandas"] and "<6" in deps["plotly"] and "<7" in deps["protobuf"]
    lock = dict(_norm(ln) for ln in (ROOT / "constraints.txt").read_text().splitlines() if "==" in ln)
    for name in deps:
        assert name in lock and lock[name].startswith("=="), f"{name} is not pinned in constraints.txt"
    assert int(lock["pandas"][2:].split(".")[0]) < 3


def test_import_workbench_is_light():
    heavy = (
        "sklearn",
        "evidently",
        "lime",
        "onnxruntime",
        "skl2onnx",
        "shap",
        "numba",
        "plotly",
        "pandas",
        "scipy",
        "ipywidgets",
    )
    assert imported_after("import workbench", heavy) == []


def test_every_notebook_has_one_parameters_cell_and_no_outputs():
    import nbformat

    notebooks = template_notebooks()
    assert notebooks
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: {len(tagged)} parameters cells"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name} has outputs committed"


@pytest.mark.slow
def test_plain_pip_install_works_from_any_directory(tmp_path):
    """A non-editable install carries the notebooks and the data; the CLI runs outside the repo."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    wheel = next(wheels.glob("workbench-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for nb in template_notebooks():
        assert f"workbench/notebooks/{nb.relative_to(ROOT / 'notebooks')}" in names
    shipped = [n for n in names if n.startswith("workbench/notebooks/")]
    assert all(n.endswith(".ipynb") and ".ipynb_checkpoints" not in n for n in shipped), shipped
    assert "workbench/data/datasets/adult/adult.data.gz" in names
    assert "workbench/data/datasets/adult/README.md" in names
    for name in ("conf.json", "index.html.j2"):  # the dashboards' Voila template
        assert f"workbench/dashboards/share/voila/templates/workbench/{name}" in names

    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)],
        check=True,
        capture_output=True,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site)}
    code = (
        "import workbench, workbench.templates as t; from workbench.data import load_demo;"
        "print(workbench.__file__); print(t.notebooks_dir()); print(len(load_demo('adult').train))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=elsewhere, env=env, check=True
    )
    file_, nbdir, rows = r.stdout.split()
    assert file_.startswith(str(site)) and nbdir.startswith(str(site)) and rows == "32561"

    from sklearn.datasets import load_breast_cancer

    load_breast_cancer(as_frame=True).frame.to_csv(elsewhere / "cells.csv", index=False)
    r = subprocess.run(
        [
            str(site / "bin" / "workbench"),
            "train",
            "--data",
            "cells.csv",
            "--target",
            "target",
            "--model",
            "logistic_regression",
            "--out",
            "m.wbm",
        ],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert (elsewhere / "m.wbm").is_file()


def template_notebooks() -> list[Path]:
    """The committed templates (JupyterLab's .ipynb_checkpoints, left after opening one, are not)."""
    return sorted(
        p
        for p in (ROOT / "notebooks").rglob("*.ipynb")
        if not any(part.startswith(".") for part in p.relative_to(ROOT).parts)
    )


def test_repository_stands_alone():
    """Nothing in the repository points at files outside it (a clone has only itself)."""
    needle = "../" + "shared"  # spelled apart so that this file does not match itself
    listed = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    offenders = [
        rel
        for rel in listed
        if (ROOT / rel).is_file()
        and (ROOT / rel).suffix not in (".gz", ".png")
        and needle in (ROOT / rel).read_text(errors="replace")
    ]
    assert offenders == []
    assert (ROOT / "docs" / "architecture.md").is_file()
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()


def test_layout():
    for p in (
        "README.md",
        "environment.yml",
        "notebooks",
        "workbench",
        "reports/README.md",
        "tests",
        "binder",
        "pyproject.toml",
        "Makefile",
        ".ci/run",
        "benchmarks",
        "constraints.txt",
    ):
        assert (ROOT / p).exists(), p
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert (
        Path(ROOT / "workbench" / "data" / "datasets" / "adult" / "README.md").read_text().count("CC BY 4.0")
    )


def test_ruff_clean():
    r = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "workbench", "tests", "benchmarks"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stdout + r.stderr


def test_notebook_outputs_go_to_an_ignored_work_folder():
    """Running 01-04 with their defaults writes under workbench-work/, which git ignores.

    The folder sits beside the templates.
    """
    import nbformat

    for path in template_notebooks():
        if not path.name[:2].isdigit():
            continue
        nb = nbformat.read(path, as_version=4)
        (cell,) = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
        namespace: dict = {}
        exec(cell.source, namespace)  # the parameters cell is plain assignments
        outputs = [
            v
            for k, v in namespace.items()
            if isinstance(v, str)
            and (k.endswith("out") or k.endswith("_path") or k == "out_dir")
            and k != "data_path"
        ]
        assert outputs and all(v.startswith("workbench-work/") for v in outputs), (path.name, outputs)
    r = subprocess.run(["git", "check-ignore", "-q", "notebooks/workbench-work/champion.wbm"], cwd=ROOT)
    assert r.returncode == 0
