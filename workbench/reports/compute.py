"""Computing a report: load inputs, run the analyses, return a :class:`Report` (heavy imports here)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.errors import DataError, WorkbenchError
from workbench.reports.report import KINDS, Report


def compute_report(kind: str, params: Mapping[str, Any]) -> Report:
    """Run the analyses of a report kind on the inputs named in `params`.

    ``drift``: drift + data quality between ``reference`` and ``current``, and
    performance (label-free estimate, or measured when labels are present) when
    a ``model`` is given. ``bias``: fairness of ``model`` on ``data`` across
    ``sensitive`` columns, compared with ``reference`` when given.
    ``performance``: measured (and estimated) performance of ``model`` on
    ``data``. Paths left as None use the bundled Adult demo.
    """
    from workbench.data import infer_spec, load_table
    from workbench.modeling.artifact import load_model

    if kind not in KINDS:
        raise WorkbenchError(f"unknown report kind '{kind}'; use one of {', '.join(KINDS)}")
    params = dict(params)
    params = {**_demo_inputs(kind, params), **{k: v for k, v in params.items() if v not in (None, [], "")}}
    model = load_model(params["model"]) if params.get("model") else None
    checks = dict(params.get("checks") or {})
    lineage: dict[str, Any] = {"data": {}, "model": None}
    notes: list[str] = []
    if model is not None:
        lineage["model"] = {"path": str(params["model"]), "name": model.name,
                            "sha256": model.meta.get("model_sha256"), "recipe": model.meta.get("recipe")}

    if kind == "drift":
        from workbench.monitoring.drift import detect_drift
        from workbench.monitoring.quality import check_quality

        reference = load_table(params["reference"], what="reference data")
        current = load_table(params["current"], what="current data")
        _non_empty(reference, "reference data")
        _non_empty(current, "current data")
        lineage["data"] = {"reference": _fingerprint(params["reference"], reference),
                           "current": _fingerprint(params["current"], current)}
        if model is not None:
            spec = model.spec
        else:
            target = params.get("target")
            spec = infer_spec(reference, target=target if target in reference.columns else None)
        period = _period(params, spec, current)
        from workbench.monitoring.drift import compute_table_stats

        # one pass over each table feeds both drift and quality
        ref_stats = compute_table_stats(reference, spec, model=model, duplicates=True)
        cur_stats = compute_table_stats(current, spec, duplicates=True, where="the current data")
        results = [detect_drift(reference, current, spec, model=model, reference_stats=ref_stats,
                                current_stats=cur_stats),
                   check_quality(reference, current, spec, reference_stats=ref_stats, current_stats=cur_stats)]
        if model is not None:
            from workbench.monitoring.performance import assess_performance

            labelled_ref = reference if spec.target in reference.columns else None
            results.append(assess_performance(current, model, reference=labelled_ref, period=period))
    elif kind == "bias":
        from workbench.monitoring.bias import assess_bias

        data = load_table(params["data"], what="data")
        _non_empty(data, "data")
        reference = load_table(params["reference"], what="reference data") if params.get("reference") else None
        lineage["data"] = {"current": _fingerprint(params["data"], data)}
        if reference is not None:
            lineage["data"]["reference"] = _fingerprint(params["reference"], reference)
        spec = model.spec
        sensitive = list(params.get("sensitive") or spec.sensitive)
        period = _period(params, spec, data)
        results = [assess_bias(data, spec, model=model, sensitive=sensitive, reference=reference)]
    else:
        from workbench.monitoring.performance import assess_performance

        data = load_table(params["data"], what="data")
        _non_empty(data, "data")
        reference = load_table(params["reference"], what="reference data") if params.get("reference") else None
        lineage["data"] = {"current": _fingerprint(params["data"], data)}
        if reference is not None:
            lineage["data"]["reference"] = _fingerprint(params["reference"], reference)
        period = _period(params, model.spec, data)
        results = [assess_performance(data, model, reference=reference, period=period)]
    lineage["versions"] = _versions()
    lineage["period"] = period
    shown = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items() if k != "checks"}
    return Report(kind, results, shown, period, lineage, notes, checks)


def validate_inputs(kind: str, params: Mapping[str, Any]) -> None:
    """Cheap checks before a run starts (file headers, model, columns): bad input exits 2, no run is made.

    Parquet inputs are checked from their footers alone (no pandas in the
    runner's process); the tables themselves are read once, by the kernel.
    """
    model = None
    if params.get("model"):
        from workbench.modeling.artifact import load_model

        model = load_model(params["model"])
    if kind == "drift":
        ref_cols, ref_rows = peek_table(params["reference"], "reference data")
        cur_cols, cur_rows = peek_table(params["current"], "current data")
        if cur_rows == 0:
            raise DataError(f"the current data '{params['current']}' has no rows")
        if ref_rows == 0:
            raise DataError(f"the reference data '{params['reference']}' has no rows")
        target = params.get("target")
        if target and target not in ref_cols:
            raise DataError(f"the target column '{target}' is missing from the reference data")
        if model is not None:
            _features_present(model, cur_cols, "the current data")
            _features_present(model, ref_cols, "the reference data")
        return
    cols, rows = peek_table(params["data"], "data")
    if rows == 0:
        raise DataError(f"the data '{params['data']}' has no rows")
    if model is None:
        raise WorkbenchError(f"a {kind} report needs a model (--model)")
    _features_present(model, cols, "the data")
    if params.get("reference"):
        ref_cols, ref_rows = peek_table(params["reference"], "reference data")
        if ref_rows == 0:
            raise DataError(f"the reference data '{params['reference']}' has no rows")
        _features_present(model, ref_cols, "the reference data")
    if kind == "bias":
        if model.task != "binary":
            raise WorkbenchError(
                f"a bias report needs a binary classifier, and this model does {model.task}; "
                "compare groups with `workbench evaluate --slice COL` instead"
            )
        sensitive = list(params.get("sensitive") or model.spec.sensitive)
        if not sensitive:
            raise WorkbenchError("a bias report needs at least one sensitive column (--sensitive COL)")
        for s in sensitive:
            if s not in cols:
                raise DataError(f"the sensitive column '{s}' is missing from the data")
    if kind == "performance" and model.spec.target not in cols and model.task == "regression":
        raise DataError(f"the target column '{model.spec.target}' is missing from the data; "
                        "a regression model's performance can only be measured with labels")


def peek_table(path: str | Path, what: str) -> tuple[list[str], int]:
    """Columns and a row count (0 or more) of a table without reading all of it."""
    p = Path(path)
    if p.exists() and p.is_file() and p.name.lower().endswith(_PARQUET_SUFFIXES):
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(p)
            cols = [c for c in meta.schema_arrow.names if not c.startswith("__index_level_")]
            return cols, meta.metadata.num_rows
        except Exception:
            pass  # fall through to the full reader, which words the error
    from workbench.data.io import CSV_SUFFIXES, PARQUET_SUFFIXES, load_table

    if p.exists() and p.is_file() and not p.name.lower().endswith(PARQUET_SUFFIXES):
        import pandas as pd

        if p.name.lower().endswith(CSV_SUFFIXES):
            try:
                head = pd.read_csv(p, nrows=2, sep="\t" if ".tsv" in p.name.lower() else ",")
                return [str(c) for c in head.columns], len(head)
            except pd.errors.EmptyDataError:
                raise DataError(f"the {what} file '{p}' is empty") from None
            except Exception:
                pass
    df = load_table(p, what=what)
    return list(df.columns), len(df)


# workbench.data.io.PARQUET_SUFFIXES, without importing workbench.data (pandas) to peek at a footer
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def _features_present(model, columns, where: str) -> None:
    missing = [c for c in model.spec.features if c not in set(columns)]
    if missing:
        shown = ", ".join(f"'{c}'" for c in missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise DataError(f"the model's feature column{'s' if len(missing) > 1 else ''} {shown} "
                        f"{'are' if len(missing) > 1 else 'is'} missing from {where}")


def _fingerprint(path, data) -> dict:
    from workbench.data.io import file_fingerprint, fingerprint

    try:
        return file_fingerprint(path, data)
    except (OSError, TypeError):
        return fingerprint(data)


def _non_empty(df, what: str) -> None:
    if len(df) == 0:
        raise DataError(f"the {what} has no rows")


def _period(params: Mapping, spec, data) -> str:
    if params.get("period"):
        return str(params["period"])
    if spec.time and spec.time in data.columns:
        import pandas as pd

        t = pd.to_datetime(data[spec.time], errors="coerce").dropna()
        if len(t):
            lo, hi = t.min().date().isoformat(), t.max().date().isoformat()
            return lo if lo == hi else f"{lo}..{hi}"
    return _dt.date.today().isoformat()


def _demo_inputs(kind: str, params: Mapping) -> dict:
    """Bundled inputs so a template also runs as-is in JupyterLab (Adult + a simulated batch)."""
    needed = {"drift": ("reference", "current"), "bias": ("data", "model"), "performance": ("data", "model")}[kind]
    if all(params.get(k) for k in needed):
        return {}
    import tempfile

    from workbench.data import load_demo
    from workbench.data.simulate import simulate_batches

    demo = load_demo("adult")
    folder = Path(tempfile.mkdtemp(prefix="workbench-demo-inputs-"))
    batch = simulate_batches(demo.test, demo.spec, [{"kind": "covariate_shift", "column": "age"}],
                             random_state=0)[0]
    demo.train.to_parquet(folder / "reference.parquet", index=False)
    batch.data.to_parquet(folder / "current.parquet", index=False)
    out = {"reference": str(folder / "reference.parquet"), "current": str(folder / "current.parquet"),
           "data": str(folder / "current.parquet"), "period": batch.period}
    if kind != "drift" or params.get("model"):
        from workbench.modeling.artifact import save_model
        from workbench.modeling.train import train

        res = train(demo.train.sample(8000, random_state=0), demo.spec, recipes=["logistic_regression"],
                    progress=False)
        out["model"] = str(save_model(res.champion, folder / "model.wbm"))
        out["sensitive"] = list(demo.spec.sensitive)
    return out


def _versions() -> dict:
    from workbench.modeling.artifact import library_versions

    v = library_versions()
    from importlib.metadata import PackageNotFoundError, version

    for pkg in ("evidently", "fairlearn", "papermill"):
        try:
            v[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return v
