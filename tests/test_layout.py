"""The rooms of the package and which may import which.

Read from the source, function-local imports included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import imported_after

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"
#: the model side of the loop and the monitoring side: each may use data, checks and metrics, never the other
MODEL_SIDE = ("workbench.modeling", "workbench.compression", "workbench.explain")
MONITORING = ("workbench.monitoring",)
#: shared by both sides, so below both: they import neither
SHARED = ("workbench.checks", "workbench.metrics", "workbench.report_kinds")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, anywhere in it (top level, functions, TYPE_CHECKING blocks)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    [
                        *package.split(".")[: len(package.split(".")) - node.level + 1],
                        *([base] if base else []),
                    ]
                )
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # `from workbench import explain`
    return out


def _modules(prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            found[name] = _imports(path)
    assert found, prefixes
    return found


def _reaching(imports: set[str], prefixes: tuple[str, ...]) -> list[str]:
    return sorted(i for i in imports if any(i == p or i.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize(
    ("importer", "forbidden"),
    [
        (MONITORING, MODEL_SIDE),
        (MODEL_SIDE, MONITORING),
        (
            SHARED,
            MODEL_SIDE
            + MONITORING
            + ("workbench.reports", "workbench.widgets", "workbench.dashboards", "workbench.cli"),
        ),
        (("workbench.modeling",), ("workbench.compression", "workbench.explain")),
    ],
)
def test_rooms_import_one_way(importer, forbidden):
    bad = {
        name: hits for name, imports in _modules(importer).items() if (hits := _reaching(imports, forbidden))
    }
    assert not bad, f"imports across the layering: {bad}"


def test_no_module_goes_through_the_top_level_package():
    """Inside workbench, names come from the module that defines them, not from `import workbench as wb`."""
    import workbench

    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "__init__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Import)
                and any(a.name == "workbench" for a in node.names)
                or isinstance(node, ast.ImportFrom)
                and node.module == "workbench"
                and any(a.name in workbench._LAZY for a in node.names)
            ):
                bad.append(str(path.relative_to(PACKAGE.parent)))
    assert not bad, bad


def test_checks_and_metrics_import_light():
    code = (
        "import workbench.checks, workbench.metrics; from workbench.checks import Check, make_check, "
        "checks_table_html, validate_patterns"
    )
    heavy = ("pandas", "sklearn", "scipy", "plotly", "workbench.monitoring", "workbench.modeling")
    assert imported_after(code, heavy) == []


def test_every_package_exports_through_one_helper():
    """Each package's ``__init__`` lists its public names in ``__all__``.

    Re-exports go through ``lazy_exports``.
    """
    import importlib

    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = _module_name(init)
        module = importlib.import_module(name)
        assert isinstance(getattr(module, "__all__", None), list | tuple), f"{name} has no __all__"
        hook = vars(module).get("__getattr__")
        if hook is not None:
            assert hook.__qualname__.startswith("lazy_exports."), f"{name} has its own __getattr__"
        for public in module.__all__:
            assert hasattr(module, public), f"{name}.{public} does not resolve"


#: the house limit on a module's length (physical lines): past it, split the module by what it holds
MAX_MODULE_LINES = 500


def test_no_module_is_over_the_line_limit():
    """Every module under workbench/ is at most MAX_MODULE_LINES lines long (blank lines counted)."""
    long = {
        str(path.relative_to(PACKAGE.parent)): n
        for path in sorted(PACKAGE.rglob("*.py"))
        if (n := len(path.read_bytes().splitlines())) > MAX_MODULE_LINES
    }
    assert not long, f"modules over {MAX_MODULE_LINES} lines (split each by what it holds): {long}"
