"""One connection pool per server process (gunicorn forks workers: each opens its own, lazily).

Connections read as ``landgeo_reader`` when the login role may take it (published schemas only, never
``landdb_restricted``), in UTC, read-only, with a statement timeout so no request can hold the database.
"""

from __future__ import annotations

import os
import threading

import psycopg

from landgeo.api.failfast import FailFastPool
from landgeo.db.replica import on_recovery, read_url
from landgeo.settings import get_settings

_POOLS: dict[tuple[int, str, str], FailFastPool] = {}
_LOCK = threading.Lock()

STATEMENT_TIMEOUT_MS = get_settings().api_statement_timeout_ms


def _configure(conn: psycopg.Connection) -> None:
    conn.autocommit = True
    conn.execute(
        "SELECT set_config('TimeZone', 'UTC', false), set_config('statement_timeout', %s, false), "
        "set_config('default_transaction_read_only', 'on', false), "
        # pages are small index scans: launching parallel workers costs more than it saves
        "set_config('max_parallel_workers_per_gather', '0', false)",
        (str(STATEMENT_TIMEOUT_MS),),
    )
    member = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'landgeo_reader') "
        "AND pg_has_role(current_user, 'landgeo_reader', 'MEMBER')"
    ).fetchone()[0]
    if member:
        conn.execute("SET ROLE landgeo_reader")


def get_pool(url: str, options: str = "") -> FailFastPool:
    """The pool of this process for ``url`` (created on first use, after any fork); ``options``: server settings of
    its connections (libpq ``options``, as ``-c name=value``) — another pool, e.g. the tile server's."""
    url = read_url(url)  # the read replica while LANDGEO_READ_DATABASE_URL answers (landgeo.db.replica)
    key = (os.getpid(), url, options)
    pool = _POOLS.get(key)
    if pool is None:
        with _LOCK:
            pool = _POOLS.get(key)
            if pool is None:
                size = get_settings().api_pool_size
                # fails at once while the database is down, recovers within ~0.5 s of its return
                pool = FailFastPool(
                    url, min_size=1, max_size=size, configure=_configure, name="landgeo-api", wait=0.8,
                    kwargs={"prepare_threshold": 1, "connect_timeout": 5, **({"options": options} if options else {})},
                )
                _POOLS[key] = pool
                on_recovery(url, pool.check)  # drop connections the replica's restart broke
    return pool
