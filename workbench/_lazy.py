"""Imported on first use: a module (:func:`lazy`) and a package's public names (:func:`lazy_exports`).

``lazy`` is for names that sit at the top of light modules. Result classes
are imported to *render* stored results (dashboards, report pages), which
never touches a DataFrame; computing them does. ``pd = lazy("pandas")``
keeps ``pd.DataFrame(...)`` in function bodies as it reads,
and moves pandas' ~0.4 s import to the first call that needs it. (Annotations
are strings under ``from __future__ import annotations``; they never trigger it.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
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


def lazy_exports(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for a package that re-exports `exports` (``{name: defining module}``).

    The one way a workbench package exports its public names (PEP 562): a
    name's module is imported when the name is first used, then the value is
    cached in the package, so ``import workbench.x`` costs only ``x/__init__``.
    List the same names in the package's ``__all__``.
    """
    namespace = sys.modules[package].__dict__

    def __getattr__(name: str) -> Any:
        try:
            module = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
