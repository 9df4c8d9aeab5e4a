"""Base backups and point-in-time restore with PostgreSQL's own tools (``pg_basebackup``, ``pg_verifybackup``,
``restore_command`` and a recovery target).

A backup folder is a plain-format base backup with its WAL (``pg_basebackup -X stream``), its ``backup_manifest``
(checked by ``pg_verifybackup``) and ``landgeo-backup.json`` (when it was taken, from which server). A backup of
the embedded cluster also holds a copy of ``.landgeo/password`` (mode 600): the folder holds the whole register,
personal data included, so it must be kept as safe as the database itself.

Restore (embedded cluster only; for a server of your own see docs/operations.md) puts the backup in place of the
data folder — the old one is kept beside it, renamed — and replays the archived WAL up to ``--to`` (or to the end
of the archive), then promotes the cluster so it takes writes again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from landgeo.db import walarchive
from landgeo.db.cluster import EmbeddedCluster, pg_bindir
from landgeo.errors import UserError

META_FILE = "landgeo-backup.json"
PASSWORD_FILE = "password"
OUR_FILES = (META_FILE, PASSWORD_FILE)
RECOVERY_KEYS = ("restore_command", "recovery_target_time", "recovery_target_action")


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    finished: dt.datetime  # server time once the backup was complete: the earliest point it can restore to
    server_version: str
    system_identifier: str
    size_bytes: int


def _utc_stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _tool(name: str) -> str:
    path = pg_bindir() / name
    if not path.exists():
        raise UserError(f"{name} not found in {path.parent}: install the PostgreSQL client/server binaries")
    return str(path)


def _split_password(url: str) -> tuple[str, dict[str, str]]:
    """``(conninfo without password, environment with PGPASSWORD)``: no secret on a command line."""
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return make_conninfo(**{k: str(v) for k, v in params.items()}), env


def _folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def default_backup_dir(state_dir: Path) -> Path:
    return state_dir / "backups" / dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def take_backup(url: str, target: Path, cluster: EmbeddedCluster | None = None, verify: bool = False,
                log=print) -> BackupInfo:
    """A base backup of the server at ``url`` into ``target`` (a new or empty folder)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UserError(f"{target} exists and is not an empty folder: choose a new one")
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            archive_mode = conn.execute("SHOW archive_mode").fetchone()[0]
            version = conn.execute("SHOW server_version").fetchone()[0]
            system_id = str(conn.execute("SELECT system_identifier FROM pg_control_system()").fetchone()[0])
    except psycopg.OperationalError as exc:
        raise UserError(f"cannot reach the database to back it up: {str(exc).strip().splitlines()[0]}") from None
    if cluster is not None:
        if archive_mode != "on":
            raise UserError("WAL archiving is off on the running cluster: restart it once "
                            "(`landgeo db down && landgeo db up`) to turn it on, then back up")
        cluster.wal_archive.mkdir(parents=True, exist_ok=True)
        (cluster.wal_archive / walarchive.MARKER).touch()  # from now on completed WAL segments are kept
    elif archive_mode != "on":
        log("warning: archive_mode is off on this server: the backup restores only to its own end, not to a "
            "later moment (see docs/operations.md)")
    target.parent.mkdir(parents=True, exist_ok=True)
    conninfo, env = _split_password(url)
    log(f"backing up into {target}")
    res = subprocess.run(
        [_tool("pg_basebackup"), "-d", conninfo, "-D", str(target), "-X", "stream", "-c", "fast",
         "-l", f"landgeo {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ}", "--no-password"],
        capture_output=True, text=True, env=env, check=False,
    )
    if res.returncode != 0:
        shutil.rmtree(target, ignore_errors=True)
        lines = (res.stderr or res.stdout).strip().splitlines()
        raise UserError(f"pg_basebackup failed: {lines[-1] if lines else res.returncode}")
    with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
        finished = conn.execute("SELECT now()").fetchone()[0]
        if cluster is not None:  # close the current segment so the archive reaches past the backup at once
            conn.execute("SELECT pg_switch_wal()")
    meta = {"format": 1, "finished": _utc_stamp(finished), "server_version": version,
            "system_identifier": system_id, "source": "embedded" if cluster is not None else "server"}
    (target / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    os.chmod(target, 0o700)
    if cluster is not None and cluster.password_file.exists():
        shutil.copyfile(cluster.password_file, target / PASSWORD_FILE)
        os.chmod(target / PASSWORD_FILE, 0o600)
    info = BackupInfo(target, finished, version, system_id, _folder_size(target))
    if verify:
        verify_backup(target, log=log)
    return info


def read_backup(path: Path) -> BackupInfo:
    """The description of the backup in ``path``; a clear error when it is not one."""
    if not path.exists():
        raise UserError(f"no backup at {path}: the folder does not exist")
    if not path.is_dir():
        raise UserError(f"{path} is not a folder")
    missing = [name for name in ("backup_manifest", "PG_VERSION", META_FILE) if not (path / name).exists()]
    if missing:
        raise UserError(f"{path} is not a landgeo backup (missing {', '.join(missing)})")
    try:
        meta = json.loads((path / META_FILE).read_text())
        finished = dt.datetime.fromisoformat(meta["finished"].replace("Z", "+00:00"))
    except (ValueError, KeyError) as exc:
        raise UserError(f"{path / META_FILE} is damaged: {exc}") from None
    return BackupInfo(path, finished, meta.get("server_version", "?"), meta.get("system_identifier", "?"),
                      _folder_size(path))


def verify_backup(path: Path, log=print) -> None:
    """``pg_verifybackup``: every file against the manifest's checksums, and the WAL the backup needs."""
    read_backup(path)
    args = [_tool("pg_verifybackup")]
    for name in OUR_FILES:
        args += ["-i", name]
    res = subprocess.run([*args, str(path)], capture_output=True, text=True, check=False)
    if res.returncode != 0:
        lines = (res.stderr or res.stdout).strip().splitlines()
        raise UserError(f"backup {path} failed verification: {lines[0] if lines else res.returncode}")
    log(f"backup {path} verified (pg_verifybackup: every file and the WAL it needs)")


def parse_target_time(text: str) -> dt.datetime:
    """An ISO 8601 time; one without an offset is UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--to {text!r} is not an ISO 8601 time (for example 2026-12-06T01:30:00Z)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def restore_backup(cluster: EmbeddedCluster, source: Path, to: dt.datetime | None = None,
                   wal_archive: Path | None = None, log=print) -> Path:
    """Replace the embedded cluster's data by the backup in ``source``, replayed to ``to`` (or the archive's
    end), and start it. Returns the folder the previous data were moved to (``None``-like empty path when none)."""
    info = read_backup(source)
    if cluster.running():
        raise UserError("the embedded cluster is running: stop it first with `landgeo db down`")
    if to is not None:
        if to < info.finished:
            raise UserError(f"--to {_utc_stamp(to)} is before the backup was complete ({_utc_stamp(info.finished)}): "
                            "choose a later time or an older backup")
        if to > dt.datetime.now(dt.UTC):
            raise UserError(f"--to {_utc_stamp(to)} is in the future")
    archive = wal_archive or cluster.wal_archive
    if not archive.is_dir():
        raise UserError(f"no WAL archive at {archive} (set LANDGEO_WAL_ARCHIVE or --wal-archive)")
    verify_backup(source, log=log)
    datadir = cluster.datadir
    kept = Path()
    if datadir.exists() and any(datadir.iterdir()):
        kept = datadir.with_name(f"{datadir.name}.before-restore-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}")
        datadir.rename(kept)
        log(f"previous data kept in {kept}")
    elif datadir.exists():
        datadir.rmdir()
    shutil.copytree(source, datadir, ignore=shutil.ignore_patterns(*OUR_FILES))
    os.chmod(datadir, 0o700)
    with open(datadir / "postgresql.auto.conf", "a") as conf:
        conf.write(f"restore_command = {walarchive.conf_quote(walarchive.restore_command(archive))}\n")
        if to is not None:
            pg_time = to.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")
            conf.write(f"recovery_target_time = '{pg_time}'\nrecovery_target_action = 'promote'\n")
    (datadir / "recovery.signal").touch()
    if cluster.run_as.uid is not None:
        for path in [datadir, *datadir.rglob("*")]:
            os.lchown(path, cluster.run_as.uid, cluster.run_as.gid)
    if not cluster.password_file.exists() and (source / PASSWORD_FILE).exists():
        cluster.state.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / PASSWORD_FILE, cluster.password_file)
        os.chmod(cluster.password_file, 0o600)
    log("replaying the archived WAL" + (f" up to {_utc_stamp(to)}" if to else " to its end"))
    try:
        cluster.up(log=log)
        _wait_promoted(cluster)
    except UserError as exc:
        back = f"; the previous data are in {kept}" if str(kept) != "." else ""
        raise UserError(f"restore failed: {exc}{back}") from None
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        for key in RECOVERY_KEYS:
            conn.execute(f"ALTER SYSTEM RESET {key}")  # fixed names, not user input
        conn.execute("SELECT pg_reload_conf()")
    return kept


def _wait_promoted(cluster: EmbeddedCluster, timeout_s: float = 3600) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(cluster.url("postgres"), autocommit=True, connect_timeout=5) as conn:
                if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                    return
        except psycopg.OperationalError:
            if not cluster.running():
                raise UserError(f"PostgreSQL stopped during recovery (see {cluster.logfile})") from None
        if time.monotonic() > deadline:
            raise UserError(f"recovery did not finish within {timeout_s:.0f} s (see {cluster.logfile})")
        time.sleep(0.2)
