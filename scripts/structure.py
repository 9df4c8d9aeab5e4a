"""The structure figures of landgeo, computed from the code's own imports (``ast``, nothing is imported).

    python scripts/structure.py [ROOT]        # figures of the checkout at ROOT (default: this one)

Counted: the Python modules of ``landgeo/``, ``landdb/``, ``geobase/`` and ``loaders/`` (tests, bench,
scripts and generated files left out). Printed: lines, modules, import cycles (strongly connected groups of
modules importing each other, directly or through others — ``from pkg import submodule`` also runs the
package's ``__init__``, so it counts as an import of both), files over 600 lines, own-project import statements
inside functions, and the share of the code held by the largest package (a package = the folder of a module;
the shares of a package with its sub-packages are printed too).

``tests/test_architecture.py`` uses the same functions to enforce the floors (``docs/architecture.md``).
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("landgeo", "landdb", "geobase", "loaders")
MAX_LINES = 600

# Floors, top (1) to bottom (5). A module is placed by the LONGEST path prefix that matches its dotted name,
# so a module added later under a known package (landgeo/access/…, landgeo/api/…, landgeo/db/…,
# landgeo/cli/…) is classified without editing this table. Every module must match one prefix.
FLOORS: dict[str, int] = {
    # 1. entry points
    "landgeo.__main__": 1,
    "landgeo.cli": 1,
    "landgeo.api.app": 1,
    "landgeo.api.wsgi": 1,
    "landgeo.demo": 1,
    # 2. jobs: loaders, publishing, access control, operations
    "loaders": 2,
    "landgeo.api": 2,
    "landgeo.access": 2,
    "landgeo.register": 2,
    "landgeo.tiles": 2,  # vector tiles, styles, glyphs, the tile cache and the web map  # register transactions (biến động): Part 4 writes and parcel mutations
    "landgeo.ops": 2,
    "landgeo.federation": 2,
    "landgeo.national": 2,
    "landgeo.replicas": 2,
    # 3. validation
    "landgeo.validation": 3,
    # 4. the domain catalogue
    "landgeo.catalog": 4,
    "landdb": 4,
    "geobase": 4,
    # 5. the spine
    "landgeo": 5,  # the package itself (landgeo/__init__.py)
    "landgeo.crs": 5,
    "landgeo.db": 5,
    "landgeo.settings": 5,
    "landgeo.errors": 5,
    "landgeo.vn_encodings": 5,
}
FLOOR_NAMES = {1: "entry points", 2: "jobs", 3: "validation", 4: "domain catalogue", 5: "spine"}

# Own-project imports inside functions are allowed only here: the CLI defers what a sub-command needs so
# that `landgeo --help` and `landgeo db status` start fast (no pyogrio/numpy/pygeoapi import).
DEFERRED_IMPORTS_ALLOWED = ("landgeo.cli", "landgeo.__main__")


def floor_of(module: str) -> int | None:
    """The floor of a dotted module name by the longest matching prefix in ``FLOORS``; None when none does."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        prefix = ".".join(parts[:n])
        if prefix in FLOORS:
            return FLOORS[prefix]
    return None


@dataclass
class Import:
    source: str  # importing module
    target: str  # imported own-project module
    line: int
    in_function: bool


@dataclass
class Module:
    name: str
    path: Path
    lines: int
    imports: list[Import] = field(default_factory=list)

    @property
    def package(self) -> str:
        parent = self.path.parent
        return parent.as_posix()


def module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def discover(root: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for pkg in PACKAGES:
        for path in sorted((root / pkg).rglob("*.py")):
            if "__pycache__" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            name = module_name(root, path)
            lines = text.count("\n") + (not text.endswith("\n") and bool(text))
            modules[name] = Module(name, path.relative_to(root), lines)
    for mod in modules.values():
        mod.imports = _imports(root / mod.path, mod.name, mod.path.name == "__init__.py", modules)
    return modules


def _resolve(name: str, modules: dict[str, Module]) -> str | None:
    """The own module a dotted name refers to (a module, or the package holding an attribute)."""
    parts = name.split(".")
    for n in range(len(parts), 0, -1):
        cand = ".".join(parts[:n])
        if cand in modules:
            return cand
    return None


def _imports(path: Path, name: str, is_package: bool, modules: dict[str, Module]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: list[Import] = []
    package = name if is_package else name.rpartition(".")[0]

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = _resolve(alias.name, modules)
                    if target and target.split(".")[0] in PACKAGES:
                        found.append(Import(name, target, child.lineno, in_function))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    if child.level > 1:
                        base = base[: len(base) - (child.level - 1)]
                    mod = ".".join(base + ([child.module] if child.module else []))
                else:
                    mod = child.module or ""
                if mod.split(".")[0] not in PACKAGES:
                    continue
                for alias in child.names:
                    # `from mod import name` imports mod; `from pkg import submodule` runs the package's
                    # __init__ first, then the submodule: both are edges (a cycle through __init__ is real)
                    targets = {_resolve(mod, modules)}
                    if _resolve(f"{mod}.{alias.name}", modules) == f"{mod}.{alias.name}":
                        targets.add(f"{mod}.{alias.name}")
                    for target in sorted(t for t in targets if t):
                        found.append(Import(name, target, child.lineno, in_function))
            visit(child, inner)

    visit(tree, False)
    return [i for i in found if i.target != name]


def upward(modules: dict[str, Module]) -> list[Import]:
    """Imports that go up a floor (a module importing one on a higher floor than its own)."""
    return [i for m in modules.values() for i in m.imports
            if floor_of(i.target) is not None and floor_of(m.name) is not None
            and floor_of(i.target) < floor_of(m.name)]


def cycles(modules: dict[str, Module]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted; every import counts."""
    graph = {m: sorted({i.target for i in mod.imports}) for m, mod in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in graph:
        if v not in index:
            strongconnect(v)
    return sorted(groups)


def figures(root: Path) -> dict[str, object]:
    modules = discover(root)
    total = sum(m.lines for m in modules.values())
    by_package = Counter()
    for m in modules.values():
        by_package[m.package] += m.lines
    largest, largest_lines = by_package.most_common(1)[0]
    by_tree = Counter()  # a package with its sub-packages (loaders/ and loaders/write/ together)
    for m in modules.values():
        parts = m.path.parent.parts
        by_tree[parts[0] if parts[0] != "landgeo" or len(parts) == 1 else "/".join(parts[:2])] += m.lines
    return {
        "lines": total,
        "modules": len(modules),
        "cycles": cycles(modules),
        "upward_imports": len(upward(modules)),
        "big_files": sorted((m.path.as_posix(), m.lines) for m in modules.values() if m.lines > MAX_LINES),
        "imports_in_functions": len({(i.source, i.line) for m in modules.values() for i in m.imports if i.in_function}),
        "largest_package": (largest, round(100 * largest_lines / total, 1)),
        "packages": {p: round(100 * n / total, 1) for p, n in by_package.most_common()},
        "package_trees": {p: round(100 * n / total, 1) for p, n in by_tree.most_common()},
    }


def main(argv: list[str]) -> None:
    root = Path(argv[1]).resolve() if len(argv) > 1 else Path(__file__).resolve().parent.parent
    f = figures(root)
    print(f"lines: {f['lines']}  modules: {f['modules']}  import cycles: {len(f['cycles'])}  "
          f"imports up a floor: {f['upward_imports']}  "
          f"files over {MAX_LINES} lines: {len(f['big_files'])}  own imports inside functions: "
          f"{f['imports_in_functions']}")
    print(f"largest package: {f['largest_package'][0]}/ {f['largest_package'][1]} % of the code")
    for group in f["cycles"]:
        print("cycle:", " ↔ ".join(group))
    for path, n in f["big_files"]:
        print(f"over {MAX_LINES}: {path} {n}")
    print("packages:", ", ".join(f"{p} {s} %" for p, s in f["packages"].items()))
    print("with their sub-packages:", ", ".join(f"{p} {s} %" for p, s in f["package_trees"].items()))


if __name__ == "__main__":
    main(sys.argv)
