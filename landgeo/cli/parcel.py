"""``landgeo parcel``: register mutations from the command line (tách thửa, hợp thửa), the same transaction,
rules, history and audit as ``POST /processes/parcel-split|parcel-merge/execution``."""

from __future__ import annotations

import json
from pathlib import Path

import typer

parcel_app = typer.Typer(help="Register mutations: split and merge parcels (with history and audit).",
                         no_args_is_help=True)

_AS = typer.Option(..., "--as", help="The land-office user acting (an officer of the parcel's scope, or admin)")
_NUMBER = typer.Option(..., "--document-number", help="Legal basis: number of the decision / file (số quyết định)")
_DATE = typer.Option(..., "--document-date", help="Legal basis: its date, YYYY-MM-DD")
_CRS = typer.Option("http://www.opengis.net/def/crs/OGC/1.3/CRS84", "--crs",
                    help="CRS of the file's coordinates, e.g. http://www.opengis.net/def/crs/EPSG/0/9210")


def _run(kind: str, user: str, inputs: dict, crs_uri: str) -> None:
    from landgeo.api.collections import get_collection
    from landgeo.api.crs import parse_crs
    from landgeo.db.connect import connect
    from landgeo.errors import UserError
    from landgeo.register import mutations, writes
    from landgeo.register.errors import WriteError
    from landgeo.register.operator import cli_identity

    try:
        crs = parse_crs(crs_uri, get_collection("parcels").crs_uris)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    with connect() as conn:
        conn.autocommit = True
        identity = cli_identity(conn, user)
        try:
            fn = mutations.split if kind == "split" else mutations.merge
            out = fn(conn, identity, inputs, writes.BodyCrs(crs.srid, crs.lat_first, crs.uri))
        except WriteError as exc:
            first = next((f for f in exc.findings if f.get("severity") == "error"), None)
            raise UserError(exc.description if first is None or first["message"] in exc.description
                            else f"{exc.description} ({first['message']})") from None
    for w in out.warnings:
        print(f"warning: {w['code']}: {w['message']}")
    print(f"{kind}: mutation {out.mutation}; retired {', '.join(map(str, out.retired))}; "
          f"new {', '.join(map(str, out.ids))}")


def _current_etag(fid: int) -> str:
    from landdb.versions import peek
    from landgeo.db.connect import connect
    from landgeo.errors import UserError

    with connect() as conn:
        cur = peek(conn, fid)
    if cur is None:
        raise UserError(f"no parcel {fid}")
    return cur.etag


def _read(path: Path):
    from landgeo.errors import UserError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable GeoJSON file ({exc})") from None


@parcel_app.command("split")
def split(
    parcel: int = typer.Argument(..., help="Feature id of the parcel to split"),
    parts: Path = typer.Option(..., "--parts", help="GeoJSON FeatureCollection of the new parcels "
                               "(geometry, parcel_number, land_use_codes, declared_area)"),
    user: str = _AS, number: str = _NUMBER, date: str = _DATE, crs: str = _CRS,
    if_match: str = typer.Option(None, "--if-match", help="ETag the change is based on (default: current)"),
) -> None:
    """Split one parcel into the parcels of --parts, in one transaction."""
    inputs = {"parcel": parcel, "if_match": if_match or _current_etag(parcel), "parts": _read(parts),
              "document": {"number": number, "date": date}}
    _run("split", user, inputs, crs)


@parcel_app.command("merge")
def merge(
    parcels: list[int] = typer.Argument(..., help="Feature ids of the adjacent parcels to merge"),
    result: Path = typer.Option(..., "--result", help="GeoJSON Feature of the merged parcel"),
    user: str = _AS, number: str = _NUMBER, date: str = _DATE, crs: str = _CRS,
) -> None:
    """Merge adjacent parcels of one commune into the parcel of --result, in one transaction."""
    inputs = {"parcels": parcels, "if_match": [_current_etag(p) for p in parcels], "result": _read(result),
              "document": {"number": number, "date": date}}
    _run("merge", user, inputs, crs)


def register(app: typer.Typer) -> None:
    app.add_typer(parcel_app, name="parcel")
