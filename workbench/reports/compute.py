"""Computing a report: load inputs, run the analyses, return a :class:`Report` (heavy imports here)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workbench.errors import DataError, ParameterError, SpecError
from workbench.report_kinds import KIND_NAMES
from workbench.reports._peek import _PARQUET_SUFFIXES, peek_table  # noqa: F401  (re-exported: the runner and tests import them from here)
from workbench.reports.report import Report
from workbench.validation import check_choice, check_columns


def compute_report(kind: str, params: Mapping[str, Any]) -> Report:
    """Run the analyses of a report kind on the inputs named in `params`.

    ``drift``: drift + data quality between ``reference`` and ``current``, and
    performance (label-free estimate, or measured when labels are present) when
    a ``model`` is given. ``bias``: fairness of ``model`` on ``data`` across
    ``sensitive`` columns, compared with ``reference`` when given.
    ``performance``: measured (and estimated) performance of ``model`` on
    ``data``. ``compare``: ``champion`` vs ``challenger`` on ``current``
    (:func:`workbench.releases.compare.compare_models`). Paths left as None use
    the bundled Adult demo.
    """
    from workbench.data import infer_spec, load_table
    from workbench.modeling.artifact import load_model

    check_choice(kind, "report kind", KIND_NAMES)
    params = dict(params)
    params = {**_demo_inputs(kind, params), **{k: v for k, v in params.items() if v not in (None, [], "")}}
    model = load_model(params["model"], registry=params.get("registry")) if params.get("model") else None
    checks = dict(params.get("checks") or {})
    lineage: dict[str, Any] = {"data": {}, "model": None}
    notes: list[str] = []
    if model is not None:
        lineage["model"] = {
            "path": str(params["model"]),
            "name": model.name,
            "sha256": model.meta.get("model_sha256"),
            "recipe": model.meta.get("recipe"),
        }
        if model.registered_as is not None:  # a models:/ URI: which registered version it resolved to
            lineage["model"]["registered"] = {
                k: v for k, v in model.registered_as.to_dict().items() if k != "path"
            }

    if kind == "drift":
        from workbench.monitoring.drift import detect_drift
        from workbench.monitoring.quality import check_quality

        reference = load_table(params["reference"], what="reference data")
        current = load_table(params["current"], what="current data")
        _non_empty(reference, "reference data")
        _non_empty(current, "current data")
        lineage["data"] = {
            "reference": _fingerprint(params["reference"], reference),
            "current": _fingerprint(params["current"], current),
        }
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
        results = [
            detect_drift(
                reference, current, spec, model=model, reference_stats=ref_stats, current_stats=cur_stats
            ),
            check_quality(reference, current, spec, reference_stats=ref_stats, current_stats=cur_stats),
        ]
        if model is not None:
            from workbench.monitoring.performance import assess_performance

            labelled_ref = reference if spec.target in reference.columns else None
            results.append(assess_performance(current, model, reference=labelled_ref, period=period))
    elif kind == "compare":
        results, period = _compare(params, lineage)
    elif kind == "canary":
        from workbench.reports._canary_inputs import canary_results

        results, period = canary_results(params, lineage)
    elif kind == "bias":
        from workbench.monitoring.bias import assess_bias

        data, reference = _batch(params, "data", "data", lineage)
        spec = model.spec
        sensitive = list(params.get("sensitive") or spec.sensitive)
        period = _period(params, spec, data)
        results = [assess_bias(data, spec, model=model, sensitive=sensitive, reference=reference)]
    else:
        from workbench.monitoring.performance import assess_performance

        data, reference = _batch(params, "data", "data", lineage)
        period = _period(params, model.spec, data)
        results = [assess_performance(data, model, reference=reference, period=period)]
    lineage["versions"] = _versions()
    lineage["period"] = period
    shown = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items() if k != "checks"}
    return Report(kind, results, shown, period, lineage, notes, checks)


def _compare(params: Mapping[str, Any], lineage: dict) -> tuple[list, str]:
    """The compare report's result, and its lineage: both models as given and as resolved, the window."""
    from workbench.modeling.artifact import read_model_info
    from workbench.releases.compare import compare_models

    current, reference = _batch(params, "current", "current data", lineage)
    registry = params.get("registry")
    spec = read_model_info(params["champion"], registry=registry).spec
    options = {k: params[k] for k in ("price_per_core_hour", "n_bootstrap") if params.get(k) is not None}
    result = compare_models(
        str(params["champion"]),
        str(params["challenger"]),
        current,
        sensitive=list(params.get("sensitive") or spec.sensitive),
        reference=reference,
        registry=registry,
        **options,
    )
    lineage.update(comparison_lineage(result, params, current, reference))
    return [result], _period(params, spec, current)


def comparison_lineage(result, params: Mapping[str, Any], current, reference=None) -> dict:
    """A comparison's lineage: the window (and reference) fingerprints, both models as given and as resolved.

    ``params["current"]`` (and ``params["reference"]``) name the tables' files when they came from one;
    a table given in memory is fingerprinted from its rows.
    """
    lineage: dict[str, Any] = {"data": {"current": _fingerprint(params.get("current"), current)}}
    if reference is not None:
        lineage["data"]["reference"] = _fingerprint(params.get("reference"), reference)
    for role in ("champion", "challenger"):
        m = getattr(result, role)
        lineage[role] = {
            "path": str(params[role]),
            "name": m["name"],
            "sha256": m["sha256"],
            "recipe": m["recipe"],
            **({"registered": m["registered"]} if m.get("registered") else {}),
        }
    lineage["model"] = lineage["challenger"]  # the model the run decides about (the ledger's model column)
    return lineage


def comparison_report(
    result, params: Mapping[str, Any], current, *, reference=None, checks: Mapping | None = None
) -> Report:
    """The ``compare`` report of a comparison already computed (what :func:`compute_report` would build).

    `params` are the run's parameters (``champion``, ``challenger``, ``current``, ``registry``, ...);
    `current` and `reference` the tables the comparison read, for the lineage and the period.
    """
    from workbench.modeling.artifact import read_model_info

    lineage = comparison_lineage(result, params, current, reference)
    spec = read_model_info(params["champion"], registry=params.get("registry")).spec
    period = _period(params, spec, current)
    lineage["versions"] = _versions()
    lineage["period"] = period
    shown = {k: (str(v) if isinstance(v, Path) else v) for k, v in params.items() if k != "checks"}
    return Report("compare", [result], shown, period, lineage, [], dict(checks or {}))


def validate_inputs(kind: str, params: Mapping[str, Any]) -> None:
    """Cheap checks before a run starts: bad input raises a one-sentence error (exit 2), no run is made.

    What a report kernel would otherwise fail on (exit 3 and a failed run):
    missing or empty files, duplicate column names, a model file that is not
    one, the model's features missing from a table and, with a model, values
    it cannot take: infinities or text in a numeric feature, target labels
    it never saw; for bias, a sensitive column with a single group (or with a
    distinct value in nearly every row: an identifier, not a group).

    Cheap: Parquet tables are checked from their footers, and with a model
    only the columns that can hold such values are read (numeric features,
    target, sensitive columns; Parquet reads nothing else from disk). The
    model is read from its ``meta.json`` (spec and task, checksum verified):
    its estimator is rebuilt once, by the kernel that uses it (importing
    skops/scikit-learn alone takes seconds).
    """
    model = _model_info(params["model"], params.get("registry")) if params.get("model") else None
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
            _check_values(params["reference"], ref_cols, model, "reference data")
            _check_values(params["current"], cur_cols, model, "current data")
        return
    if kind == "compare":
        _validate_compare(params)
        return
    if kind == "canary":
        from workbench.reports._canary_inputs import validate_canary

        validate_canary(params)
        return
    cols, rows = peek_table(params["data"], "data")
    if rows == 0:
        raise DataError(f"the data '{params['data']}' has no rows")
    if model is None:
        raise ParameterError(f"a {kind} report needs a model (--model)")
    _features_present(model, cols, "the data")
    ref_cols: list[str] | None = None
    if params.get("reference"):
        ref_cols, ref_rows = peek_table(params["reference"], "reference data")
        if ref_rows == 0:
            raise DataError(f"the reference data '{params['reference']}' has no rows")
        _features_present(model, ref_cols, "the reference data")
    sensitive: list[str] = []
    if kind == "bias":
        if model.task != "binary":
            raise SpecError(
                f"a bias report needs a binary classifier, and this model does {model.task}; "
                "compare groups with `workbench evaluate --slice COL` instead"
            )
        sensitive = list(params.get("sensitive") or model.spec.sensitive)
        if not sensitive:
            raise ParameterError("a bias report needs at least one sensitive column (--sensitive COL)")
        check_columns(cols, sensitive, where="the data", what="the sensitive column")
    if kind == "performance" and model.spec.target not in cols and model.task == "regression":
        raise DataError(
            f"the target column '{model.spec.target}' is missing from the data; "
            "a regression model's performance can only be measured with labels"
        )
    _check_values(params["data"], cols, model, "data", sensitive=sensitive)
    if ref_cols is not None:
        _check_values(
            params["reference"],
            ref_cols,
            model,
            "reference data",
            sensitive=[s for s in sensitive if s in ref_cols],
        )


def _validate_compare(params: Mapping[str, Any]) -> None:
    from workbench.releases.compare import check_comparable

    for role in ("champion", "challenger", "current"):
        if not params.get(role):
            raise ParameterError(f"a compare report needs --{role}")
    a = _model_info(params["champion"], params.get("registry"))
    b = _model_info(params["challenger"], params.get("registry"))
    check_comparable(a, b)
    cols, rows = peek_table(params["current"], "current data")
    if rows == 0:
        raise DataError(f"the current data '{params['current']}' has no rows")
    check_columns(cols, a.spec.features, where="the current data", what="the champion's feature column")
    check_columns(cols, b.spec.features, where="the current data", what="the challenger's feature column")
    sensitive = list(params.get("sensitive") or a.spec.sensitive)
    check_columns(cols, sensitive, where="the current data", what="the sensitive column")
    for m in (a, b):
        _check_values(params["current"], cols, m, "current data", sensitive=sensitive)
    if params.get("reference"):
        ref_cols, ref_rows = peek_table(params["reference"], "reference data")
        if ref_rows == 0:
            raise DataError(f"the reference data '{params['reference']}' has no rows")
        for m in (a, b):
            _features_present(m, ref_cols, "the reference data")


class _ModelInfo:
    """What validation needs of a model artifact: its spec and task (no estimator)."""

    def __init__(self, spec, task: str | None):
        self.spec, self.task = spec, task


def _model_info(path: str | Path, registry: str | None = None) -> _ModelInfo:
    """A model artifact's spec and task from its ``meta.json``, checked as :func:`load_model` checks it.

    Format version, model file present, checksum, spec: a corrupted or
    foreign file is refused here. Rebuilding the estimator (and skops'
    check of its types) is left to the kernel that uses the model.
    """
    from workbench.modeling.artifact import read_model_info

    info = read_model_info(path, registry=registry)  # container, size caps, pickles, version, checksum, spec
    p = Path(path)
    meta, model_file, blob, spec = info.meta, info.model_file, info.blob, info.spec
    if model_file.endswith(".skops"):
        _check_skops_types(blob, p)
    return _ModelInfo(spec, meta.get("task") or spec.task)


def _check_skops_types(blob: bytes, path: Path) -> None:
    """Refuse classes workbench does not trust from the skops schema alone, as :func:`load_model` does first
    (no skops/scikit-learn import)."""
    from workbench.modeling._skops_trust import refuse_untrusted_types

    try:
        refuse_untrusted_types(blob, path)
    except (
        TypeError,
        AttributeError,
        ValueError,
    ):  # pragma: no cover - a schema it cannot read: the kernel checks
        return


def _check_values(
    path: str | Path, columns: list[str], model: _ModelInfo, what: str, *, sensitive: list[str] = ()
) -> None:
    """Read and check only the columns that can hold values the model cannot take.

    Or that a bias analysis cannot take.
    """
    from workbench.data._spec import target_values
    from workbench.data._values import reject_infinite, reject_text_in_numeric
    from workbench.data.io import load_table

    spec, present = model.spec, set(columns)
    numeric = [c for c in spec.numeric if c in present]
    target = spec.target if spec.target and spec.target in present else None
    needed = list(dict.fromkeys([*numeric, *([target] if target else []), *sensitive]))
    if not needed:
        return
    where = f"the {what}"
    df = load_table(path, what=what, columns=needed)
    reject_text_in_numeric(df, numeric + ([target] if target and spec.task == "regression" else []), where)
    reject_infinite(df, numeric, where)
    if target and spec.is_classification:
        import pandas as pd

        labels = pd.Series(df[target].dropna().unique(), dtype=object)  # the distinct labels only
        target_values(pd.DataFrame({target: labels}), spec, where=where)
    problems = [p for p in (_groups_problem(df[s], s, where) for s in sensitive) if p]
    if sensitive and len(problems) == len(sensitive):  # as the analysis: refused when no column is usable
        raise DataError(
            problems[0]
            if len(problems) == 1
            else f"no sensitive column defines groups to compare in {where}: {'; '.join(problems)}"
        )


def _groups_problem(s, name: str, where: str) -> str | None:
    """Why a sensitive column cannot define groups, or None.

    None or one group, or one per row (an identifier).
    The same rules as the bias analysis (missing values form a group of their own).
    """
    import pandas as pd

    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    groups = len(uniques) + int((codes < 0).any())
    if groups < 2:
        shown = repr(str(uniques[0])) if len(uniques) else "missing"
        return (
            f"the sensitive column '{name}' has a single group ({shown}) in {where}; "
            "a bias analysis needs at least two groups to compare"
        )
    if groups >= 20 and groups >= 0.9 * len(codes):
        return (
            f"the sensitive column '{name}' has a different value in nearly every row of {where}: it "
            "identifies people rather than grouping them (its values are not listed)"
        )
    return None


def _features_present(model, columns, where: str) -> None:
    check_columns(columns, model.spec.features, where=where, what="the model's feature column")


def _batch(params: Mapping, key: str, what: str, lineage: dict) -> tuple:
    """The batch ``params[key]`` (refused when empty) and the optional reference table, both recorded in
    `lineage` by their fingerprints."""
    from workbench.data import load_table

    data = load_table(params[key], what=what)
    _non_empty(data, what)
    reference = load_table(params["reference"], what="reference data") if params.get("reference") else None
    lineage["data"] = {"current": _fingerprint(params[key], data)}
    if reference is not None:
        lineage["data"]["reference"] = _fingerprint(params["reference"], reference)
    return data, reference


def _fingerprint(path, data) -> dict:
    from workbench.data.io import file_fingerprint, fingerprint

    if path is None:  # a table given in memory
        return fingerprint(data)
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
    needed = {
        "drift": ("reference", "current"),
        "bias": ("data", "model"),
        "performance": ("data", "model"),
        "compare": ("champion", "challenger", "current"),
        "canary": ("log",),
    }[kind]
    if all(params.get(k) for k in needed):
        return {}
    if kind == "canary":  # no bundled log: the server writes one (`workbench serve --log-dir`)
        raise ParameterError("a canary report needs the prediction log: set log (--log DIR)")
    import tempfile

    from workbench.data import load_demo
    from workbench.data.simulate import simulate_batches

    demo = load_demo("adult")
    folder = Path(tempfile.mkdtemp(prefix="workbench-demo-inputs-"))
    batch = simulate_batches(
        demo.test, demo.spec, [{"kind": "covariate_shift", "column": "age"}], random_state=0
    )[0]
    demo.train.to_parquet(folder / "reference.parquet", index=False)
    batch.data.to_parquet(folder / "current.parquet", index=False)
    out = {
        "reference": str(folder / "reference.parquet"),
        "current": str(folder / "current.parquet"),
        "data": str(folder / "current.parquet"),
        "period": batch.period,
    }
    if kind != "drift" or params.get("model"):
        from workbench.modeling.artifact import save_model
        from workbench.modeling.train import train

        res = train(
            demo.train.sample(8000, random_state=0),
            demo.spec,
            recipes=["logistic_regression"],
            progress=False,
        )
        out["model"] = str(save_model(res.champion, folder / "model.wbm"))
        out["sensitive"] = list(demo.spec.sensitive)
    if kind == "compare":  # the champion above, and a challenger of another recipe
        out["champion"] = out["model"]
        res = train(
            demo.train.sample(8000, random_state=1),
            demo.spec,
            recipes=["hist_gradient_boosting"],
            quick=True,
            progress=False,
        )
        out["challenger"] = str(save_model(res.champion, folder / "challenger.wbm"))
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
