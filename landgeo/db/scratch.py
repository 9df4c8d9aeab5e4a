"""Throw-away databases on the configured server, for tests and benchmarks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from landgeo.db.connect import database_url, url_with_database
from landgeo.db.migrate import migrate
from landgeo.settings import get_settings


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """(Re)create database ``name`` (from ``template`` when given) and return its URL."""
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url_with_database(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def scratch_database(prefix: str, migrated: bool = True, keep: bool = False) -> Iterator[str]:
    """A new database ``<prefix>_<random>`` on the configured server, migrated to head unless told not to;
    dropped afterwards unless ``keep``. Yields its URL."""
    server = url_with_database(database_url(), "postgres")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    url = create_database(server, name)
    try:
        if migrated:
            migrate(url, get_settings().migrations_dir, log=lambda *_: None)
        yield url
    finally:
        if not keep:
            drop_database(server, name)
