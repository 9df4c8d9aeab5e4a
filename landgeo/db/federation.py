"""Provincial databases federated into the national one (cơ sở dữ liệu đất đai cấp tỉnh liên kết).

A province that keeps its parcels in its own PostgreSQL (same landgeo schema, same version) is attached to the
national ``landdb.parcel`` as that province's partition: a ``postgres_fdw`` foreign table over the province's
``landdb.parcel``, through a foreign server named ``landgeo_province_<code>`` whose ``extensions 'postgis'``
option lets PostGIS operators and functions (``&&``, ``ST_Intersects`` …) run on the remote side. The national
database's empty local partition is kept aside (``landdb.parcel_p<code>_local``) and put back by
:func:`detach`. Everything is done in one transaction after the checks: a refused attach leaves nothing behind.

Every name used in SQL comes from the catalogue or from the checked two-digit code; values are bound.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import psycopg
from psycopg import sql

from landgeo.db.migrate import current_version
from landgeo.errors import UserError

SERVER_PREFIX = "landgeo_province_"
_SERVER_IN_ERROR = re.compile(r'server "' + SERVER_PREFIX + r'([0-9]{2})"')


@dataclass(frozen=True)
class Remote:
    """Where a province's database is (from its URL)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> Remote:
        p = urlsplit(url)
        if p.scheme not in ("postgresql", "postgres") or not p.hostname or not p.path.strip("/"):
            raise UserError("--url: a postgresql://USER:PASSWORD@HOST:PORT/DBNAME URL expected")
        return cls(p.hostname, p.port or 5432, p.path.strip("/"), unquote(p.username or ""),
                   unquote(p.password or ""))

    @property
    def where(self) -> str:
        """host:port/dbname, for messages (never the password)."""
        return f"{self.host}:{self.port}/{self.dbname}"


@dataclass(frozen=True)
class Partition:
    """One province's partition of the national ``landdb.parcel``."""

    province: str
    table: str
    foreign: bool
    server: str | None
    where: str | None


def check_code(code: str) -> str:
    if not re.fullmatch(r"[0-9]{2}", code or ""):
        raise UserError(f"province {code!r}: a two-digit province code expected (e.g. 46)")
    return code


def partitions(conn: psycopg.Connection) -> dict[str, Partition]:
    """Every list partition of ``landdb.parcel`` by province code (from the catalogue)."""
    rows = conn.execute(
        "SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid), s.srvname, s.srvoptions "
        "FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid LEFT JOIN pg_foreign_server s ON s.oid = ft.ftserver "
        "WHERE i.inhparent = 'landdb.parcel'::regclass").fetchall()
    out = {}
    for relname, kind, bound, server, options in rows:
        codes = re.findall(r"'([0-9]{2})'", bound or "")
        opts = dict(o.split("=", 1) for o in options or [])
        where = f"{opts.get('host')}:{opts.get('port', '5432')}/{opts.get('dbname')}" if server else None
        for code in codes:
            out[code] = Partition(code, relname, kind == "f", server, where)
    return out


def attached(conn: psycopg.Connection) -> list[Partition]:
    return sorted((p for p in partitions(conn).values() if p.foreign), key=lambda p: p.province)


def _remote_facts(remote: Remote, code: str) -> tuple[int | None, int, int, int | None, int | None]:
    """(schema version, parcels of the province, parcels of other provinces, min id, max id) of the remote."""
    try:
        conn = psycopg.connect(host=remote.host, port=remote.port, dbname=remote.dbname, user=remote.user,
                               password=remote.password, connect_timeout=5)
    except psycopg.OperationalError as exc:
        first = (str(exc).strip().splitlines() or [exc.__class__.__name__])[0]
        raise UserError(f"province {code}: cannot reach its database at {remote.where} ({first}); "
                        "nothing attached") from exc
    with conn:
        version = current_version(conn)
        if conn.execute("SELECT to_regclass('landdb.parcel')").fetchone()[0] is None:
            raise UserError(f"province {code}: {remote.where} has no landdb.parcel (run `landgeo db migrate` "
                            "there); nothing attached")
        ours, others, lo, hi = conn.execute(
            "SELECT count(*) FILTER (WHERE province_code = %s), count(*) FILTER (WHERE province_code <> %s), "
            "min(id), max(id) FROM landdb.parcel", (code, code)).fetchone()
    return version, ours, others, lo, hi


def attach(conn: psycopg.Connection, code: str, url: str) -> str:
    """Attach province ``code``'s own database (``url``) as its partition; a one-line summary.

    Refused, with nothing changed, when: the remote cannot be reached; its schema version differs from the
    national one; it holds parcels of another province; the national partition of the province holds parcels
    or is already attached; its parcel ids collide with national ones (the national look-up by id would be
    ambiguous: give the provincial database its own id range, e.g. ``setval`` to code × 10¹²)."""
    code = check_code(code)
    remote = Remote.from_url(url)
    national_version = current_version(conn)
    version, ours, others, lo, hi = _remote_facts(remote, code)
    if version != national_version:
        raise UserError(f"province {code}: its database at {remote.where} is at schema version {version}, the "
                        f"national one at {national_version}: migrate both to the same version; nothing attached")
    if others:
        raise UserError(f"province {code}: its database holds {others} parcels of other provinces; nothing attached")
    part = partitions(conn).get(code)
    if part is None:
        raise UserError(f"province {code}: landdb.parcel has no partition for it; nothing attached")
    if part.foreign:
        raise UserError(f"province {code} is already attached ({part.where}); detach it first")
    table = sql.Identifier("landdb", part.table)
    local = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()[0]
    if local:
        raise UserError(f"province {code}: the national database holds {local} of its parcels; remove them "
                        "before attaching its own database; nothing attached")
    if lo is not None and conn.execute("SELECT EXISTS (SELECT 1 FROM landdb.parcel WHERE id BETWEEN %s AND %s)",
                                       (lo, hi)).fetchone()[0]:
        raise UserError(f"province {code}: its parcel ids {lo}–{hi} collide with national ones; give its "
                        "database its own id range first; nothing attached")
    server = sql.Identifier(SERVER_PREFIX + code)
    aside = sql.Identifier(f"{part.table}_local")
    with conn.transaction():
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgres_fdw")
        conn.execute(sql.SQL(
            "CREATE SERVER {} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host {}, port {}, dbname {}, "
            "extensions 'postgis', fetch_size '2000', connect_timeout '5')").format(
            server, sql.Literal(remote.host), sql.Literal(str(remote.port)), sql.Literal(remote.dbname)))
        conn.execute(sql.SQL("CREATE USER MAPPING FOR PUBLIC SERVER {} OPTIONS (user {}, password {})").format(
            server, sql.Literal(remote.user), sql.Literal(remote.password)))
        conn.execute(sql.SQL("ALTER TABLE landdb.parcel DETACH PARTITION {}").format(table))
        conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(table, aside))
        conn.execute(sql.SQL(
            "CREATE FOREIGN TABLE {} PARTITION OF landdb.parcel FOR VALUES IN ({}) SERVER {} "
            "OPTIONS (schema_name 'landdb', table_name 'parcel')").format(table, sql.Literal(code), server))
        conn.execute(sql.SQL("GRANT SELECT ON {} TO landgeo_reader").format(table))
        conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(table))  # the mapping works end to end
    conn.execute(sql.SQL("ANALYZE {}").format(table))
    return f"province {code} attached: {ours} parcels served from {remote.where} (server {SERVER_PREFIX}{code})"


def detach(conn: psycopg.Connection, code: str) -> str:
    """Put province ``code``'s local (empty) partition back in place of its foreign one."""
    code = check_code(code)
    part = partitions(conn).get(code)
    if part is None or not part.foreign:
        raise UserError(f"province {code} is not attached (its parcels are in the national database)")
    table = sql.Identifier("landdb", part.table)
    aside = f"{part.table}_local"
    with conn.transaction():
        conn.execute(sql.SQL("ALTER TABLE landdb.parcel DETACH PARTITION {}").format(table))
        conn.execute(sql.SQL("DROP FOREIGN TABLE {}").format(table))
        conn.execute(sql.SQL("DROP SERVER IF EXISTS {} CASCADE").format(sql.Identifier(part.server)))
        if conn.execute("SELECT to_regclass(%s)", (f"landdb.{aside}",)).fetchone()[0]:
            conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier("landdb", aside),
                                                                       sql.Identifier(part.table)))
            conn.execute(sql.SQL("ALTER TABLE landdb.parcel ATTACH PARTITION {} FOR VALUES IN ({})").format(
                table, sql.Literal(code)))
        else:
            conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF landdb.parcel FOR VALUES IN ({})").format(
                table, sql.Literal(code)))
        conn.execute("SELECT landdb.parcel_partition_keys(%s::regclass)", (f"landdb.{part.table}",))
    return f"province {code} detached: its partition is local (and empty) again"


def describe(conn: psycopg.Connection) -> list[str]:
    """One line per attached province: where it is served from and whether it answers now."""
    lines = []
    for part in attached(conn):
        try:
            with conn.transaction():
                conn.execute("SET LOCAL statement_timeout = '5s'")
                conn.execute(sql.SQL("SELECT 1 FROM {} LIMIT 1").format(sql.Identifier("landdb", part.table)))
            state = "answering"
        except psycopg.Error as exc:
            state = "NOT answering: " + (str(exc).strip().splitlines() or ["error"])[0]
        lines.append(f"province {part.province}: federated, served from {part.where} "
                     f"(postgres_fdw server {part.server}), {state}")
    return lines


def unavailable_province(exc: BaseException) -> str | None:
    """The province whose database a postgres_fdw error says is unreachable, if any."""
    found = _SERVER_IN_ERROR.search(str(exc))
    return found.group(1) if found else None
