"""``landgeo db``: the embedded cluster (or the configured server) and its migrations."""

from __future__ import annotations

import typer

from landgeo.db import migrate as migrations
from landgeo.db.cluster import EmbeddedCluster
from landgeo.db.connect import connect, database_url
from landgeo.settings import get_settings

app = typer.Typer(help="Manage the database: embedded cluster, migrations, status.", no_args_is_help=True)

EXTERNAL_NOTE = "LANDGEO_DATABASE_URL is set: `landgeo db {}` manages only the embedded cluster; nothing done"


@app.command()
def up() -> None:
    """Initialise and start the embedded cluster (127.0.0.1, non-default port) and create the database."""
    settings = get_settings()
    if not settings.uses_embedded:
        typer.echo(EXTERNAL_NOTE.format("up"))
        return
    cluster = EmbeddedCluster(settings)
    cluster.up(log=typer.echo)
    typer.echo(f"embedded cluster running on 127.0.0.1:{settings.pg_port} (data in {cluster.link})")


@app.command()
def down() -> None:
    """Stop the embedded cluster."""
    settings = get_settings()
    if not settings.uses_embedded:
        typer.echo(EXTERNAL_NOTE.format("down"))
        return
    EmbeddedCluster(settings).down(log=typer.echo)


@app.command()
def url() -> None:
    """Print the connection URL of the configured database."""
    typer.echo(database_url())


@app.command()
def migrate() -> None:
    """Apply pending schema migrations (idempotent)."""
    settings = get_settings()
    done = migrations.migrate(database_url(settings), settings.migrations_dir, log=typer.echo)
    with connect() as conn:
        version = migrations.current_version(conn)
    typer.echo(f"schema at version {version}" + ("" if done else " (already up to date)"))


@app.command()
def status() -> None:
    """Whether the database runs, which schema version it has, and the PostgreSQL/PostGIS/GEOS/PROJ versions."""
    settings = get_settings()
    if settings.uses_embedded:
        cluster = EmbeddedCluster(settings)
        if not cluster.running():
            typer.echo(f"embedded cluster: not running (port {settings.pg_port}); start it with `landgeo db up`")
            raise typer.Exit(1)
        typer.echo(f"embedded cluster: running on 127.0.0.1:{settings.pg_port}, data in {cluster.link}")
    else:
        typer.echo("database: LANDGEO_DATABASE_URL")
    for line in describe_server():
        typer.echo(line)


def describe_server() -> list[str]:
    with connect() as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
        version = migrations.current_version(conn)
        head = max((m.version for m in migrations.discover(get_settings().migrations_dir)), default=None)
        has_postgis = conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone()
        lines = [f"PostgreSQL {pg}"]
        if has_postgis:
            lib, geos, proj = conn.execute(
                "SELECT postgis_lib_version(), postgis_geos_version(), postgis_proj_version()"
            ).fetchone()
            lines.append(f"PostGIS {lib}, GEOS {geos.split('-')[0]}, PROJ {proj.split(' ')[0]}")
        else:
            lines.append("PostGIS: not created yet (run `landgeo db migrate`)")
        state = "up to date" if version == head else f"head is {head}: run `landgeo db migrate`"
        lines.append(f"schema version {version if version is not None else 'none'} ({state})")
    return lines


@app.command()
def reset(yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation.")) -> None:
    """Drop every landgeo schema and migrate again from empty (development databases)."""
    if not yes:
        typer.confirm("drop all landgeo data and rebuild the schema?", abort=True)
    settings = get_settings()
    with connect(autocommit=True) as conn, conn.transaction():
        # schema names come from this fixed list, never from user input
        for schema in ("staging", "access", "landdb_restricted", "landdb", "geobase", "meta"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if conn.execute("SELECT to_regclass('public.spatial_ref_sys')").fetchone()[0]:
            conn.execute("DELETE FROM spatial_ref_sys WHERE srid >= 900000")
    migrations.migrate(database_url(settings), settings.migrations_dir, log=typer.echo)
    typer.echo("database reset to the migrated head")


