"""The ``landgeo`` command line. Each sub-command group lives in its own module here."""

from __future__ import annotations

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

app = typer.Typer(
    name="landgeo",
    help="Vietnam's land-parcel and base-geography data platform: database, loaders, validation, API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Every sub-command, named here: a missing module is an ImportError, never a silently absent command."""
    from landgeo.cli import db, replica

    db.app.add_typer(replica.app, name="replica")
    app.add_typer(db.app, name="db")
    from landgeo.cli import crs
    crs.register(app)
    from landgeo.cli import load
    load.register(app)
    from landgeo.cli import validate
    validate.register(app)
    from landgeo.cli import serve
    serve.register(app)
    from landgeo.cli import admin
    admin.register(app)
    from landgeo.cli import users
    users.register(app)
    from landgeo.cli import audit
    audit.register(app)
    from landgeo.cli import province
    province.register(app)
    from landgeo.cli import parcel
    parcel.register(app)


_register()


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit non-zero."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, prog_name="landgeo", standalone_mode=False)
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
