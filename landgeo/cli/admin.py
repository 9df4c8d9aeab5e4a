"""``landgeo admin``: the official administrative units (đơn vị hành chính) and the 2025 crosswalk."""

from __future__ import annotations

import sys

import typer

app = typer.Typer(help="Official administrative units of both generations and the 2025 commune crosswalk.",
                  no_args_is_help=True)


@app.command("convert")
def convert(
    code: str = typer.Argument(..., help="A commune code (mã xã) of either generation, e.g. 26734 or 00004."),
    reverse: bool = typer.Option(False, "--reverse", "-r",
                                 help="Read CODE as a new (2025) commune and list the old communes it came from "
                                      "(the default for a code that only the new list has)."),
) -> None:
    """Print the commune(s) an old commune code became on 2025-07-01 — or, for a new code, the communes it came
    from — one per line: code, name, and "(partly merged)" when only part of the old commune went there."""
    from landdb.crosswalk import UnknownCode, became, came_from, commune_code, unit_names
    from landgeo.db.connect import connect

    wanted = commune_code(code)
    with connect() as conn:
        forward, backward = became(conn, wanted), came_from(conn, wanted)
        names = unit_names(conn, wanted)
    if not forward and not backward:
        known = names.get("new") or names.get("old")
        if known:
            raise UnknownCode(f"commune {wanted} ({known}) is not in the 2025 crosswalk: the official table has no "
                              "conversion for it")
        raise UnknownCode(f"{wanted} is not an official commune code of either generation (before or after "
                          "2025-07-01)")
    lines = backward if (reverse or not forward) else forward
    if reverse and not backward:
        raise UnknownCode(f"{wanted} is not a new (2025) commune code; without --reverse it lists what it became")
    for counterpart in lines:
        print(counterpart.line())
    if forward and backward and not reverse:
        print(f"note: {wanted} read as the old commune {names.get('old') or '(not in the legacy list)'}; it is also "
              f"the new commune {names.get('new', '')}: `landgeo admin convert --reverse {wanted}` lists what that one "
              "came from", file=sys.stderr)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="admin")
