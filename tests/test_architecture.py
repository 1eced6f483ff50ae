"""The import rules of docs/architecture.md, read from the source with ``ast`` so they stay true.

Every ``import`` and ``from ... import`` of the package counts, at module level or inside a
function. Imports under ``if TYPE_CHECKING:`` never run: they count for the front-end, export,
click and package-root rules, not for the layer table or for cycles.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "multiview"

#: The units of the package (first name under ``multiview``) that every stage may use.
FOUNDATIONS = frozenset(
    {
        "_version",
        "errors",
        "raster",
        "geometry",
        "atomic",
        "safety",
        "orientation",
        "decoders",
        "loading",
        "categories",
        "draw",
    }
)
#: unit -> the other units it may import (docs/architecture.md, "Rules").
ALLOWED: dict[str, frozenset[str]] = {
    **{u: FOUNDATIONS for u in FOUNDATIONS},
    "project": FOUNDATIONS | {"plane"},
    "plane": FOUNDATIONS | {"project"},
    "occlusion": FOUNDATIONS | {"project", "plane"},
    "alignment": FOUNDATIONS | {"project", "plane", "occlusion"},
    "damage": FOUNDATIONS | {"project", "plane", "occlusion"},
    "tracking": FOUNDATIONS | {"project", "plane", "alignment"},
    "review": FOUNDATIONS | {"project", "plane", "occlusion"},
    "export": FOUNDATIONS | {"project", "plane", "damage", "occlusion"},
    "ui": FOUNDATIONS | {"project", "plane", "occlusion", "alignment", "damage", "tracking", "review", "export"},
    "cli": FOUNDATIONS | {"project", "plane", "occlusion", "alignment", "damage", "tracking", "review", "export", "ui"},
    "__main__": frozenset({"cli"}),
    "": frozenset({"_version", "errors", "project", "export"}),  # the package root: the public names only
}
#: Front ends: the only units that may import click (cli) and that the library never imports.
FRONT_ENDS = ("cli", "ui")


@dataclass(frozen=True)
class Import:
    """One import statement of a module, resolved to the multiview module it loads (or the outside name)."""

    module: str  # importing module, e.g. "multiview.review.drift"
    target: str  # imported module, e.g. "multiview.plane.mapping", or "click"
    line: int
    type_only: bool  # under ``if TYPE_CHECKING:``
    names: tuple[str, ...] = ()  # for ``from X import a, b``: the names, when X is the package itself


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _imports(module: str, source: str | None = None, package: bool | None = None) -> list[Import]:
    """The imports of ``module`` (its file, or ``source``), resolved against the package's modules."""
    tree = ast.parse(source if source is not None else MODULES[module].read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for stmt in node.body for n in ast.walk(stmt))
    is_pkg = package if package is not None else _is_package(module)
    here = module.split(".") if is_pkg else module.split(".")[:-1]
    out = []
    for node in ast.walk(tree):
        tc = id(node) in type_only
        if isinstance(node, ast.Import):
            out += [Import(module, a.name, node.lineno, tc) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for a in node.names:
                full = f"{base}.{a.name}"
                if full in MODULES:  # ``from pkg import submodule``
                    out.append(Import(module, full, node.lineno, tc))
                else:
                    out.append(Import(module, base, node.lineno, tc, (a.name,)))
    return out


IMPORTS = [imp for m in MODULES for imp in _imports(m)]


def _unit(module: str) -> str:
    """``multiview.review.drift`` -> ``review``; the package root -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _where(imp: Import) -> str:
    path = MODULES[imp.module].relative_to(PACKAGE.parent) if imp.module in MODULES else imp.module
    return f"{path}:{imp.line} imports {imp.target}"


def _not_allowed(imports: list[Import]) -> list[str]:
    """Runtime imports outside ALLOWED (a type-only import may name any library type)."""
    return [
        f"{_where(i)} ({_unit(i.module) or 'root'} may not import {_unit(i.target)})"
        for i in imports
        if not i.type_only
        and i.target.startswith("multiview.")
        and _unit(i.target) != _unit(i.module)
        and _unit(i.target) not in ALLOWED[_unit(i.module)]
    ]


def _front_end_imports(imports: list[Import]) -> list[str]:
    return [
        _where(i)
        for i in imports
        if _unit(i.module) not in (*FRONT_ENDS, "__main__")
        and i.target.startswith("multiview.")
        and _unit(i.target) in FRONT_ENDS
    ]


def _export_internals(imports: list[Import]) -> list[str]:
    return [
        _where(i)
        for i in imports
        if _unit(i.module) == "export" and _unit(i.target) in ("tracking", "review", "alignment", "cli", "ui")
    ]


def _click_outside_cli(imports: list[Import]) -> list[str]:
    return [_where(i) for i in imports if i.target.split(".")[0] == "click" and _unit(i.module) != "cli"]


def _root_names(imports: list[Import]) -> list[str]:
    return [_where(i) + f" {i.names}" for i in imports if i.module != "multiview" and i.target == "multiview"]


def test_the_rules_see_the_whole_package() -> None:
    """The reader finds every unit and the imports the rules are about (guards against a silent reader)."""
    assert {_unit(m) for m in MODULES} <= set(ALLOWED), "a new unit needs its row in ALLOWED and the docs"
    assert any(i.target.startswith("multiview.plane") and _unit(i.module) == "tracking" for i in IMPORTS)
    assert any(i.target == "click" for i in IMPORTS) and any(i.type_only for i in IMPORTS)
    local = [i for i in IMPORTS if i.module == "multiview.cli.prompt" and i.target == "multiview.tracking.interactive"]
    assert local, "function-local imports are read too"


def test_units_import_only_what_the_architecture_allows() -> None:
    bad = _not_allowed(IMPORTS)
    assert not bad, "\n".join(bad)


def test_library_never_imports_the_front_ends() -> None:
    bad = _front_end_imports(IMPORTS)
    assert not bad, "\n".join(bad)


def test_export_reads_the_store_and_the_plane_never_tracking_or_review() -> None:
    bad = _export_internals(IMPORTS)
    assert not bad, "\n".join(bad)


def test_click_only_in_the_command_line() -> None:
    bad = _click_outside_cli(IMPORTS)
    assert not bad, "\n".join(bad)


def test_no_module_imports_names_from_the_package_root() -> None:
    """Submodules import from the module that defines a name (``_version``, ``errors``...), never from
    ``multiview`` itself: the root imports them, so that would be a cycle through the package root."""
    bad = _root_names(IMPORTS)
    assert not bad, "\n".join(bad)


def _cycles(imports: list[Import]) -> list[list[str]]:
    """Strongly connected components (Tarjan) of the runtime import graph, package ``__init__`` included."""
    edges: dict[str, set[str]] = {m: set() for m in {*MODULES, *(i.module for i in imports)}}
    for i in imports:
        if i.type_only or i.target not in edges or i.target == i.module:
            continue
        edges[i.module].add(i.target)
        parts = i.target.split(".")
        for k in range(2, len(parts)):  # importing a.b.c runs a.b/__init__ too (the root is left out)
            parent = ".".join(parts[:k])
            if parent != i.module and not i.module.startswith(parent + "."):
                edges[i.module].add(parent)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_modules() -> None:
    cycles = _cycles(IMPORTS)
    assert not cycles, "import cycles (function-local imports count):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def _output_calls(module: str, source: str | None = None) -> list[str]:
    tree = ast.parse(source if source is not None else MODULES[module].read_text(encoding="utf-8"))
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = ast.unparse(f)
        if (isinstance(f, ast.Name) and f.id == "print") or name in (
            "sys.stdout.write",
            "sys.stderr.write",
            "sys.stdout.writelines",
            "sys.stderr.writelines",
        ):
            bad.append(f"{module}:{node.lineno} calls {name}")
    return bad


@pytest.mark.parametrize("unit", sorted({_unit(m) for m in MODULES} - {"cli", "__main__"}))
def test_library_never_prints(unit: str) -> None:
    """The library logs and reports progress through callbacks; only the command line writes to the terminal."""
    bad = [b for m in MODULES if _unit(m) == unit for b in _output_calls(m)]
    assert not bad, "\n".join(bad)


def test_the_rules_catch_violations() -> None:
    """Each rule fails on a module that breaks it (a synthetic one: nothing is written)."""
    src = (
        "import sys\n"
        "import click\n"
        "from .. import __version__\n"
        "from ..tracking import interactive\n"
        "def f():\n"
        "    from ..cli.options import scale_opt\n"
        "    print('x')\n"
        "    sys.stdout.write('y')\n"
    )
    fake = _imports("multiview.export.fake", src, package=False)
    assert [i.target for i in fake] == [
        "sys",
        "click",
        "multiview",
        "multiview.tracking.interactive",
        "multiview.cli.options",
    ]
    assert len(_not_allowed(fake)) == 2 and len(_front_end_imports(fake)) == 1
    assert len(_export_internals(fake)) == 2 and len(_click_outside_cli(fake)) == 1 and len(_root_names(fake)) == 1
    assert len(_output_calls("multiview.export.fake", src)) == 2
    loop = [
        Import("multiview.review.a", "multiview.plane.scale", 1, False),
        Import("multiview.plane.scale", "multiview.review.a", 1, False),
    ]
    assert ["multiview.plane.scale", "multiview.review.a"] in _cycles(loop)
    type_only_back_edge = [loop[0], Import("multiview.plane.scale", "multiview.review.a", 1, True)]
    assert not any("multiview.review.a" in c for c in _cycles(type_only_back_edge))
