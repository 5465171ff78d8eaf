"""A module imported on first use, for names that sit at the top of light modules.

Result classes are imported to *render* stored results (dashboards, report
pages), which never touches a DataFrame; computing them does. ``pd =
lazy("pandas")`` keeps ``pd.DataFrame(...)`` in function bodies as it reads,
and moves pandas' ~0.4 s import to the first call that needs it. (Annotations
are strings under ``from __future__ import annotations``; they never trigger it.)
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule(ModuleType):
    """Stands for module `name`; the first attribute access imports it."""

    def __init__(self, name: str):
        super().__init__(name)
        self.__dict__["_lazy_target"] = None

    def _load(self) -> ModuleType:
        target = self.__dict__["_lazy_target"]
        if target is None:
            target = importlib.import_module(self.__name__)
            self.__dict__["_lazy_target"] = target
        return target

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __dir__(self) -> list[str]:
        return dir(self._load())


def lazy(name: str) -> Any:
    """`name`, imported when first used (see the module's docstring)."""
    return LazyModule(name)
