"""The package's layers: inputs <- model <- analysis <- io <- reports <- api <- cli / app, and no import circles;
the faces (cli, app) use the public API only; no module imports a private module of another library or assigns
into one.

Every import statement of every module is read with :mod:`ast`, including imports inside functions (a lazy
import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import PKG
NAME = "uncertainty_footprint"

#: Rank of each layer; a module may import only modules of its own rank or lower.
LAYERS = {"base": 0, "inputs": 1, "model": 2, "analysis": 3, "io": 4, "reports": 5, "api": 6, "top": 7}
BASE_MODULES = {NAME, f"{NAME}.errors", f"{NAME}.warnings", f"{NAME}.atomic", f"{NAME}.display"}
#: The public API (the faces import nothing else of the package) and the faces.
API_MODULES = {f"{NAME}.api", f"{NAME}.export"}


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
    if module in API_MODULES:
        return "api"
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYERS and parts[1] not in ("base", "api", "top"):
        return parts[1]
    return "top"  # cli, __main__, app


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


def test_the_layer_folders_exist():
    for layer in ("inputs", "model", "analysis", "io", "reports", "app"):
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


FACES = {m for m in MODULES if m == f"{NAME}.cli" or m == f"{NAME}.__main__" or m.startswith(f"{NAME}.app")}


@pytest.mark.parametrize("module", sorted(FACES))
def test_the_faces_use_the_public_api_only(module):
    """The command line and the calculator import the public API, errors and warnings (and each other's public
    entry points), nothing below."""
    allowed = {f"{NAME}.api", f"{NAME}.errors", f"{NAME}.warnings"} | FACES
    inner = sorted(i for i in GRAPH[module] if i not in allowed)
    assert not inner, f"{module} imports below the public API: {inner}"


#: Libraries whose private modules and attributes the package must not touch.
LIBRARIES = ("xarray", "numpy", "scipy", "pandas", "matplotlib", "dask", "distributed", "pint", "SALib", "netCDF4",
             "pydantic", "jinja2", "dash", "flask", "yaml", "numba", "tqdm", "PIL")


def _library_names(tree: ast.AST) -> dict[str, str]:
    """Local name -> imported module (or module.attribute) of the other libraries a module imports."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in LIBRARIES:
                    names[(a.asname or a.name).split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").split(".")[0] in LIBRARIES:
            for a in node.names:
                names[a.asname or a.name] = f"{node.module}.{a.name}"
    return names


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_module_of_another_library(module):
    """No ``import xarray.core...``, ``from pandas._libs ...``: only public modules of other libraries."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        found = []
        if isinstance(node, ast.Import):
            found = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        for name in found:
            parts = name.split(".")
            if parts[0] not in LIBRARIES:
                continue
            private = [p for p in parts[1:] if p.startswith("_")]
            internal = parts[0] == "xarray" and len(parts) > 1 and parts[1] in ("core", "namedarray")
            assert not private and not internal, f"{module} imports a private part of {parts[0]}: {name}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_assignment_into_another_library(module):
    """No ``xarray.x = ...``, ``setattr(pint, ...)``, ``sys.modules[...] = ...``: other libraries are never
    patched."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    libs = _library_names(tree)

    def root(node) -> str | None:
        while isinstance(node, (ast.Attribute, ast.Subscript)):
            node = node.value
        return node.id if isinstance(node, ast.Name) else None

    for node in ast.walk(tree):
        targets = []
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            if isinstance(t, (ast.Attribute, ast.Subscript)):
                name = root(t)
                assert name not in libs, f"{module}:{node.lineno} assigns into {libs.get(name)}"
                assert not (name == "sys" and isinstance(t, ast.Subscript) and
                            isinstance(t.value, ast.Attribute) and t.value.attr == "modules"), \
                    f"{module}:{node.lineno} changes sys.modules"
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            name = root(node.args[0]) if node.args else None
            assert name not in libs, f"{module}:{node.lineno} patches {libs.get(name)} with {node.func.id}"


def test_the_checks_see_a_patch(tmp_path):
    """The checker itself: an assignment into xarray and a private import are found."""
    src = "import xarray as xr\nfrom xarray.namedarray import pycompat\nxr.Dataset.x = 1\n"
    tree = ast.parse(src)
    assert _library_names(tree) == {"xr": "xarray", "pycompat": "xarray.namedarray.pycompat"}
