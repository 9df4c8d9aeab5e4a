"""The ``landgeo`` command line. Each sub-command group lives in its own module here."""

from __future__ import annotations

import sys

import click
import typer

from landgeo.errors import UserError

app = typer.Typer(
    name="landgeo",
    help="Vietnam's land-parcel and base-geography data platform: database, loaders, validation, API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    from landgeo.cli import db

    app.add_typer(db.app, name="db")
    for name in ("crs", "load", "validate", "serve", "users", "audit", "parcel"):
        try:
            module = __import__(f"landgeo.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name == f"landgeo.cli.{name}":
                continue
            raise
        module.register(app)


_register()


def fail(message: str, code: int = 2) -> None:
    """Print one line on stderr and exit non-zero."""
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(code)


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, standalone_mode=False)
        if code == 130:  # click turns Ctrl-C into a silent exit 130
            fail("interrupted", 130)
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except UserError as exc:
        fail(str(exc), exc.exit_code)
    except click.exceptions.Abort:
        fail("interrupted", 130)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except BrokenPipeError:
        raise SystemExit(0) from None
