"""Revocations heard at once (thu hồi quyền): the API's remembered tokens are forgotten when any user or token changes.

The API remembers a resolved token for a minute (:mod:`landgeo.api.guard`) so that a request does not look it up
in the database each time. What keeps a revocation effective on the next request: every change of
``access.app_user`` or ``access.api_token`` (revoke, role or scope change, delete) sends a notification on
:data:`CHANNEL` (a statement trigger, migration 0240, in the revoking transaction: delivered when it commits), and
each server process listens on a connection of its own to the primary database (where revocations are written)
and forgets every remembered token when one arrives.

A remembered token is trusted only while that connection is up, and only if it was resolved in the current
*epoch* (the count of notifications and reconnections heard so far, taken before its look-up): a look-up that
raced a revocation is never kept. Without a listener nothing is trusted and every request looks its token up.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import psycopg

CHANNEL = "landgeo_access"
#: how long the listener waits for a notification before it checks its connection
CHECK_S = 20.0
RETRY_S = 2.0

LOGGER = logging.getLogger("landgeo.access")


class Listener:
    """One process's ear on :data:`CHANNEL`: :meth:`epoch` is None while it is not listening."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._epoch = 0
        self._listening = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def epoch(self) -> int | None:
        """The current epoch (started on first use, after any fork), or None: nothing remembered may be trusted."""
        if self._pid != os.getpid():
            self._start()
        with self._lock:
            return self._epoch if self._listening else None

    def _start(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid, self._listening = os.getpid(), False
            self._thread = threading.Thread(target=self._run, name="landgeo-revocations", daemon=True)
            self._thread.start()

    def _bump(self, listening: bool) -> None:
        with self._lock:
            self._epoch += 1
            self._listening = listening

    def _run(self) -> None:
        while True:
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5,
                                     application_name="landgeo-revocations") as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._bump(True)
                    while True:
                        for _note in conn.notifies(timeout=CHECK_S):
                            self._bump(True)
                        conn.execute("SELECT 1")  # a connection that died quietly raises here
            except Exception as exc:  # noqa: BLE001 - the listener must outlive any database trouble
                LOGGER.info("revocation listener reconnecting: %s", type(exc).__name__)
            self._bump(False)
            time.sleep(RETRY_S)


_LISTENERS: dict[str, Listener] = {}
_LOCK = threading.Lock()


def listener(url: str) -> Listener:
    """The listener of this process for the database at ``url``."""
    found = _LISTENERS.get(url)
    if found is None:
        with _LOCK:
            found = _LISTENERS.setdefault(url, Listener(url))
    return found
