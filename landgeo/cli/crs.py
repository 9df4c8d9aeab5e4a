"""``landgeo crs``: the VN-2000 coordinate systems — list, show, convert, detect (hệ tọa độ VN-2000)."""

from __future__ import annotations

import json
import math
import re
import sys

import typer

from landgeo.crs import CRS, detect, find_province, provinces, registry, resolve, transform
from landgeo.crs.files import detect_file
from landgeo.crs.transform import describe
from landgeo.errors import UserError

app = typer.Typer(help="VN-2000 coordinate systems: registry, provinces, official conversion, detection.",
                  no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="crs")


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    return repr(float(v))


def _crs_row(c: CRS) -> str:
    tm = f"lon0={_fmt(c.lon0)} k0={_fmt(c.k0)}" if c.kind == "projected" else ""
    return f"{c.code}\t{c.name}\t{c.kind}\t{c.datum}\t{tm}".rstrip()


def _province_row(p) -> str:
    extra = ""
    if p.generation == "2025" and p.predecessors:
        extra = f"\tfrom {'+'.join(p.predecessors)} (2004); legacy meridians {', '.join(map(_fmt, p.legacy_lon0s))}"
    elif p.generation == "2004":
        extra = f"\tbecame {p.successor} (2025)"
    if p.conflicting_lon0:
        extra += f"\tsources disagree: {p.conflicting_lon0}"
    return f"{p.generation}\t{p.code}\t{p.name}\tlon0={_fmt(p.lon0)}\t{p.crs.code}{extra}"


@app.command("list")
def list_(
    province: str = typer.Option(None, "--province", "-p", help="A province code or name, or 'all'."),
    generation: str = typer.Option(None, "--generation", "-g", help="2025 (34 provinces) or 2004 (63 + Hà Tây)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tab-separated lines."),
) -> None:
    """List the CRSs of the registry, or provinces with their central meridian and TM-3 CRS."""
    if province is None and generation is None:
        items = registry()
        if as_json:
            typer.echo(json.dumps([_crs_json(c) for c in items], ensure_ascii=False, indent=1))
        else:
            for c in items:
                typer.echo(_crs_row(c))
        return
    if province is None or province.lower() == "all":
        items_p = provinces(generation)
    else:
        items_p = [find_province(province, generation)]
    if as_json:
        typer.echo(json.dumps([_province_json(p) for p in items_p], ensure_ascii=False, indent=1))
    else:
        for p in items_p:
            typer.echo(_province_row(p))


def _crs_json(c: CRS) -> dict:
    return {"code": c.code, "epsg": c.epsg, "srid": c.srid, "uri": c.uri, "name": c.name, "kind": c.kind,
            "datum": c.datum, "lon0": c.lon0, "k0": c.k0, "false_easting": c.false_easting}


def _province_json(p) -> dict:
    return {"code": p.code, "name": p.name, "generation": p.generation, "lon0": p.lon0, "crs": p.crs.code,
            "srid": p.crs.srid, "predecessors": list(p.predecessors), "successor": p.successor,
            "legacy_lon0s": list(p.legacy_lon0s), "candidate_crs": [c.code for c in p.candidate_crs],
            "conflicting_lon0": p.conflicting_lon0 or None, "extent_approx": p.extent}


@app.command()
def show(
    crs: list[str] = typer.Argument(..., help="EPSG:9210, 9210, an OGC URI, CRS84, or vn2000:<province>[@2004]; "
                                              "several may be given."),
    wkt: bool = typer.Option(False, "--wkt", help="Also print the ESRI WKT (.prj) of the CRS."),
) -> None:
    """Describe a CRS: name, URI, projection, provinces that use it, and the operation to WGS 84."""
    resolved = [(spec, resolve(spec)) for spec in crs]  # all or nothing: a bad spec fails before any output
    for i, (spec, c) in enumerate(resolved):
        if i:
            typer.echo("")
        _show_one(spec, c, wkt)


def _show_one(spec: str, c: CRS, wkt: bool) -> None:
    if spec.lower().startswith(("vn2000:", "vn-2000:")):
        p = find_province(spec.split(":", 1)[1])
        typer.echo(f"province: {p.code} {p.name} ({p.generation}), central meridian {_fmt(p.lon0)}"
                   + (f"; legacy meridians {', '.join(map(_fmt, p.legacy_lon0s))}" if p.legacy_lon0s else "")
                   + (f"; sources disagree: {p.conflicting_lon0}" if p.conflicting_lon0 else ""))
    typer.echo(f"code: {c.code}")
    typer.echo(f"name: {c.name}")
    typer.echo(f"uri: {c.uri}")
    typer.echo(f"kind: {c.kind}")
    typer.echo(f"datum: {c.datum}")
    if c.kind == "projected":
        typer.echo(f"projection: Transverse Mercator, central meridian {_fmt(c.lon0)}, scale {_fmt(c.k0)}, "
                   f"false easting {_fmt(c.false_easting)}, false northing {_fmt(c.false_northing)}")
    area = c.to_pyproj().area_of_use
    if area is not None:
        typer.echo(f"area of use: {area.name} ({area.west}, {area.south}, {area.east}, {area.north})")
    users = [p for p in provinces() if p.crs == c]
    for gen in ("2025", "2004"):
        names = [f"{p.code} {p.name}" for p in users if p.generation == gen]
        if names:
            typer.echo(f"provinces {gen}: {', '.join(names)}")
    if c.datum != "WGS 84":
        typer.echo("to WGS 84: " + " -> ".join(describe(c, "EPSG:4326")))
    if wkt:
        typer.echo(c.to_pyproj().to_wkt("WKT1_ESRI"))


_SPLIT = re.compile(r"[\s,;]+")


def _read_points(values: list[str], northing_first: bool) -> tuple[list[float], list[float]]:
    """Pairs from the arguments, or "X Y" lines from stdin (comma, semicolon or blanks between)."""
    numbers: list[tuple[str, str, str]] = []  # (x, y, where)
    if values:
        if len(values) % 2:
            raise UserError(f"coordinates come in pairs: got {len(values)} numbers")
        numbers = [(values[i], values[i + 1], f"argument {i + 1}") for i in range(0, len(values), 2)]
    else:
        if sys.stdin.isatty():
            raise UserError("no coordinates: give X Y pairs as arguments or as lines on standard input")
        for n, line in enumerate(sys.stdin, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [p for p in _SPLIT.split(line) if p]
            if len(parts) != 2:
                raise UserError(f"stdin line {n}: expected 'X Y', got {line[:60]!r}")
            numbers.append((parts[0], parts[1], f"stdin line {n}"))
        if not numbers:
            raise UserError("no coordinates on standard input")
    xs: list[float] = []
    ys: list[float] = []
    for a, b, where in numbers:
        try:
            x, y = float(a), float(b)
        except ValueError:
            raise UserError(f"{where}: not a number pair: {a!r} {b!r}") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise UserError(f"{where}: not a finite number pair: {a!r} {b!r}")
        if northing_first:
            x, y = y, x
        xs.append(x)
        ys.append(y)
    return xs, ys


@app.command(context_settings={"ignore_unknown_options": True})
def convert(
    coords: list[str] = typer.Argument(None, help="X Y [X Y ...]; read 'X Y' lines from stdin when none given."),
    src: str = typer.Option(..., "--from", "-f", help="Source CRS (EPSG code, URI, CRS84, vn2000:<province>)."),
    dst: str = typer.Option(..., "--to", "-t", help="Target CRS."),
    northing_first: bool = typer.Option(False, "--northing-first",
                                        help="Input pairs are 'N E' / 'lat lon' (Vietnamese survey tables)."),
) -> None:
    """Convert points (official VN-2000 <-> WGS 84 operation): one 'X Y' line per point, east/north or lon/lat."""
    source, target = resolve(src), resolve(dst)
    xs, ys = _read_points(coords or [], northing_first)
    ox, oy = transform(source, target, xs, ys)
    for i, (a, b) in enumerate(zip(ox.tolist(), oy.tolist(), strict=True)):
        if not (math.isfinite(a) and math.isfinite(b)):
            raise UserError(f"point {i + 1} ({xs[i]} {ys[i]}) cannot be transformed "
                            f"from {source.code} to {target.code}")
        typer.echo(f"{a!r} {b!r}")


@app.command("detect")
def detect_(
    path: str = typer.Argument(..., help="A vector file: shapefile (.shp + .prj), GeoPackage, GeoJSON, ..."),
    province: str = typer.Option(None, "--province", "-p", help="Province the data belong to (code or name)."),
    layer: str = typer.Option(None, "--layer", "-l", help="Layer of a multi-layer file (GeoPackage)."),
    crs: str = typer.Option(None, "--crs", help="Check this CRS instead of what the file declares."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of text."),
) -> None:
    """What FILE declares, what its coordinates suggest, and flagged errors. Exit 1 when an error is flagged."""
    info, result = detect_file(path, province=province, layer=layer, declared=crs)
    flags = list(info.wkt_flags) + list(result.flags)
    ok = result.ok and not any(f.severity == "error" for f in info.wkt_flags)
    if as_json:
        declared = resolve(crs) if crs else info.declared
        typer.echo(json.dumps({
            "file": info.path, "layer": info.layer, "features": info.feature_count,
            "declared": declared.code if declared else None,
            "declared_from": "--crs" if crs else info.declared_from,
            "province": f"{result.province.code}@{result.province.generation}" if result.province else None,
            "layout": result.layout, "vertices": int(info.x.size),
            "candidates": [c.code for c in result.candidates],
            "located_in": [p.code for p in result.located_in],
            "flags": [{"code": f.code, "severity": f.severity, "message": f.message} for f in flags],
            "ok": ok,
        }, ensure_ascii=False, indent=1))
        if not ok:
            raise typer.Exit(1)
        return
    typer.echo(f"file: {info.path}" + (f" (layer {info.layer})" if info.layer else ""))
    typer.echo(f"features: {info.feature_count}")
    if crs:
        typer.echo(f"declared: {resolve(crs)} (from --crs)")
    elif info.declared is not None:
        typer.echo(f"declared: {info.declared} (from {info.declared_from})")
    elif info.declared_text:
        typer.echo(f"declared: unrecognised (from {info.declared_from})")
    else:
        typer.echo("declared: nothing")
    if result.province is not None:
        p = result.province
        typer.echo(f"province: {p.code} {p.name} ({p.generation}); its TM-3 CRSs: "
                   + ", ".join(c.code for c in p.candidate_crs))
    if info.x.size:
        fmt = "{:.6f}" if result.layout in ("lonlat", "latlon") else "{:.3f}"
        ext = (info.x.min(), info.y.min(), info.x.max(), info.y.max())
        typer.echo(f"coordinates: {info.x.size} vertices, layout {result.layout}, extent "
                   + " ".join(fmt.format(v) for v in ext))
    else:
        typer.echo("coordinates: none")
    if result.candidates:
        typer.echo("suggests: " + ", ".join(f"{c.code} ({c.name})" for c in result.candidates[:5]))
        if result.located_in:
            typer.echo(f"located in (approximately, read as {result.candidates[0].code}): "
                       + ", ".join(f"{p.code} {p.name}" for p in result.located_in[:3]))
    else:
        typer.echo("suggests: nothing")
    for f in flags:
        typer.echo(f"{f.severity}: {f.code}: {f.message}")
    typer.echo("result: ok" if ok else "result: errors found")
    if not ok:
        raise typer.Exit(1)


__all__ = ["app", "register", "detect"]
