"""Spare kernels for the dashboard's run pages: started and warmed before anyone asks.

Each run has its own page (its executed report notebook), so Voila's
pre-heating, which keeps a pool per notebook and renders it ahead, does not
fit them: there are as many notebooks as runs. Yet a run page spends most of
its time starting a kernel (~0.7 s here) and importing what draws stored
results (~0.4 s), which is the same for every run. This kernel manager keeps
`spare_kernels` kernels started and warmed (imports only: no run is read,
nothing is rendered, so nothing can be stale) and hands one out to the next
page of a notebook in a sub-folder, i.e. a run page, after moving it into the run's folder and giving it the
request's environment Voila would have started a kernel with (its first cell,
:func:`workbench.dashboards.kernel.prepare`, also moves into the folder). The index is not served from
here: Voila pre-heats it. A spare kernel is never culled while it waits, and
is replaced a moment after it is taken. Measured in ``benchmarks/dashboard.py``.

It also keeps the number of page kernels bounded, and frees a page's kernel soon after the page is gone:

- at most `max_kernels` kernels serve pages at a time (the ready ones, spare and pre-heated, come on
  top): :meth:`SpareKernelManager.start_kernel` raises :class:`KernelsBusy` beyond it, and the server
  answers with a "busy" card instead of a page (:class:`workbench.dashboards.upstream.PageHandler`);
- a page's kernel is shut down `cull_closed` seconds after its page's connection closed (a reload
  reconnects well within that), or `cull_unconnected` seconds after its page was served when the page
  never connected at all (closed while it loaded); a kernel whose page is open stays, up to
  `cull_open` seconds without activity (0: as long as the page is open). Measured in
  ``benchmarks/dashboard_memory.py``.

What this reads of Jupyter's and Voila's kernel managers beyond their public methods (connection counts,
the culler's state, Voila's pool) goes through :mod:`workbench.dashboards.upstream`.
"""

from __future__ import annotations

import asyncio
import os
import time

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer, Unicode

from workbench.dashboards import upstream
from workbench.dashboards.pages import KernelsBusy

#: What a spare kernel runs while it waits: the imports a run page needs, and nothing that reads a run.
WARM_UP = """\
from workbench.dashboards.kernel import warm_up
warm_up()
"""
#: Set in a spare kernel's environment (the test probe reports it).
SPARE_ENV = "WORKBENCH_SPARE_KERNEL"


class SpareKernelManager(AsyncMappingKernelManager):
    """Jupyter's kernel manager, with warmed spare kernels for pages of notebooks in sub-folders."""

    spare_kernels = Integer(1, config=True, help="Warmed kernels kept ready for run pages (0: none).")
    spare_fill_delay = Float(2.0, config=True, help="Seconds to wait before replacing a spare kernel taken.")
    spare_warm_up = Unicode(WARM_UP, config=True, help="Code a spare kernel runs while it waits.")
    max_kernels = Integer(
        0,
        config=True,
        help="Kernels serving pages at a time, at most (0: no limit); the "
        "spare and pre-heated kernels come on top.",
    )
    cull_closed = Float(
        15.0,
        config=True,
        help="Seconds after its page disconnected that a page's kernel is "
        "shut down (a reload reconnects well within it).",
    )
    cull_unconnected = Float(
        90.0,
        config=True,
        help="Seconds after its last activity that the kernel of a page "
        "that never connected (closed while loading) is shut down.",
    )
    cull_open = Float(
        0.0,
        config=True,
        help="Seconds without activity after which even an open page's kernel "
        "is shut down (0: never while its page is open).",
    )
    cull_every = Float(5.0, config=True, help="Seconds between two checks for kernels to shut down.")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._spares: list[str] = []
        self._clients: dict = {}  # spare kernel id -> its connected client (see _warm)
        self._filling = False
        self._pages: dict[str, float] = {}  # kernel id of a page -> when it was handed out
        self._starting = 0  # page kernels being started (counted against max_kernels)
        self._connected: set[str] = set()  # page kernels whose page connected at least once
        self._disconnected: dict[str, float] = {}  # kernel id -> when its last connection closed
        self._stopping: set[str] = set()  # kernels being shut down
        if self.spare_kernels > 0:
            asyncio.get_event_loop().call_soon(self._schedule_fill, 0.0)
        upstream.watch_pool(self, self._page_taken)  # Voila's pre-heating: a pooled kernel taken by a page

    # -- pages --------------------------------------------------------------------------
    def page_kernels(self) -> int:
        """Kernels serving pages now, and those being started for pages."""
        return sum(k in self for k in self._pages) + self._starting

    def busy(self) -> bool:
        return bool(self.max_kernels) and self.page_kernels() >= self.max_kernels

    async def start_kernel(self, *, kernel_name=None, path=None, **kwargs):
        if upstream.is_pool_start(kwargs.get("env")):  # Voila filling its pool: not for a page yet
            return await super().start_kernel(kernel_name=kernel_name, path=path, **kwargs)
        if self.busy():
            raise KernelsBusy(f"{self.max_kernels} kernels serve pages already")
        self._starting += 1
        try:
            kernel_id = await self._start_page_kernel(kernel_name=kernel_name, path=path, **kwargs)
        finally:
            self._starting -= 1
        self._pages[kernel_id] = time.monotonic()
        return kernel_id

    async def _start_page_kernel(self, *, kernel_name=None, path=None, **kwargs):
        if path and self._spares:  # a notebook in a sub-folder: a run page (the index is at the root)
            while self._spares:
                kernel_id = self._spares.pop(0)
                if kernel_id not in self:
                    continue
                self._schedule_fill(self.spare_fill_delay)
                if await self._adopt(kernel_id, path, kwargs.get("env")):
                    self.log.debug("run page %s: spare kernel %s", path, kernel_id)
                    return kernel_id
                await AsyncMappingKernelManager.shutdown_kernel(self, kernel_id, now=True)
        return await super().start_kernel(kernel_name=kernel_name, path=path, **kwargs)

    def _page_taken(self, kernel_id: str) -> None:
        self._pages[kernel_id] = time.monotonic()

    def notify_connect(self, kernel_id):
        super().notify_connect(kernel_id)
        self._connected.add(kernel_id)
        self._disconnected.pop(kernel_id, None)

    def notify_disconnect(self, kernel_id):
        super().notify_disconnect(kernel_id)
        if not upstream.connections(self, kernel_id):
            self._disconnected[kernel_id] = time.monotonic()

    # -- culling ------------------------------------------------------------------------
    def initialize_culler(self):
        """Jupyter's culler loop, always on, checking often: see :meth:`cull_kernel_if_idle`."""
        upstream.start_culler(self, self.cull_every)

    async def cull_kernel_if_idle(self, kernel_id):
        """Shut down a page's kernel once its page is gone; never a ready kernel (Voila's pre-heated ones
        never reach here: its manager returns first), nor one running a cell, nor one whose page is open
        (unless `cull_open`)."""
        if kernel_id in self._spares or kernel_id in self._stopping or kernel_id not in self:
            return None
        kernel = self.get_kernel(kernel_id)
        state = getattr(kernel, "execution_state", None)
        if state == "dead":
            return await self._cull(kernel_id, "its kernel died")
        last = upstream.last_activity(kernel)
        if state == "busy" or last is None:
            return None
        idle = upstream.seconds_since(last)
        if upstream.connections(self, kernel_id):
            if self.cull_open and idle > self.cull_open:
                return await self._cull(kernel_id, f"{int(idle)} s without activity on an open page")
            return None
        if kernel_id not in self._pages:  # Voila's pool filling, or anything else: only the long rule
            if self.cull_open and idle > self.cull_open:
                return await self._cull(kernel_id, f"{int(idle)} s without activity")
            return None
        if kernel_id in self._connected:
            gone = time.monotonic() - self._disconnected.get(kernel_id, time.monotonic())
            if gone > self.cull_closed:
                return await self._cull(kernel_id, "its page was closed")
        elif min(idle, time.monotonic() - self._pages[kernel_id]) > self.cull_unconnected:
            return await self._cull(kernel_id, "its page never connected")
        return None

    async def _cull(self, kernel_id: str, why: str) -> None:
        self.log.info("shutting down kernel %s: %s", kernel_id, why)
        await self.shutdown_kernel(kernel_id)

    async def _adopt(self, kernel_id: str, path: str, env: dict | None) -> bool:
        """Make a spare kernel the one Voila would have started: the page's folder and environment
        (the request's details Voila passes to a new kernel: SCRIPT_NAME, QUERY_STRING, VOILA_*...)."""
        changed = {k: v for k, v in upstream.plain_env(env).items() if os.environ.get(k) != v}
        code = (
            f"import os as _os\n_os.environ.update({changed!r})\n"
            f"_os.chdir({self.cwd_for_path(path)!r})\ndel _os\n"
        )
        client = self._clients.pop(kernel_id, None)  # connected since its warm-up: one round trip
        fresh = client is None
        if fresh:
            client = self.get_kernel(kernel_id).client()
            client.start_channels()
        try:
            return await self._execute(client, code, timeout=30, wait_ready=fresh)
        finally:
            client.stop_channels()

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        if kernel_id in self._stopping:  # e.g. a page's shutdown beacon while the culler stops it
            return None
        self._stopping.add(kernel_id)
        try:
            if kernel_id in self._spares:
                self._spares.remove(kernel_id)
            client = self._clients.pop(kernel_id, None)
            if client is not None:
                client.stop_channels()
            return await super().shutdown_kernel(kernel_id, *args, **kwargs)
        finally:
            self._stopping.discard(kernel_id)
            self._pages.pop(kernel_id, None)
            self._connected.discard(kernel_id)
            self._disconnected.pop(kernel_id, None)

    async def shutdown_all(self, now=False):
        """Stop every kernel (the server stops). One running a cell (the pre-heated index waiting for its
        visit, a page still drawing) is stopped at once: asked to shut down, it would end its cell on
        closed sockets and print a ZMQError traceback into the server's terminal."""
        for client in self._clients.values():
            client.stop_channels()
        self._clients.clear()
        self._spares.clear()
        busy = [
            k
            for k in self.list_kernel_ids()
            if getattr(self.get_kernel(k), "execution_state", None) in ("busy", "starting")
        ]
        if busy:  # Jupyter's own shutdown, as _fill's: not through ours, nor Voila's pool bookkeeping
            await asyncio.gather(
                *(AsyncMappingKernelManager.shutdown_kernel(self, k, now=True) for k in busy),
                return_exceptions=True,
            )
        await super().shutdown_all(now=now)

    # -- filling ------------------------------------------------------------------------
    def _schedule_fill(self, delay: float) -> None:
        loop = asyncio.get_event_loop()
        loop.call_later(delay, lambda: loop.create_task(self._fill()))

    async def _fill(self) -> None:
        if self._filling:
            return
        self._filling = True
        try:
            while len(self._spares) < self.spare_kernels:
                kernel_id = await AsyncMappingKernelManager.start_kernel(self)
                if await self._warm(kernel_id):
                    self._spares.append(kernel_id)
                else:
                    await AsyncMappingKernelManager.shutdown_kernel(self, kernel_id, now=True)
                    break  # a kernel that cannot warm up: run pages start their own
        except Exception as exc:  # never take the server down for an optimisation
            self.log.warning("could not start a spare kernel for run pages: %s", exc)
        finally:
            self._filling = False

    async def _warm(self, kernel_id: str) -> bool:
        code = f"import os\nos.environ[{SPARE_ENV!r}] = '1'\ndel os\n" + self.spare_warm_up
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        if await self._execute(client, code, timeout=120, wait_ready=True):
            self._clients[kernel_id] = client  # kept connected: adopting the kernel is then one round trip
            return True
        client.stop_channels()
        return False

    async def _execute(self, client, code: str, timeout: float, wait_ready: bool) -> bool:
        """Run `code` through a started client, outputs discarded; True when it ran without error."""
        try:
            if wait_ready:
                await client.wait_for_ready(timeout=timeout)
            reply = await client.execute_interactive(
                code, timeout=timeout, store_history=False, allow_stdin=False, output_hook=lambda msg: None
            )
            content = reply.get("content", {})
            if content.get("status") != "ok":
                self.log.warning("a spare kernel failed: %s", content.get("evalue"))
            return content.get("status") == "ok"
        except Exception as exc:
            self.log.warning("a spare kernel did not answer: %s", exc)
            return False
