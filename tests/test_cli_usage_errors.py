"""Every usage mistake of every ``landgeo`` command is one line on stderr (``error: …``) and exit 2.

The command tree is walked from the typer app itself, so a command added later is covered without a new test:
for every option that takes a value, the value is left out and (when the type can be wrong) given a wrong one;
every command gets an unknown option, every group an unknown sub-command, and every command with a required
parameter is called without it. Parsing fails before any command body runs, so no database is touched.
"""

from __future__ import annotations

import datetime as dt
import enum
import typing

import pytest
import typer

import landgeo.cli as cli

WRONG = "not-a-valid-value-§"


def _walk(command, path: tuple[str, ...] = ()):
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if not getattr(sub, "hidden", False):
            yield from _walk(sub, (*path, name))


COMMANDS = list(_walk(typer.main.get_command(cli.app)))


def _annotation_types(param) -> list:
    """The Python types an option's value is converted to (typer ≥ 0.2x keeps them in ``type_descriptor``)."""
    described = getattr(param, "type_descriptor", None)
    if described is None:  # click-style parameter
        return [type(param.type).__name__]
    pending, found = [described.annotation], []
    while pending:
        t = pending.pop()
        args = typing.get_args(t)
        if args and typing.get_origin(t) is not typing.Literal:
            pending.extend(args)
        else:
            found.append(t)
    return found


def _has_wrong_value(param) -> bool:
    """True when a value of the option's type can be wrong (numbers, choices, dates)."""
    for t in _annotation_types(param):
        if t in {"IntParamType", "FloatParamType", "IntRange", "FloatRange", "Choice", "DateTime"}:
            return True
        if t in (int, float, dt.datetime, dt.date) or typing.get_origin(t) is typing.Literal:
            return True
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return True
    return False


def _cases():
    for path, command in COMMANDS:
        label = " ".join(path) or "landgeo"
        yield pytest.param([*path, "--no-such-option-xyz"], id=f"{label} unknown-option")
        if hasattr(command, "commands"):
            yield pytest.param([*path, "no-such-command"], id=f"{label} unknown-command")
            continue
        required = [p for p in command.params if p.required]
        if required:
            yield pytest.param(list(path), id=f"{label} missing-required")
        for param in command.params:
            if param.param_type_name != "option" or param.is_flag or param.count or not param.opts:
                continue
            if any(o in ("--help",) for o in param.opts):
                continue
            opt = max(param.opts, key=len)
            yield pytest.param([*path, opt], id=f"{label} {opt} missing-value")
            if _has_wrong_value(param):
                yield pytest.param([*path, opt, WRONG], id=f"{label} {opt} wrong-value")


CASES = list(_cases())


def test_the_walk_sees_the_whole_tree():
    """The walk reaches the nested commands and their value options (a broken walk would test nothing)."""
    paths = {" ".join(p) for p, _ in COMMANDS}
    assert {"db", "db up", "crs", "crs list", "crs convert", "load", "validate", "serve"} <= paths
    ids = {c.id for c in CASES}
    assert "crs list --province missing-value" in ids and "load --into missing-value" in ids
    assert "serve --port wrong-value" in ids and len(CASES) > 40


@pytest.mark.parametrize("argv", CASES)
def test_usage_mistake_is_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.strip()]
    assert exited.value.code == 2, (argv, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), (argv, err)
    assert "Traceback" not in err and "Traceback" not in out
    assert len(lines[0]) > len("error: ") + 5


@pytest.mark.parametrize("argv, says", [
    (["crs", "list", "--province"], "--province"),
    (["load", "--into"], "--into"),
    (["serve", "--port", "eighty"], "--port"),
    (["frobnicate"], "frobnicate"),
])
def test_usage_mistake_through_the_real_command(argv, says, run_cli):
    res = run_cli(*argv)
    assert res.returncode == 2, res
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], res.stderr
    assert "Traceback" not in res.stderr
