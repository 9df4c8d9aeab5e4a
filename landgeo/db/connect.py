"""How every part of landgeo reaches the database: ``LANDGEO_DATABASE_URL`` or the embedded cluster."""

from __future__ import annotations

import psycopg

from landgeo.db.cluster import EmbeddedCluster
from landgeo.errors import UserError
from landgeo.settings import Settings, get_settings


def database_url(settings: Settings | None = None) -> str:
    """Connection URL of the configured database."""
    settings = settings or get_settings()
    if settings.external_url:
        return settings.external_url
    return EmbeddedCluster(settings).url()


def connect(url: str | None = None, **kwargs) -> psycopg.Connection:
    """Open a psycopg connection; an unreachable server is a one-line :class:`UserError`."""
    url = url or database_url()
    try:
        return psycopg.connect(url, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
        raise UserError(f"cannot connect to the database: {first} (is it up? `landgeo db up`)") from exc


def url_with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))
