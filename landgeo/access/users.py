"""Land-office users (người dùng): add (a token is made and shown once), list, revoke — each change audited.

Run by ``landgeo users`` with the database owner's connection (the API's roles cannot touch these tables).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass

import psycopg

from landgeo.access import audit
from landgeo.access.identity import Identity, check_scope
from landgeo.access.tokens import display_prefix, generate_token, hash_token, parse_expiry
from landgeo.errors import UserError


def operator() -> Identity:
    """The person at the command line, as the audit names them."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = "unknown"
    return Identity(name=f"cli:{who}", role="admin", auth="cli")


@dataclass(frozen=True)
class NewUser:
    name: str
    role: str
    provinces: tuple[str, ...]
    communes: tuple[str, ...]
    expires_at: dt.datetime
    token: str


def add_user(conn: psycopg.Connection, name: str, role: str, provinces: list[str], communes: list[str],
             expires: str | None = None, default_days: int = 90) -> NewUser:
    """Create a user and its first token, in one transaction with its audit row."""
    try:
        provs, comms = check_scope(role, provinces, communes, error=UserError)
        expires_at = parse_expiry(expires, default_days=default_days)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    token = generate_token()
    with conn.transaction():
        row = conn.execute("SELECT revoked_at FROM access.app_user WHERE name = %s", (name,)).fetchone()
        if row is not None:
            state = "revoked" if row[0] else "active"
            raise UserError(f"user {name!r} already exists ({state}); choose another name")
        try:
            user_id = conn.execute(
                "INSERT INTO access.app_user (name, role, provinces, communes, created_by) VALUES (%s, %s, %s, %s, %s) "
                "RETURNING id", (name, role, list(provs), list(comms), operator().name)).fetchone()[0]
        except psycopg.errors.CheckViolation:
            raise UserError(f"user name {name!r}: letters, digits and . _ @ - only (at most 64)") from None
        conn.execute("INSERT INTO access.api_token (user_id, token_hash, prefix, expires_at) VALUES (%s, %s, %s, %s)",
                     (user_id, hash_token(token), display_prefix(token), expires_at))
        audit.record(conn, operator(), "user.add", None, [user_id],
                     {"user": name, "role": role, "provinces": list(provs), "communes": list(comms),
                      "expires_at": expires_at.isoformat(), "token_prefix": display_prefix(token)})
    return NewUser(name, role, provs, comms, expires_at, token)


def revoke_user(conn: psycopg.Connection, name: str) -> int:
    """Revoke a user and every token of theirs; returns the number of tokens revoked."""
    with conn.transaction():
        row = conn.execute("SELECT id, revoked_at FROM access.app_user WHERE name = %s FOR UPDATE", (name,)).fetchone()
        if row is None:
            raise UserError(f"no user {name!r} (landgeo users list)")
        if row[1] is not None:
            raise UserError(f"user {name!r} was already revoked on {row[1]:%Y-%m-%d %H:%M} UTC")
        conn.execute("UPDATE access.app_user SET revoked_at = now(), revoked_by = %s WHERE id = %s",
                     (operator().name, row[0]))
        n = conn.execute("UPDATE access.api_token SET revoked_at = now() WHERE user_id = %s AND revoked_at IS NULL",
                         (row[0],)).rowcount
        audit.record(conn, operator(), "user.revoke", None, [row[0]], {"user": name, "tokens": n})
    return n


def list_users(conn: psycopg.Connection) -> list[dict]:
    """Every user with its scope, state and latest token (prefix and expiry only)."""
    rows = conn.execute("""
        SELECT u.name, u.role, u.provinces, u.communes, u.created_at, u.revoked_at, t.prefix, t.expires_at
        FROM access.app_user u
        LEFT JOIN LATERAL (SELECT prefix, expires_at FROM access.api_token WHERE user_id = u.id
                           ORDER BY created_at DESC LIMIT 1) t ON true
        ORDER BY u.name""").fetchall()
    now = dt.datetime.now(dt.UTC)
    out = []
    for name, role, provs, comms, created, revoked, prefix, expires in rows:
        state = "revoked" if revoked else ("expired" if expires is not None and expires <= now else "active")
        out.append({"name": name, "role": role, "provinces": provs, "communes": comms, "created_at": created,
                    "state": state, "token": f"{prefix}…" if prefix else "", "expires_at": expires})
    return out


def audit_events(conn: psycopg.Connection, user: str | None = None, since: dt.datetime | None = None,
                 collection: str | None = None, action: str | None = None, limit: int = 100) -> list[dict]:
    """Audit rows, newest last, filtered (bound parameters only)."""
    conds, params = [], []
    for col, value in (("actor", user), ("collection", collection), ("action", action)):
        if value is not None:
            conds.append(f"{col} = %s")
            params.append(value)
    if since is not None:
        conds.append("at >= %s")
        params.append(since)
    where = " AND ".join(conds) or "TRUE"
    rows = conn.execute(
        f"SELECT id, at, actor, actor_role, auth, action, collection, item_ids, detail FROM ("
        f"SELECT * FROM access.audit_event WHERE {where} ORDER BY id DESC LIMIT %s) s ORDER BY id",
        [*params, limit]).fetchall()
    keys = ("id", "at", "actor", "actor_role", "auth", "action", "collection", "item_ids", "detail")
    return [dict(zip(keys, r, strict=True)) for r in rows]


def detail_text(detail: dict) -> str:
    return json.dumps(detail, ensure_ascii=False, separators=(",", ":"))
