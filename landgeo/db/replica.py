"""A streaming read replica (bản sao chỉ đọc) of the embedded cluster, and where the API's reads go.

``landgeo db replica up`` copies the running embedded cluster with ``pg_basebackup -R`` (WAL streamed during the
copy, a physical replication slot so the primary keeps what the replica has not replayed) into its own data
directory next to the primary's, and starts it on its own port (``LANDGEO_REPLICA_PORT``) as a hot standby.
``down`` stops it (``--remove`` also deletes it and drops its slot).

Reads: when ``LANDGEO_READ_DATABASE_URL`` is set, :func:`read_url` sends the API's read pools there while a
probe (every :data:`PROBE_SECONDS`, in a daemon thread of each server process) finds it answering, and to the
primary otherwise — so reads fall back within a few seconds of the replica going down, and return to it when it
is back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from functools import lru_cache
from pathlib import Path

import psycopg

from landgeo.db.cluster import EmbeddedCluster, pg_bindir
from landgeo.errors import UserError
from landgeo.settings import EMBEDDED_DB_USER, Settings, get_settings

SLOT = "landgeo_replica"
PROBE_SECONDS = 1.0
REPLICA_SETTINGS = ("-c", "shared_buffers=128MB", "-c", "hot_standby=on", "-c", "hot_standby_feedback=on")


class ReplicaCluster:
    """The streaming replica of one embedded cluster (its own data directory and port)."""

    def __init__(self, primary: EmbeddedCluster, port: int):
        self.primary = primary
        self.port = port

    @property
    def datadir(self) -> Path:
        return self.primary.datadir.parent / "replica-pgdata"

    @property
    def logfile(self) -> Path:
        return self.primary.datadir.parent / "replica.log"

    def url(self, dbname: str | None = None) -> str:
        return self.primary.url(*(dbname,) if dbname else ()).replace(
            f"@127.0.0.1:{self.primary.port}/", f"@127.0.0.1:{self.port}/")

    def initialised(self) -> bool:
        return (self.datadir / "standby.signal").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        res = self.primary._run([str(pg_bindir() / "pg_ctl"), "status", "-D", str(self.datadir)], check=False)
        return res.returncode == 0

    def up(self, log=print) -> None:
        """Copy the primary (first time) and start the replica; waits until it accepts read-only connections."""
        if not self.primary.running():
            raise UserError("the embedded cluster is not running: `landgeo db up` first (the replica copies it)")
        if self.port == self.primary.port:
            raise UserError(f"the replica needs its own port (LANDGEO_REPLICA_PORT), not {self.port}")
        if not self.initialised():
            self._basebackup(log)
        if not self.running():
            log(f"starting the read replica on 127.0.0.1:{self.port}")
            opts = " ".join(["-p", str(self.port), *REPLICA_SETTINGS])
            res = self.primary._run([str(pg_bindir() / "pg_ctl"), "start", "-w", "-t", "60", "-D",
                                     str(self.datadir), "-l", str(self.logfile), "-o", opts], check=False)
            if res.returncode != 0:
                raise UserError(f"the replica did not start (see {self.logfile})")
        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url(), connect_timeout=3) as conn:
                    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
                    raise UserError(f"the server on port {self.port} is not a standby")
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise UserError(f"the replica on port {self.port} does not answer: {exc}") from exc
                time.sleep(0.3)

    def down(self, remove: bool = False, log=print) -> None:
        if self.running():
            self.primary._run([str(pg_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.datadir)])
            log("read replica stopped")
        else:
            log("the read replica is not running")
        if remove:
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.logfile.unlink(missing_ok=True)
            if self.primary.running():
                with psycopg.connect(self.primary.url("postgres"), autocommit=True) as conn:
                    conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                                 "WHERE slot_name = %s AND NOT active", (SLOT,))
            log("read replica removed (data directory and replication slot)")

    def _basebackup(self, log) -> None:
        log(f"copying the primary into {self.datadir} (pg_basebackup -R, WAL streamed)")
        if self.datadir.exists():
            shutil.rmtree(self.datadir)
        with psycopg.connect(self.primary.url("postgres"), autocommit=True) as conn:
            conn.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                         "WHERE slot_name = %s AND NOT active", (SLOT,))
        run_as = self.primary.run_as
        cmd = [str(pg_bindir() / "pg_basebackup"), "-D", str(self.datadir), "-h", "127.0.0.1", "-p",
               str(self.primary.port), "-U", EMBEDDED_DB_USER, "-R", "-X", "stream", "-c", "fast", "-C", "-S", SLOT,
               "--no-password"]
        env = {**os.environ, "PGPASSWORD": self.primary.password()}
        res = subprocess.run(cmd, capture_output=True, text=True, cwd="/", env=env, **run_as.kwargs())
        if res.returncode != 0:
            shutil.rmtree(self.datadir, ignore_errors=True)
            tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["failed"]
            raise UserError(f"pg_basebackup failed: {tail[0]}")
        if run_as.uid is not None:
            os.chown(self.datadir, run_as.uid, run_as.gid)
        os.chmod(self.datadir, 0o700)


def replica_of(settings: Settings) -> ReplicaCluster:
    return ReplicaCluster(EmbeddedCluster(settings), settings.replica_port)


def lag(primary_url: str, replica_url: str | None) -> list[str]:
    """Status lines: each standby the primary streams to (state, replay lag) and the read replica's own view."""
    lines = []
    with psycopg.connect(primary_url, connect_timeout=5) as conn:
        rows = conn.execute(
            "SELECT application_name, state, pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
            "extract(epoch FROM replay_lag) FROM pg_stat_replication ORDER BY application_name").fetchall()
    for name, state, behind, seconds in rows:
        lines.append(f"replica {name or '?'}: {state}, {behind or 0} bytes of WAL behind, replay lag "
                     f"{seconds or 0:.3f} s")
    if replica_url:
        try:
            with psycopg.connect(replica_url, connect_timeout=3) as conn:
                standby, behind = conn.execute(
                    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() "
                    "THEN 0 ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END").fetchone()
            role = "standby" if standby else "NOT a standby (a primary?)"
            lines.append(f"read database ({_where(replica_url)}): {role}, replay lag {float(behind or 0):.3f} s")
        except psycopg.OperationalError as exc:
            first = (str(exc).strip().splitlines() or ["error"])[0]
            lines.append(f"read database ({_where(replica_url)}): NOT answering ({first}); reads go to the primary")
    return lines


def _where(url: str) -> str:
    from urllib.parse import urlsplit

    p = urlsplit(url)
    return f"{p.hostname}:{p.port or 5432}{p.path}"


# ------------------------------------------------------------------ read routing (API server processes)

class _Probe:
    """Whether the read database answers, checked in the background (one thread per process and URL)."""

    def __init__(self, url: str):
        self.url = url
        self.healthy = self._check()
        self.changed_at = time.monotonic()
        self.on_recovery: list = []
        thread = threading.Thread(target=self._loop, name="landgeo-read-probe", daemon=True)
        thread.start()

    def _check(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _loop(self) -> None:
        while True:
            time.sleep(PROBE_SECONDS)
            ok = self._check()
            if ok != self.healthy:
                self.healthy, self.changed_at = ok, time.monotonic()
                if ok:
                    for callback in list(self.on_recovery):
                        callback()


_PROBES: dict[tuple[int, str], _Probe] = {}
_LOCK = threading.Lock()


def probe(url: str) -> _Probe:
    key = (os.getpid(), url)
    with _LOCK:
        found = _PROBES.get(key)
        if found is None:
            found = _PROBES[key] = _Probe(url)
    return found


@lru_cache(maxsize=1)
def _read_target() -> str | None:
    """LANDGEO_READ_DATABASE_URL of this server process (read once: asked on every request)."""
    return get_settings().read_database_url


def on_recovery(url: str, callback) -> None:
    """Call ``callback`` (e.g. the read pool's ``check``) whenever the read database at ``url`` answers again."""
    if _read_target() and url == _read_target():
        probe(url).on_recovery.append(callback)


def read_url(primary_url: str) -> str:
    """Where a read for ``primary_url`` goes: the read database when one is configured and answering."""
    target = _read_target()
    if not target or target == primary_url:
        return primary_url
    return target if probe(target).healthy else primary_url
