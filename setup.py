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
        if src.is_dir():
            dst = Path(self.build_lib) / "workbench" / "notebooks"
            shutil.copytree(
                src, dst, dirs_exist_ok=True,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc"),
            )


setup(cmdclass={"build_py": build_py})
