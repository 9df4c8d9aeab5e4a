"""The ``landgeo`` command line. Each sub-command group lives in its own module here."""

from __future__ import annotations

import importlib
import logging
import sys

import click
import typer

from landgeo.cli.usage import usage_error_line
from landgeo.errors import UserError

try:  # typer ≥ 0.17 ships its own copy of click: its exceptions are not click's
    from typer._click import exceptions as _typer_click
except ImportError:  # pragma: no cover - older typer uses click itself
    _typer_click = click.exceptions
_CLICK_ERRORS = (click.ClickException, _typer_click.ClickException)
_ABORTS = (click.exceptions.Abort, getattr(_typer_click, "Abort", click.exceptions.Abort))

_app = typer.Typer(
    name="landgeo",
    help="Vietnam's land-parcel and base-geography data platform: database, loaders, validation, API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@_app.callback()
def _group() -> None:
    """Keeps the application a group of sub-commands when a run has registered only one of them (Typer makes an
    application of a single command that command itself)."""


# Each sub-command's module, in the order of ``landgeo --help``. A run imports only the module of the command it
# names (the others pull in the API server, JWT, federation …: a third of a second of start-up for every command).
SUBCOMMANDS = ("db", "crs", "load", "validate", "serve", "admin", "users", "audit", "province", "parcel")
_registered: set[str] = set()


def _register(names: tuple[str, ...] = SUBCOMMANDS) -> typer.Typer:
    """Register the sub-commands ``names`` (all by default) once each and return the application. A missing module
    is an ImportError, never a silently absent command."""
    for name in SUBCOMMANDS:
        if name not in names or name in _registered:
            continue
        _registered.add(name)
        if name == "db":
            from landgeo.cli import db, replica

            db.app.add_typer(replica.app, name="replica")
            _app.add_typer(db.app, name="db")
        else:
            importlib.import_module(f"landgeo.cli.{name}").register(_app)
    return _app


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # the whole command line (tests, the demo)
        return _register()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _application(argv: list[str]) -> typer.Typer:
    """The application with the sub-command that ``argv`` names, or with all of them (help, a mistyped name)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return _register((first,) if first in SUBCOMMANDS else SUBCOMMANDS)


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit non-zero."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    # psycopg logs a warning when it cannot end a COPY on a connection that died: the command reports that failure
    # itself, in one line; the library's note would come first on stderr, unformatted
    logging.getLogger("psycopg").setLevel(logging.ERROR)
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        code = _application(args)(args=args, prog_name="landgeo", standalone_mode=False)
        if code == 130:  # click turns Ctrl-C into a silent exit 130
            fail("interrupted", 130)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    except _ABORTS:
        fail("interrupted", 130)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except _CLICK_ERRORS as exc:  # usage mistakes: one line, exit 2 (a bare group prints its help)
        if type(exc).__name__ == "NoArgsIsHelpError":
            exc.show()
            raise SystemExit(exc.exit_code) from None
        fail(usage_error_line(exc), exc.exit_code)
    except BrokenPipeError:
        raise SystemExit(0) from None
