"""Scoring checked records with a served model, falling back when it fails, and the answers' shape.

Shared by the library (:class:`~workbench.serving.predictor.GuardedPredictor`)
and the server (:mod:`workbench.serving.app`): the same rows, the same model
call, the same answer per record whichever of them asked.

A model call takes the rows of many records at once (the server batches
concurrent requests): the rows become one DataFrame of typed columns, and the
model's own ``predict_proba``/``predict`` runs on it, so an answer is exactly
what ``load_model(...).predict_proba`` gives on the same records. When a call
raises, each row is tried alone, so one record the model cannot score never
takes the others down with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from workbench._lazy import lazy
from workbench.errors import ParameterError

pd = lazy("pandas")

#: HTTP-like statuses inside an answer
OK, REJECTED, UNAVAILABLE = 200, 422, 503


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and the name and version its answers carry.

    ``version`` is the registered version for a model from the registry,
    else ``sha-`` and the start of its file checksum (two different files
    never answer under the same version).
    """

    model: Any
    name: str
    version: str
    uri: str | None = None
    alias: str | None = None

    @classmethod
    def load(cls, ref: Any, *, registry: str | None = None) -> ServedModel:
        """A model file, a ``models:/`` URI or a loaded :class:`~workbench.modeling.artifact.Model`."""
        from workbench.modeling.artifact import Model, load_model

        model = ref if isinstance(ref, Model) else load_model(ref, registry=registry)
        registered = model.registered_as
        if registered is not None:
            return cls(model, registered.name, str(registered.version), registered.uri, registered.alias)
        sha = (model.meta or {}).get("model_sha256")
        return cls(model, str(model.name), f"sha-{sha[:12]}" if sha else "unsaved")

    @property
    def spec(self):
        """The model's :class:`~workbench.data.DatasetSpec`."""
        return self.model.spec

    def identity(self, role: str | None = None) -> dict:
        """Name, version (and role) as an answer names the model."""
        out = {"name": self.name, "version": self.version}
        if role is not None:
            out["role"] = role
        return out

    def describe(self) -> dict:
        """What ``GET /model`` says about it."""
        return {
            "name": self.name,
            "version": self.version,
            "uri": self.uri,
            "alias": self.alias,
            "task": self.model.task,
            "kind": self.model.kind,
            "threshold": self.model.threshold,
            "classes": None if self.model.spec.classes is None else list(self.model.spec.classes),
            "positive_class": self.model.spec.positive_label,
        }


class PriorFallback:
    """The fallback that answers with the training class shares (or the mean, for regression)."""

    name = "prior"
    version = "prior"

    def __init__(self, model: Any):
        target = ((model.meta or {}).get("profile") or {}).get("target")
        if not target:
            raise ParameterError(
                f"the model '{model.name}' records no class prior (it was saved before training profiles): "
                "choose another fallback (a model, or none)"
            )
        self.model = model
        if model.task == "regression":
            self._value = target["mean"]
        else:
            shares = {str(label): share for label, share in target["classes"]}
            self._proba = np.array([[shares.get(str(c), 0.0) for c in model.classes_]], dtype=float)

    def identity(self, role: str | None = None) -> dict:
        """Name and version as an answer names it."""
        return {"name": self.name, "version": self.version, **({"role": role} if role else {})}

    def score(self, rows: list) -> list[dict]:
        """The same answer for every row."""
        if self.model.task == "regression":
            return [_answer_value(self._value)] * len(rows)
        return _answers_from_proba(self.model, np.repeat(self._proba, len(rows), axis=0))


def make_fallback(choice: Any, primary: ServedModel, *, registry: str | None = None):
    """The fallback named by `choice`: ``"prior"``, ``"none"`` (None), or a model (file, URI or loaded)."""
    if choice is None or choice == "none":
        return None
    if choice == "prior":
        return PriorFallback(primary.model)
    fallback = ServedModel.load(choice, registry=registry)
    if fallback.spec.task != primary.spec.task:
        raise ParameterError(
            f"the fallback model is a {fallback.spec.task} model but '{primary.name}' is {primary.spec.task}"
        )
    return fallback


# -- the model call -----------------------------------------------------------------------------
def rows_frame(spec: Any, rows: list[list]) -> pd.DataFrame:
    """Checked rows (features in spec order) as the DataFrame a model's ``predict_proba`` takes."""
    numeric = set(spec.numeric)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in spec.features]
    data = {}
    for name, values in zip(spec.features, columns, strict=True):
        if name in numeric:
            data[name] = np.fromiter(values, dtype=np.float64, count=len(rows))
        else:
            arr = np.empty(len(rows), dtype=object)
            arr[:] = values
            data[name] = arr
    return pd.DataFrame(data, columns=spec.features, copy=False)


def score_rows(scorer: Any, rows: list[list]) -> list[dict]:
    """One answer per row from `scorer` (a :class:`ServedModel` or a fallback); raises what the model does."""
    if isinstance(scorer, PriorFallback):
        return scorer.score(rows)
    model = scorer.model
    frame = rows_frame(model.spec, rows)
    if model.task == "regression":
        return [_answer_value(float(v)) for v in model.predict(frame)]
    return _answers_from_proba(model, np.asarray(model.predict_proba(frame), dtype=float))


def score_isolated(scorer: Any, rows: list[list]) -> list[dict | BaseException]:
    """:func:`score_rows`, and when the call raises, each row alone: its answer or its exception."""
    try:
        return score_rows(scorer, rows)
    except Exception as exc:
        if len(rows) == 1:
            return [exc]
    out: list = []
    for row in rows:
        try:
            out.extend(score_rows(scorer, [row]))
        except Exception as exc:
            out.append(exc)
    return out


def failure_reason(exc: BaseException) -> str:
    """Why a model did not answer, in one line (the reason an answer and the metrics carry)."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"model error: {type(exc).__name__}" + (f": {text}" if text else "")


# -- answers ------------------------------------------------------------------------------------
def answer(index: int, checked: Any, result: dict, who: dict, *, fallback: str | None = None) -> dict:
    """The answer for a scored record."""
    out = {"index": index, "id": checked.id, "status": OK, **result, "model": who}
    out["fallback"] = fallback is not None
    out["fallback_reason"] = fallback
    if checked.flags:
        out["flags"] = [{"column": c, "reason": r, "problem": p} for c, r, p in checked.flags]
    return out


def rejected(index: int, checked: Any) -> dict:
    """The answer for a record the guard refused: every column and reason."""
    out = {
        "index": index,
        "id": checked.id,
        "status": REJECTED,
        "errors": [{"column": c, "reason": r, "problem": p} for c, r, p in checked.errors],
    }
    if checked.flags:
        out["flags"] = [{"column": c, "reason": r, "problem": p} for c, r, p in checked.flags]
    return out


def unavailable(index: int, checked: Any, reason: str, who: dict) -> dict:
    """The answer for a record no model could score (the model failed and there is no fallback)."""
    return {
        "index": index,
        "id": checked.id,
        "status": UNAVAILABLE,
        "errors": [{"column": None, "reason": f"the model could not answer ({reason}) and no fallback did"}],
        "model": who,
        "fallback": False,
        "fallback_reason": reason,
    }


def _answers_from_proba(model: Any, proba: np.ndarray) -> list[dict]:
    labels = model.labels_from_proba(proba)
    if model.task == "binary":
        pos = model.positive_index
        return [
            {"prediction": _native(label), "probability": float(p)}
            for label, p in zip(labels, proba[:, pos], strict=True)
        ]
    classes = [str(c) for c in model.classes_]
    return [
        {
            "prediction": _native(label),
            "probability": float(row.max()),
            "probabilities": dict(zip(classes, map(float, row), strict=True)),
        }
        for label, row in zip(labels, proba, strict=True)
    ]


def _answer_value(value: float) -> dict:
    value = value if math.isfinite(value) else None  # JSON has no infinity
    return {"prediction": value, "value": value}


def _native(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v
