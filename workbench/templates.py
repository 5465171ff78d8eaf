"""Where the templated notebooks live: inside the installed package, or the repo's notebooks/."""

from __future__ import annotations

from pathlib import Path

from workbench.errors import WorkbenchError

_PACKAGED = Path(__file__).resolve().parent / "notebooks"
_SOURCE = Path(__file__).resolve().parent.parent / "notebooks"


def notebooks_dir() -> Path:
    """The folder of templated notebooks (the wheel's copy, else the source tree's)."""
    for candidate in (_PACKAGED, _SOURCE):
        if candidate.is_dir():
            return candidate
    raise WorkbenchError(
        "the workbench notebook templates are missing from this installation; reinstall workbench"
    )


def template(name: str) -> Path:
    """Path of a template such as ``"01_train.ipynb"`` or ``"monitoring/drift_report.ipynb"``."""
    path = notebooks_dir() / name
    if not path.is_file():
        raise WorkbenchError(f"no notebook template named '{name}' in {notebooks_dir()}")
    return path


def list_templates() -> list[str]:
    """The templates' paths relative to :func:`notebooks_dir` (``monitoring/drift_report.ipynb``), sorted."""
    root = notebooks_dir()
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
