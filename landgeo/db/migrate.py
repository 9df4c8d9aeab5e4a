"""Ordered plain-SQL migrations from ``schemas/migrations`` (``NNNN_name.sql``).

Each file is applied in its own transaction and recorded in ``meta.schema_migration`` with its
SHA-256; applying is idempotent, and a file edited after it was applied is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from landgeo.errors import UserError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x1A4D6E0  # advisory lock: one migrator at a time per database

BOOTSTRAP = """
CREATE SCHEMA IF NOT EXISTS meta;
CREATE TABLE IF NOT EXISTS meta.schema_migration (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    sha256     text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE meta.schema_migration IS 'Applied schema migrations (schemas/migrations), one row each';
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(directory: Path) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(directory.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise UserError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(int(m.group(1)), m.group(2), path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise UserError(f"{directory}: two migrations share a version number")
    return found


def applied(conn: psycopg.Connection) -> dict[int, str]:
    """Applied versions and their checksums (empty when the database is bare)."""
    exists = conn.execute("SELECT to_regclass('meta.schema_migration')").fetchone()[0]
    if not exists:
        return {}
    return dict(conn.execute("SELECT version, sha256 FROM meta.schema_migration").fetchall())


def current_version(conn: psycopg.Connection) -> int | None:
    versions = applied(conn)
    return max(versions) if versions else None


def migrate(url: str, directory: Path, log=print) -> list[Migration]:
    """Apply every pending migration, each in one transaction. Returns what was applied."""
    migrations = discover(directory)
    done: list[Migration] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            with conn.transaction():
                conn.execute(BOOTSTRAP)
            have = applied(conn)
            for mig in migrations:
                if mig.version in have:
                    if have[mig.version] != mig.sha256:
                        raise UserError(
                            f"migration {mig.path.name} changed after it was applied; "
                            "add a new migration instead (or `landgeo db reset` a development database)"
                        )
                    continue
                log(f"applying {mig.path.name}")
                try:
                    with conn.transaction():
                        conn.execute(mig.sql)
                        conn.execute(
                            "INSERT INTO meta.schema_migration (version, name, sha256) VALUES (%s, %s, %s)",
                            (mig.version, mig.name, mig.sha256),
                        )
                except psycopg.Error as exc:
                    msg = str(exc).strip().splitlines()[0]
                    raise UserError(f"migration {mig.path.name} failed, nothing of it applied: {msg}") from exc
                done.append(mig)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return done
