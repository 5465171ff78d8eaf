"""What the dashboard server relies on in Voila, Jupyter and tornado is still there, as it was.

Every patch of their internals lives in :mod:`workbench.dashboards.upstream`; each test below checks one
behaviour a patch relies on, against the installed packages (names, signatures, the lines a patch mirrors),
so an upgrade that breaks a patch fails here rather than in a visitor's browser. Fast: no server, no browser.
"""

from __future__ import annotations

import ast
import asyncio
import importlib.metadata
import inspect
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "workbench" / "dashboards"


def _source(obj) -> str:
    """An upstream function's source, whitespace removed (formatting changes are no change)."""
    return re.sub(r"\s+", "", inspect.getsource(obj))


def _params(func) -> list[str]:
    return list(inspect.signature(func).parameters)


# -- versions and the shape of the package -------------------------------------------------------------
def test_installed_versions_are_in_the_supported_range():
    from packaging.specifiers import SpecifierSet

    from workbench.dashboards.upstream import CHECKED, SUPPORTED

    assert set(CHECKED) == set(SUPPORTED)
    for name, spec in SUPPORTED.items():
        installed = importlib.metadata.version(name)
        assert installed in SpecifierSet(spec), (
            f"{name} {installed} is outside {spec}, the range workbench.dashboards.upstream was checked for: "
            "re-read its patches against this release, then widen SUPPORTED"
        )
        assert CHECKED[name] in SpecifierSet(spec), name


def test_the_lock_pins_versions_in_the_supported_range():
    from packaging.specifiers import SpecifierSet

    from workbench.dashboards.upstream import SUPPORTED

    pins = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "constraints.txt").read_text(), re.MULTILINE)
    )
    pins = {name.lower().replace("-", "_"): version for name, version in pins.items()}
    for name, spec in SUPPORTED.items():
        assert pins[name] in SpecifierSet(spec), f"constraints.txt pins {name} {pins[name]}, outside {spec}"


def _modules():
    for path in sorted(DASHBOARDS.glob("*.py")):
        yield path, ast.parse(path.read_text(), filename=str(path))


def test_no_class_is_defined_inside_a_function():
    """Classes at module level: importable, testable, and read top-down (no factory of classes)."""
    nested = []
    for path, tree in _modules():
        for func in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            nested += [
                f"{path.name}:{n.lineno} {n.name} in {func.name}()"
                for n in ast.walk(func)
                if isinstance(n, ast.ClassDef)
            ]
    assert not nested, nested


def test_only_the_upstream_module_imports_voila_or_private_modules():
    """The one place for patches: Voila is imported by upstream.py only (and by the index, in its kernel,
    for Voila's documented ``wait_for_request``); no private module of theirs is imported anywhere else."""
    upstream_only = ("voila", "jupyter_server._", "jupyter_client._", "tornado._", "nbconvert._")
    found = []
    for path, tree in _modules():
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [(path.name, n) for n in names if n.startswith(upstream_only)]
    allowed = {("index.py", "voila.utils")}
    assert [f for f in found if f[0] != "upstream.py" and f not in allowed] == []


def test_modules_stay_readable_in_size():
    long = {
        path.name: n for path in DASHBOARDS.glob("*.py") if (n := len(path.read_text().splitlines())) > 450
    }
    assert not long, long


# -- the application (DashboardVoila) ------------------------------------------------------------------
def test_voila_builds_its_app_from_settings_and_handlers_then_listens():
    from voila.app import Voila

    start = _source(Voila.start)
    order = [
        start.find(s)
        for s in (
            "self.init_settings()",
            "tornado.web.Application(**settings)",
            "self.init_handlers()",
            "self.app.add_handlers(",
            "self.listen()",
        )
    ]
    assert -1 not in order and order == sorted(order), start
    assert _params(Voila.listen) == ["self"] and _params(Voila.init_settings) == ["self"]
    init_settings = _source(Voila.init_settings)
    assert "self.contents_manager=LargeFileManager(parent=self)" in init_settings
    assert "contents_manager=self.contents_manager" in init_settings
    assert "settings[self.name]=self" in init_settings and Voila.name == "voila"  # HostRefused's log


def test_the_dashboard_app_swaps_in_its_handlers_and_contents_manager(tmp_path):
    """DashboardVoila on the installed Voila: its handlers replace Voila's own, by class."""
    import tornado.web
    from voila.static_file_handler import AllowListFileHandler
    from voila.tornado.contentshandler import VoilaContentsHandler
    from voila.tornado.handler import TornadoVoilaHandler
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler
    from voila.tornado.treehandler import TornadoVoilaTreeHandler

    from workbench.dashboards import upstream
    from workbench.dashboards.handlers import PlotlyJSHandler
    from workbench.dashboards.server import use_template_dir, voila_config

    use_template_dir()
    app = upstream.DashboardVoila(
        config=voila_config(tmp_path, host="127.0.0.1", port=8866, token="", preheat=0, spare_kernels=0)
    )
    app.initialize([])
    app.connection_dir = str(tmp_path)  # Voila's start() makes it
    settings = app.init_settings()
    assert isinstance(settings["contents_manager"], upstream.DashboardContentsManager)
    assert settings["voila"] is app
    classes = [spec[1] for spec in app.init_handlers()]
    for theirs, ours in (
        (AllowListFileHandler, upstream.ReportFileHandler),
        (TornadoVoilaHandler, upstream.PageHandler),
        (VoilaKernelWebsocketHandler, upstream.KernelSocket),
    ):
        assert theirs not in classes and ours in classes, theirs
    assert classes.count(PlotlyJSHandler) == 2
    # Voila's folder listing and the contents API it reads are gone: the tree routes redirect
    assert TornadoVoilaTreeHandler not in classes and VoilaContentsHandler not in classes
    trees = [spec for spec in app.init_handlers() if "/voila/tree" in spec[0]]
    assert trees and all(spec[1] is tornado.web.RedirectHandler for spec in trees)
    report_files = next(spec for spec in app.init_handlers() if spec[1] is upstream.ReportFileHandler)
    assert {"allowlist", "denylist", "path"} <= set(report_files[2])


def test_voila_reads_notebooks_through_the_contents_manager():
    from jupyter_server.services.contents.largefilemanager import LargeFileManager
    from voila.notebook_renderer import NotebookRenderer

    assert "self.contents_manager.get(path=path)" in _source(NotebookRenderer)
    assert _params(LargeFileManager.get)[:5] == ["self", "path", "content", "type", "format"]
    assert _params(LargeFileManager.mark_trusted_cells) == ["self", "nb", "path"]
    assert _params(LargeFileManager.validate_notebook_model) == ["self", "model", "validation_error"]


def test_voila_configuration_traits_still_exist():
    """voila_config sets public traits only; each one must still be a configurable trait of its class."""
    from jupyter_client.manager import KernelManager
    from jupyter_server.services.kernels.kernelmanager import MappingKernelManager
    from voila.app import Voila
    from voila.configuration import VoilaConfiguration
    from voila.execute import VoilaExecutor
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    from workbench.dashboards._kernels import SpareKernelManager
    from workbench.dashboards.server import voila_config

    classes = {
        "Voila": Voila,
        "VoilaConfiguration": VoilaConfiguration,
        "VoilaExecutor": VoilaExecutor,
        "VoilaKernelManager": voila_kernel_manager_factory(SpareKernelManager, True, 0),
        "SpareKernelManager": SpareKernelManager,
        "MappingKernelManager": MappingKernelManager,
        "KernelManager": KernelManager,
    }
    config = voila_config(Path("/tmp"), host="127.0.0.1", port=8866, token="")
    for section, values in config.items():
        traits = classes[section].class_traits(config=True)
        missing = set(values) - set(traits)
        assert not missing, f"{section} has no configurable {sorted(missing)}"


# -- the handlers ---------------------------------------------------------------------------------------
def test_page_handler_mirrors_voilas_get():
    from voila.handler import VoilaHandler
    from voila.tornado.handler import TornadoVoilaHandler

    get = _source(TornadoVoilaHandler.get)
    assert "gen=self.get_generator(path=path)asyncforhtmlingen:self.write(html)self.flush()" in get, get
    assert _params(TornadoVoilaHandler.get) == ["self", "path"]
    assert _params(VoilaHandler.get_generator) == ["self", "path"]
    assert "self.kernel_manager.start_kernel(" in _source(VoilaHandler.get_generator)


def test_tornado_handlers_log_and_reason_as_patched():
    import tornado.web

    assert _params(tornado.web.RequestHandler._log) == ["self"]
    assert "self._log()" in _source(tornado.web.RequestHandler.finish)
    assert "self._reason=" in _source(tornado.web.RequestHandler.clear)
    assert "self._reason=" in _source(tornado.web.RequestHandler.set_status)


def test_voilas_file_handler_takes_the_lists_and_jupyters_checks_xsrf():
    from jupyter_server.base.handlers import AuthenticatedFileHandler
    from voila.static_file_handler import AllowListFileHandler

    assert _params(AllowListFileHandler.initialize)[:3] == ["self", "allowlist", "denylist"]
    assert "self.check_xsrf_cookie()" in _source(AuthenticatedFileHandler.get)
    assert _params(AuthenticatedFileHandler.get_absolute_path)[-2:] == ["root", "path"]


def test_tornado_websocket_protocol_carries_the_ping_params():
    import tornado.websocket
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    build = _source(tornado.websocket.WebSocketHandler.get_websocket_protocol)
    assert "_WebSocketParams(ping_interval=self.ping_interval,ping_timeout=self.ping_timeout" in build
    assert "WebSocketProtocol13(self,False,params)" in build
    assert {"ping_interval", "ping_timeout"} <= set(_params(tornado.websocket._WebSocketParams))
    assert "self.params.ping_interval" in _source(tornado.websocket.WebSocketProtocol13)
    assert _params(VoilaKernelWebsocketHandler.write_message) == ["self", "message", "binary"]


# -- templates ------------------------------------------------------------------------------------------
def test_templates_are_made_by_create_environment_and_cached():
    from nbconvert.exporters.templateexporter import TemplateExporter
    from voila.exporter import VoilaExporter

    from workbench.dashboards import upstream

    assert "self._environment_cached=self._create_environment()" in _source(TemplateExporter)
    assert _params(TemplateExporter._create_environment) == ["self"]
    upstream.cache_compiled_templates()
    upstream.cache_compiled_templates()  # once
    assert isinstance(VoilaExporter().environment.bytecode_cache, upstream.MemoryBytecodeCache)


def _block(source: str, name: str) -> str:
    match = re.search(r"{%-?\s*block " + name + r"\b.*?%}(.*?){%-?\s*endblock " + name, source, re.DOTALL)
    assert match, name
    return re.sub(r"\s+", "", match.group(1))


def test_the_page_template_overrides_blocks_voilas_lab_template_has():
    """share/voila/templates/workbench extends Voila's lab template: its blocks still exist, and its
    notebook_css is still Voila's own but for the two Font Awesome links to a CDN."""
    from jupyter_core.paths import jupyter_path

    def find(*parts: str) -> str:
        for base in jupyter_path():
            path = Path(base, *parts)
            if path.is_file():
                return path.read_text()
        raise AssertionError(f"{'/'.join(parts)} not found on the Jupyter path")

    ours = (DASHBOARDS / "share" / "voila" / "templates" / "workbench" / "index.html.j2").read_text()
    lab = find("voila", "templates", "lab", "index.html.j2")
    nbconvert_lab = find("nbconvert", "templates", "lab", "index.html.j2")
    assert "extends 'lab/index.html.j2'" in ours and "extends 'nbconvert/templates/lab/index.html.j2'" in lab
    for name in re.findall(r"{%-?\s*block (\w+)", ours):
        assert re.search(r"{%-?\s*block " + name + r"\b", lab + nbconvert_lab), name
    theirs = re.sub(
        r"<linkrel=\"stylesheet\"href=\"https://cdn\.jsdelivr\.net/npm/@fortawesome[^>]*/>",
        "",
        _block(lab, "notebook_css"),
    )
    assert _block(ours, "notebook_css") == theirs.replace("{{super()}}", "{{super.super()}}")


# -- the kernel manager (what _kernels.SpareKernelManager reads through upstream) ----------------------
def test_connections_are_counted_by_notify_connect():
    from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager

    from workbench.dashboards import upstream

    km = AsyncMappingKernelManager()
    km._kernel_connections["k"] = 0  # as start_kernel does
    km.notify_connect("k")
    km.notify_connect("k")
    km.notify_disconnect("k")
    assert upstream.connections(km, "k") == 1 and upstream.connections(km, "other") == 0


def test_the_culler_loop_is_started_as_jupyter_starts_it():
    from jupyter_server.services.kernels.kernelmanager import (
        AsyncMappingKernelManager,
        MappingKernelManager,
    )

    from workbench.dashboards import upstream

    init = _source(MappingKernelManager.initialize_culler)
    assert "self._culler_callback=PeriodicCallback(self.cull_kernels," in init
    assert "self._initialized_culler=True" in init
    assert "ifnotself._initialized_culler:self.initialize_culler()" in _source(
        MappingKernelManager._async_start_kernel
    )
    assert "awaitself.cull_kernel_if_idle(kernel_id)" in _source(MappingKernelManager.cull_kernels)
    assert _params(MappingKernelManager.cull_kernel_if_idle) == ["self", "kernel_id"]

    async def start() -> None:
        km = AsyncMappingKernelManager()
        upstream.start_culler(km, 5)
        try:
            assert km._initialized_culler and km._culler_callback.callback_time == 5000
            assert km._culler_callback.is_running()
        finally:
            km._culler_callback.stop()

    asyncio.run(start())


def test_kernel_manager_methods_keep_their_signatures():
    from jupyter_server.services.kernels.kernelmanager import (
        AsyncMappingKernelManager,
        MappingKernelManager,
    )

    sig = inspect.signature(AsyncMappingKernelManager.start_kernel).parameters
    assert "path" in sig and any(p.kind is p.VAR_KEYWORD for p in sig.values())
    # SpareKernelManager stops a kernel through Jupyter's own shutdown (not its override, nor Voila's pool's)
    assert AsyncMappingKernelManager.shutdown_kernel is MappingKernelManager._async_shutdown_kernel
    assert _params(AsyncMappingKernelManager.shutdown_kernel) == ["self", "kernel_id", "now", "restart"]
    assert _params(AsyncMappingKernelManager.shutdown_all) == ["self", "now"]
    for name in ("notify_connect", "notify_disconnect"):
        assert _params(getattr(AsyncMappingKernelManager, name)) == ["self", "kernel_id"]
    assert _params(AsyncMappingKernelManager.cwd_for_path)[:2] == ["self", "path"]


def test_a_starting_kernel_has_no_last_activity_yet():
    from jupyter_server._tz import utcnow
    from jupyter_server.services.kernels.kernelmanager import ServerKernelManager

    from workbench.dashboards import upstream

    kernel = ServerKernelManager()
    assert upstream.last_activity(kernel) is None
    assert {"execution_state", "last_activity"} <= set(ServerKernelManager.class_traits())
    kernel.last_activity = utcnow()
    assert (
        upstream.last_activity(kernel) is not None and 0 <= upstream.seconds_since(kernel.last_activity) < 5
    )


def test_voilas_pool_marks_its_kernels_and_hands_them_out_as_patched():
    from voila.handler import VoilaHandler
    from voila.utils import ENV_VARIABLE, wait_for_request
    from voila.voila_kernel_manager import voila_kernel_manager_factory

    from workbench.dashboards import upstream
    from workbench.dashboards._kernels import SpareKernelManager

    assert ENV_VARIABLE.VOILA_PREHEAT == "VOILA_PREHEAT" and ENV_VARIABLE.VOILA_APP_IP == "VOILA_APP_IP"
    pooled = voila_kernel_manager_factory(SpareKernelManager, True, 0)
    assert issubclass(pooled, SpareKernelManager)
    assert issubclass(voila_kernel_manager_factory(SpareKernelManager, False, 0), SpareKernelManager)
    assert 'kernel_env[ENV_VARIABLE.VOILA_PREHEAT]="True"' in _source(pooled.fill_if_needed)
    assert upstream.is_pool_start({ENV_VARIABLE.VOILA_PREHEAT: "True"})
    assert not upstream.is_pool_start({ENV_VARIABLE.VOILA_PREHEAT: "False"}) and not upstream.is_pool_start(
        None
    )
    assert upstream.plain_env({ENV_VARIABLE.VOILA_PREHEAT: "False"}) == {"VOILA_PREHEAT": "False"}
    # a page takes a pooled kernel through get_rendered_notebook: (render task, rendered cells, kernel id)
    assert {"notebook_name", "extra_kernel_env_variables"} <= set(_params(pooled.get_rendered_notebook))
    assert (
        "render_task,rendered_cache,kernel_id,)=awaitself.kernel_manager.get_rendered_notebook("
        in _source(VoilaHandler.get_generator)
    )
    # the pre-heated index waits for its visit, asking the server at VOILA_APP_IP (tell_kernels_where)
    assert "os.getenv(ENV_VARIABLE.VOILA_APP_IP" in _source(wait_for_request)


def test_watch_pool_sees_the_kernel_a_page_takes():
    from workbench.dashboards import upstream

    class Pool:
        async def get_rendered_notebook(self, notebook_name, extra_kernel_env_variables):
            return "task", ["<p>"], "kernel-1"

    pool, taken = Pool(), []
    upstream.watch_pool(pool, taken.append)
    assert asyncio.run(pool.get_rendered_notebook("index.ipynb", {}))[2] == "kernel-1" and taken == [
        "kernel-1"
    ]
    plain = object()
    upstream.watch_pool(plain, taken.append)  # no pre-heating: nothing to watch


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.1"),
        ("::", "[::1]"),
        ("::1", "[::1]"),
        ("192.168.1.20", "192.168.1.20"),
    ],
)
def test_kernels_are_told_where_the_server_listens(host, expected, monkeypatch):
    from workbench.dashboards import upstream

    monkeypatch.delenv("VOILA_APP_IP", raising=False)
    upstream.tell_kernels_where(host)
    assert os.environ["VOILA_APP_IP"] == expected
