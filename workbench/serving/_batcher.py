"""Micro-batching: one thread per served model scores the rows of every request queued since its last call.

Concurrent single-record requests cost a model call each otherwise, and a
call's fixed cost (a DataFrame, a scikit-learn pipeline, an onnxruntime run)
is most of a one-row prediction. Nothing waits on purpose: the thread takes
whatever is queued when it is free, so under light load a batch is one
request, and under heavy load batches grow and the calls per second stay few.
Model calls run off the event loop, so a slow model can time out (the
request is answered by the fallback) without stalling other requests.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable

from workbench.serving.scoring import score_isolated


class Batcher:
    """Scores queued rows with the model `current()` returns, in batches, on a thread of its own.

    Parameters
    ----------
    current : callable
        Returns the scorer to use for the next batch (a slot's model: a swap takes effect between batches).
    name : str
        The thread's name.
    max_rows : int
        The most rows one model call takes (larger backlogs are split).
    on_batch : callable, optional
        Called with the number of rows of each model call (metrics).
    """

    def __init__(
        self, current: Callable, *, name: str, max_rows: int = 4096, on_batch: Callable | None = None
    ):
        self.current = current
        self.max_rows = max_rows
        self.on_batch = on_batch
        self._queue: deque = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def backlog(self) -> int:
        """Rows queued and not yet scored."""
        return self._queued_rows

    def submit(self, rows: list, done: Callable | asyncio.Future) -> None:
        """Queue `rows`; `done(results, scorer, seconds)` is called from the batch thread when scored
        (a future of an event loop gets ``(results, scorer, seconds)`` as its result, on its loop)."""
        with self._cond:
            self._queue.append((rows, done))
            self._queued_rows += len(rows)
            self._cond.notify()

    def score(self, rows: list) -> asyncio.Future:
        """Queue `rows` from the event loop; the future's result is ``(results, scorer, seconds)``."""
        future = asyncio.get_running_loop().create_future()
        self.submit(rows, future)  # settled with the batch's other futures in one wake-up of the loop
        return future

    def close(self, timeout: float = 30.0) -> None:
        """Score what is queued, then stop the thread."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    return
                taken, n = [], 0
                while self._queue and (not taken or n + len(self._queue[0][0]) <= self.max_rows):
                    rows, done = self._queue.popleft()
                    taken.append((rows, done))
                    n += len(rows)
                self._queued_rows -= n
            self._score(taken, n)

    def _score(self, taken: list, n: int) -> None:
        scorer = self.current()
        rows = taken[0][0] if len(taken) == 1 else [row for part, _ in taken for row in part]
        t0 = time.perf_counter()
        try:
            results = score_isolated(scorer, rows)
        except BaseException as exc:  # a failure outside the model call itself: every row gets it
            results = [exc] * n
        seconds = time.perf_counter() - t0
        if self.on_batch is not None:
            self.on_batch(n)
        start = 0
        settle: dict = {}  # loop -> [(future, value)]: one thread-safe call per loop, not one per request
        for part, done in taken:
            value = (results[start : start + len(part)], scorer, seconds)
            start += len(part)
            if isinstance(done, asyncio.Future):
                settle.setdefault(done.get_loop(), []).append((done, value))
                continue
            try:
                done(*value)
            except Exception:  # a caller's callback never stops the thread
                pass
        for loop, pairs in settle.items():
            try:
                loop.call_soon_threadsafe(_settle, pairs)
            except RuntimeError:  # the loop is closed: nobody waits
                pass


def _settle(pairs: list) -> None:
    for future, value in pairs:
        if not future.done():  # a request that timed out has stopped waiting
            future.set_result(value)
