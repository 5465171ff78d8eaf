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
"""

from __future__ import annotations

import asyncio
import os

from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from traitlets import Float, Integer, Unicode

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

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._spares: list[str] = []
        self._clients: dict = {}  # spare kernel id -> its connected client (see _warm)
        self._filling = False
        if self.spare_kernels > 0:
            asyncio.get_event_loop().call_soon(self._schedule_fill, 0.0)

    async def start_kernel(self, *, kernel_name=None, path=None, **kwargs):
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

    async def _adopt(self, kernel_id: str, path: str, env: dict | None) -> bool:
        """Make a spare kernel the one Voila would have started: the page's folder and environment
        (the request's details Voila passes to a new kernel: SCRIPT_NAME, QUERY_STRING, VOILA_*...)."""
        plain = {str(getattr(k, "value", k)): str(getattr(v, "value", v)) for k, v in (env or {}).items()}  # Voila's
        changed = {k: v for k, v in plain.items() if os.environ.get(k) != v}  # keys are str enums
        code = (f"import os as _os\n_os.environ.update({changed!r})\n"
                f"_os.chdir({self.cwd_for_path(path)!r})\ndel _os\n")
        client = self._clients.pop(kernel_id, None)  # connected since its warm-up: one round trip
        fresh = client is None
        if fresh:
            client = self.get_kernel(kernel_id).client()
            client.start_channels()
        try:
            return await self._execute(client, code, timeout=30, wait_ready=fresh)
        finally:
            client.stop_channels()

    async def cull_kernel_if_idle(self, kernel_id):
        if kernel_id in self._spares:  # waiting for a visit is what it is for
            return None
        return await super().cull_kernel_if_idle(kernel_id)

    async def shutdown_kernel(self, kernel_id, *args, **kwargs):
        if kernel_id in self._spares:
            self._spares.remove(kernel_id)
        client = self._clients.pop(kernel_id, None)
        if client is not None:
            client.stop_channels()
        return await super().shutdown_kernel(kernel_id, *args, **kwargs)

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
            reply = await client.execute_interactive(code, timeout=timeout, store_history=False,
                                                     allow_stdin=False, output_hook=lambda msg: None)
            content = reply.get("content", {})
            if content.get("status") != "ok":
                self.log.warning("a spare kernel failed: %s", content.get("evalue"))
            return content.get("status") == "ok"
        except Exception as exc:
            self.log.warning("a spare kernel did not answer: %s", exc)
            return False
