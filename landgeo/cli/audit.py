"""``landgeo audit``: the access audit (who read which register rows, who changed which users, when)."""

from __future__ import annotations

import datetime as dt
import re

import typer

from landgeo.errors import UserError

_AGO = re.compile(r"^(\d+)\s*([mhdw])$")


def _since(text: str | None) -> dt.datetime | None:
    if text is None:
        return None
    m = _AGO.match(text.strip().lower())
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"m": dt.timedelta(minutes=n), "h": dt.timedelta(hours=n), "d": dt.timedelta(days=n),
                 "w": dt.timedelta(weeks=n)}[unit]
        return dt.datetime.now(dt.UTC) - delta
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--since {text!r}: use a date (2026-12-01), a date-time, or an age (30m, 24h, 7d)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def audit_command(
    user: str = typer.Option(None, "--user", help="Only this actor (user name, oidc:NAME, cli:NAME)"),
    since: str = typer.Option(None, "--since", help="From this date/date-time (UTC) or age (30m, 24h, 7d)"),
    collection: str = typer.Option(None, "--collection", help="Only reads of this collection (parties, rights ...)"),
    action: str = typer.Option(None, "--action", help="read | user.add | user.revoke"),
    limit: int = typer.Option(100, "--limit", min=1, help="The latest N events"),
    json_out: bool = typer.Option(False, "--json", help="JSON lines"),
) -> None:
    """Show the access audit: every read of register data and every change of users."""
    import json

    from landgeo.access.users import audit_events, detail_text
    from landgeo.db.connect import connect

    with connect() as conn:
        rows = audit_events(conn, user, _since(since), collection, action, limit)
    for r in rows:
        if json_out:
            print(json.dumps(r, default=str, ensure_ascii=False))
            continue
        ids = ",".join(str(i) for i in r["item_ids"][:20]) + (" …" if len(r["item_ids"]) > 20 else "")
        print(f"{r['at']:%Y-%m-%d %H:%M:%S} {r['actor']} ({r['actor_role'] or '-'}, {r['auth']}) {r['action']} "
              f"{r['collection'] or '-'} ids[{len(r['item_ids'])}]={ids or '-'} {detail_text(r['detail'])}")
    if not rows and not json_out:
        print("no audit events match")


def register(app: typer.Typer) -> None:
    app.command("audit")(audit_command)
