"""``workbench dashboard``: Voila over a reports directory.

The reports directory is Voila's root: the index notebook (the package's
``dashboards/index.ipynb`` template) is written into it at start-up, so

- ``/voila/render/index.ipynb`` is the index (``/`` redirects there),
- ``/voila/render/<kind>/<run-id>/report.ipynb`` is a run's own page: its
  executed report notebook, which renders from the stored ``results.json``,
- ``/voila/files/<kind>/<run-id>/report.html`` is its static report.

Safe defaults: loopback only; any other address needs a token (generated and
printed in the URL) unless the user opts out; sources stripped, tracebacks
hidden, idle kernels culled, only ``report.html`` files served, and those
only to authenticated visitors (Voila's own file handler does not check).
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

import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import sys
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
PREHEAT = 1
SPARE_KERNELS = 1
TEMPLATE = "workbench"
SHARE = Path(__file__).resolve().parent / "share"  # a Jupyter data directory holding the Voila template
# Only the static reports of finished runs (never hidden .tmp- folders, notebooks, JSON or the ledger).
FILE_ALLOWLIST = [r"[^/.][^/]*/[^/.][^/]*/report\.html"]
FILE_DENYLIST = [r".*\.(ipynb|py|json|sqlite.*|parquet|csv|skops|onnx)", r"(.*/)?\..*"]


def serve(reports_dir: str | os.PathLike = "reports", *, host: str = "127.0.0.1", port: int | None = None,
          token: str | None = None, no_token: bool = False, open_browser: bool = True,
          cull_idle: int = CULL_IDLE, preheat: int = PREHEAT, spare_kernels: int = SPARE_KERNELS,
          log_level: str = "WARN") -> int:
    """Serve the dashboards until Ctrl-C (or SIGTERM); returns the exit code.

    `preheat` keeps that many index kernels started and imported ahead of
    visits; the index still reads the ledger when the page is requested
    (``voila.utils.wait_for_request``), so it never shows a stale list.
    """
    root = Path(reports_dir).expanduser().resolve()
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
    # where a pre-heated kernel asks for its request's details (Voila assumes 127.0.0.1)
    os.environ["VOILA_APP_IP"] = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host

    from tornado.ioloop import IOLoop

    use_template_dir()
    from workbench.reports.report import block_iri_grammar

    block_iri_grammar()  # ~3 s of the server's start-up (nbformat -> jsonschema), for a check it never makes
    app = _voila_app()(config=voila_config(root, host=host, port=port, token=token, cull_idle=cull_idle,
                                           preheat=preheat, spare_kernels=spare_kernels, log_level=log_level))
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


def dashboard_url(host: str, port: int, token: str = "", path: str = INDEX_PATH) -> str:
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/{path}" + (f"?token={token}" if token else "")


def voila_config(root: Path, *, host: str, port: int, token: str, cull_idle: int = CULL_IDLE, preheat: int = PREHEAT,
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
    if cull_idle and cull_idle > 0:
        c.MappingKernelManager.cull_idle_timeout = int(cull_idle)
        c.MappingKernelManager.cull_interval = max(10, min(60, int(cull_idle) // 2))
        # A tab left open is culled too: its page keeps what it shows, a reload brings fresh runs.
        c.MappingKernelManager.cull_connected = True
    return c


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

    class DashboardVoila(Voila):
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
        except OSError:
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
