"""The floors of docs/architecture.md, enforced from the code's own imports (parsed with ``ast``, nothing imported).

Every module of landgeo/, landdb/, geobase/ and loaders/ sits on a floor by the longest path prefix in
``scripts/structure.py``'s FLOORS (a new module under a known package — landgeo/access/, landgeo/api/,
landgeo/db/, landgeo/cli/ … — is classified without editing anything). The test fails on:

* an import that goes UP a floor (a lower floor importing a higher one);
* an import cycle between modules (``from pkg import submodule`` also counts as importing ``pkg``);
* a file over 600 lines;
* an own-project import inside a function, except in the CLI (``landgeo/cli``, ``landgeo/__main__``), which
  defers what a sub-command needs so that ``landgeo --help`` starts fast;
* a module no floor prefix matches (add it to FLOORS and to the drawing in docs/architecture.md).

``PENDING`` names the only files excused, each with its reason; it must shrink, never grow.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("landgeo_structure", ROOT / "scripts" / "structure.py")
structure = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = structure
_spec.loader.exec_module(structure)

# file -> why it is excused from the size and deferred-import rules (nothing is excused from floors or cycles)
PENDING: dict[str, str] = {}


@pytest.fixture(scope="module")
def modules():
    return structure.discover(ROOT)


def test_every_module_is_on_a_floor(modules):
    unplaced = sorted(name for name in modules if structure.floor_of(name) is None)
    assert not unplaced, f"no floor for {unplaced}: add a prefix to FLOORS in scripts/structure.py"


def test_no_import_goes_up_a_floor(modules):
    up = [f"{modules[i.source].path}:{i.line} ({structure.FLOOR_NAMES[structure.floor_of(i.source)]}) imports "
          f"{i.target} ({structure.FLOOR_NAMES[structure.floor_of(i.target)]})" for i in structure.upward(modules)]
    assert not up, "imports going up a floor:\n" + "\n".join(up)


def test_no_import_cycle(modules):
    cycles = structure.cycles(modules)
    assert not cycles, "import cycles:\n" + "\n".join(" ↔ ".join(group) for group in cycles)


def test_no_file_over_600_lines(modules):
    big = [f"{m.path} {m.lines}" for m in modules.values()
           if m.lines > structure.MAX_LINES and m.path.as_posix() not in PENDING]
    assert not big, "files over 600 lines (split them by job):\n" + "\n".join(big)


def test_own_imports_at_the_top_of_files(modules):
    deferred = sorted({f"{m.path}:{i.line} {i.target}" for m in modules.values() for i in m.imports
                       if i.in_function and not m.name.startswith(structure.DEFERRED_IMPORTS_ALLOWED)
                       and m.path.as_posix() not in PENDING})
    assert not deferred, "own-project imports inside functions (move them to the top):\n" + "\n".join(deferred)


def test_pending_files_still_need_their_excuse(modules):
    """An excuse is removed once its file complies (so PENDING cannot silently keep covering it)."""
    by_path = {m.path.as_posix(): m for m in modules.values()}
    for path in PENDING:
        mod = by_path.get(path)
        if mod is None:
            continue  # the file was split or renamed: the excuse is moot
        needs = mod.lines > structure.MAX_LINES or any(i.in_function for i in mod.imports)
        assert needs, f"{path} complies now: remove it from PENDING"


# -- the checker itself can fail: the rules applied to small made-up trees ------------------------------------


def _tree(tmp_path: Path, files: dict[str, str]) -> dict:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for pkg in structure.PACKAGES:
        (tmp_path / pkg).mkdir(exist_ok=True)
    return structure.discover(tmp_path)


def test_checker_sees_an_upward_import_and_classifies_new_modules(tmp_path):
    mods = _tree(tmp_path, {
        "landgeo/__init__.py": "", "landgeo/db/__init__.py": "", "landgeo/access/__init__.py": "",
        "landgeo/db/backup.py": "from landgeo.access import roles\n",
        "landgeo/access/roles.py": "import landgeo.db.backup\n",
    })
    assert structure.floor_of("landgeo.access.roles") == 2 and structure.floor_of("landgeo.db.backup") == 5
    assert structure.floor_of("landgeo.cli.users") == 1 and structure.floor_of("landgeo.tiles.tiles") == 2
    assert structure.floor_of("landgeo.api.wsgi") == 1
    up = [(i.source, i.target) for i in structure.upward(mods)]
    # the spine importing a job (the package and its module); access → db goes down and is fine
    assert up == [("landgeo.db.backup", "landgeo.access"), ("landgeo.db.backup", "landgeo.access.roles")]
    assert structure.cycles(mods) == [["landgeo.access.roles", "landgeo.db.backup"]]


def test_checker_sees_a_cycle_through_a_package_init_and_a_deferred_import(tmp_path):
    mods = _tree(tmp_path, {
        "landgeo/__init__.py": "", "landgeo/crs/__init__.py": "from landgeo.crs.a import f\n",
        "landgeo/crs/a.py": "from landgeo.crs import b\n\ndef f():\n    from landgeo.crs.b import g\n",
        "landgeo/crs/b.py": "import math\n",
    })
    assert structure.cycles(mods) == [["landgeo.crs", "landgeo.crs.a"]]
    deferred = [i for i in mods["landgeo.crs.a"].imports if i.in_function]
    assert [(i.target, i.line) for i in deferred] == [("landgeo.crs.b", 4)]
