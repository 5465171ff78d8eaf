"""Retraining: the champion's recipe and options, re-trained on a new labelled window, as the challenger.

:func:`retrain` reads the champion of a registered model (``models:/NAME@champion``),
trains its recipe again with the options its ``meta.json`` records (hyperparameters,
imbalance strategy, cost matrix) on the new window, registers the new model with
its lineage (parent: the champion's version; reason: the window's fingerprint),
points ``challenger`` at it and compares it with the champion on a validation
window: the one given, else a part of the new window held out from training (the
result says which). The comparison is filed as a ``compare`` run in the run store,
like a promotion's, and the challenger's alias move names it.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.releases._comparison_run import DEFAULT_REPORTS_DIR

#: the share of the window held out from training to compare on, when no validation window is given
DEFAULT_HOLDOUT = 0.3


@dataclass(frozen=True)
class RetrainResult:
    """What :func:`retrain` made: the new version, its lineage, the comparison's verdict and run."""

    name: str
    version: int  # the new version (now @challenger)
    parent: int  # the champion's version it was retrained from
    recipe: str
    reason: str  # "retrained on <window fingerprint>"
    window: dict  # the window's fingerprint (sha256, rows, columns) and file
    validation: str  # what the comparison was made on, in words
    verdict: str  # promote, keep or inconclusive
    sentence: str  # the verdict in plain language
    failed: list[str] = field(default_factory=list)  # release checks the challenger fails
    comparison_run: str | None = None  # the compare run's id
    comparison_path: str | None = None  # the compare run's folder
    metrics: dict = field(default_factory=dict)  # the new model's validation metrics from training

    @property
    def uri(self) -> str:
        """``models:/NAME/VERSION`` of the new model."""
        return f"models:/{self.name}/{self.version}"

    def to_dict(self) -> dict:
        """JSON-safe (what ``workbench retrain --json`` prints); :meth:`from_dict` reads it back."""
        return {**asdict(self), "uri": self.uri}

    @classmethod
    def from_dict(cls, d: Mapping) -> RetrainResult:
        """Rebuild from :meth:`to_dict`'s output."""
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in d.items() if k in names})

    def figures(self) -> dict:
        """No figures of its own: the comparison run's report has them (always ``{}``)."""
        return {}

    def text(self) -> str:
        """A few lines: the new version and its lineage, the verdict, where the comparison run is."""
        lines = [
            f"{self.uri} registered as @challenger: {self.recipe} {self.reason}, "
            f"parent models:/{self.name}/{self.parent} (the champion)",
            f"compared on {self.validation}: {self.sentence}",
        ]
        if self.failed:
            lines.append(f"release checks it fails: {', '.join(self.failed)}")
        if self.comparison_path:
            lines.append(f"comparison run: {self.comparison_path}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = [
            ("new version", f"{self.uri} (@challenger)"),
            ("parent", f"models:/{self.name}/{self.parent} (@champion)"),
            ("recipe", self.recipe),
            ("reason", self.reason),
            ("compared on", self.validation),
            ("verdict", self.sentence),
            ("failed release checks", ", ".join(self.failed) or "none"),
            ("comparison run", self.comparison_run or "—"),
        ]
        cell = "style='text-align:left'"
        body = "".join(f"<tr><th {cell}>{esc(k)}</th><td {cell}>{esc(str(v))}</td></tr>" for k, v in rows)
        return f"<div class='wb-retrain'><b>Retrained {esc(self.name)}</b><table>{body}</table></div>"


def retrain(
    name: str,
    data: Any,
    *,
    validation: Any = None,
    sensitive: Sequence[str] | str = (),
    registry: str | os.PathLike | None = None,
    reports_dir: str | os.PathLike = DEFAULT_REPORTS_DIR,
    checks: Mapping[str, Any] | str | os.PathLike | None = None,
    holdout: float = DEFAULT_HOLDOUT,
    quick: bool = False,
    by: str | None = None,
    n_bootstrap: int = 1000,
    random_state: int = 0,
    progress: bool = False,
) -> RetrainResult:
    """Retrain the champion of `name` on the labelled window `data`; register it as ``challenger``, compare.

    Parameters
    ----------
    name : the registered model; its ``champion`` alias names the version retrained.
    data : the new labelled window (DataFrame or CSV/Parquet path) with the champion's columns.
    validation : the window both models are compared on (default: `holdout` of `data`, held out from
        training and stated in the result).
    sensitive : columns whose groups the comparison compares (default: the champion's declared ones).
    registry : the registry (default: ``WORKBENCH_REGISTRY``, ``MLFLOW_TRACKING_URI``, the embedded store).
    reports_dir : the run store the comparison is filed in as a ``compare`` run (default ``./reports``).
    checks : check thresholds for the comparison's release checks (a mapping or a checks file).
    holdout : the share of `data` held out for the comparison when no `validation` is given.
    quick : smaller ensembles (previews, tests).
    by : who retrains (recorded with the alias move; default: the OS user).
    n_bootstrap, random_state : the comparison's paired bootstrap, and the seed of the split and training.
    progress : show training's progress bar.

    Returns
    -------
    RetrainResult
        The new version (with lineage to the champion), the verdict and the comparison run.

    Raises
    ------
    ModelNotFoundError
        An unknown model, or one without a champion.
    DataError
        A window without the target column or labels, or without the champion's feature columns.
    """
    from workbench.checks import load_checks_file
    from workbench.data.io import fingerprint
    from workbench.registry.audit import move_alias
    from workbench.registry.versions import check_name
    from workbench.releases._comparison_run import compare_and_file, load_window
    from workbench.reports.runner import check_writable_dir
    from workbench.validation import check_fraction

    check_name(name)
    holdout = check_fraction(holdout, "holdout", low_open=True, high_open=True)
    config = load_checks_file(checks) if isinstance(checks, str | os.PathLike) else dict(checks or {})
    check_writable_dir(reports_dir, "the reports folder")
    champion, model = _champion(name, registry)
    window, source = load_window(data)
    labelled = _labelled(window, model.spec, "the window")
    if validation is not None:
        val, val_source = load_window(validation, "the validation data")
        _labelled(val, model.spec, "the validation data")
        fit = labelled
        described = f"the validation window {os.path.basename(val_source) if val_source else ''}".strip()
        described += f" ({len(val):,} rows)"
    else:
        fit, val = _split(labelled, model.spec, holdout, random_state)
        val_source = None
        described = f"{holdout:.0%} of the window held out from training ({len(val):,} rows)"
    fp = {**fingerprint(window), **({"file": os.path.basename(source)} if source else {})}
    reason = f"retrained on {fp['sha256'][:12]} ({fp['rows']:,} rows" + (
        f" of {fp['file']})" if source else ")"
    )
    new = _train_like(model, fit, quick=quick, random_state=random_state, progress=progress)
    new.meta["lineage"] = {
        "parent": f"models:/{name}/{champion}",
        "technique": "retrained",
        "reason": reason,
        "window": fp,
    }
    version = _register(new, name, champion, reason, registry)
    sensitive = [sensitive] if isinstance(sensitive, str) else list(sensitive or model.spec.sensitive)
    _, failed, verdict, run_dir = compare_and_file(
        name, champion, version, val, val_source, sensitive=sensitive, registry=registry, checks=config,
        reports_dir=reports_dir, run_name=f"{name}-v{version}-retrained-vs-v{champion}",
        n_bootstrap=n_bootstrap, random_state=random_state,
    )  # fmt: skip
    move_alias(
        name, "challenger", version, action="register", by=by, reason=reason, comparison=run_dir.name,
        registry=registry,
    )  # fmt: skip
    return RetrainResult(
        name=name,
        version=version,
        parent=champion,
        recipe=str(new.meta.get("recipe")),
        reason=reason,
        window=fp,
        validation=described,
        verdict=verdict.decision,
        sentence=verdict.sentence,
        failed=failed,
        comparison_run=run_dir.name,
        comparison_path=str(run_dir),
        metrics=dict(new.meta.get("metrics") or {}),
    )


def _champion(name: str, registry) -> tuple[int, Any]:
    """The champion's version and its model; one sentence for an unknown model or one without a champion."""
    from workbench.errors import ModelNotFoundError
    from workbench.modeling.artifact import load_model
    from workbench.registry.versions import list_versions

    versions = list_versions(name, registry=registry)  # an unknown model: ModelNotFoundError
    champion = next((v.version for v in versions if "champion" in (v.aliases or ())), None)
    if champion is None:
        raise ModelNotFoundError(
            f"the model '{name}' has no champion to retrain: promote a version first "
            f"(`workbench promote {name} --version V --data WINDOW`)"
        )
    return champion, load_model(f"models:/{name}/{champion}", registry=registry)


def _labelled(window, spec, where: str):
    """The rows of `window` with a label; one sentence when it has no target, no label or lacks features."""
    from workbench.errors import DataError
    from workbench.validation import check_columns

    if spec.target not in window.columns:
        raise DataError(f"{where} has no '{spec.target}' column: retraining and comparing need labelled rows")
    check_columns(window, spec.features, where=where, what="the champion's feature column")
    labelled = window[window[spec.target].notna()]
    if labelled.empty:
        raise DataError(f"{where} has no labelled row ('{spec.target}' is empty): retraining needs labels")
    return labelled


def _split(labelled, spec, holdout: float, random_state: int):
    """(training part, held-out part) of the labelled window, stratified by label when it can be."""
    from sklearn.model_selection import train_test_split

    from workbench.errors import DataError

    y = labelled[spec.target]
    strat = y if spec.is_classification and y.value_counts().min() >= 2 else None
    try:
        return train_test_split(labelled, test_size=holdout, random_state=random_state, stratify=strat)
    except ValueError as exc:  # too few rows to hold any out
        raise DataError(
            f"the window's {len(labelled):,} labelled rows are too few to hold {holdout:.0%} out for the "
            f"comparison ({exc}); pass --validation"
        ) from None


def _train_like(model, data, *, quick: bool, random_state: int, progress: bool):
    """The champion's recipe and recorded options, trained on `data`: the new model."""
    from workbench.modeling.train import train

    meta = model.meta
    recipe = meta.get("recipe")
    result = train(
        data,
        model.spec,
        recipes=[recipe],
        imbalance=meta.get("imbalance") or "none",
        cost=meta.get("cost"),
        settings={recipe: meta.get("params") or {}},
        quick=quick,
        random_state=random_state,
        progress=progress,
    )
    return result.champion


def _register(model, name: str, champion: int, reason: str, registry) -> int:
    """Save the new model to a scratch folder and register it (the registry keeps its own copy)."""
    import tempfile
    from pathlib import Path

    from workbench.modeling.artifact import save_model
    from workbench.registry.versions import register_model

    with tempfile.TemporaryDirectory(prefix="wb-retrain-") as tmp:
        path = save_model(model, Path(tmp) / f"{name}-retrained.wbm")
        return register_model(path, name, parent=champion, description=reason, registry=registry).version
