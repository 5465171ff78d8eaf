"""Build hook: ship the top-level notebooks/ inside the package as workbench/notebooks.

The repository's notebooks/ stays the single source; a wheel (and so a plain
``pip install .``) carries a copy, which is how the CLI finds its report
templates from any directory.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py as _build_py


class build_py(_build_py):
    def run(self):
        super().run()
        src = Path(__file__).resolve().parent / "notebooks"
        dst = Path(self.build_lib) / "workbench" / "notebooks"
        # the templates only: never JupyterLab's checkpoints or what running a notebook left beside it
        for nb in sorted(src.rglob("*.ipynb")) if src.is_dir() else []:
            rel = nb.relative_to(src)
            if any(part.startswith(".") for part in rel.parts):
                continue
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(nb, dst / rel)


setup(cmdclass={"build_py": build_py})
