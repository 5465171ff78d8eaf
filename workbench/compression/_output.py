"""Where a compression study writes: the output folder's check, the variants' file names, publishing.

Private: import the public names from :mod:`workbench.compression`.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from workbench.compression._variants import Variant
from workbench.errors import WorkbenchError


def check_study_destination(out: str | Path) -> Path:
    """`out` as a :class:`Path` if a compression study may write its output there.

    The study writes ``model.wbm``, ``compression.json`` and ``variants/`` and
    replaces a previous study's copies of them, nothing else. Refused with a
    :class:`WorkbenchError` sentence, before any work and without touching
    anything: a path that exists and is not a folder (or sits inside a file),
    and a folder holding anything else (other files, a ``model.wbm`` or
    ``variants/`` entry that is not a workbench model, links).

    Parameters
    ----------
    out : str or pathlib.Path
        The output folder (it need not exist yet).

    Returns
    -------
    pathlib.Path
        `out`, unchanged.

    Raises
    ------
    WorkbenchError
        The folder may not be written to (the sentence says why).
    """
    from workbench.modeling._model_container import is_artifact
    from workbench.modeling.artifact import check_model_destination

    out = Path(out)
    if os.path.lexists(out) and not out.is_dir():
        raise WorkbenchError(f"'{out}' exists and is not a folder; choose another output folder")
    check_model_destination(
        out / "model.wbm", overwrite=True
    )  # a file on the way; a model.wbm that is not one
    if not out.is_dir():
        return out
    foreign = []
    for entry in sorted(out.iterdir()):
        name = entry.name
        if name == "model.wbm" or (
            name.startswith(".compress-") and entry.is_dir() and not entry.is_symlink()
        ):
            continue  # checked above / the work folder of an interrupted study (never removed by one)
        if name == "compression.json" and _is_study_json(entry):
            continue
        if (
            name == "variants"
            and entry.is_dir()
            and not entry.is_symlink()
            and all(v.suffix == ".wbm" and is_artifact(v) for v in entry.iterdir())
        ):
            continue
        foreign.append(name)
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise WorkbenchError(
            f"'{out}' holds files that are not a compression study's output ({shown}); "
            "choose a new or empty folder (a study only replaces its own output)"
        )
    return out


def _is_study_json(path: Path) -> bool:
    import json

    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > 64 << 20:
            return False
        d = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(d, dict) and "variants" in d and "chosen" in d


def slug(name: str) -> str:
    """A file name for a variant name."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_") or "variant"


def _publish(work: Path, out_dir: Path, study: Any, chosen: str) -> str:
    """Move the saved variants into `out_dir` and copy the chosen one to ``model.wbm``."""
    check_study_destination(out_dir)  # again: the folder may have changed during the study
    src = work / "variants"
    dst = out_dir / "variants"
    if dst.exists():
        old = out_dir / f".variants.old-{os.getpid()}"
        os.replace(dst, old)
        shutil.rmtree(old, ignore_errors=True)
    os.replace(src, dst)
    chosen_file = dst / f"{slug(chosen)}.wbm"
    tmp = out_dir / f".model.wbm.{os.getpid()}"
    shutil.copyfile(chosen_file, tmp)
    os.replace(tmp, out_dir / "model.wbm")
    return str(out_dir / "model.wbm")


def _with_path(v: Variant, out_dir: Path | None) -> Variant:
    if out_dir is None:
        return v
    return Variant(**{**asdict(v), "path": str(out_dir / "variants" / f"{slug(v.name)}.wbm")})
