"""What the dashboard server serves besides Voila's own pages: notebooks adapted, a "busy" card, reports.

- Every notebook Voila executes goes through :func:`prepare_notebook` (the
  contents manager in :mod:`workbench.dashboards.upstream` calls it): a first
  cell that keeps kernel start-up fast, stored outputs dropped, and a run
  whose stored results are missing or damaged served as an error card, so a
  dashboard never recomputes a run.
- Beyond ``--max-kernels`` pages, the kernel manager raises
  :class:`KernelsBusy` and the page handler answers :data:`BUSY_PAGE`.
- Under ``/voila/files/`` only the static reports of finished runs are
  served (:data:`FILE_ALLOWLIST`, :data:`FILE_DENYLIST`).

Light: nothing here imports Voila or tornado.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from workbench.dashboards.kernel import PRELUDE, PROBE, PROBE_ENV

INDEX = "index.ipynb"
INDEX_PATH = f"voila/render/{INDEX}"
BUSY_RETRY = 10  # seconds: the busy card reloads itself after this long
BUSY_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{BUSY_RETRY}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dashboard busy</title>
<link rel="icon" href="data:;base64,=">
<style>body{{font:15px/1.5 system-ui,sans-serif;color:#222;background:#f6f6f6;margin:0;padding:8vh 16px}}
.wb-card{{max-width:560px;margin:0 auto;background:#fff;border-left:4px solid #e0a800;border-radius:4px;
padding:16px 20px;box-shadow:0 1px 3px rgba(0,0,0,.15)}}.wb-card h2{{font-size:18px;margin:0 0 6px}}
.wb-card p{{margin:0;color:#555}}</style></head>
<body><div class="wb-card wb-card-busy" data-problem="busy" role="status">
<h2>The dashboard is busy, retry in a moment</h2>
<p>It is showing as many pages as it serves at a time.
This page tries again by itself in {BUSY_RETRY} seconds, or <a href="">retry now</a>.</p></div></body></html>
"""
# Only the static reports of finished runs and the model cards (never hidden .tmp- folders, notebooks,
# JSON or the ledger).
FILE_ALLOWLIST = [r"[^/.][^/]*/[^/.][^/]*/report\.html", r"cards/[^/.][^/]*/[0-9]+/model_card\.html"]
FILE_DENYLIST = [r".*\.(ipynb|py|json|sqlite.*|parquet|csv|skops|onnx)", r"(.*/)?\..*"]


class KernelsBusy(RuntimeError):
    """As many kernels serve pages as the server allows (``--max-kernels``)."""


def prepare_notebook(nb, root: Path, path: str):
    """The notebook Voila executes for `path`: the fast-start prelude first; a run without readable
    results becomes an error card (the dashboard never recomputes); the test probe last when asked."""
    import nbformat

    run_dir = (root / path).parent
    if path != INDEX and (run_dir / "summary.json").is_file() and not _results_ok(run_dir):
        nb.cells = [
            nbformat.v4.new_code_cell(
                "from workbench.dashboards.runview import show_unavailable\nshow_unavailable('.')"
            )
        ]
    for cell in nb.cells:  # Voila executes the notebook again: the stored outputs would only be copied around
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE.format(folder=str(run_dir))))
    if os.environ.get(PROBE_ENV):
        nb.cells.append(nbformat.v4.new_code_cell(PROBE.format(label=path)))
    for i, cell in enumerate(nb.cells):
        cell.setdefault("id", f"wb-{i}")
    return nb


def _results_ok(run_dir: Path) -> bool:
    try:
        payload = json.loads((run_dir / "results.json").read_text())
        report = payload["report"]
        return isinstance(report, dict) and isinstance(report.get("results"), list) and "kind" in report
    except (OSError, ValueError, KeyError, TypeError):
        return False
