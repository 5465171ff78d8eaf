"""A comparison computed by a release step, kept as a ``compare`` run in the run store.

``promote`` and ``retrain`` compute their comparison themselves (the gate and
the verdict need it at once); :func:`store_comparison` files it as a run like
any ``workbench report compare`` run: the template executes and renders the
stored result (nothing is computed twice), the run gets its ``report.html``,
``summary.json`` and a ledger row, and the dashboards show it. The alias move
records the run's id.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: where release steps file their comparison runs unless told (the same default as ``workbench report``)
DEFAULT_REPORTS_DIR = "reports"


def load_window(data: Any, what: str = "the window"):
    """(the table, its file as a run names it or None for a table in memory); one sentence when unusable."""
    from workbench.releases.compare import _table

    source = str(Path(data).expanduser().resolve()) if isinstance(data, str | os.PathLike) else None
    return _table(data, what), source


def compare_and_file(
    name: str,
    champion: int,
    version: int,
    window: Any,
    source: str | None,
    *,
    sensitive: Sequence[str],
    registry: str | os.PathLike | None,
    checks: Mapping,
    reports_dir: str | os.PathLike,
    run_name: str,
    n_bootstrap: int,
    random_state: int | None,
) -> tuple[Any, list[str], Any, Path]:
    """Compare `version` of `name` with its `champion` version on `window`, and file the comparison run.

    Returns
    -------
    tuple
        (the comparison, its failed gating checks, its verdict, the run's folder).
    """
    from workbench.releases.compare import compare_models

    uris = (f"models:/{name}/{champion}", f"models:/{name}/{version}")
    result = compare_models(
        *uris,
        window,
        sensitive=sensitive,
        n_bootstrap=n_bootstrap,
        random_state=random_state,
        registry=registry,
    )
    run_dir = store_comparison(
        result,
        champion=uris[0],
        challenger=uris[1],
        current=window,
        current_source=source,
        sensitive=sensitive,
        registry=registry,
        checks=checks,
        reports_dir=reports_dir,
        name=run_name,
        n_bootstrap=n_bootstrap,
    )
    failed = [c.name for c in result.checks(checks) if not c.passed and c.severity == "error"]
    return result, failed, result.verdict(checks), run_dir


def store_comparison(
    result: Any,
    *,
    champion: str,
    challenger: str,
    current: Any,
    current_source: str | None,
    sensitive: Sequence[str] = (),
    registry: str | os.PathLike | None = None,
    checks: Mapping | None = None,
    reports_dir: str | os.PathLike = DEFAULT_REPORTS_DIR,
    name: str | None = None,
    n_bootstrap: int | None = None,
) -> Path:
    """File the computed comparison `result` as a ``compare`` run under `reports_dir`; return its folder.

    Parameters
    ----------
    result : the :class:`~workbench.releases.result.ComparisonResult` computed on `current`.
    champion, challenger : the two models as ``models:/`` URIs (or paths), as the run names them.
    current, current_source : the window (a DataFrame) and its file (None: it was given in memory).
    sensitive, registry, checks, n_bootstrap : the comparison's settings, recorded as the run's parameters.
    reports_dir : the run store (default ``./reports``, as for ``workbench report``).
    name : the run's name (it shows in the ledger and the dashboards).

    Raises
    ------
    RuntimeError
        The run could not be filed (its notebook failed): the work itself failed.
    """
    from workbench.exit_codes import EXIT_FAILED
    from workbench.reports.compute import comparison_report
    from workbench.reports.runner import resolve_params, run_report

    params: dict[str, Any] = {
        "champion": champion,
        "challenger": challenger,
        "current": current_source,
        "registry": None if registry is None else str(registry),
        "sensitive": list(sensitive),
    }
    if n_bootstrap is not None:
        params["n_bootstrap"] = n_bootstrap
    if current_source is None:
        params["window_rows"] = int(len(current))  # a table given in memory: its size, for the reader
    params = resolve_params(params)  # as the run records them (an embedded registry as its sqlite:/// URI)
    report = comparison_report(result, params, current, checks=checks)
    outcome = run_report(
        "compare",
        params,
        reports_dir=reports_dir,
        name=name,
        checks=dict(checks or {}),
        progress=False,
        validate=False,
        results=report,
    )
    if outcome.exit_code == EXIT_FAILED:
        error = outcome.summary.get("error")
        raise RuntimeError(f"the comparison could not be filed as a run ({error}); see {outcome.run_dir}")
    return outcome.run_dir
