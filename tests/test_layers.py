"""The package's layers: inputs <- model <- analysis <- reports <- app / api / cli, and no import circles.

Every import statement of every module is read with :mod:`ast`, including imports inside functions (a lazy
import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import PKG
NAME = "uncertainty_footprint"

#: Rank of each layer; a module may import only modules of its own rank or lower.
LAYERS = {"base": 0, "inputs": 1, "model": 2, "analysis": 3, "reports": 4, "top": 5}
BASE_MODULES = {NAME, f"{NAME}.errors", f"{NAME}.warnings"}


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in PKG.rglob("*.py")}


def layer_of(module: str) -> str:
    if module in BASE_MODULES:
        return "base"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS and parts[1] not in ("base", "top"):
        return parts[1]
    return "top"  # api, cli, __main__, app


def imported_modules(module: str, path: Path) -> set[str]:
    """The package modules that ``module`` imports anywhere in its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_pkg = path.name == "__init__.py"
    package = module if is_pkg else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == NAME)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != NAME:
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES else target)
    return {m for m in found if m != module}


#: The root package serves the public API lazily (PEP 562 ``__getattr__``): those imports run on first attribute
#: access, after every module is loaded, so they are neither upward imports nor cycles.
LAZY_FACADE = {NAME: {f"{NAME}.api", f"{NAME}.export"}}
GRAPH = {m: {i for i in imported_modules(m, p) if i in MODULES} - LAZY_FACADE.get(m, set())
         for m, p in MODULES.items()}


def test_the_root_imports_the_api_only_inside_getattr():
    tree = ast.parse((PKG / "__init__.py").read_text(encoding="utf-8"))
    assert not [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    getattr_ = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "__getattr__"]
    assert getattr_, "the root package has no lazy __getattr__ facade"


def test_the_four_layer_folders_exist():
    for layer in ("inputs", "model", "analysis", "reports", "app"):
        assert (PKG / layer / "__init__.py").is_file(), layer
    assert (PKG / "cli.py").is_file()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_upward_import(module):
    own = LAYERS[layer_of(module)]
    upward = sorted(i for i in GRAPH[module] if LAYERS[layer_of(i)] > own)
    assert not upward, f"{module} ({layer_of(module)}) imports a higher layer: {upward}"


def test_no_import_cycle():
    """Depth-first search for a cycle in the module import graph (package ``__init__`` files included)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(GRAPH[m]):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state and (cycle := visit(n)):
                return cycle
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state and (cycle := visit(m)):
            pytest.fail("import cycle: " + " -> ".join(cycle))


def test_the_walker_sees_lazy_and_relative_imports(tmp_path):
    """The checker itself: an import inside a function and a relative import are both found."""
    src = tmp_path / "mod.py"
    src.write_text("def f():\n    from ..reports import figures\n    from . import designs\n")
    found = imported_modules(f"{NAME}.analysis.mod", src)
    assert f"{NAME}.reports.figures" in found and f"{NAME}.analysis.designs" in found
