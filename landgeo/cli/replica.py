"""``landgeo db replica``: a streaming read replica of the embedded cluster (pg_basebackup -R, own port)."""

from __future__ import annotations

import typer

from landgeo.db.replica import replica_of
from landgeo.errors import UserError
from landgeo.settings import get_settings

app = typer.Typer(help="A streaming read replica of the embedded cluster.", no_args_is_help=True)


def _replica():
    settings = get_settings()
    if not settings.uses_embedded:
        raise UserError("LANDGEO_DATABASE_URL is set: `landgeo db replica` manages only the embedded cluster's "
                        "replica (use your server's own replication, then set LANDGEO_READ_DATABASE_URL)")
    return replica_of(settings)


@app.command()
def up() -> None:
    """Copy the embedded cluster (first time) and start it as a hot standby on LANDGEO_REPLICA_PORT."""
    rep = _replica()
    rep.up(log=typer.echo)
    typer.echo(f"read replica streaming on 127.0.0.1:{rep.port}; to serve reads from it, set "
               "LANDGEO_READ_DATABASE_URL to what `landgeo db replica url` prints")


@app.command()
def down(remove: bool = typer.Option(False, "--remove", help="Also delete its data and replication slot.")) -> None:
    """Stop the read replica (the API's reads fall back to the primary within seconds)."""
    _replica().down(remove=remove, log=typer.echo)


@app.command()
def url() -> None:
    """Print the read replica's connection URL (for LANDGEO_READ_DATABASE_URL)."""
    typer.echo(_replica().url())
