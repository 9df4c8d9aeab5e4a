"""The identity of a person at the command line acting on the register: an existing, unrevoked land-office user
(``landgeo users add``), recorded in the audit with ``auth = 'cli'``."""

from __future__ import annotations

import psycopg

from landgeo.access.identity import Identity
from landgeo.errors import UserError


def cli_identity(conn: psycopg.Connection, name: str) -> Identity:
    row = conn.execute("SELECT name, role, provinces, communes FROM access.app_user WHERE name = %s "
                       "AND revoked_at IS NULL", (name,)).fetchone()
    if row is None:
        raise UserError(f"no active user {name!r} (see `landgeo users list`)")
    return Identity(name=row[0], role=row[1], provinces=tuple(row[2]), communes=tuple(row[3]), auth="cli")
