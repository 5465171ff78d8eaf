"""Where a run's own page and its static report are, as seen from the page being served.

Under ``workbench dashboard`` the reports directory is Voila's root: a run's
page is ``/voila/render/<kind>/<id>/report.ipynb`` and its report
``/voila/files/<kind>/<id>/report.html``. Under Voila as a Jupyter server
extension (JupyterLab, Binder) the index may sit deeper
(``/user/x/voila/render/workbench-demo/reports/index.ipynb``) and files come
from the server's ``/files/``. Voila tells the kernel the page's path
(``SCRIPT_NAME``); the kernel's folder is the notebook's, so the server's root
follows, and every link is an absolute path on the same host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote, unquote

SERVER_ENV = "WORKBENCH_DASHBOARD_SERVER"  # set by `workbench dashboard`: files under /voila/files/


@dataclass(frozen=True)
class Links:
    """URL prefixes for notebooks rendered by Voila and for plain files, and the server's root folder."""

    render: str
    files: str
    root: Path

    @classmethod
    def for_server(cls, reports_dir: str | os.PathLike, base_url: str = "/") -> Links:
        """The layout of ``workbench dashboard``: the reports directory is the root."""
        base = base_url.rstrip("/")
        return cls(f"{base}/voila/render/", f"{base}/voila/files/", Path(reports_dir).resolve())

    def run_page(self, run_path: str | os.PathLike) -> str | None:
        """The URL of the run's report page in Voila, or None for a run outside the served folder."""
        rel = self._rel(run_path)
        return None if rel is None else self.render + quote(f"{rel}/report.ipynb")

    def report_html(self, run_path: str | os.PathLike) -> str | None:
        """The URL of the run's static ``report.html``, or None for a run outside the served folder."""
        rel = self._rel(run_path)
        return None if rel is None else self.files + quote(f"{rel}/report.html")

    def page(self, notebook: str | os.PathLike) -> str | None:
        """The URL of a notebook page under the served folder (the index, the Models page), or None."""
        rel = self._rel(notebook)
        return None if rel is None else self.render + quote(rel)

    def file(self, path: str | os.PathLike) -> str | None:
        """The URL of a served file (a model card) under the served folder, or None."""
        rel = self._rel(path)
        return None if rel is None else self.files + quote(rel)

    def _rel(self, run_path) -> str | None:
        try:
            return Path(run_path).resolve().relative_to(self.root).as_posix()
        except ValueError:  # outside what this server serves
            return None


def page_links() -> Links | None:
    """The links of the page this kernel renders in Voila (None outside Voila)."""
    script = os.environ.get("SCRIPT_NAME", "")
    if "/voila/render/" not in script:
        return None
    prefix, nb_path = script.split("/voila/render/", 1)
    root = Path.cwd()
    for _ in PurePosixPath(unquote(nb_path)).parent.parts:
        root = root.parent
    files = f"{prefix}/voila/files/" if os.environ.get(SERVER_ENV) else f"{prefix}/files/"
    return Links(f"{prefix}/voila/render/", files, root.resolve())
