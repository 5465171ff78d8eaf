"""plotly.js for the dashboards: plotly's smaller "cartesian" bundle when installed, else the full one.

A dashboard page draws its first charts as soon as plotly.js has loaded; a
browser without it cached spends ~1.5 s here loading the full 4.5 MB bundle
that the plotly package ships, ~0.6 s for plotly.js's official "cartesian"
partial bundle (1.3 MB: scatter, bar, heatmap, histogram, box, pie, ...,
every trace type workbench draws). plotly.py does not ship partial bundles;
``make install`` runs ``python -m workbench.dashboards.assets``, which takes
the same plotly.js version from the npm registry when ``npm`` is available
(never at run time). Without it the dashboards serve the full bundle, and a
figure with a trace type the partial bundle lacks makes the page load the full
one (see the Voila template). Measured in ``benchmarks/dashboard.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "plotly.js-cartesian-dist-min"
FILE = "plotly-cartesian.min.js"


def plotlyjs_version() -> str:
    """The plotly.js version the installed plotly package embeds (the partial bundle must match it)."""
    from plotly.offline import get_plotlyjs_version

    return get_plotlyjs_version()


def full_bundle() -> Path:
    """The full plotly.js bundle shipped with the plotly package."""
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


def partial_bundle_path(prefix: str | Path | None = None) -> Path:
    """Where the smaller partial bundle for this plotly.js version is installed under `prefix`."""
    return (
        Path(prefix or sys.prefix) / "share" / "workbench" / f"plotly-cartesian-{plotlyjs_version()}.min.js"
    )


def dashboard_bundle() -> Path:
    """The bundle the dashboards serve first: the partial one when installed, else plotly's full one."""
    partial = partial_bundle_path()
    return partial if partial.is_file() else full_bundle()


def fetch_partial_bundle(prefix: str | Path | None = None, npm: str | None = None) -> tuple[Path | None, str]:
    """Install the matching partial bundle with npm; ``(path, message)``, path None when it could not."""
    target = partial_bundle_path(prefix)
    if target.is_file():
        return target, f"plotly.js partial bundle present: {target}"
    npm = npm or shutil.which("npm")
    version = plotlyjs_version()
    if not npm:
        return None, "npm not found: the dashboards will serve plotly's full bundle (slower first charts)"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            subprocess.run(
                [npm, "pack", f"{PACKAGE}@{version}", "--pack-destination", tmp, "--silent"],
                check=True,
                capture_output=True,
                text=True,
                timeout=180,
                cwd=tmp,
            )
            archive = next(Path(tmp).glob("*.tgz"))
            with tarfile.open(archive) as tar:
                member = tar.extractfile(f"package/{FILE}")
                data = member.read() if member else b""
        except (OSError, subprocess.SubprocessError, StopIteration, KeyError, tarfile.TarError) as exc:
            return None, (
                f"could not fetch {PACKAGE}@{version} with npm ({type(exc).__name__}): the dashboards "
                "will serve plotly's full bundle (slower first charts)"
            )
    if f" v{version}".encode() not in data[:300]:
        return None, f"{PACKAGE}@{version} did not contain plotly.js v{version}: not installed"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_target = target.with_suffix(".tmp")
    tmp_target.write_bytes(data)
    tmp_target.replace(target)
    return target, f"installed plotly.js partial bundle v{version}: {target}"


def main() -> int:
    """Install the partial bundle if it can be fetched and print what happened.

    Returns 0 always: a missing bundle never fails an install (the full one works).
    """
    _, message = fetch_partial_bundle()
    print(f"workbench: {message}")
    return 0  # never fails an install: the full bundle always works


if __name__ == "__main__":
    sys.exit(main())
