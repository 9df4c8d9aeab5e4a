"""Fail fast, recover fast: a connection pool that answers "database unavailable" at once during an outage.

psycopg's pool waits its whole ``timeout`` for a connection while the server is down, and after an outage it
reconnects with an exponential back-off (1 s, 2 s, 4 s … plus jitter), so a server that is back after 30 s may
be used only 16 s later. :class:`FailFastPool` wraps one :class:`psycopg_pool.ConnectionPool`:

- a request waits at most ``wait`` seconds for a connection (gunicorn's threads never outnumber the pool's
  connections, so a healthy pool hands one out at once);
- the first connection error marks the database *down*: from then on every request fails at once with
  :class:`DatabaseUnavailable` (the API answers 503 with ``Retry-After``), while one background thread per pool
  probes the server every ``PROBE_INTERVAL_S``;
- when a probe connects, the pool is replaced by a fresh one (no stale connection, no back-off) and requests
  flow again, typically within half a second of the database's return.

A statement cancelled by ``statement_timeout`` (:class:`psycopg.errors.QueryCanceled`) is *not* an outage.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from landgeo.db.federation import unavailable_province

LOGGER = logging.getLogger("landgeo.api.failfast")

PROBE_INTERVAL_S = 0.25
RETRY_AFTER_S = 2
_POOLS: weakref.WeakSet[FailFastPool] = weakref.WeakSet()
ERROR_HOOKS: list[Callable[[str], None]] = []  # called with "unavailable" or "timeout" (metrics count them)


class DatabaseUnavailable(PoolTimeout):
    """The database is known to be unreachable: the request is answered at once, without waiting."""


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` means the server is unreachable (not a query the server cancelled, nor a federated province's
    own database that does not answer: the national server is fine, that province gets its 503)."""
    if isinstance(exc, psycopg.errors.QueryCanceled) or unavailable_province(exc) is not None:
        return False
    return isinstance(exc, (PoolTimeout, psycopg.OperationalError))


class FailFastPool:
    """A :class:`ConnectionPool` (same arguments) that fails at once while its database is down."""

    def __init__(self, conninfo: str, *, wait: float = 0.8, **kwargs) -> None:
        self.conninfo = conninfo
        self.wait = wait
        self._kwargs = kwargs
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._prober: threading.Thread | None = None
        self._closed = False
        self.pool = self._new_pool()
        _POOLS.add(self)

    def _new_pool(self) -> ConnectionPool:
        kwargs = dict(self._kwargs)
        kwargs["open"] = True
        kwargs.setdefault("timeout", self.wait)
        return ConnectionPool(self.conninfo, **kwargs)

    # ---- state
    @property
    def down(self) -> bool:
        return self._down_since is not None

    @property
    def name(self) -> str:
        return self.pool.name

    def get_stats(self) -> dict[str, int]:
        return self.pool.get_stats()

    def mark_down(self, exc: BaseException | None = None) -> None:
        with self._lock:
            if self._down_since is not None or self._closed:
                return
            self._down_since = time.monotonic()
            LOGGER.warning("database unreachable (%s): answering 503 until it is back",
                           type(exc).__name__ if exc else "probe")
            self._prober = threading.Thread(target=self._probe_loop, name=f"{self.name}-probe", daemon=True)
            self._prober.start()

    def _probe_loop(self) -> None:
        while not self._closed:
            try:
                with psycopg.connect(self.conninfo, connect_timeout=2, autocommit=True) as conn:
                    conn.execute("SELECT 1")
            except psycopg.Error:
                time.sleep(PROBE_INTERVAL_S)
                continue
            old, fresh = self.pool, self._new_pool()
            with self._lock:
                self.pool = fresh
                outage = time.monotonic() - (self._down_since or time.monotonic())
                self._down_since = None
                self._prober = None
            LOGGER.warning("database reachable again after %.1f s", outage)
            old.close(timeout=0)
            return

    # ---- use
    @contextmanager
    def connection(self, timeout: float | None = None) -> Iterator[psycopg.Connection]:
        if self._down_since is not None:
            _notify("unavailable")
            raise DatabaseUnavailable("the database is not reachable (reconnecting)")
        try:
            with self.pool.connection(timeout=self.wait if timeout is None else timeout) as conn:
                yield conn
        except Exception as exc:
            if is_outage(exc):
                self.mark_down(exc)
                _notify("unavailable")
            elif isinstance(exc, psycopg.errors.QueryCanceled) or isinstance(exc.__cause__,
                                                                             psycopg.errors.QueryCanceled):
                _notify("timeout")
            raise

    def check(self) -> None:
        """Drop the idle connections that no longer work (a restarted server broke them)."""
        self.pool.check()

    def close(self, timeout: float = 1.0) -> None:
        self._closed = True
        self.pool.close(timeout=timeout)


def _notify(kind: str) -> None:
    for hook in ERROR_HOOKS:
        hook(kind)


def any_down() -> bool:
    """Whether a pool of this process knows its database to be unreachable."""
    return any(p.down for p in list(_POOLS))


def pool_stats() -> list[tuple[str, dict[str, int]]]:
    """``(pool name, psycopg pool statistics)`` of every pool of this process."""
    return [(p.name, p.get_stats()) for p in list(_POOLS) if not p._closed]


def close_all(timeout: float = 1.0) -> None:
    """Close every pool of this process (gunicorn's ``worker_exit``): no thread is left to wait for."""
    for p in list(_POOLS):
        try:
            p.close(timeout=timeout)
        except Exception:  # closing must never keep a worker from exiting
            LOGGER.exception("closing pool %s", p.name)
