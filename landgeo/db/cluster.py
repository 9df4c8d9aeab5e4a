"""The embedded PostgreSQL/PostGIS cluster under ``.landgeo/`` (initdb + pg_ctl, 127.0.0.1 only).

PostgreSQL refuses to run as root, so when landgeo is invoked as root the cluster's files belong to,
and its server runs as, an unprivileged user (``postgres`` when it exists, else a ``landgeo`` system
user created on the spot). A random password is generated at ``initdb`` and kept in
``.landgeo/password`` (mode 600, git-ignored): nothing secret is in the repository.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from landgeo.db import walarchive
from landgeo.errors import UserError
from landgeo.settings import EMBEDDED_DB_NAME, EMBEDDED_DB_USER, Settings, get_settings

SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "100",
    "shared_buffers": "'1GB'",
    "work_mem": "'64MB'",
    "maintenance_work_mem": "'512MB'",
    "max_wal_size": "'4GB'",
    "checkpoint_timeout": "'15min'",
    "jit": "off",
    "max_parallel_workers_per_gather": "2",
    "random_page_cost": "1.1",
    "effective_cache_size": "'8GB'",
    "logging_collector": "off",
    "log_min_messages": "warning",
    "timezone": "'UTC'",
}


def pg_bindir() -> Path:
    """Directory of the PostgreSQL server binaries (``initdb``, ``pg_ctl``)."""
    if get_settings().pg_bindir:
        candidates = [get_settings().pg_bindir]
    else:
        candidates = sorted(
            glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0)
        )[::-1]
        which = shutil.which("pg_ctl")
        if which:
            candidates.append(str(Path(which).parent))
    for cand in candidates:
        if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    raise UserError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql >= 15 "
        "or set LANDGEO_PG_BINDIR"
    )


def _pg_config(bindir: Path, flag: str) -> str:
    out = subprocess.run([str(bindir / "pg_config"), flag], capture_output=True, text=True, check=False)
    return out.stdout.strip()


def postgis_available(bindir: Path) -> bool:
    sharedir = _pg_config(bindir, "--sharedir")
    if not sharedir:
        major = bindir.parent.name
        sharedir = f"/usr/share/postgresql/{major}"
    return Path(sharedir, "extension", "postgis.control").exists()


@dataclass(frozen=True)
class RunAs:
    """The OS user the server runs as (``None`` fields: the current user)."""

    name: str | None = None
    uid: int | None = None
    gid: int | None = None

    def kwargs(self) -> dict:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def _server_user() -> RunAs:
    if os.geteuid() != 0:
        return RunAs()
    wanted = get_settings().pg_user
    names = [wanted] if wanted else ["postgres", "landgeo"]
    for name in names:
        try:
            entry = pwd.getpwnam(name)
            return RunAs(name, entry.pw_uid, entry.pw_gid)
        except KeyError:
            continue
    name = wanted or "landgeo"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    entry = pwd.getpwnam(name)
    return RunAs(name, entry.pw_uid, entry.pw_gid)


class EmbeddedCluster:
    """The private cluster of one project folder."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.state = settings.state_dir
        self.port = settings.pg_port
        self.password_file = self.state / "password"
        self._run_as: RunAs | None = None

    # -- paths -------------------------------------------------------------------------------
    @property
    def run_as(self) -> RunAs:
        if self._run_as is None:
            self._run_as = _server_user()
        return self._run_as

    @property
    def link(self) -> Path:
        return self.state / "pgdata"

    @property
    def datadir(self) -> Path:
        return self.link.resolve() if self.link.is_symlink() else self.link

    @property
    def wal_archive(self) -> Path:
        """Where archived WAL goes (``LANDGEO_WAL_ARCHIVE``, else ``wal-archive/`` beside the data folder)."""
        return self.settings.wal_archive or self.datadir.parent / "wal-archive"

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / "postgres.log" if self.link.is_symlink() else self.state / "log" / "postgres.log"

    # -- state -------------------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def running(self) -> bool:
        if not self.initialised():
            return False
        res = self._run([str(pg_bindir() / "pg_ctl"), "status", "-D", str(self.datadir)], check=False)
        return res.returncode == 0

    def password(self) -> str:
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise UserError("the embedded cluster is not initialised: run `landgeo db up`") from None

    def url(self, dbname: str = EMBEDDED_DB_NAME) -> str:
        return (
            f"postgresql://{EMBEDDED_DB_USER}:{quote(self.password(), safe='')}"
            f"@127.0.0.1:{self.port}/{dbname}"
        )

    # -- actions -----------------------------------------------------------------------------
    def up(self, log=print) -> None:
        """Initialise (first time), start (when stopped) and create the database (when missing)."""
        bindir = pg_bindir()
        if not postgis_available(bindir):
            major = bindir.parent.name
            raise UserError(
                f"PostGIS is not installed for PostgreSQL {major}: install postgresql-{major}-postgis-3 "
                "(make test / make demo do it as root on Debian)"
            )
        if not self.initialised():
            self._initdb(bindir, log)
        if not self.running():
            self._ensure_archiving()
            log(f"starting PostgreSQL on 127.0.0.1:{self.port}")
            res = self._run(
                [str(bindir / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.datadir),
                 "-l", str(self.logfile), "-o", f"-p {self.port}"],
                check=False,
            )
            if res.returncode != 0:
                tail = self._log_tail()
                raise UserError(f"PostgreSQL did not start (see {self.logfile}): {tail}")
        self._ensure_database()

    def down(self, log=print) -> None:
        if not self.running():
            log("the embedded cluster is not running")
            return
        self._run([str(pg_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.datadir)])
        log("embedded cluster stopped")

    def destroy(self) -> None:
        if self.running():
            self.down(log=lambda *_: None)
        target = self.datadir
        if self.link.is_symlink():
            self.link.unlink()
            target = target.parent  # /var/lib/landgeo/<hash>: data and log
        shutil.rmtree(target, ignore_errors=True)
        self.password_file.unlink(missing_ok=True)

    # -- internals ---------------------------------------------------------------------------
    def _run(self, cmd: list[str], check: bool = True) -> subprocess.CompletedProcess:
        res = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **self.run_as.kwargs())
        if check and res.returncode != 0:
            raise UserError(f"{Path(cmd[0]).name} failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")
        return res

    def _log_tail(self) -> str:
        try:
            lines = self.logfile.read_text(errors="replace").strip().splitlines()
            return lines[-1] if lines else ""
        except OSError:
            return ""

    def _user_can_traverse(self, path: Path) -> bool:
        if self.run_as.uid is None:
            return True
        res = subprocess.run(["test", "-x", str(path)], cwd="/", **self.run_as.kwargs(), check=False)
        return res.returncode == 0

    def _initdb(self, bindir: Path, log) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        run_as = self.run_as
        datadir = self.link
        if run_as.uid is not None and not self._user_can_traverse(self.state):
            # The project folder is not reachable by the server's user (e.g. under /root): keep the
            # data in a system folder and link it from .landgeo/pgdata.
            key = hashlib.sha1(str(self.settings.home).encode()).hexdigest()[:12]
            datadir = Path("/var/lib/landgeo") / key / "pgdata"
            datadir.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(datadir.parent.parent, 0o755)
            os.chown(datadir.parent, run_as.uid, run_as.gid)
            if self.link.is_symlink() or self.link.exists():
                self.link.unlink()
            self.link.symlink_to(datadir)
        log(f"initialising the embedded cluster in {datadir}" + (f" (runs as {run_as.name})" if run_as.name else ""))
        if datadir.exists():
            shutil.rmtree(datadir)
        datadir.mkdir(parents=True, mode=0o700)
        if datadir == self.link:
            (self.state / "log").mkdir(exist_ok=True)
        password = secrets.token_urlsafe(24)
        pwfile = datadir.parent / ".pwfile"
        pwfile.write_text(password + "\n")
        os.chmod(pwfile, 0o600)
        if run_as.uid is not None:
            for p in (datadir, pwfile, self.logfile.parent):
                os.chown(p, run_as.uid, run_as.gid)
        try:
            self._run([
                str(bindir / "initdb"), "-D", str(datadir), "-U", EMBEDDED_DB_USER, "-E", "UTF8",
                "--no-locale", "--auth-host=scram-sha-256", "--auth-local=peer", f"--pwfile={pwfile}",
            ])
        finally:
            pwfile.unlink(missing_ok=True)
        with open(datadir / "postgresql.auto.conf", "a") as conf:
            for key, value in SERVER_SETTINGS.items():
                conf.write(f"{key} = {value}\n")
            conf.write(f"port = {self.port}\n")
        self.password_file.write_text(password + "\n")
        os.chmod(self.password_file, 0o600)

    def _ensure_archiving(self) -> None:
        """Turn WAL archiving on (clusters made before it existed get it at their next start)."""
        self.wal_archive.mkdir(parents=True, exist_ok=True)
        if self.run_as.uid is not None:
            os.chown(self.wal_archive, self.run_as.uid, self.run_as.gid)
        auto = self.datadir / "postgresql.auto.conf"
        if not walarchive.has_archiving(auto):
            with open(auto, "a") as conf:
                conf.write("\n".join(walarchive.archiving_lines(self.wal_archive)) + "\n")

    def _ensure_database(self) -> None:
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=5) as conn:
                    exists = conn.execute(
                        "SELECT 1 FROM pg_database WHERE datname = %s", (EMBEDDED_DB_NAME,)
                    ).fetchone()
                    if not exists:
                        conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise UserError(f"cannot connect to the embedded cluster on port {self.port}: {exc}") from exc
                time.sleep(0.3)
