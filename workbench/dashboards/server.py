"""``workbench dashboard``: Voila over a reports directory.

The reports directory is Voila's root: the index notebook (the package's
``dashboards/index.ipynb`` template) is written into it at start-up, so

- ``/voila/render/index.ipynb`` is the index (``/`` redirects there),
- ``/voila/render/<kind>/<run-id>/report.ipynb`` is a run's own page: its
  executed report notebook, which renders from the stored ``results.json``,
- ``/voila/files/<kind>/<run-id>/report.html`` is its static report.

Safe defaults: loopback only; any other address needs a token (generated and
printed in the URL) unless the user opts out; requests naming another host
than the server's (``Host``: a DNS-rebinding page) refused unless allowed
(``--allow-host``); sources stripped, tracebacks hidden; at most
``--max-kernels`` pages served at a time (beyond, a "busy" card), and a page's
kernel shut down soon after its page is closed (:mod:`workbench.dashboards._kernels`);
kernels talk to the server over local sockets (``ipc``), not TCP; only
``report.html`` files served, and those only to authenticated visitors
(Voila's own file handler does not check). Pages request nothing from the
internet (Voila's template links Font Awesome from a CDN; its own bundle
already carries it).
Every notebook Voila executes is served with a first cell that keeps kernel
start-up fast; a run notebook whose stored results are missing or damaged is
served as an error card instead, so a dashboard never recomputes a run.

One index kernel is pre-heated (``--preheat``): started, imported and warmed
up before anyone asks, it then waits for its visit (``voila.utils.wait_for_request``)
and only then reads the ledger, so it never shows a stale list; run pages are
never pre-heated (there are as many as runs). That saves the kernel start-up
of the first visit: see ``benchmarks/dashboard.py``. Run pages get warmed spare
kernels instead (``--spare-kernels``, :mod:`workbench.dashboards._kernels`): the
same for every run, they import what drawing stored results needs and read nothing. Voila refuses pre-heating
together with a pre-launch hook, which is why notebooks are adapted by the
contents manager instead.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from workbench.dashboards.kernel import PRELUDE, PROBE, PROBE_ENV
from workbench.dashboards.links import SERVER_ENV
from workbench.dashboards.runs import ENV_REPORTS_DIR
from workbench.errors import WorkbenchError

DEFAULT_PORT = 8866
INDEX = "index.ipynb"
INDEX_PATH = f"voila/render/{INDEX}"
CULL_IDLE = 1800
CULL_CLOSED = 15
CULL_UNCONNECTED = 90
MAX_KERNELS = 8
PREHEAT = 1
SPARE_KERNELS = 1
TEMPLATE = "workbench"
SHARE = Path(__file__).resolve().parent / "share"  # a Jupyter data directory holding the Voila template
BUSY_RETRY = 10  # seconds: the busy card reloads itself after this long
BUSY_PAGE = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="{BUSY_RETRY}">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Dashboard busy</title>
<link rel="icon" href="data:;base64,=">
<style>body{{font:15px/1.5 system-ui,sans-serif;color:#222;background:#f6f6f6;margin:0;padding:8vh 16px}}
.wb-card{{max-width:560px;margin:0 auto;background:#fff;border-left:4px solid #e0a800;border-radius:4px;
padding:16px 20px;box-shadow:0 1px 3px rgba(0,0,0,.15)}}.wb-card h2{{font-size:18px;margin:0 0 6px}}
.wb-card p{{margin:0;color:#555}}</style></head>
<body><div class="wb-card wb-card-busy" data-problem="busy" role="status">
<h2>The dashboard is busy, retry in a moment</h2>
<p>It is showing as many pages as it serves at a time. This page tries again by itself in {BUSY_RETRY} seconds,
or <a href="">retry now</a>.</p></div></body></html>
"""
# Only the static reports of finished runs (never hidden .tmp- folders, notebooks, JSON or the ledger).
FILE_ALLOWLIST = [r"[^/.][^/]*/[^/.][^/]*/report\.html"]
FILE_DENYLIST = [r".*\.(ipynb|py|json|sqlite.*|parquet|csv|skops|onnx)", r"(.*/)?\..*"]


def serve(reports_dir: str | os.PathLike = "reports", *, host: str = "127.0.0.1", port: int | None = None,
          token: str | None = None, no_token: bool = False, open_browser: bool = True,
          cull_idle: int = CULL_IDLE, cull_closed: int = CULL_CLOSED, max_kernels: int = MAX_KERNELS,
          allow_hosts: list[str] | tuple[str, ...] = (), preheat: int = PREHEAT,
          spare_kernels: int = SPARE_KERNELS, log_level: str = "WARN") -> int:
    """Serve the dashboards until Ctrl-C (or SIGTERM); returns the exit code.

    `preheat` keeps that many index kernels started and imported ahead of
    visits; the index still reads the ledger when the page is requested
    (``voila.utils.wait_for_request``), so it never shows a stale list.
    """
    root = Path(reports_dir).expanduser().resolve()
    check_host(host)
    try:
        root.mkdir(parents=True, exist_ok=True)
        install_index(root)
    except OSError as exc:
        raise WorkbenchError(f"cannot write the dashboard's index into {root} ({exc.strerror}); "
                             "the dashboard needs a writable reports directory") from None
    token = decide_token(host, token, no_token)
    port = pick_port(host, port)
    os.environ[ENV_REPORTS_DIR] = str(root)  # the kernels inherit it: the index shows this directory
    os.environ[SERVER_ENV] = "1"  # report.html is under /voila/files/
    # where a pre-heated kernel asks for its request's details (Voila assumes 127.0.0.1; a URL needs [::1])
    app_ip = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    os.environ["VOILA_APP_IP"] = f"[{app_ip}]" if ":" in app_ip else app_ip

    from tornado.ioloop import IOLoop

    use_template_dir()
    from workbench.reports.report import block_iri_grammar

    block_iri_grammar()  # ~3 s of the server's start-up (nbformat -> jsonschema), for a check it never makes
    app = _voila_app()(config=voila_config(root, host=host, port=port, token=token, cull_idle=cull_idle,
                                           cull_closed=cull_closed, max_kernels=max_kernels, preheat=preheat,
                                           spare_kernels=spare_kernels, log_level=log_level))
    app.host_check = HostCheck.for_server(host, port, allow_hosts)
    app.initialize([])
    url = dashboard_url(host, port, token)

    def announce() -> None:
        n = _count_runs(root)
        print(f"workbench dashboard: {n} run{'s' if n != 1 else ''} in {root}", flush=True)
        print(f"  open {url}", flush=True)
        if not is_loopback(host) and not token:
            print("  warning: no token: anyone who can reach this address sees the dashboard", flush=True)
        print("  (Ctrl-C stops the server)", flush=True)
        if open_browser and _has_display():
            threading.Thread(target=_open, args=(url,), daemon=True).start()

    IOLoop.current().add_callback(announce)  # runs once Voila listens
    loop = IOLoop.current()
    # Ctrl-C stops the loop between callbacks, as SIGTERM does in Voila: it then shuts every kernel down
    # (a KeyboardInterrupt raised anywhere in the loop left them to notice on their own that we were gone).
    signal.signal(signal.SIGINT, lambda signum, frame: loop.add_callback_from_signal(loop.stop))
    app.start()
    print("workbench dashboard: stopped", flush=True)
    return 0


def check_host(host: str) -> None:
    """`host` must be an address, or a name that resolves (else one sentence, not "port in use")."""
    if host in ("", "0.0.0.0", "::"):
        return
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WorkbenchError(f"--host {host!r} is neither an IP address nor a name this machine can resolve "
                             f"({reason}); give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0") from None


class HostCheck:
    """Which ``Host`` headers the server answers: its own address, and names the user allowed.

    A page on another site can make a browser send requests to a server on this machine through a name
    it controls (DNS rebinding); those requests carry that name in ``Host``. A loopback server answers
    ``127.0.0.1:PORT``, ``localhost:PORT`` and ``[::1]:PORT``; one bound to another address answers that
    address too; one bound to all addresses (0.0.0.0, ::) also answers any IP address (a browser sends
    an address only when it was pointed at it) and this machine's names. ``--allow-host NAME`` adds a
    name, with any port (a reverse proxy's).
    """

    def __init__(self, port: int, names: set[str], allowed: set[str], any_ip: bool = False):
        self.port, self.names, self.allowed, self.any_ip = port, names, allowed, any_ip

    @classmethod
    def for_server(cls, host: str, port: int, allow: list[str] | tuple[str, ...] = ()) -> HostCheck:
        names = {"127.0.0.1", "localhost", "[::1]"}
        any_ip = host in ("", "0.0.0.0", "::")
        if any_ip:
            names |= {n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n}
        else:  # e.g. 127.0.0.2 or a LAN address: also how a pre-heated kernel calls back (VOILA_APP_IP)
            names.add(f"[{host}]" if ":" in host else host.lower())
        allowed = {_split_host(a)[0] for a in allow if a.strip()}
        return cls(port, names, allowed, any_ip)

    def allows(self, host_header: str | None) -> bool:
        name, port = _split_host(host_header or "")
        if not name:
            return False
        if name in self.allowed:
            return True
        if port != self.port:
            return False
        if name in self.names:
            return True
        if self.any_ip:
            try:
                ipaddress.ip_address(name.strip("[]"))
                return True
            except ValueError:
                return False
        return False


def _split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header -> (lower-case name, IPv6 in brackets; port, 80 when absent, None when malformed)."""
    value = value.strip().lower().rstrip(".")
    if value.startswith("["):
        name, _, rest = value.partition("]")
        name, port = name + "]", rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, port = value.split(":")
    else:
        name, port = value, ""
    if not port:
        return name, 80
    return name.rstrip("."), int(port) if port.isdigit() else None


def use_template_dir() -> None:
    """Let Voila find workbench's template: its folder goes first on the Jupyter data path."""
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if str(SHARE) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(SHARE), *paths])


def install_index(root: Path) -> Path:
    """Write (or refresh) the index notebook into the reports directory."""
    from workbench.templates import template

    target = root / INDEX
    tmp = root / f".{INDEX}.tmp-{os.getpid()}"
    shutil.copyfile(template(f"dashboards/{INDEX}"), tmp)
    os.replace(tmp, target)
    return target


def decide_token(host: str, token: str | None, no_token: bool) -> str:
    """The token to require ('' for none): loopback needs none, any other address one unless opted out."""
    if token is not None and no_token:
        raise WorkbenchError("--token and --no-token cannot be used together")
    if token is not None:
        if not token.strip():
            raise WorkbenchError("--token must not be empty (use --no-token to serve without one)")
        return token
    if no_token or is_loopback(host):
        return ""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Only this machine can connect: localhost, 127.0.0.0/8, ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def pick_port(host: str, port: int | None) -> int:
    """`port` if free (an error otherwise); by default 8866, or any free port when that one is taken."""
    wanted = DEFAULT_PORT if port is None else port
    if _free(host, wanted):
        return wanted
    if port is not None:
        raise WorkbenchError(f"port {port} on {host} is in use; choose another with --port (or omit it)")
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _not_here(host: str, exc: OSError) -> WorkbenchError:
    return WorkbenchError(f"--host {host} is not an address of this machine ({exc.strerror or exc}); give one of "
                          "its addresses, e.g. 127.0.0.1 or 0.0.0.0")


def dashboard_url(host: str, port: int, token: str = "", path: str = INDEX_PATH) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/{path}" + (f"?token={token}" if token else "")


def voila_config(root: Path, *, host: str, port: int, token: str, cull_idle: int = CULL_IDLE,
                 cull_closed: int = CULL_CLOSED, max_kernels: int = MAX_KERNELS, preheat: int = PREHEAT,
                 spare_kernels: int = SPARE_KERNELS, log_level: str = "WARN"):
    """The Voila configuration (traitlets) of a dashboard server."""
    from traitlets.config import Config

    c = Config()
    c.Voila.root_dir = str(root)
    c.Voila.ip = host
    c.Voila.port = port
    c.Voila.port_retries = 0  # the printed URL must be the real one
    c.Voila.open_browser = False  # we open the full URL (with its token) ourselves
    c.Voila.config_file_paths = []  # no stray voila.json from the current folder can loosen these settings
    c.Voila.log_level = log_level
    c.Voila.auto_token = False
    c.Voila.token = token or None
    c.VoilaConfiguration.strip_sources = True
    c.VoilaConfiguration.show_tracebacks = False
    c.VoilaConfiguration.allow_template_override = "NO"
    c.VoilaConfiguration.template = TEMPLATE  # outputs drawn as the page streams (share/voila/templates)
    c.VoilaConfiguration.preheat_kernel = preheat > 0
    if preheat > 0:  # only the index: run pages are many, and rarely opened twice
        c.VoilaConfiguration.default_pool_size = 0
        c.VoilaKernelManager.kernel_pools_config = {"default": {"pool_size": 0}, INDEX: {"pool_size": int(preheat)}}
        c.VoilaKernelManager.fill_delay = 0.5
    # Run pages: warmed spare kernels (dashboards/_kernels.py), moved into the run's folder by the first cell.
    c.VoilaConfiguration.multi_kernel_manager_class = "workbench.dashboards._kernels.SpareKernelManager"
    c.SpareKernelManager.spare_kernels = int(spare_kernels)
    c.VoilaConfiguration.file_allowlist = FILE_ALLOWLIST
    c.VoilaConfiguration.file_denylist = FILE_DENYLIST
    c.VoilaExecutor.timeout = 180  # a cell that hangs ends as an error, not as a page that never loads
    c.VoilaExecutor.cell_error_instruction = ("This part of the page could not be shown; the person running the "
                                              "dashboard finds the details in its log.")
    # Kernels: at most `max_kernels` serve pages; a page's kernel goes soon after its page (dashboards/_kernels.py).
    c.SpareKernelManager.max_kernels = max(0, int(max_kernels))
    c.SpareKernelManager.cull_closed = max(1, int(cull_closed))
    c.SpareKernelManager.cull_unconnected = max(CULL_UNCONNECTED, int(cull_closed))
    # A tab left open this long without activity is culled too: its page keeps what it shows, a reload
    # brings fresh runs (0: kept while the page is open).
    c.SpareKernelManager.cull_open = max(0, int(cull_idle or 0))
    c.SpareKernelManager.cull_every = max(1.0, min(5.0, int(cull_closed) / 3))
    c.MappingKernelManager.cull_idle_timeout = 0  # Jupyter's own rule; ours runs in its loop instead
    if os.name == "posix" and len(_connection_root()) <= 40:
        # Local sockets between the server and its kernels: nothing listens on a TCP port, and the kernels
        # have no "running over TCP without encryption" warning to print. Their paths must stay short
        # (a socket path holds ~104 bytes): connection files go to a short temporary folder.
        c.Voila.connection_dir_root = _connection_root()
        c.KernelManager.transport = "ipc"
    return c


def _connection_root() -> str:
    return tempfile.gettempdir() if len(tempfile.gettempdir()) <= 40 else "/tmp"


def prepare_notebook(nb, root: Path, path: str):
    """The notebook Voila executes for `path`: the fast-start prelude first; a run without readable
    results becomes an error card (the dashboard never recomputes); the test probe last when asked."""
    import nbformat

    run_dir = (root / path).parent
    if path != INDEX and (run_dir / "summary.json").is_file() and not _results_ok(run_dir):
        nb.cells = [nbformat.v4.new_code_cell(
            "from workbench.dashboards.runview import show_unavailable\nshow_unavailable('.')")]
    for cell in nb.cells:  # Voila executes the notebook again: the stored outputs would only be copied around
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    nb.cells.insert(0, nbformat.v4.new_code_cell(PRELUDE.format(folder=str(run_dir))))
    if os.environ.get(PROBE_ENV):
        nb.cells.append(nbformat.v4.new_code_cell(PROBE.format(label=path)))
    for i, cell in enumerate(nb.cells):
        cell.setdefault("id", f"wb-{i}")
    return nb


# -- Voila, adapted -------------------------------------------------------------------
def _voila_app():
    import tornado.web
    import tornado.websocket
    from jupyter_server.base.handlers import AuthenticatedFileHandler
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from jupyter_server.utils import url_path_join
    from voila.app import Voila
    from voila.static_file_handler import AllowListFileHandler

    _cache_compiled_templates()

    class DashboardContentsManager(LargeFileManager):
        def get(self, path, content=True, type=None, format=None, **kwargs):
            model = super().get(path, content=content, type=type, format=format, **kwargs)
            if content and model.get("type") == "notebook" and model.get("content") is not None:
                model["content"] = prepare_notebook(model["content"], Path(self.root_dir), path.strip("/"))
            return model

        def mark_trusted_cells(self, nb, path=""):
            # Voila runs what it serves in a new kernel and draws only the new outputs (the stored ones
            # are dropped above): a notebook signature decides nothing here, and checking it logged
            # "Notebook ... is not trusted" on every visit.
            return None

        def validate_notebook_model(self, model, validation_error=None):
            # Voila executes what it gets and reports a broken notebook as an error card; validating
            # every notebook's JSON schema on every visit (~0.1 s for a report's) checks nothing more.
            return model

    class ReportFileHandler(AuthenticatedFileHandler):
        """Voila's allow-list file handler, but only for authenticated visitors."""

        def initialize(self, allowlist=(), denylist=(), **kwargs):
            self.allowlist, self.denylist = list(allowlist), list(denylist)
            super().initialize(**kwargs)

        def check_xsrf_cookie(self):
            # Jupyter checks it on file GETs; a report link opened from an e-mail has no same-origin
            # referer. Reading a static report has no side effect, and it runs sandboxed (CSP).
            return None

        def write_error(self, status_code, **kwargs):
            # Jupyter's error page needs templates and a static path Voila's application lacks: each refused
            # file printed a traceback ("'403.html' not found", "define the 'static_path' setting") instead.
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            exc = kwargs.get("exc_info", (None, None))[1]
            reason = getattr(exc, "log_message", None) if isinstance(exc, tornado.web.HTTPError) else None
            self.finish(f"{status_code}: {reason or self._reason}\n")

        def get_absolute_path(self, root, path):
            import re

            if not any(re.fullmatch(p, path, re.IGNORECASE) for p in self.allowlist) or \
                    any(re.fullmatch(p, path, re.IGNORECASE) for p in self.denylist):
                raise tornado.web.HTTPError(403, "not a file the dashboard serves")
            return super().get_absolute_path(root, path)

    from workbench.dashboards.assets import dashboard_bundle, full_bundle

    class PlotlyJSHandler(tornado.web.StaticFileHandler):
        """plotly.js for the charts the template draws (one file per route: see dashboards.assets)."""

        def initialize(self, path, filename):
            super().initialize(path)
            self.filename = filename

        def get(self, include_body=True):
            return super().get(self.filename, include_body)  # the route names the file; nothing else is served

        def head(self):
            return self.get(include_body=False)

        def set_extra_headers(self, path):
            self.set_header("Cache-Control", "public, max-age=86400")

    from tornado.routing import Matcher, Rule
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    from workbench.dashboards._kernels import KernelsBusy

    class PageHandler(TornadoVoilaHandler):
        """Voila's page handler, but a "busy" card instead of a page beyond ``--max-kernels``."""

        _said = False

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

        busy_said = 0.0  # when the server last said it was busy (once a minute at most)

        def _busy(self) -> None:
            import time

            if time.monotonic() - PageHandler.busy_said > 60:
                PageHandler.busy_said = time.monotonic()
                self.log.warning("busy: %d pages are open, as many as it serves at a time (--max-kernels); "
                                 "more visitors are asked to retry in a moment", self.kernel_manager.page_kernels())
            self._said = True
            self.set_status(503)
            self.set_header("Retry-After", str(BUSY_RETRY))
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(BUSY_PAGE)

    class HostRefused(tornado.web.RequestHandler):
        """A request naming a host this server does not answer to (see HostCheck): 403, in one line."""

        seen: set[str] = set()

        def check_xsrf_cookie(self):
            return None

        def _log(self):
            return None  # said once per name below; tornado's access log would say it again at every request

        def prepare(self):
            host = (self.request.headers.get("Host") or "")[:100]
            if host not in self.seen and len(self.seen) < 20:  # the person running it may need --allow-host
                self.seen.add(host)
                log = getattr(self.settings.get("voila"), "log", None)  # Voila's app is in its settings
                if log is not None:
                    log.warning("refused a request for host %r: if that is your name for this dashboard "
                                "(a reverse proxy's), start it with --allow-host %s", host,
                                _split_host(host)[0] or "NAME")
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.set_header("X-Content-Type-Options", "nosniff")
            self.finish("Forbidden: this dashboard does not answer to the host name in this request "
                        "(see `workbench dashboard --allow-host`).\n")

    class KernelSocket(VoilaKernelWebsocketHandler):
        """Voila's kernel websocket, pinged once: by Jupyter's mixin (its interval and timeout are in ms).

        Tornado (>= 6.5) reads the same two properties for its own pings, in seconds: it would ping
        every 30,000 s and warn "websocket_ping_timeout (90000) cannot be longer than the
        websocket_ping_interval (30000)" on the first page. Its own pinging is switched off here;
        Jupyter's goes on (a page that vanished is noticed, so its kernel is shut down).
        """

        def get_websocket_protocol(self):
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

    class RefusedHost(Matcher):
        def __init__(self, check: HostCheck) -> None:
            self.check = check

        def match(self, request):
            return None if self.check.allows(request.headers.get("Host")) else {}

    class DashboardVoila(Voila):
        host_check: HostCheck | None = None

        def listen(self):
            if self.host_check is not None:  # before every route, static files and websockets included
                self.app.default_router.rules.insert(0, Rule(RefusedHost(self.host_check), HostRefused))
            return super().listen()

        def init_settings(self):
            settings = super().init_settings()
            self.contents_manager = DashboardContentsManager(parent=self, root_dir=self.root_dir)
            settings["contents_manager"] = self.contents_manager
            return settings

        def init_handlers(self):
            handlers = []
            for spec in super().init_handlers():
                if len(spec) >= 2 and spec[1] is AllowListFileHandler:
                    spec = (spec[0], ReportFileHandler, *spec[2:])
                elif len(spec) >= 2 and spec[1] is TornadoVoilaHandler:
                    spec = (spec[0], PageHandler, *spec[2:])
                elif len(spec) >= 2 and spec[1] is VoilaKernelWebsocketHandler:
                    spec = (spec[0], KernelSocket, *spec[2:])
                handlers.append(spec)
            index = url_path_join(self.server_url, INDEX_PATH)
            first, full = dashboard_bundle(), full_bundle()
            return [(self.server_url.rstrip("/") + "/?", tornado.web.RedirectHandler, {"url": index}),
                    (url_path_join(self.server_url, r"workbench/static/plotly\.js"), PlotlyJSHandler,
                     {"path": str(first.parent), "filename": first.name}),
                    (url_path_join(self.server_url, r"workbench/static/plotly-full\.js"), PlotlyJSHandler,
                     {"path": str(full.parent), "filename": full.name})] + handlers

    return DashboardVoila


def _cache_compiled_templates() -> None:
    """Compile Voila's page templates once per server, not on every visit.

    Voila builds a new exporter, hence a new Jinja environment, for every page
    it renders, and Jinja compiles the whole template chain again each time:
    ~0.4 s of every visit here. A shared in-memory bytecode cache (Jinja's own
    mechanism; keyed by template name and checked against the source) keeps
    the compiled code between environments. Applied once, to this process.
    """
    import jinja2
    from voila.exporter import VoilaExporter

    if getattr(VoilaExporter, "_workbench_cached", False):
        return

    class MemoryBytecodeCache(jinja2.BytecodeCache):
        def __init__(self) -> None:
            self.store: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            if bucket.key in self.store:
                bucket.bytecode_from_string(self.store[bucket.key])

        def dump_bytecode(self, bucket) -> None:
            self.store[bucket.key] = bucket.bytecode_to_string()

    cache = MemoryBytecodeCache()
    create = VoilaExporter._create_environment

    def _create_environment(self):
        environment = create(self)
        environment.bytecode_cache = cache
        return environment

    VoilaExporter._create_environment = _create_environment
    VoilaExporter._workbench_cached = True


# -- helpers ---------------------------------------------------------------------------
def _results_ok(run_dir: Path) -> bool:
    try:
        payload = json.loads((run_dir / "results.json").read_text())
        report = payload["report"]
        return isinstance(report, dict) and isinstance(report.get("results"), list) and "kind" in report
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _count_runs(root: Path) -> int:
    from workbench.reports.ledger import Ledger

    try:
        return len(Ledger(root).runs(reconcile=False))
    except Exception:  # a damaged ledger: the page says so
        return 0


def _free(host: str, port: int) -> bool:
    with socket.socket(_family(host), socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as tornado binds: TIME_WAIT is free
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT) or isinstance(exc, socket.gaierror):
                raise _not_here(host, exc) from None
            return False
    return True


def _family(host: str) -> int:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open(url: str) -> None:
    import webbrowser

    try:
        webbrowser.open(url, new=2)
    except Exception:  # no browser: the URL is printed
        pass
