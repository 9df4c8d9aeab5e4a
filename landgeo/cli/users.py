"""``landgeo users``: land-office identities (add prints a token once, as the last line; list; revoke)."""

from __future__ import annotations

import typer

users_app = typer.Typer(help="Land-office users: roles, province/commune scopes, API tokens.", no_args_is_help=True)


@users_app.command("add")
def add(
    name: str = typer.Argument(..., help="User name (letters, digits, . _ @ -), e.g. can-bo.79"),
    role: str = typer.Option(..., "--role", help="analyst | officer | admin"),
    province: list[str] = typer.Option([], "--province", help="Officer scope: a province code (repeatable)"),
    commune: list[str] = typer.Option([], "--commune", help="Officer scope: a commune code (repeatable)"),
    expires: str = typer.Option(None, "--expires", help="Token lifetime: 30d, 12h, 2w or a date "
                                "(default $LANDGEO_TOKEN_TTL_DAYS, 90 days)"),
) -> None:
    """Create a user and print its API token (shown once, the last line: keep it, it is stored only hashed)."""
    from landgeo.access.users import add_user
    from landgeo.db.connect import connect
    from landgeo.settings import get_settings

    with connect() as conn:
        conn.autocommit = True
        new = add_user(conn, name, role, province, commune, expires, get_settings().token_ttl_days)
    scope = ", ".join(new.provinces + new.communes) or ("everything" if role == "admin" else "public data")
    print(f"user {new.name}: {new.role}, scope {scope}, token expires {new.expires_at:%Y-%m-%d %H:%M} UTC")
    print("the token below is shown once; send it as: Authorization: Bearer TOKEN")
    print(new.token)


@users_app.command("list")
def list_(json_out: bool = typer.Option(False, "--json", help="JSON lines instead of a table")) -> None:
    """Users, roles, scopes, token prefixes and expiry (never a token)."""
    import json

    from landgeo.access.users import list_users
    from landgeo.db.connect import connect

    with connect() as conn:
        rows = list_users(conn)
    if json_out:
        for r in rows:
            print(json.dumps(r, default=str, ensure_ascii=False))
        return
    print(f"{'name':24} {'role':8} {'scope':24} {'state':8} {'token':12} expires (UTC)")
    for r in rows:
        scope = ",".join(r["provinces"] + r["communes"]) or "-"
        exp = f"{r['expires_at']:%Y-%m-%d %H:%M}" if r["expires_at"] else "-"
        print(f"{r['name']:24} {r['role']:8} {scope:24} {r['state']:8} {r['token']:12} {exp}")


@users_app.command("revoke")
def revoke(name: str = typer.Argument(..., help="User to revoke")) -> None:
    """Revoke a user and all its tokens (takes effect on the next request)."""
    from landgeo.access.users import revoke_user
    from landgeo.db.connect import connect

    with connect() as conn:
        conn.autocommit = True
        n = revoke_user(conn, name)
    print(f"revoked {name} ({n} token{'s' if n != 1 else ''})")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
