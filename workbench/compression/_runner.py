"""The compression study's machinery: rows, building and measuring variants, the verdicts."""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.compression import _measure as measure
from workbench.compression import _techniques as tech
from workbench.compression._output import slug
from workbench.compression._variants import TechniqueOutcome, Variant
from workbench.data._spec import target_values
from workbench.errors import DataError, ParameterError, WorkbenchError
from workbench.validation import check_choice, check_number

_MIN_ROWS = 20
_BATCH_ROWS = 10_000
_BUILDERS = {
    "quantization": tech.quantization,
    "drop_trees": tech.drop_trees,
    "capacity": tech.capacity,
    "feature_pruning": tech.feature_pruning,
    "distillation": tech.distillation,
}


@dataclass
class Rows:
    fit: pd.DataFrame
    y_fit: pd.Series
    holdout: pd.DataFrame
    y_holdout: np.ndarray
    info: dict


def resolve_techniques(techniques: Sequence[str] | str | None) -> list[str]:
    if techniques is None:
        return list(tech.TECHNIQUES)
    if isinstance(techniques, str):
        techniques = [techniques]
    for t in techniques:
        check_choice(t, "compression technique", tech.TECHNIQUES)
    if not techniques:
        raise ParameterError("no compression technique given")
    return [t for t in tech.TECHNIQUES if t in techniques]


def split_rows(
    model: Any, data: pd.DataFrame, validation: pd.DataFrame | None, holdout_size: float, random_state: int
) -> Rows:
    """Rows to retrain on and held-out rows to judge with (labels checked, missing targets dropped)."""
    spec = model.spec
    fit, y_fit = _labelled(data, spec, "the compression data")
    if validation is not None:
        holdout, y_hold = _labelled(validation, spec, "the validation data")
        info = {"source": "the given validation table", "rows": int(len(holdout))}
    else:
        holdout_size = check_number(
            holdout_size, "the held-out share (holdout_size)", low=0, high=1, low_open=True, high_open=True
        )
        from sklearn.model_selection import train_test_split

        strat = y_fit if spec.is_classification and y_fit.value_counts().min() >= 2 else None
        if len(fit) * holdout_size < _MIN_ROWS or len(fit) * (1 - holdout_size) < _MIN_ROWS:
            raise DataError(
                f"the compression data has only {len(fit)} labelled rows; at least "
                f"{math.ceil(_MIN_ROWS / min(holdout_size, 1 - holdout_size))} are needed "
                "to retrain and judge variants"
            )
        fit, holdout, y_fit, y_hold = train_test_split(
            fit, y_fit, test_size=holdout_size, random_state=random_state, stratify=strat
        )
        info = {"source": f"{holdout_size:.0%} held out from the data", "rows": int(len(holdout))}
    if len(holdout) < _MIN_ROWS:
        raise DataError(
            f"only {len(holdout)} held-out rows to judge variants on; at least {_MIN_ROWS} are needed"
        )
    if spec.is_classification and y_hold.nunique() < 2:
        raise DataError(
            f"the held-out rows have a single class in '{spec.target}'; "
            "the metric needs rows of at least two classes"
        )
    return Rows(fit, y_fit, holdout, y_hold.to_numpy(), info)


class Study:
    """Builds variants technique by technique, measures each the same way, and decides."""

    def __init__(
        self,
        model: Any,
        rows: Rows,
        *,
        metric: str | None,
        max_loss: float,
        work: Path,
        batch_threads: int,
        random_state: int,
        progress: bool,
        quick: bool = False,
    ):
        self.model = model
        self.rows = rows
        self.metric, self.higher = measure.resolve_metric(model.spec.task, metric)
        self.max_loss = max_loss
        self.work = work
        self.batch_threads = batch_threads
        self.random_state = random_state
        self.progress = progress
        self.quick = quick
        self.variants: list[Variant] = []
        self.models: dict[str, Any] = {}
        self.preds: dict[str, np.ndarray] = {}
        self.outcomes: list[TechniqueOutcome] = []
        self.original_score: float = math.nan
        self._bar = None

    # -- building -------------------------------------------------------------------
    def run(self, wanted: list[str]) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=len(wanted) + 2, desc="compress", unit="step", disable=not self.progress)
        try:
            self._measure(tech.Candidate("original", "original", None, self.model))
            if self.variants[0].score is None:
                raise DataError(
                    f"the {self.metric} of the original model cannot be computed on the held-out rows"
                )
            self.original_score = self.variants[0].score
            self._bar.update()
            fast = None
            if "onnx" in wanted:
                fast = self._onnx_of("original", self.model, technique_outcome=True)
                self._bar.update()
            ctx = tech.Context(
                self.model,
                self.rows.fit,
                self.rows.y_fit,
                self.rows.holdout,
                self.rows.y_holdout,
                score=self._score_of,
                higher_is_better=self.higher,
                random_state=self.random_state,
                fast=fast,
                quick=self.quick,
            )
            for name in wanted:
                if name == "onnx":
                    continue
                self._bar.set_postfix_str(name)
                self._technique(name, ctx, chain="onnx" in wanted)
                self._bar.update()
            self._bar.set_postfix_str("timing")
            self.time_all()
            self._bar.update()
        finally:
            self._bar.close()

    def _technique(self, name: str, ctx: tech.Context, chain: bool) -> None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                candidates = _BUILDERS[name](ctx)
        except tech.NotApplicable as exc:
            text = str(exc)
            status = "not supported" if text.startswith("not supported") else "not applicable"
            self.outcomes.append(TechniqueOutcome(name, status, text))
            return
        except Exception as exc:  # a technique failing is recorded, never silent, and never ends the study
            self.outcomes.append(
                TechniqueOutcome(name, "failed", f"failed: {type(exc).__name__}: {_first(exc)}")
            )
            return
        names, notes = [], []
        for cand in candidates:
            self._measure(cand)
            names.append(cand.name)
            if chain and cand.model.kind == "sklearn" and cand.name in self.models:
                self._onnx_of(cand.name, cand.model, failures=notes)
                if f"{cand.name}+onnx" in self.models:
                    names.append(f"{cand.name}+onnx")
        if not candidates:
            notes.append("no variant was produced")
        self.outcomes.append(TechniqueOutcome(name, "applied", "; ".join(notes), names))

    def _onnx_of(
        self, parent: str, model: Any, *, technique_outcome: bool = False, failures: list | None = None
    ) -> Any:
        """Export `model` to ONNX and measure it; returns the variant when parity holds (else None).

        A failed export is recorded: as the ONNX technique's outcome for the original, in
        `failures` for a variant of another technique.
        """
        from workbench.compression._onnx_export import NotConvertible, to_onnx

        name = "onnx" if parent == "original" else f"{parent}+onnx"
        lineage = {"parent": model.name, "technique": "onnx", "params": {}}
        try:
            variant = to_onnx(
                model, name=f"{self.model.name}:{name}", batch_threads=self.batch_threads, lineage=lineage
            )
        except (NotConvertible, WorkbenchError) as exc:
            if technique_outcome:
                text = str(exc)
                status = "not supported" if text.startswith("not supported") else "failed"
                self.outcomes.append(TechniqueOutcome("onnx", status, text))
            elif failures is not None:
                failures.append(f"{parent} was not exported to ONNX: {exc}")
            return None
        v = self._measure(
            tech.Candidate(
                name,
                "onnx",
                parent,
                variant,
                exact=True,
                params={"precision": variant.meta.get("onnx", {}).get("precision")},
            )
        )
        if technique_outcome:
            self.outcomes.append(TechniqueOutcome("onnx", "applied", "", [name]))
        return variant if v.parity_max_abs_diff is not None and not v.parity_failed else None

    # -- measuring ------------------------------------------------------------------
    def _measure(self, cand: tech.Candidate) -> Variant:
        model = cand.model
        rows, y = self.rows.holdout, self.rows.y_holdout
        diff = tol = None
        try:
            pred = measure.predictions(model, rows)
            score = measure.score(pred, y, self.metric, model)
            if cand.exact:
                diff, tol = measure.parity(self.preds[cand.parent], pred, model.spec.task)
            self._annotate(model, cand, pred, y, score)
            size = self._save(model, cand.name, original=cand.technique == "original")
        except WorkbenchError:
            if cand.technique == "original":
                raise
            return self._failed(cand, "rejected: it could not predict on the held-out rows")
        except Exception as exc:
            if cand.technique == "original":
                raise
            return self._failed(
                cand, f"rejected: it failed on the held-out rows ({type(exc).__name__}: {_first(exc)})"
            )
        loss = None
        if score is not None and cand.technique != "original":
            loss = (self.original_score - score) if self.higher else (score - self.original_score)
        accepted, reason = self._verdict(cand, score, loss, diff, tol)
        v = Variant(
            name=cand.name,
            technique=cand.technique,
            parent=cand.parent,
            kind=model.kind,
            exact=cand.exact,
            score=score,
            loss=0.0 if cand.technique == "original" else loss,
            size_bytes=size,
            latency_p50_us=None,
            latency_p95_us=None,
            throughput_rows_s=None,
            parity_max_abs_diff=diff,
            parity_tolerance=tol,
            accepted=accepted,
            reason=reason,
            params=_jsonable(cand.params),
        )
        self.variants.append(v)
        self.models[cand.name] = model
        self.preds[cand.name] = pred
        return v

    def _verdict(self, cand, score, loss, diff, tol) -> tuple[bool, str]:
        m = self.metric
        if cand.technique == "original":
            return True, "the model as given: the baseline every variant is compared with"
        if score is None:
            return False, f"rejected: its {m} cannot be computed on the held-out rows"
        if cand.exact and not diff <= tol:
            return False, (
                f"rejected: its predictions differ from {cand.parent}'s by up to {diff:.2g} "
                f"(an exact conversion must stay within {tol:.0e}){_parity_hint(self.models[cand.parent])}"
            )
        if loss > self.max_loss + 1e-12:
            where = "below" if self.higher else "above"
            return False, (
                f"rejected: {m} {score:.4f} is {loss:.4f} {where} the original's "
                f"{self.original_score:.4f} (budget {self.max_loss:g})"
            )
        if cand.exact:
            return (
                True,
                f"identical predictions to {cand.parent} (max |Δ| {diff:.1e} <= {tol:.0e}); {m} {score:.4f}",
            )
        return (
            True,
            f"{m} {score:.4f} ({-loss if self.higher else loss:+.4f} vs the original), within the budget",
        )

    def _failed(self, cand: tech.Candidate, reason: str) -> Variant:
        v = Variant(
            cand.name,
            cand.technique,
            cand.parent,
            cand.model.kind,
            cand.exact,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            False,
            reason,
            params=_jsonable(cand.params),
        )
        self.variants.append(v)
        return v

    def _score_of(self, model: Any, rows: pd.DataFrame, y: np.ndarray) -> float:
        value = measure.score(measure.predictions(model, rows), np.asarray(y), self.metric, model)
        return float("nan") if value is None else value

    def _annotate(self, model: Any, cand: tech.Candidate, pred: np.ndarray, y: np.ndarray, score) -> None:
        """The variant's own metrics on the held-out rows go into its meta.json (what monitoring reads)."""
        if cand.technique == "original":
            return
        from workbench.metrics import (
            MODEL_CLASSIFICATION_METRICS,
            MODEL_REGRESSION_METRICS,
            classification_metrics,
            regression_metrics,
        )

        spec = model.spec
        if spec.task == "regression":
            full = regression_metrics(np.asarray(y, dtype=float), pred[:, 0])
            keep = MODEL_REGRESSION_METRICS
        else:
            full, _ = classification_metrics(
                y, pred, list(model.classes_), spec.task, spec.positive_label, model.threshold
            )
            keep = MODEL_CLASSIFICATION_METRICS
        model.meta["metrics"] = {k: full[k] for k in keep if k in full}
        registered = getattr(self.model, "registered_as", None)
        if registered is not None:  # compressed from a models:/ model: name the version it derives from
            model.meta["lineage"] = {**(model.meta.get("lineage") or {}), "registered_parent": registered.uri}
        model.meta["compression"] = {
            "original": self.model.name,
            "variant": cand.name,
            "metric": self.metric,
            "score": score,
            "held_out_rows": int(len(y)),
        }

    def _save(self, model: Any, name: str, *, original: bool) -> int:
        """Save as a compressed artifact (the size users get on disk).

        The original's meta is left as it was.
        """
        from workbench.modeling.artifact import artifact_size, save_model

        if original:
            model = copy.copy(model)
            model.meta = dict(model.meta)
        path = self.work / "variants" / f"{slug(name)}.wbm"
        save_model(model, path, overwrite=True)
        return artifact_size(path)

    def time_all(self) -> None:
        """Latency and throughput of every variant, in interleaved rounds (see :func:`time_variants`)."""
        timed = {v.name: self.models[v.name] for v in self.variants if v.name in self.models}
        seconds, rounds, batch = (0.2, 2, 2000) if self.quick else (1.5, 3, _BATCH_ROWS)
        lat = measure.time_variants(
            timed, self.rows.holdout, seconds=seconds, rounds=rounds, batch_rows=batch
        )
        self.variants = [
            v
            if v.name not in lat
            else replace(
                v,
                latency_p50_us=round(lat[v.name]["p50_us"], 1),
                latency_p95_us=round(lat[v.name]["p95_us"], 1),
                throughput_rows_s=round(lat[v.name]["throughput_rows_s"], 1),
            )
            for v in self.variants
        ]

    # -- deciding -------------------------------------------------------------------
    def decide(self, latency_tolerance: float) -> dict:
        valid = [
            v
            for v in self.variants
            if v.score is not None and v.latency_p50_us is not None and not v.parity_failed
        ]
        flags = measure.pareto([(v.latency_p50_us, v.score) for v in valid], self.higher)
        on = {v.name for v, f in zip(valid, flags, strict=True) if f}
        variants = [Variant(**{**v.__dict__, "on_frontier": v.name in on}) for v in self.variants]
        accepted = [v.__dict__ for v in variants if v.accepted]
        pick = measure.choose(accepted, higher_is_better=self.higher, latency_tolerance=latency_tolerance)
        return {"variants": variants, "chosen": pick["name"], "reason": self._why(pick)}

    def _why(self, pick: dict) -> str:
        others = [v for v in self.variants if v.technique != "original"]
        original = self.variants[0]
        if not others:
            reasons = "; ".join(f"{o.technique}: {o.reason}" for o in self.outcomes) or "no technique was run"
            return f"no technique produced a variant of {_type(self.model)} ({reasons})"
        if pick["name"] == "original":
            if not any(v.accepted for v in others):
                within = [v for v in others if v.loss is not None and v.score is not None]
                closest = min(within, key=lambda v: v.loss, default=None)
                tail = (
                    f"; the closest, {closest.name}, loses {closest.loss:.4f}" if closest is not None else ""
                )
                return (
                    f"none of the {len(others)} variants stayed within the budget of {self.max_loss:g} "
                    f"{self.metric} loss or passed its parity check{tail}"
                )
            return "no variant answers a single row faster than the original"
        ratio = original.latency_p50_us / pick["latency_p50_us"]
        size = original.size_bytes / pick["size_bytes"] if pick["size_bytes"] else float("nan")
        return (
            f"the fastest single-row variant within the budget: p50 {pick['latency_p50_us']:,.0f} µs against "
            f"{original.latency_p50_us:,.0f} µs ({ratio:,.0f}x lower), {size:.1f}x smaller on disk, "
            f"{self.metric} {pick['score']:.4f} against {self.original_score:.4f}"
        )


# -- helpers ------------------------------------------------------------------------
def _labelled(data: Any, spec, where: str) -> tuple[pd.DataFrame, pd.Series]:
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"{where} must be a pandas DataFrame")
    if spec.target not in data.columns:
        raise DataError(
            f"the target column '{spec.target}' is missing from {where}; "
            "compression needs labelled rows to measure accuracy"
        )
    spec.check_columns(data, where=where)
    y = target_values(data, spec, where=where)
    keep = y.notna().to_numpy()
    if not keep.any():
        raise DataError(f"every value of the target column '{spec.target}' is missing in {where}")
    return data.loc[keep], y[keep]


def _parity_hint(parent: Any) -> str:
    est = tech.final_estimator(getattr(parent, "estimator", None))
    name = type(est).__name__
    if (
        name.startswith("HistGradientBoosting")
        and getattr(est, "is_categorical_", None) is not None
        and np.any(est.is_categorical_)
    ):
        return (
            "; HistGradientBoosting with native categorical features does not convert correctly "
            "(ordinal-encode the categories instead)"
        )
    if tech.family(parent) is not None:
        return "; ONNX compares tree splits in float32, which can send rows down other branches"
    return ""


def _type(model: Any) -> str:
    est = getattr(model, "estimator", None)
    return type(tech.final_estimator(model if est is None else est)).__name__


def _jsonable(d: dict) -> dict:
    def conv(v):
        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, dict):
            return {str(k): conv(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [conv(x) for x in v]
        return v

    return conv(dict(d or {}))


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else "no message"
