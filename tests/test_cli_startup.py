"""A ``landgeo`` run imports the module of the sub-command it names and no other (landgeo/cli/__init__.py): the API
server, JWT and federation modules cost every other command a third of a second of start-up. Help and a
mistyped command still see every sub-command."""

from __future__ import annotations

import subprocess
import sys

import pytest

import landgeo.cli as cli

# ``landgeo ARGS`` in a fresh interpreter, then the modules it imported on the last line of stderr
_PROGRAM = """
import sys
from landgeo.cli import main
sys.argv = ["landgeo", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("MODULES " + " ".join(sorted(sys.modules)), file=sys.stderr)
sys.exit(code)
"""


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _PROGRAM, *args], capture_output=True, text=True, timeout=120)


def _imported(stderr: str) -> set[str]:
    return set(stderr.strip().splitlines()[-1].removeprefix("MODULES ").split())


def test_a_command_imports_only_its_own_module():
    run = _run("load", "--help")
    assert run.returncode == 0 and "Usage: landgeo load" in run.stdout
    imported = _imported(run.stderr)
    assert "landgeo.cli.load" in imported
    others = {f"landgeo.cli.{name}" for name in cli.SUBCOMMANDS if name != "load"}
    assert not others & imported, sorted(others & imported)


def test_help_and_a_mistyped_command_see_every_sub_command():
    run = _run("--help")
    assert run.returncode == 0
    for name in cli.SUBCOMMANDS:
        assert f"│ {name} " in run.stdout
    assert {f"landgeo.cli.{name}" for name in cli.SUBCOMMANDS} <= _imported(run.stderr)
    typo = _run("lod")
    assert typo.returncode == 2 and typo.stderr.strip().splitlines()[-2].startswith("error: ")
    assert "Did you mean 'load'?" in typo.stderr


@pytest.mark.parametrize("name", ["db", "users", "crs"])
def test_a_group_run_alone_keeps_its_sub_commands(name):
    run = _run(name, "--help")
    assert run.returncode == 0 and f"Usage: landgeo {name}" in run.stdout and "Commands" in run.stdout


def test_the_module_attribute_is_the_whole_command_line():
    import typer

    names = set(typer.main.get_command(cli.app).commands)
    assert names == set(cli.SUBCOMMANDS)
