"""Compression study: smaller, faster variants of a model within an accuracy budget.

:func:`compress` tries every technique that applies (ONNX export of the whole
pipeline, int8 weights, dropping trees, capacity pruning, feature pruning,
distillation; pruned and distilled models are then exported to ONNX too),
measures each variant the same way as the original (metric on held-out rows,
size of the saved artifact, single-row latency through ``predict_proba`` on a
one-row DataFrame, batch throughput) and picks the fastest one within the
budget. Exact conversions must also match their parent's predictions
(max |Δprobability| <= 1e-5) or they are rejected with the reason.

This module imports only numpy/pandas at load time; scikit-learn, skl2onnx
and onnxruntime are imported when a study runs, plotly when a figure is drawn.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from workbench import _html
from workbench.compression._measure import METRICS, PARITY_TOLERANCE
from workbench.compression._techniques import TECHNIQUES
from workbench.errors import ParameterError, SpecError, UnknownNameError, WorkbenchError
from workbench.metrics import METRIC_LABELS
from workbench.results import name_list
from workbench.validation import check_number

__all__ = [
    "CompressionResult",
    "TechniqueOutcome",
    "Variant",
    "TECHNIQUES",
    "METRICS",
    "compress",
    "compress_from_files",
]

_TABLE_COLUMNS = [
    "name",
    "technique",
    "score",
    "loss",
    "size_bytes",
    "latency_p50_us",
    "latency_p95_us",
    "throughput_rows_s",
    "parity_max_abs_diff",
    "accepted",
    "reason",
]


@dataclass(frozen=True)
class Variant:
    """One variant's figures: metric, size, latency, parity, and the verdict with its reason."""

    name: str
    technique: str  # original, onnx, quantization, drop_trees, capacity, feature_pruning, distillation
    parent: str | None
    kind: str  # sklearn | onnx
    exact: bool  # an exact conversion of `parent` (judged by parity first)
    score: float | None
    loss: float | None  # how much worse than the original (negative: better)
    size_bytes: int | None
    latency_p50_us: float | None
    latency_p95_us: float | None
    throughput_rows_s: float | None
    parity_max_abs_diff: float | None
    accepted: bool
    reason: str
    on_frontier: bool = False
    params: dict = field(default_factory=dict)
    path: str | None = None
    parity_tolerance: float | None = None

    @property
    def parity_failed(self) -> bool:
        """An exact conversion whose predictions differ from its parent's (not a usable model)."""
        return bool(
            self.exact
            and self.parity_max_abs_diff is not None
            and self.parity_tolerance is not None
            and not self.parity_max_abs_diff <= self.parity_tolerance
        )

    def to_dict(self, metric: str | None = None) -> dict:
        d = asdict(self)
        d["auc"] = self.score if metric == "roc_auc" else None
        return d

    @classmethod
    def from_dict(cls, d: Mapping) -> Variant:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class TechniqueOutcome:
    """What a technique did: the variants it produced, or why it does not apply."""

    technique: str
    status: str  # applied | not applicable | not supported | failed
    reason: str = ""
    variants: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> TechniqueOutcome:
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


@dataclass(frozen=True)
class CompressionResult:
    """Variants side by side, the Pareto frontier and the chosen variant.

    Ask it things: ``result["onnx"]`` (a :class:`Variant`), ``result.table()``,
    ``result.frontier``, ``result.chosen_model`` (the model itself, while the
    result is in memory; otherwise load ``result.chosen_path``), ``result.figures()``.
    """

    kind: ClassVar[str] = "compression"

    model_name: str
    task: str
    metric: str
    higher_is_better: bool
    max_loss: float
    original_score: float
    variants: list[Variant]
    techniques: list[TechniqueOutcome]
    chosen: str
    chosen_path: str | None
    reason: str
    holdout: dict
    latency_tolerance: float = 0.1
    parity_tolerance: float = PARITY_TOLERANCE
    elapsed_s: float | None = None
    _models: dict = field(default_factory=dict, repr=False, compare=False)

    # -- asking -------------------------------------------------------------------
    def __getitem__(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise UnknownNameError(
            f"no variant '{name}'; the variants are {name_list(v.name for v in self.variants)}"
        )

    @property
    def original(self) -> Variant:
        return self["original"]

    @property
    def chosen_variant(self) -> Variant:
        return self[self.chosen]

    @property
    def frontier(self) -> list[str]:
        """Names on the Pareto frontier of single-row latency and the metric, fastest first."""
        on = [v for v in self.variants if v.on_frontier]
        return [v.name for v in sorted(on, key=lambda v: v.latency_p50_us or math.inf)]

    @property
    def chosen_model(self) -> Any:
        return self.model(self.chosen)

    def model(self, name: str) -> Any:
        """A variant's model: in memory after the study, else loaded from its saved path."""
        if name in self._models:
            return self._models[name]
        path = self[name].path or (self.chosen_path if name == self.chosen else None)
        if path:
            from workbench.modeling.artifact import load_model

            return load_model(path)
        raise WorkbenchError(
            f"the variant '{name}' was not saved; run compress(..., out=DIR) to keep variants"
        )

    def speedup(self, name: str | None = None) -> float | None:
        """How many times lower the variant's single-row p50 is than the original's."""
        v, o = self[name or self.chosen], self.original
        if not v.latency_p50_us or not o.latency_p50_us:
            return None
        return o.latency_p50_us / v.latency_p50_us

    def size_ratio(self, name: str | None = None) -> float | None:
        """How many times smaller the variant's artifact is than the original's."""
        v, o = self[name or self.chosen], self.original
        if not v.size_bytes or not o.size_bytes:
            return None
        return o.size_bytes / v.size_bytes

    def table_text(self) -> str:
        """The variants as a fixed-width text table (what ``workbench compress`` and ``workbench demo`` print)."""
        width = max(
            [len("variant"), *(len(v.name) for v in self.variants)]
        )  # never cut: names share prefixes
        head = (
            f"{'':2}{'variant':<{width}} {self.metric:>8} {'loss':>8} {'size':>10} {'p50 µs':>9} "
            f"{'p95 µs':>9} {'rows/s':>10} {'parity':>8}  verdict"
        )
        lines = [head]
        for v in self.variants:
            mark = "*" if v.name == self.chosen else ""
            verdict = "accepted" if v.accepted else "rejected"
            lines.append(
                f"{mark:<2}{v.name:<{width}} {_fmt(v.score, '.4f'):>8} {_fmt(v.loss, '+.4f'):>8} "
                f"{_size(v.size_bytes):>10} {_fmt(v.latency_p50_us, ',.0f'):>9} {_fmt(v.latency_p95_us, ',.0f'):>9} "
                f"{_fmt(v.throughput_rows_s, ',.0f'):>10} {_fmt(v.parity_max_abs_diff, '.0e'):>8}  {verdict}"
            )
        return "\n".join(lines)

    def table(self) -> pd.DataFrame:
        """One row per variant (the chosen one marked), in the order they were built."""
        rows = [
            {
                **{c: getattr(v, c) for c in _TABLE_COLUMNS},
                "chosen": v.name == self.chosen,
                "on_frontier": v.on_frontier,
            }
            for v in self.variants
        ]
        return pd.DataFrame(rows).rename(columns={"score": self.metric}).set_index("name")

    # -- the three faces ------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "model": self.model_name,
            "task": self.task,
            "metric": self.metric,
            "higher_is_better": self.higher_is_better,
            "max_loss": self.max_loss,
            "original_score": self.original_score,
            "holdout": dict(self.holdout),
            "chosen": {"name": self.chosen, "path": self.chosen_path, "reason": self.reason},
            "variants": [v.to_dict(self.metric) for v in self.variants],
            "techniques": [t.to_dict() for t in self.techniques],
            "latency_tolerance": self.latency_tolerance,
            "parity_tolerance": self.parity_tolerance,
            "elapsed_s": self.elapsed_s,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> CompressionResult:
        try:
            chosen = d["chosen"]
            return cls(
                model_name=d["model"],
                task=d["task"],
                metric=d["metric"],
                higher_is_better=d["higher_is_better"],
                max_loss=d["max_loss"],
                original_score=d["original_score"],
                variants=[Variant.from_dict(v) for v in d["variants"]],
                techniques=[TechniqueOutcome.from_dict(t) for t in d.get("techniques", [])],
                chosen=chosen["name"],
                chosen_path=chosen.get("path"),
                reason=chosen.get("reason", ""),
                holdout=dict(d.get("holdout") or {}),
                latency_tolerance=d.get("latency_tolerance", 0.1),
                parity_tolerance=d.get("parity_tolerance", PARITY_TOLERANCE),
                elapsed_s=d.get("elapsed_s"),
            )
        except (KeyError, TypeError) as exc:
            raise WorkbenchError(f"the stored compression result is incomplete (missing {exc})") from None

    def figures(self) -> dict:
        from workbench.viz.compression import frontier_figure, size_figure

        rows = [v.to_dict(self.metric) for v in self.variants]
        return {
            "frontier": frontier_figure(
                rows,
                self.metric,
                self.chosen,
                max_loss=self.max_loss,
                original_score=self.original_score,
                higher_is_better=self.higher_is_better,
            ),
            "size": size_figure(rows, self.metric, self.chosen),
        }

    def figure(self):
        return self.figures()["frontier"]

    def findings(self) -> list[str]:
        """Plain-language sentences, most important first."""
        out = []
        o, c = self.original, self.chosen_variant
        if self.chosen == "original":
            out.append(f"The original model is kept: {self.reason}.")
        else:
            speed, size = self.speedup(), self.size_ratio()
            out.append(
                f"Chosen: '{c.name}', which answers a single row in {_us(c.latency_p50_us)} instead of "
                f"{_us(o.latency_p50_us)} ({_x(speed)} faster), is {_x(size)} smaller on disk "
                f"({_bytes(c.size_bytes)} instead of {_bytes(o.size_bytes)}), and scores {_metric(self.metric)} "
                f"{c.score:.4f} against the original's {o.score:.4f} (allowed loss: {self.max_loss:g})."
            )
        same = [
            v for v in self.variants if v.exact and v.parity_max_abs_diff is not None and not v.parity_failed
        ]
        if same:
            worst = max(v.parity_max_abs_diff for v in same)
            out.append(
                f"{len(same)} exact conversion{'s' if len(same) > 1 else ''} to ONNX gave the same "
                f"predictions as the scikit-learn model{'s' if len(same) > 1 else ''} they came from "
                f"(largest difference {worst:.1e})."
            )
        rejected = [v for v in self.variants if not v.accepted]
        if rejected:
            names = {v.name for v in rejected}
            # an exact conversion of a rejected variant shares its parent's reason: name the parent once
            distinct = [v for v in rejected if not (v.exact and v.parent in names and not v.parity_failed)]
            shown = "; ".join(
                f"{v.name}{' (and its ONNX export)' if f'{v.name}+onnx' in names else ''}: "
                f"{v.reason.removeprefix('rejected: ')}"
                for v in distinct[:3]
            )
            more = f"; and {len(distinct) - 3} more" if len(distinct) > 3 else ""
            out.append(
                f"{len(rejected)} variant{'s were' if len(rejected) > 1 else ' was'} rejected: {shown}{more}."
            )
        for t in self.techniques:
            if t.status != "applied":
                out.append(f"{t.technique.replace('_', ' ').capitalize()}: {t.reason}.")
        return out

    def _repr_html_(self) -> str:
        findings = "".join(f"<li>{_html.esc(s)}</li>" for s in self.findings())
        rows = []
        for v in self.variants:
            rows.append(
                {
                    "variant": v.name,
                    self.metric: v.score,
                    "loss": v.loss,
                    "size (bytes)": v.size_bytes,
                    "p50 (µs)": v.latency_p50_us,
                    "p95 (µs)": v.latency_p95_us,
                    "rows/s": v.throughput_rows_s,
                    "parity |Δ|": v.parity_max_abs_diff,
                    "accepted": v.accepted,
                    "reason": v.reason,
                    "chosen": v.name == self.chosen,
                }
            )
        body = f"<ul style='margin:4px 0 8px 18px;padding:0'>{findings}</ul>"
        body += _html.table(rows, [c for c in rows[0] if c != "chosen"], highlight="chosen")
        sub = (
            f"{self.task}; {_metric(self.metric)} on {self.holdout.get('rows', 0):,} held-out rows "
            f"({self.holdout.get('source', '')}); budget: {self.max_loss:g}; chosen: {self.chosen}"
        )
        return _html.card(f"Compression of {self.model_name}", body, sub)


def compress(
    model: Any,
    data: pd.DataFrame,
    *,
    max_loss: float = 0.005,
    metric: str | None = None,
    validation: pd.DataFrame | None = None,
    holdout_size: float = 0.3,
    techniques: Sequence[str] | None = None,
    out: str | Path | None = None,
    batch_threads: int = 0,
    latency_tolerance: float = 0.1,
    random_state: int = 0,
    quick: bool = False,
    progress: bool = True,
) -> CompressionResult:
    """Try every compression technique that applies to `model`; keep the fastest variant within budget.

    Parameters
    ----------
    model : a workbench model (``train(...).champion`` or ``load_model(path)``).
    data : labelled rows (original column names, with the target). Retrained
        variants learn from it; `holdout_size` of it (stratified) is held out
        to judge every variant, unless `validation` is given.
    max_loss : the accuracy budget: how much `metric` may drop below the
        original's (default 0.005 of ROC AUC; for regression, of R²).
    metric : ``roc_auc`` (default for classifiers; macro one-vs-rest for
        multiclass), ``accuracy``, ``log_loss``, ``r2`` (default for
        regression), ``rmse`` or ``mae``; for the last three lower is better
        and the loss is the rise.
    validation : held-out labelled rows to judge the variants on (then all of
        `data` is used for retraining).
    techniques : a subset of :data:`TECHNIQUES` (default: all).
    out : a folder to write ``variants/<name>.wbm`` (every variant),
        ``model.wbm`` (the chosen one; the original when nothing meets the
        budget) and ``compression.json``. Without it, variants are measured in
        a temporary folder and the chosen model stays in memory
        (``result.chosen_model``).
    batch_threads : onnxruntime threads for batch predictions of ONNX variants
        (0: one per core). Single rows always run on one thread.
    latency_tolerance : variants within this fraction of the fastest p50 count
        as equally fast (timer noise); among those the smaller, then the more
        accurate one is chosen.
    quick : shorter timing and smaller samples for importance and students
        (tests, previews); the figures are noisier.

    Returns
    -------
    CompressionResult

    Examples
    --------
    >>> result = compress(champion, train_rows, validation=test_rows, out="compressed")  # doctest: +SKIP
    >>> result.chosen, result.speedup(), result.size_ratio()                              # doctest: +SKIP
    ('capacity[max_depth=12,n_estimators=100]+onnx', 160.2, 28.4)
    """
    from workbench.compression._runner import Study, resolve_techniques, split_rows
    from workbench.modeling.artifact import Model

    t0 = time.perf_counter()
    if not isinstance(model, Model):
        raise ParameterError("compress needs a workbench model (from train() or load_model())")
    spec = model.spec
    if spec.target is None or spec.task is None:
        raise SpecError("the model's spec has no target, so its accuracy cannot be measured")
    what = metric or METRIC_LABELS["r2" if spec.task == "regression" else "roc_auc"]
    max_loss = check_number(max_loss, f"the budget (the largest allowed loss of {what})", low=0)
    latency_tolerance = check_number(latency_tolerance, "the latency tolerance", low=0)
    batch_threads = check_number(batch_threads, "batch_threads", low=0, integer=True, hint="0: one per core")
    random_state = check_number(random_state, "random_state", low=0, high=2**32 - 1, integer=True)
    out_dir = check_study_destination(out) if out is not None else None  # before any work
    wanted = resolve_techniques(techniques)
    rows = split_rows(model, data, validation, holdout_size, random_state)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".compress-", dir=out_dir))
    try:
        study = Study(
            model,
            rows,
            metric=metric,
            max_loss=float(max_loss),
            work=work,
            batch_threads=batch_threads,
            random_state=random_state,
            progress=progress,
            quick=quick,
        )
        study.run(wanted)
        result_kw = study.decide(latency_tolerance)
        chosen_path = None
        if out_dir is not None:
            chosen_path = _publish(work, out_dir, study, result_kw["chosen"])
        result = CompressionResult(
            model_name=model.name,
            task=spec.task,
            metric=study.metric,
            higher_is_better=study.higher,
            max_loss=float(max_loss),
            original_score=study.original_score,
            variants=[_with_path(v, out_dir) for v in result_kw["variants"]],
            techniques=study.outcomes,
            chosen=result_kw["chosen"],
            chosen_path=chosen_path,
            reason=result_kw["reason"],
            holdout=rows.info,
            latency_tolerance=latency_tolerance,
            elapsed_s=round(time.perf_counter() - t0, 1),
            _models=study.models,
        )
        if out_dir is not None:
            import json

            (out_dir / "compression.json").write_text(json.dumps(result.to_dict(), indent=2, default=_json))
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compress_from_files(
    model: str | os.PathLike,
    data: str | os.PathLike | pd.DataFrame,
    *,
    out: str | os.PathLike,
    validation: str | os.PathLike | pd.DataFrame | None = None,
    max_loss: float = 0.005,
    metric: str | None = None,
    techniques: Sequence[str] | None = None,
    batch_threads: int = 0,
    quick: bool = False,
    random_state: int = 0,
    trusted: Sequence[str] = (),
    registry: str | os.PathLike | None = None,
    progress: bool = True,
) -> CompressionResult:
    """Run a compression study on a saved model and table files: what ``workbench compress`` does, as one call.

    Parameters
    ----------
    model : a saved workbench model (file or folder).
    data : labelled rows (a CSV or Parquet path, or a DataFrame) to retrain
        variants on; 30% are held out to judge them unless `validation` is given.
    out : the output folder: ``model.wbm`` (the chosen variant), ``variants/``
        and ``compression.json`` (see :func:`compress`).
    validation : a labelled table to judge the variants on.
    max_loss, metric, techniques, batch_threads, quick, random_state, progress :
        passed to :func:`compress`.
    trusted : types to trust when loading the model (only for files you trust).
    registry : the registry of a ``models:/`` model (default: ``WORKBENCH_REGISTRY``,
        ``MLFLOW_TRACKING_URI``, else the embedded store; see :mod:`workbench.registry`).

    Returns
    -------
    CompressionResult
        ``chosen_path`` is where the chosen variant was written.

    Examples
    --------
    >>> result = compress_from_files("champion.wbm", "train.csv", out="compressed", quick=True)  # doctest: +SKIP
    >>> result.chosen_path                                                                   # doctest: +SKIP
    'compressed/model.wbm'
    """
    from workbench.data.io import load_table
    from workbench.modeling.artifact import load_model

    loaded = load_model(model, trusted=list(trusted), registry=registry)
    table = load_table(data, what="compression data")
    held_out = load_table(validation, what="validation data") if validation is not None else None
    return compress(
        loaded,
        table,
        max_loss=max_loss,
        metric=metric,
        validation=held_out,
        techniques=techniques,
        out=out,
        batch_threads=batch_threads,
        quick=quick,
        random_state=random_state,
        progress=progress,
    )


# -- helpers --------------------------------------------------------------------------
def check_study_destination(out: str | Path) -> Path:
    """`out` as a :class:`Path` if a compression study may write its output there.

    The study writes ``model.wbm``, ``compression.json`` and ``variants/`` and
    replaces a previous study's copies of them, nothing else. Refused with a
    :class:`WorkbenchError` sentence, before any work and without touching
    anything: a path that exists and is not a folder (or sits inside a file),
    and a folder holding anything else (other files, a ``model.wbm`` or
    ``variants/`` entry that is not a workbench model, links).
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


def _json(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def _us(v: float | None) -> str:
    return "—" if v is None else f"{v:,.0f} µs"


def _x(v: float | None) -> str:
    return "—" if v is None else (f"{v:,.0f}x" if v >= 10 else f"{v:.1f}x")


def _fmt(v, fmt: str) -> str:
    return "—" if v is None else format(v, fmt)


def _size(v: int | None) -> str:
    """Bytes in a 10-character table cell (``_bytes`` says 'bytes' in sentences)."""
    return _bytes(v).replace(" bytes", " B")


def _bytes(v: int | None) -> str:
    if v is None:
        return "—"
    for unit, scale in (("MB", 1e6), ("KB", 1e3)):
        if v >= scale:
            return f"{v / scale:,.1f} {unit}"
    return f"{v:,} bytes"


def _metric(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric)
