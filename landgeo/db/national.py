"""What ``landgeo db status`` says about the national shape: federated provinces, the read replica and its lag."""

from __future__ import annotations

import psycopg

from landgeo.db import federation, replica
from landgeo.db.connect import connect, database_url
from landgeo.settings import Settings


def national_lines(settings: Settings) -> list[str]:
    lines: list[str] = []
    try:
        with connect(autocommit=True) as conn:
            lines += federation.describe(conn)
    except psycopg.Error as exc:
        lines.append(f"federated provinces: cannot tell ({str(exc).strip().splitlines()[0]})")
    if settings.uses_embedded and replica.replica_of(settings).running():
        lines.append(f"read replica (embedded): running on 127.0.0.1:{settings.replica_port}")
    try:
        lines += replica.lag(database_url(settings), settings.read_database_url)
    except psycopg.Error as exc:
        lines.append(f"replication: cannot tell ({str(exc).strip().splitlines()[0]})")
    if settings.read_database_url:
        lines.append("API reads: LANDGEO_READ_DATABASE_URL while it answers, else the primary")
    return lines
