"""``landgeo province``: attach a province's own database to the national one (postgres_fdw), or detach it."""

from __future__ import annotations

import typer

from landgeo.db import federation
from landgeo.db.connect import connect

app = typer.Typer(help="Provincial databases federated into the national parcel table (postgres_fdw).",
                  no_args_is_help=True)


@app.command()
def attach(
    code: str = typer.Argument(..., help="Province code (mã tỉnh), e.g. 46"),
    url: str = typer.Option(..., "--url", help="postgresql://USER:PASSWORD@HOST:PORT/DBNAME of the province's "
                            "database (same landgeo schema version)"),
) -> None:
    """Serve a province's parcels from its own PostgreSQL, as the national landdb.parcel's partition."""
    with connect(autocommit=True) as conn:
        typer.echo(federation.attach(conn, code, url))


@app.command()
def detach(code: str = typer.Argument(..., help="Province code (mã tỉnh)")) -> None:
    """Stop serving a province from its own database: its national partition is local (and empty) again."""
    with connect(autocommit=True) as conn:
        typer.echo(federation.detach(conn, code))


@app.command("list")
def list_() -> None:
    """Attached provinces, where they are served from, and whether they answer."""
    with connect(autocommit=True) as conn:
        lines = federation.describe(conn)
    typer.echo("\n".join(lines) if lines else "no province attached: every province is in the national database")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="province")
