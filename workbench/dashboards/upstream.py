"""Every place the dashboard server leans on Voila's, Jupyter's or tornado's internals.

Written against (the lock, ``constraints.txt``): voila 0.5.13, jupyter_server 2.21.1, jupyter_client
8.10.0, tornado 6.6.1, nbconvert 7.17.2; :data:`SUPPORTED` is the range they are expected to hold over.
Each patch below says why it is there and which upstream behaviour it relies on; ``tests/test_upstream.py``
checks each of those behaviours against the installed packages (names, signatures, the lines a patch
mirrors) and that the installed versions are in :data:`SUPPORTED`, so an upgrade that breaks a patch fails
there, not in a visitor's browser. To widen the range: re-read each patch against the new release, run
``tests/test_upstream.py`` and the browser tests, then edit :data:`SUPPORTED`.

What is here:

- :class:`DashboardVoila`, Voila's application with the handlers below swapped in, a ``Host``
  check ahead of every route, no folder listing, and our contents manager;
- :class:`DashboardContentsManager`, which adapts each notebook Voila executes
  (:func:`workbench.dashboards.pages.prepare_notebook`);
- the handlers: :class:`PageHandler` (a "busy" card beyond ``--max-kernels``),
  :class:`ReportFileHandler` (report files for authenticated visitors only),
  :class:`KernelSocket` (one ping mechanism, quiet on closed pages),
  :class:`HostRefused`;
- :func:`cache_compiled_templates` (Jinja compiles Voila's templates once);
- what :class:`workbench.dashboards._kernels.SpareKernelManager` reads of Jupyter's and Voila's
  kernel managers (connections, the culler, Voila's kernel pool, a kernel's last activity);
- :func:`tell_kernels_where` (the address a pre-heated kernel calls back).

Not here: the traitlets the server configures (public ones, :func:`workbench.dashboards.server.voila_config`),
the index's use of ``voila.utils.wait_for_request`` in a pre-heated kernel (Voila's documented way; kernels
must not import this module), and the page template (``share/voila/templates/workbench``), which overrides
blocks of Voila's lab template. The test checks those too.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import jinja2
import tornado.web
import tornado.websocket
from jupyter_server.base.handlers import AuthenticatedFileHandler
from jupyter_server.services.contents.largefilemanager import LargeFileManager
from jupyter_server.utils import url_path_join
from tornado.ioloop import PeriodicCallback
from tornado.routing import Rule
from voila.app import Voila
from voila.exporter import VoilaExporter
from voila.static_file_handler import AllowListFileHandler
from voila.tornado.contentshandler import VoilaContentsHandler
from voila.tornado.handler import TornadoVoilaHandler
from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from workbench.dashboards.access import HostCheck, split_host
from workbench.dashboards.handlers import RefusedHost, plotly_routes
from workbench.dashboards.pages import (
    BUSY_PAGE,
    BUSY_RETRY,
    INDEX_PATH,
    KernelsBusy,
    prepare_notebook,
)

#: The releases these patches were checked against (``constraints.txt``).
CHECKED = {
    "voila": "0.5.13",
    "jupyter_server": "2.21.1",
    "jupyter_client": "8.10.0",
    "tornado": "6.6.1",
    "nbconvert": "7.17.2",
}
#: Where they are expected to hold: from the checked release (older ones unchecked) to the next release
#: line, whose internals may differ (Voila is 0.x: its next minor).
SUPPORTED = {
    "voila": ">=0.5.13,<0.6",
    "jupyter_server": ">=2.21.1,<3",
    "jupyter_client": ">=8.10.0,<9",
    "tornado": ">=6.6.1,<7",
    "nbconvert": ">=7.17.2,<8",
}


# -- the application ----------------------------------------------------------------------
class DashboardVoila(Voila):
    """Voila's application, with workbench's handlers and contents manager, behind a ``Host`` check.

    Relies on Voila's ``start()`` building ``self.app`` from ``init_settings()`` and ``init_handlers()``,
    then calling ``listen()``; on ``init_settings()`` making its contents manager there and passing it as
    ``settings["contents_manager"]``; and on ``init_handlers()`` returning ``(pattern, handler class,
    kwargs)`` specs naming the handler classes swapped below.
    """

    host_check: HostCheck | None = None

    def listen(self):
        """Put the host check before every route, then listen as Voila does."""
        if self.host_check is not None:  # before every route, static files and websockets included
            self.app.default_router.rules.insert(0, Rule(RefusedHost(self.host_check), HostRefused))
        return super().listen()

    def init_settings(self):
        """Voila's settings with :class:`DashboardContentsManager` as the contents manager."""
        settings = super().init_settings()
        # Voila makes a plain LargeFileManager here, with no option to choose another.
        self.contents_manager = DashboardContentsManager(parent=self, root_dir=self.root_dir)
        settings["contents_manager"] = self.contents_manager
        return settings

    def init_handlers(self):
        """Voila's routes with workbench's handlers swapped in, plus the plotly.js routes.

        The root URL and Voila's folder listing (``/voila/tree``, which showed every file of the reports
        folder) redirect to the index; Voila's contents API, read only by that listing, is not routed.
        """
        index = url_path_join(self.server_url, INDEX_PATH)
        ours = {
            AllowListFileHandler: ReportFileHandler,
            TornadoVoilaHandler: PageHandler,
            VoilaKernelWebsocketHandler: KernelSocket,
            TornadoVoilaTreeHandler: tornado.web.RedirectHandler,
        }
        handlers = []
        for spec in super().init_handlers():
            theirs = spec[1] if len(spec) >= 2 else None
            if theirs is TornadoVoilaTreeHandler:
                spec = (spec[0], ours[theirs], {"url": index})
            elif theirs in ours:
                spec = (spec[0], ours[theirs], *spec[2:])
            if theirs is not VoilaContentsHandler:
                handlers.append(spec)
        return [
            (self.server_url.rstrip("/") + "/?", tornado.web.RedirectHandler, {"url": index}),
            *plotly_routes(self.server_url),
            *handlers,
        ]


class DashboardContentsManager(LargeFileManager):
    """Jupyter's contents manager, handing Voila each notebook adapted (``pages.prepare_notebook``).

    Relies on Voila reading the notebooks it renders through ``contents_manager.get()``, and on
    Jupyter calling ``mark_trusted_cells`` and ``validate_notebook_model`` from it.
    """

    def get(self, path, content=True, type=None, format=None, **kwargs):
        """Jupyter's model of `path`; a notebook's content adapted for its dashboard page."""
        model = super().get(path, content=content, type=type, format=format, **kwargs)
        if content and model.get("type") == "notebook" and model.get("content") is not None:
            model["content"] = prepare_notebook(model["content"], Path(self.root_dir), path.strip("/"))
        return model

    def mark_trusted_cells(self, nb, path=""):
        # Voila runs what it serves in a new kernel and draws only the new outputs (the stored ones
        # are dropped above): a notebook signature decides nothing here, and checking it logged
        # "Notebook ... is not trusted" on every visit.
        """Do nothing (see the comment): Voila runs what it serves in a new kernel."""
        return None

    def validate_notebook_model(self, model, validation_error=None):
        # Voila executes what it gets and reports a broken notebook as an error card; validating
        # every notebook's JSON schema on every visit (~0.1 s for a report's) checks nothing more.
        """Return `model` unvalidated (see the comment)."""
        return model


# -- the handlers -------------------------------------------------------------------------
class ReportFileHandler(AuthenticatedFileHandler):
    """Voila's allow-list file handler, but only for authenticated visitors.

    Voila's own (``AllowListFileHandler``) does not check who asks. Relies on Voila passing it
    ``allowlist``, ``denylist`` and ``path``; on Jupyter's file handler checking the XSRF cookie on GET
    (``check_xsrf_cookie``); on tornado's ``_reason`` (the status line's reason).
    """

    def initialize(self, allowlist=(), denylist=(), **kwargs):
        """Keep Voila's allow- and deny-lists; the rest goes to Jupyter's file handler."""
        self.allowlist, self.denylist = list(allowlist), list(denylist)
        super().initialize(**kwargs)

    def check_xsrf_cookie(self):
        # Jupyter checks it on file GETs; a report link opened from an e-mail has no same-origin
        # referer. Reading a static report has no side effect, and it runs sandboxed (CSP).
        """No XSRF check on reading a file (see the comment)."""
        return None

    def write_error(self, status_code, **kwargs):
        # Jupyter's error page needs templates and a static path Voila's application lacks: each refused
        # file printed a traceback ("'403.html' not found", "define the 'static_path' setting") instead.
        """The error as one plain-text line (Jupyter's error page cannot render here)."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        exc = kwargs.get("exc_info", (None, None))[1]
        reason = getattr(exc, "log_message", None) if isinstance(exc, tornado.web.HTTPError) else None
        self.finish(f"{status_code}: {reason or self._reason}\n")

    def get_absolute_path(self, root, path):
        # Voila's allow- and deny-lists, as its AllowListFileHandler applies them
        """The file's path, if Voila's allow- and deny-lists let it be served.

        Raises
        ------
        tornado.web.HTTPError
            403 for a file they do not allow.
        """
        if not any(re.fullmatch(p, path, re.IGNORECASE) for p in self.allowlist) or any(
            re.fullmatch(p, path, re.IGNORECASE) for p in self.denylist
        ):
            raise tornado.web.HTTPError(403, "not a file the dashboard serves")
        return super().get_absolute_path(root, path)


class PageHandler(TornadoVoilaHandler):
    """Voila's page handler, but a "busy" card instead of a page beyond ``--max-kernels``.

    ``get`` is Voila's own (``TornadoVoilaHandler.get``: stream what ``get_generator`` yields) plus the
    busy card and the XSRF cookie. Relies on ``self.kernel_manager`` being the server's kernel manager
    (``_kernels.SpareKernelManager``, which raises ``KernelsBusy`` when it may start no more page
    kernels), and on tornado's ``_log`` (its access log line).
    """

    _said = False
    busy_said = 0.0  # when the server last said it was busy (once a minute at most)

    def _log(self):
        if not self._said:  # a busy card is said once a minute (_busy), not at every retry
            super()._log()

    @tornado.web.authenticated
    async def get(self, path=None):
        if self.kernel_manager.busy():
            return self._busy()
        # Sets the _xsrf cookie. Closed, a page posts it with its shutdown beacon (voila/api/shutdown):
        # without it the beacon was refused (a "403 ... '_xsrf' argument missing" line per closed tab)
        # and the kernel stayed until culled.
        self.xsrf_token  # noqa: B018
        wrote = False
        try:
            async for html in self.get_generator(path=path):
                self.write(html)
                self.flush()
                wrote = True
        except KernelsBusy:  # taken by another page since the check above: nothing sent yet
            if wrote:
                raise
            self._busy()

    def _busy(self) -> None:
        if time.monotonic() - PageHandler.busy_said > 60:
            PageHandler.busy_said = time.monotonic()
            self.log.warning(
                "busy: %d pages are open, as many as it serves at a time (--max-kernels); "
                "more visitors are asked to retry in a moment",
                self.kernel_manager.page_kernels(),
            )
        self._said = True
        self.set_status(503)
        self.set_header("Retry-After", str(BUSY_RETRY))
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(BUSY_PAGE)


class HostRefused(tornado.web.RequestHandler):
    """A request naming a host this server does not answer to (see HostCheck): 403, in one line.

    Relies on Voila putting its application in the tornado settings under its name (``"voila"``; for
    its log), and on tornado's ``_log`` (its access log line).
    """

    seen: set[str] = set()

    def check_xsrf_cookie(self):
        """No XSRF check: every request is refused anyway."""
        return None

    def _log(self):
        return None  # said once per name below; tornado's access log would say it again at every request

    def prepare(self):
        """Refuse with 403 in one line; log each refused host name once (at most 20)."""
        host = (self.request.headers.get("Host") or "")[:100]
        if host not in self.seen and len(self.seen) < 20:  # the person running it may need --allow-host
            self.seen.add(host)
            log = getattr(self.settings.get("voila"), "log", None)
            if log is not None:
                log.warning(
                    "refused a request for host %r: if that is your name for this dashboard "
                    "(a reverse proxy's), start it with --allow-host %s",
                    host,
                    split_host(host)[0] or "NAME",
                )
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(
            "Forbidden: this dashboard does not answer to the host name in this request "
            "(see `workbench dashboard --allow-host`).\n"
        )


class KernelSocket(VoilaKernelWebsocketHandler):
    """Voila's kernel websocket, pinged once: by Jupyter's mixin (its interval and timeout are in ms).

    Tornado (>= 6.5) reads the same two properties for its own pings, in seconds: it would ping
    every 30,000 s and warn "websocket_ping_timeout (90000) cannot be longer than the
    websocket_ping_interval (30000)" on the first page. Its own pinging is switched off here;
    Jupyter's goes on (a page that vanished is noticed, so its kernel is shut down). Relies on
    tornado's ``get_websocket_protocol()`` returning a protocol whose ``params`` (tornado's private
    ``_WebSocketParams``) hold ``ping_interval`` and ``ping_timeout``.
    """

    def get_websocket_protocol(self):
        """Tornado's protocol with its own pings switched off (Jupyter's go on)."""
        protocol = super().get_websocket_protocol()
        params = getattr(protocol, "params", None)
        if params is not None:
            params.ping_interval = params.ping_timeout = None
        return protocol

    def write_message(self, message, binary=False):
        """As Voila's; a message to a page that is gone is dropped without a word. Jupyter does not await
        the write, so a page closed mid-write left "Task exception was never retrieved ...
        WebSocketClosedError" tracebacks in the server's output."""
        try:
            future = super().write_message(message, binary)
        except tornado.websocket.WebSocketClosedError:
            return None
        if future is not None:
            future.add_done_callback(_page_gone)
        return future


def _page_gone(future) -> None:
    if not future.cancelled():
        future.exception()  # retrieved: a closed page is no error


# -- templates ----------------------------------------------------------------------------
class MemoryBytecodeCache(jinja2.BytecodeCache):
    """Jinja's bytecode cache, in memory: keyed by template name and checked against the source."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        """Fill `bucket` from memory when its template was compiled before."""
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket) -> None:
        """Keep `bucket`'s compiled template in memory."""
        self.store[bucket.key] = bucket.bytecode_to_string()


def cache_compiled_templates() -> None:
    """Compile Voila's page templates once per server, not on every visit.

    Voila builds a new exporter, hence a new Jinja environment, for every page
    it renders, and Jinja compiles the whole template chain again each time:
    ~0.4 s of every visit here. A shared in-memory bytecode cache keeps the
    compiled code between environments. Applied once, to this process.
    Relies on nbconvert's ``TemplateExporter._create_environment()`` (private)
    making each exporter's Jinja environment.
    """
    if getattr(VoilaExporter, "_workbench_cached", False):
        return
    cache = MemoryBytecodeCache()
    create = VoilaExporter._create_environment

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = cache
        return environment

    VoilaExporter._create_environment = _create_environment
    VoilaExporter._workbench_cached = True


def tell_kernels_where(host: str) -> None:
    """Where a pre-heated kernel asks for its request's details: Voila's ``wait_for_request`` reads
    ``VOILA_APP_IP`` (unset by Voila itself: it assumes 127.0.0.1; a URL needs [::1]). Kernels inherit it."""
    app_ip = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    os.environ["VOILA_APP_IP"] = f"[{app_ip}]" if ":" in app_ip else app_ip


# -- what the kernel manager reads of Jupyter's and Voila's ---------------------------------
def connections(manager, kernel_id: str) -> int:
    """Open websocket connections to a kernel: Jupyter's private ``_kernel_connections`` count, kept by
    ``notify_connect``/``notify_disconnect`` (its kernel websocket calls them)."""
    return manager._kernel_connections.get(kernel_id, 0)


def start_culler(manager, every: float) -> None:
    """Jupyter's culler loop (``cull_kernels``, which calls ``cull_kernel_if_idle`` for each kernel), always
    on and every `every` seconds. Jupyter's ``initialize_culler`` starts it only with ``cull_idle_timeout``,
    and checks every ``cull_interval``; its private ``_initialized_culler`` and ``_culler_callback`` say
    whether it runs (``start_kernel`` calls ``initialize_culler`` until the first says so)."""
    if not manager._initialized_culler and manager._culler_callback is None:
        manager._culler_callback = PeriodicCallback(manager.cull_kernels, 1000 * max(0.5, every))
        manager._culler_callback.start()
    manager._initialized_culler = True


def is_pool_start(env: dict | None) -> bool:
    """A kernel Voila starts to fill its pre-heated pool: its environment says ``VOILA_PREHEAT=True``
    (``voila.utils.ENV_VARIABLE``; a page's kernel gets ``False``)."""
    return str((env or {}).get("VOILA_PREHEAT", "False")) == "True"


def plain_env(env: dict | None) -> dict[str, str]:
    """The environment Voila gives a page's kernel, as plain strings.

    Voila's keys are ``ENV_VARIABLE`` str enums.
    """
    return {str(getattr(k, "value", k)): str(getattr(v, "value", v)) for k, v in (env or {}).items()}


def watch_pool(manager, taken) -> None:
    """Call ``taken(kernel_id)`` when a page takes a kernel from Voila's pre-heated pool: Voila's pool
    manager hands it out through ``get_rendered_notebook()``, which returns ``(render task, rendered cells,
    kernel id)``. Does nothing without pre-heating (the method is only there with it)."""
    get_rendered_notebook = getattr(manager, "get_rendered_notebook", None)
    if get_rendered_notebook is None:
        return

    async def counted(*args, **kwargs):
        result = await get_rendered_notebook(*args, **kwargs)
        taken(result[2])
        return result

    manager.get_rendered_notebook = counted


def last_activity(kernel):
    """When the kernel last said something (Jupyter's ``last_activity``); None while it starts (the trait is
    unset: reading it raises a TraitError, which ``hasattr`` does not catch)."""
    try:
        return kernel.last_activity
    except Exception:
        return None


def seconds_since(when) -> float:
    """Seconds since `when`, one of Jupyter's ``last_activity`` times.

    Those are aware UTC times, from Jupyter's private ``_tz``.
    """
    from jupyter_server._tz import utcnow

    return (utcnow() - when).total_seconds()
