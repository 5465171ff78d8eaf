"""Guarded prediction without a server: the same guard, model call and fallback as ``workbench serve``.

>>> predictor = GuardedPredictor("champion.wbm", fallback="prior")        # doctest: +SKIP
>>> predictor.predict([{"age": 41, "region": "north"}, {"age": "?"}])      # doctest: +SKIP
<Predictions: 1 answered, 1 rejected, 0 failed>
"""

from __future__ import annotations

import html
import json
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, ClassVar

from workbench.serving import scoring
from workbench.serving.guard import Guard, GuardPolicy


@dataclass(frozen=True)
class Predictions:
    """The answers to a list of records, one per record, in order (as ``POST /predict`` returns them)."""

    answers: tuple
    kind: ClassVar[str] = "predictions"

    @property
    def answered(self) -> int:
        """Records answered (by the model or the fallback)."""
        return sum(a["status"] == scoring.OK for a in self.answers)

    @property
    def rejected(self) -> int:
        """Records the guard refused."""
        return sum(a["status"] == scoring.REJECTED for a in self.answers)

    @property
    def failed(self) -> int:
        """Records no model could answer."""
        return len(self.answers) - self.answered - self.rejected

    def __len__(self) -> int:
        return len(self.answers)

    def __getitem__(self, i: int) -> dict:
        return self.answers[i]

    def __iter__(self):
        return iter(self.answers)

    def to_dict(self) -> dict:
        """JSON-safe: the counts and the answers."""
        counts = dict(answered=self.answered, rejected=self.rejected, failed=self.failed)
        return {**counts, "results": list(self.answers)}

    @classmethod
    def from_dict(cls, data: dict) -> Predictions:
        """Rebuild from :meth:`to_dict`'s output (or a ``POST /predict`` answer)."""
        return cls(tuple(data["results"]))

    def figures(self) -> dict:
        """No figures (always ``{}``)."""
        return {}

    def __repr__(self) -> str:
        return f"<Predictions: {self.answered} answered, {self.rejected} rejected, {self.failed} failed>"

    def _repr_html_(self) -> str:
        def errors(a: dict) -> str:
            return "; ".join(f"{e['column']}: {e['reason']}" for e in a.get("errors", []))

        rows = "".join(
            f"<tr><td>{a['index']}</td><td>{a['status']}</td>"
            f"<td>{html.escape(json.dumps(a.get('prediction')))}</td><td>{html.escape(errors(a))}</td></tr>"
            for a in self.answers[:50]
        )
        return (
            f"<div><b>{html.escape(repr(self))}</b><table><tr><th>record</th><th>status</th>"
            f"<th>prediction</th><th>errors</th></tr>{rows}</table></div>"
        )


class GuardedPredictor:
    """A model behind the guard, with a fallback when it fails or takes longer than `timeout` seconds.

    Parameters
    ----------
    model : str, Path or Model
        A model file, a ``models:/`` URI or a loaded model.
    fallback : "prior", "none", or a model
        Who answers records the model fails on (default: the training class prior).
    policy : GuardPolicy, optional
        Reject or impute, per problem.
    timeout : float, optional
        Seconds to wait for the model (None: no limit).
    profile : dict, optional
        A training profile for a model saved without one.
    registry : str, optional
        Where ``models:/`` URIs are looked up.

    Examples
    --------
    >>> from workbench.data import load_demo
    >>> from workbench.modeling.train import train
    >>> adult = load_demo("adult")
    >>> model = train(adult.train.head(800), adult.spec, recipes=["logistic_regression"], quick=True,
    ...               progress=False).champion
    >>> predictor = GuardedPredictor(model)
    >>> good = adult.test.iloc[0].drop("income").to_dict()
    >>> result = predictor.predict([good, {**good, "age": "forty"}])
    >>> result.answered, result.rejected, result[1]["errors"][0]["column"]
    (1, 1, 'age')
    """

    def __init__(
        self,
        model: Any,
        *,
        fallback: Any = "prior",
        policy: GuardPolicy | None = None,
        timeout: float | None = None,
        profile: dict | None = None,
        registry: str | None = None,
    ):
        self.served = scoring.ServedModel.load(model, registry=registry)
        self.guard = Guard(self.served.spec, (self.served.model.meta or {}).get("profile") or profile, policy)
        self.fallback = scoring.make_fallback(fallback, self.served, registry=registry)
        self.timeout = timeout
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-guarded") if timeout else None
        )

    def predict(self, records: list | dict) -> Predictions:
        """Check and score `records` (dicts with the original column names): one answer per record."""
        records = [records] if isinstance(records, dict) else list(records)
        checked = self.guard.check_all(records)
        answers: list = [scoring.rejected(i, c) if not c.ok else None for i, c in enumerate(checked)]
        todo = [i for i, c in enumerate(checked) if c.ok]
        if not todo:
            return Predictions(tuple(answers))
        who = self.served.identity("champion")
        results = self._call(self.served, [checked[i].row for i in todo])
        failed = []
        for i, result in zip(todo, results, strict=True):
            if isinstance(result, BaseException):
                failed.append((i, scoring.failure_reason(result)))
            else:
                answers[i] = scoring.answer(i, checked[i], result, who)
        if failed:
            rows = [checked[i].row for i, _ in failed]
            backup = self._call(self.fallback, rows) if self.fallback is not None else [None] * len(rows)
            for (i, reason), result in zip(failed, backup, strict=True):
                if result is None or isinstance(result, BaseException):
                    answers[i] = scoring.unavailable(i, checked[i], reason, who)
                else:
                    answers[i] = scoring.answer(
                        i, checked[i], result, self.fallback.identity("fallback"), fallback=reason
                    )
        return Predictions(tuple(answers))

    def _call(self, scorer: Any, rows: list) -> list:
        if self._pool is None or isinstance(scorer, scoring.PriorFallback):
            return scoring.score_isolated(scorer, rows)
        future = self._pool.submit(scoring.score_isolated, scorer, rows)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            return [TimeoutError()] * len(rows)
