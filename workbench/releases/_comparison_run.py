"""A comparison computed by a release step, kept as a ``compare`` run in the run store.

``promote`` and ``retrain`` compute their comparison themselves (the gate and
the verdict need it at once); :func:`store_comparison` files it as a run like
any ``workbench report compare`` run: the template executes and renders the
stored result (nothing is computed twice), the run gets its ``report.html``,
``summary.json`` and a ledger row, and the dashboards show it. The alias move
records the run's id. :func:`find_comparison` finds such a run of the same two
versions on the same window in the run ledger, so that ``promote`` after
``retrain`` judges the comparison retrain filed instead of computing it again.
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
    return result, *judge(result, checks), run_dir


def judge(result: Any, checks: Mapping) -> tuple[list[str], Any]:
    """(the gating checks `result` fails under `checks`, its verdict under them)."""
    failed = [c.name for c in result.checks(checks) if not c.passed and c.severity == "error"]
    return failed, result.verdict(checks)


def find_comparison(
    name: str, versions: tuple[int, int], window: Any, source: str | None, options: Mapping[str, Any]
) -> tuple[Any, Path] | None:
    """A ``compare`` run already filed for these two versions on this window with these options, or None.

    `versions` are (the champion's, the challenger's); `options` are :func:`compare_and_file`'s
    ``sensitive``, ``registry``, ``reports_dir``, ``n_bootstrap`` and ``random_state``. The newest
    run in the ``reports_dir`` ledger that completed and compared ``models:/NAME/CHAMPION`` with
    ``models:/NAME/VERSION`` of the same registry, on a window with the same fingerprint (its file's
    bytes, or a table's rows), with the same sensitive columns, bootstrap resamples and seed, and whose
    stored models still have the registry's checksums (a registry made again under the same names is
    not the same models).

    Returns
    -------
    tuple or None
        (the stored :class:`~workbench.releases.result.ComparisonResult`, the run's folder), or None when
        no run matches (the comparison must be computed).
    """
    from workbench.errors import WorkbenchError
    from workbench.modeling.artifact import read_model_info
    from workbench.reports.compute import _fingerprint
    from workbench.reports.ledger import Ledger
    from workbench.reports.runner import resolve_params

    registry, n_bootstrap = options["registry"], options["n_bootstrap"]
    uris = tuple(f"models:/{name}/{v}" for v in versions)
    wanted = resolve_params(
        {
            "champion": uris[0],
            "challenger": uris[1],
            "current": source,
            "registry": None if registry is None else str(registry),
            "sensitive": list(options["sensitive"]),
            "n_bootstrap": n_bootstrap,
        }
    )
    try:
        rows = Ledger(options["reports_dir"]).runs(kind="compare")
    except (OSError, WorkbenchError):  # no readable ledger: nothing to reuse
        return None
    candidates = [
        r
        for r in rows
        if r["status"] in ("passed", "checks_failed")
        and all((r.get("params") or {}).get(k) == v for k, v in wanted.items())
    ]
    if not candidates:
        return None
    fp = _fingerprint(source, window)["sha256"]  # as the run recorded it (its lineage)
    sha = {}
    for row in candidates:
        if row.get("data_fingerprint") != fp:
            continue
        try:
            result = read_comparison(row["run_dir"])
            if not sha:
                sha = {u: read_model_info(u, registry=registry).meta.get("model_sha256") for u in uris}
        except (OSError, ValueError, KeyError, TypeError, WorkbenchError):  # moved or damaged: skip it
            continue
        if (
            result.n_bootstrap == n_bootstrap
            and result.random_state == options["random_state"]
            and result.champion.get("sha256") == sha[uris[0]]
            and result.challenger.get("sha256") == sha[uris[1]]
        ):
            return result, Path(row["run_dir"])
    return None


def read_comparison(run_dir: str | os.PathLike):
    """The comparison a ``compare`` run stored (read back from its ``results.json``, not computed again)."""
    import json

    from workbench.reports.report import RESULTS_FILE, Report

    stored = json.loads((Path(run_dir) / RESULTS_FILE).read_text())
    return Report.from_dict(stored["report"]).result("compare")


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
