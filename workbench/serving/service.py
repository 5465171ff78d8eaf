"""What one server holds and does per request: slots, router, batchers, fallback, log and metrics.

:class:`ServingService` answers a list of records (already parsed from JSON):
each record is routed (champion or canary, by its id), checked by the guard
of the model that will answer it, scored in a batch with other requests'
records, answered by the fallback when its model failed or ran out of time,
logged (never on the request path: rows are queued) and counted. The shadow
model, if any, gets the accepted records after the answer is built and
scores them on its own thread. The HTTP layer (:mod:`workbench.serving.app`)
only parses, calls :meth:`ServingService.answer` and encodes.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import json
import random
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from workbench.errors import ParameterError
from workbench.serving._batcher import Batcher
from workbench.serving._metrics import ServingMetrics, reason_kind
from workbench.serving.guard import GuardPolicy
from workbench.serving.log import META_COLUMNS, PredictionLog, typed_value
from workbench.serving.scoring import (
    OK,
    REJECTED,
    PriorFallback,
    ServedModel,
    answer,
    failure_reason,
    make_fallback,
    rejected,
    score_isolated,
    unavailable,
)
from workbench.serving.traffic import MODES, AliasFollower, ModelSlot, Router
from workbench.validation import check_choice, check_number

#: shadow rows queued beyond this are dropped (and counted): the shadow never holds the champion back
MAX_SHADOW_BACKLOG = 50_000
_STATUS_TEXT = {OK: "ok", REJECTED: "rejected"}
_ids = random.Random()  # seeded from the OS once


class ServingService:
    """The models, the traffic strategy, the guard, the fallback, the log and the metrics of one server.

    Parameters
    ----------
    model : str, Path or Model
        The champion: a model file, a ``models:/`` URI (an alias URI is followed) or a loaded model.
    challenger : optional
        The challenger, served as a canary or a shadow (`mode`).
    mode : {"canary", "shadow"}, optional
    canary_percent : float
        The share of ids (0-100) the canary answers.
    fallback : "prior", "none", or a model
        Who answers when the model fails or runs out of time.
    log_dir : str or Path, optional
        Where the prediction log goes (none: no log).
    log_exclude : iterable of str
        Feature columns left out of the log.
    policy : GuardPolicy, optional
        The guard's policy per problem.
    timeout : float
        Seconds a request waits for its model before the fallback answers.
    reload_seconds : float
        How often followed aliases are re-read (0: only on ``POST /reload``).
    registry : str, optional
        Where ``models:/`` URIs are looked up.
    profile : dict, optional
        A training profile for models saved without one.
    """

    def __init__(
        self,
        model: Any,
        *,
        challenger: Any = None,
        mode: str | None = None,
        canary_percent: float = 0.0,
        fallback: Any = "prior",
        log_dir: str | Path | None = None,
        log_exclude: tuple = (),
        policy: GuardPolicy | None = None,
        timeout: float = 1.0,
        reload_seconds: float = 5.0,
        registry: str | None = None,
        profile: dict | None = None,
    ):
        if (challenger is None) != (mode is None):
            raise ParameterError(
                "a challenger needs a mode (canary or shadow)"
                if mode is None
                else "a mode needs a challenger"
            )
        if mode is not None:
            check_choice(mode, "the traffic mode", MODES)
        self.timeout = check_number(timeout, "the timeout", low=0.001, high=3600)
        policy = policy or GuardPolicy()
        self.policy = policy
        self.metrics = ServingMetrics()
        self.champion = ModelSlot(model, "champion", policy=policy, registry=registry, profile=profile)
        self.challenger = (
            ModelSlot(challenger, "challenger", policy=policy, registry=registry, profile=profile)
            if challenger is not None
            else None
        )
        self.mode = mode
        self.router = Router(mode, canary_percent if mode == "canary" else 0.0)
        self.fallback = make_fallback(fallback, self.champion.served, registry=registry)
        self.ready = True
        m = self.metrics
        self._batchers = {
            "champion": Batcher(
                lambda: self.champion.served,
                name="workbench-champion",
                on_batch=m.batch.labels("champion").observe,
            )
        }
        if self.challenger is not None:
            role = "canary" if mode == "canary" else "shadow"
            self._batchers[role] = Batcher(
                lambda: self.challenger.served,
                name=f"workbench-{role}",
                on_batch=m.batch.labels(role).observe,
            )
        if isinstance(self.fallback, ServedModel):
            self._batchers["fallback"] = Batcher(
                lambda: self.fallback, name="workbench-fallback", on_batch=m.batch.labels("fallback").observe
            )
        spec = self.champion.served.spec
        self.log = None
        types = {c: ("number" if c in spec.numeric else "string") for c in spec.features}
        self._log_features, self._log_kinds = list(types), tuple(types.values())
        self._children: dict = {}
        if log_dir is not None:
            self.log = PredictionLog(log_dir, exclude=log_exclude, features=types)
        self.follower = AliasFollower(
            [self.champion, self.challenger], every=reload_seconds, on_swap=self._swapped
        )
        self._show_models()

    # -- answering ----------------------------------------------------------------------------
    async def answer(self, records: list) -> tuple[str, list[dict]]:
        """Answer `records` (parsed JSON values): the request id and one answer per record, in order."""
        # a version-4 UUID from a non-cryptographic generator: os.urandom, behind uuid.uuid4(), can cost
        # most of a millisecond per call on a busy machine, and request ids need no secrecy
        request_id = uuid.UUID(int=_ids.getrandbits(128), version=4).hex
        now = _dt.datetime.now(_dt.UTC)
        champion = self.champion.deployment
        challenger = self.challenger.deployment if self.challenger is not None else None
        answers: list = [None] * len(records)
        groups: dict[str, tuple[list, list]] = {"champion": ([], []), "canary": ([], [])}
        checked_all, log, counts = [], _LogRows(), Counter()
        canary = self.router.mode == "canary"
        for i, record in enumerate(records):
            role = self.router.role(_peek_id(record)) if canary else "champion"
            deployment = champion if role == "champion" else challenger
            checked = deployment.guard.check(record)
            checked_all.append((checked, role, deployment))
            if checked.ok:
                groups[role][0].append(i)
                groups[role][1].append(checked.row)
                if checked.flags:
                    self._count_problems(checked, deployment.served.spec)
            else:
                self._count_problems(checked, deployment.served.spec)
                answers[i] = rejected(i, checked)
                who = deployment.served.identity(role)
                counts[(who["name"], who["version"], role, "rejected")] += 1
                self._log_row(log, checked, record, answers[i], who, None)
        busy = [(role, group) for role, group in groups.items() if group[1]]
        if len(busy) == 1:  # the usual case: no task for gather to wrap
            scored = [await self._score(busy[0][0], busy[0][1][1])]
        else:
            scored = await asyncio.gather(*(self._score(role, rows) for role, (_, rows) in busy))
        failed: list[tuple[int, str]] = []
        for (role, (indices, _)), (results, scorer, seconds) in zip(busy, scored, strict=True):
            default = (champion if role == "champion" else challenger).served
            who = (scorer or default).identity(role)
            if role == "canary":
                self._counter(self.metrics.canary, who["version"]).inc(len(indices))
            ok = 0
            for i, result in zip(indices, results, strict=True):
                checked = checked_all[i][0]
                if isinstance(result, BaseException):
                    failed.append((i, failure_reason(result)))
                    continue
                answers[i] = answer(i, checked, result, who)
                ok += 1
                self._log_row(log, checked, records[i], answers[i], who, seconds)
            if ok:
                counts[(who["name"], who["version"], role, "ok")] += ok
        if failed:
            await self._fall_back(failed, records, checked_all, answers, log, counts)
        for labels, n in counts.items():
            self._counter(self.metrics.records, *labels).inc(n)
        if self.log is not None:
            log.write(self.log, request_id, now)
        if self.mode == "shadow":
            self._shadow(request_id, now, records, checked_all, champion, challenger)
        return request_id, answers

    async def _score(self, role: str, rows: list) -> tuple:
        """The batcher's ``(results, scorer, seconds)`` for `rows`, or timeouts after :attr:`timeout`."""
        future = self._batchers[role].score(rows)
        # a timer on the future itself: asyncio.wait_for would wrap it in a task per request
        loop = asyncio.get_running_loop()
        timer = loop.call_later(self.timeout, _time_out, future, len(rows), self.timeout)
        try:
            return await future
        finally:
            timer.cancel()

    async def _fall_back(self, failed, records, checked_all, answers, log, counts):
        rows = [checked_all[i][0].row for i, _ in failed]
        if self.fallback is None:
            results, scorer, seconds = [None] * len(rows), None, 0.0
        elif isinstance(self.fallback, PriorFallback):
            results, scorer, seconds = score_isolated(self.fallback, rows), self.fallback, 0.0
        else:
            results, scorer, seconds = await self._score("fallback", rows)
        for (i, reason), result in zip(failed, results, strict=True):
            checked, role, deployment = checked_all[i]
            self._counter(self.metrics.fallbacks, reason_kind(reason)).inc()
            if result is None or isinstance(result, BaseException):
                who = deployment.served.identity(role)
                answers[i] = unavailable(i, checked, reason, who)
                counts[(who["name"], who["version"], role, "error")] += 1
                self._log_row(log, checked, records[i], answers[i], who, None)
                continue
            who = (scorer or self.fallback).identity("fallback")
            answers[i] = answer(i, checked, result, who, fallback=reason)
            counts[(who["name"], who["version"], "fallback", "ok")] += 1
            # logged under the role the record was routed to (``_fallback`` marks it), so each arm of a
            # canary owns its fallbacks without guessing
            self._log_row(log, checked, records[i], answers[i], {**who, "role": role}, seconds)

    def _shadow(self, request_id, now, records, checked_all, champion, challenger) -> None:
        """Queue the accepted records for the shadow model; its answers only reach the log."""
        same_inputs = challenger.served.spec.features == champion.served.spec.features
        picked = []
        for i, (checked, _role, _dep) in enumerate(checked_all):
            if not checked.ok:
                continue
            mine = checked if same_inputs else challenger.guard.check(records[i])
            if mine.ok:
                picked.append((i, mine))
        if not picked:
            return
        batcher = self._batchers["shadow"]
        if batcher.backlog > MAX_SHADOW_BACKLOG:
            self._counter(self.metrics.shadow, "dropped").inc(len(picked))
            return

        def done(results, scorer, seconds):
            who = scorer.identity("shadow")
            log, outcomes = _LogRows(), Counter()
            for (i, checked), result in zip(picked, results, strict=True):
                if isinstance(result, BaseException):
                    outcomes["failed"] += 1
                    continue
                outcomes["scored"] += 1
                fake = {"status": OK, **result, "fallback": False, "fallback_reason": None}
                self._log_row(log, checked, records[i], fake, who, seconds)
            for outcome, n in outcomes.items():
                self._counter(self.metrics.shadow, outcome).inc(n)
            if self.log is not None:
                log.write(self.log, request_id, now)

        batcher.submit([checked.row for _, checked in picked], done)

    # -- the log and the metrics --------------------------------------------------------------
    def _log_row(self, log: _LogRows, checked, record, result: dict, who: dict, seconds) -> None:
        status = result["status"]
        prediction = result.get("prediction")
        log.meta.append(
            (
                checked.id,
                who["name"],
                who["version"],
                who.get("role"),
                bool(result.get("fallback")),
                result.get("fallback_reason"),
                _STATUS_TEXT.get(status, "error"),
                json.dumps(result["errors"]) if result.get("errors") else None,
                None if seconds is None else seconds * 1000.0,
                None if prediction is None else str(prediction),
                result.get("probability"),
            )
        )
        features = self.champion.served.spec.features
        if checked.row is not None and features == self._log_features:
            log.features.append(checked.row)  # typed by the guard: floats (NaN: missing) and text
            return
        if checked.row is not None and len(checked.row) == len(features):  # a new champion's columns
            values = dict(zip(features, checked.row, strict=True))
        else:
            values = record if isinstance(record, dict) else {}
        log.features.append(
            [typed_value(values.get(c), k) for c, k in zip(self._log_features, self._log_kinds, strict=True)]
        )

    def _counter(self, metric, *labels):
        """The child of `metric` for `labels` (cached: ``labels()`` takes a lock and builds a key)."""
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def _count_problems(self, checked, spec) -> None:
        if not checked.errors and not checked.flags:
            return
        features = set(spec.features)
        for items, action in ((checked.errors, "rejected"), (checked.flags, "imputed")):
            for column, _reason, problem in items:
                label = column if column in features else ("(record)" if column is None else "(extra)")
                if problem == "extra" and action == "imputed":
                    action = "ignored"
                self.metrics.validation_failures.labels(label, problem, action).inc()

    def _swapped(self, slot: ModelSlot) -> None:
        self.metrics.swaps.labels(slot.role).inc()
        self._show_models()

    def _show_models(self) -> None:
        info = self.metrics.model_info
        info.clear()
        for slot in (self.champion, self.challenger):
            if slot is not None:
                info.labels(slot.role, slot.served.name, slot.served.version).set(1)

    def update_gauges(self) -> None:
        """Bring the log gauges up to date (before ``/metrics`` renders)."""
        m = self.metrics
        if self.log is not None:
            m.log_healthy.set(1 if self.log.healthy else 0)
            m.log_buffered.set(self.log.buffered)
            m.log_dropped.set(self.log.rows_dropped)
            m.log_written.set(self.log.rows_written)

    # -- health and description ---------------------------------------------------------------
    def health(self) -> dict:
        """Live, ready, and degraded with the reasons (log not writable, registry not readable)."""
        reasons = []
        if self.log is not None and not self.log.healthy:
            reasons.append(self.log.problem)
        if self.follower.problem:
            reasons.append(self.follower.problem)
        return {
            "status": "degraded" if reasons else "ok",
            "live": True,
            "ready": self.ready,
            "reasons": reasons,
            "models": {
                slot.role: slot.served.identity()
                for slot in (self.champion, self.challenger)
                if slot is not None
            },
        }

    def describe(self) -> dict:
        """What ``GET /model`` answers: the models, their columns and types, the strategy, the policy."""
        champion = self.champion.deployment
        out = {
            **champion.served.describe(),
            "follows": self.champion.follows,
            "columns": champion.guard.describe(),
            "policy": self.policy.to_dict(),
            "timeout_seconds": self.timeout,
            "fallback": None if self.fallback is None else self.fallback.identity(),
            "mode": self.mode,
            "log": None if self.log is None else str(self.log.log_dir),
        }
        if self.challenger is not None:
            out["challenger"] = {**self.challenger.served.describe(), "follows": self.challenger.follows}
            out["canary_percent"] = self.router.percent if self.mode == "canary" else None
        return out

    def close(self) -> None:
        """Stop following aliases, score what is queued, and flush the log."""
        self.ready = False
        self.follower.close()
        for batcher in self._batchers.values():
            batcher.close()
        if self.log is not None:
            self.log.close()


class _LogRows:
    """One request's log rows as the log takes them: a tuple of meta values and a feature row per record."""

    __slots__ = ("meta", "features")

    def __init__(self):
        self.meta: list[tuple] = []
        self.features: list[list] = []

    def write(self, log: PredictionLog, request_id: str, now: _dt.datetime) -> None:
        if not self.meta:
            return
        columns = dict(zip(_LOG_META, map(list, zip(*self.meta, strict=True)), strict=True))
        log.append_columns({"_request_id": request_id, "_time": now, **columns}, self.features)


#: the meta columns of :meth:`ServingService._log_row`'s tuples, in order (the request's id and time are
#: one value for all its rows)
_LOG_META = tuple(name for name, _ in META_COLUMNS if name not in ("_request_id", "_time"))


def _time_out(future: asyncio.Future, n: int, seconds: float) -> None:
    if not future.done():
        future.set_result(([TimeoutError()] * n, None, seconds))


def _peek_id(record: Any) -> str | None:
    if isinstance(record, dict):
        value = record.get("id")
        if isinstance(value, str | int) and not isinstance(value, bool):
            return str(value)
    return None
