"""``workbench dashboard``: Voila over a reports directory.

The reports directory is Voila's root: the index notebook (the package's
``dashboards/index.ipynb`` template) is written into it at start-up, so

- ``/voila/render/index.ipynb`` is the index (``/`` redirects there),
- ``/voila/render/<kind>/<run-id>/report.ipynb`` is a run's own page: its
  executed report notebook, which renders from the stored ``results.json``,
- ``/voila/files/<kind>/<run-id>/report.html`` is its static report,
- ``/voila/render/models.ipynb`` is the Models page (the registry given by
  ``--registry``: versions, aliases, the release timeline) and
  ``/voila/files/cards/<name>/<version>/model_card.html`` a version's model card.

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

This module starts the server (:func:`serve`) and holds its configuration; the rest is in

- :mod:`workbench.dashboards.access`: the ``Host`` check and the token (pure decisions),
- :mod:`workbench.dashboards.pages`: what is served besides Voila's pages (notebooks adapted,
  the busy card, which files),
- :mod:`workbench.dashboards.handlers`: plotly.js and the host rule (tornado's public API),
- :mod:`workbench.dashboards.upstream`: every patch of Voila's, Jupyter's and tornado's internals,
- :mod:`workbench.dashboards._kernels`: the kernel policy (spare kernels, the cap, culling).

Light to import (the CLI reads its defaults): Voila comes with :func:`serve`.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path

from workbench.dashboards.access import HostCheck, check_host, decide_token, is_loopback
from workbench.dashboards.links import SERVER_ENV
from workbench.dashboards.models import ENV_REGISTRY, MODELS
from workbench.dashboards.pages import FILE_ALLOWLIST, FILE_DENYLIST, INDEX, INDEX_PATH
from workbench.dashboards.runs import ENV_REPORTS_DIR
from workbench.errors import WorkbenchError

DEFAULT_PORT = 8866
CULL_IDLE = 1800
CULL_CLOSED = 15
CULL_UNCONNECTED = 90
MAX_KERNELS = 8
PREHEAT = 1
SPARE_KERNELS = 1
TEMPLATE = "workbench"
SHARE = Path(__file__).resolve().parent / "share"  # a Jupyter data directory holding the Voila template


def serve(
    reports_dir: str | os.PathLike = "reports",
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    token: str | None = None,
    no_token: bool = False,
    open_browser: bool = True,
    cull_idle: int = CULL_IDLE,
    cull_closed: int = CULL_CLOSED,
    max_kernels: int = MAX_KERNELS,
    allow_hosts: list[str] | tuple[str, ...] = (),
    preheat: int = PREHEAT,
    spare_kernels: int = SPARE_KERNELS,
    log_level: str = "WARN",
    registry: str | os.PathLike | None = None,
) -> int:
    """Serve the dashboards until Ctrl-C (or SIGTERM); returns the exit code.

    `preheat` keeps that many index kernels started and imported ahead of
    visits; the index still reads the ledger when the page is requested
    (``voila.utils.wait_for_request``), so it never shows a stale list.
    `registry`: the model registry the Models page shows (default: as
    everywhere, see :func:`workbench.registry.registry_location`).
    """
    from workbench.registry.location import registry_location

    root = Path(reports_dir).expanduser().resolve()
    check_host(host)
    registry_uri = registry_location(registry).uri  # resolved here: a page's kernel starts elsewhere
    try:
        root.mkdir(parents=True, exist_ok=True)
        install_index(root)
    except OSError as exc:
        raise WorkbenchError(
            f"cannot write the dashboard's index into {root} ({exc.strerror}); "
            "the dashboard needs a writable reports directory"
        ) from None
    token = decide_token(host, token, no_token)
    port = pick_port(host, port)
    os.environ[ENV_REPORTS_DIR] = str(root)  # the kernels inherit it: the index shows this directory
    os.environ[SERVER_ENV] = "1"  # report.html is under /voila/files/
    os.environ[ENV_REGISTRY] = registry_uri  # the Models page reads this registry

    from tornado.ioloop import IOLoop

    use_template_dir()  # Voila looks its templates up on the Jupyter path
    from workbench.reports.report import block_iri_grammar

    block_iri_grammar()  # ~3 s of the server's start-up (nbformat -> jsonschema), for a check it never makes
    from workbench.dashboards import upstream

    upstream.tell_kernels_where(host)
    upstream.cache_compiled_templates()
    app = upstream.DashboardVoila(
        config=voila_config(
            root,
            host=host,
            port=port,
            token=token,
            cull_idle=cull_idle,
            cull_closed=cull_closed,
            max_kernels=max_kernels,
            preheat=preheat,
            spare_kernels=spare_kernels,
            log_level=log_level,
        )
    )
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


def voila_config(
    root: Path,
    *,
    host: str,
    port: int,
    token: str,
    cull_idle: int = CULL_IDLE,
    cull_closed: int = CULL_CLOSED,
    max_kernels: int = MAX_KERNELS,
    preheat: int = PREHEAT,
    spare_kernels: int = SPARE_KERNELS,
    log_level: str = "WARN",
):
    """The Voila configuration (traitlets) of a dashboard server.

    Public traits only; tests/test_upstream.py checks each still exists on its class.
    """
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
        c.VoilaKernelManager.kernel_pools_config = {
            "default": {"pool_size": 0},
            INDEX: {"pool_size": int(preheat)},
        }
        c.VoilaKernelManager.fill_delay = 0.5
    # Run pages: warmed spare kernels (dashboards/_kernels.py), moved into the run's folder by the first cell.
    c.VoilaConfiguration.multi_kernel_manager_class = "workbench.dashboards._kernels.SpareKernelManager"
    c.SpareKernelManager.spare_kernels = int(spare_kernels)
    c.VoilaConfiguration.file_allowlist = FILE_ALLOWLIST
    c.VoilaConfiguration.file_denylist = FILE_DENYLIST
    c.VoilaExecutor.timeout = 180  # a cell that hangs ends as an error, not as a page that never loads
    c.VoilaExecutor.cell_error_instruction = (
        "This part of the page could not be shown; the person running the "
        "dashboard finds the details in its log."
    )
    # Kernels: at most `max_kernels` serve pages; a page's kernel goes soon after its page
    # (dashboards/_kernels.py).
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


def use_template_dir() -> None:
    """Let Voila find workbench's template: its folder goes first on the Jupyter data path."""
    paths = [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    if str(SHARE) not in paths:
        os.environ["JUPYTER_PATH"] = os.pathsep.join([str(SHARE), *paths])


def install_index(root: Path) -> Path:
    """Write (or refresh) the index notebook, and the Models page beside it, into the reports directory."""
    from workbench.templates import template

    for name in (MODELS, INDEX):
        target = root / name
        tmp = root / f".{name}.tmp-{os.getpid()}"
        shutil.copyfile(template(f"dashboards/{name}"), tmp)
        os.replace(tmp, target)
    return target


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
    """The URL to open: this machine's name for an all-addresses bind, the token as a query parameter."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/{path}" + (f"?token={token}" if token else "")


# -- helpers ---------------------------------------------------------------------------
def _connection_root() -> str:
    return tempfile.gettempdir() if len(tempfile.gettempdir()) <= 40 else "/tmp"


def _count_runs(root: Path) -> int:
    from workbench.reports.ledger import Ledger

    try:
        return len(Ledger(root).runs(reconcile=False))
    except Exception:  # a damaged ledger: the page says so
        return 0


def _not_here(host: str, exc: OSError) -> WorkbenchError:
    return WorkbenchError(
        f"--host {host} is not an address of this machine ({exc.strerror or exc}); give one of "
        "its addresses, e.g. 127.0.0.1 or 0.0.0.0"
    )


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
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def _open(url: str) -> None:
    import webbrowser

    try:
        webbrowser.open(url, new=2)
    except Exception:  # no browser: the URL is printed
        pass
