"""Write the demo data set in the formats provinces hand over, and remember what was written.

| file | format | CRS | what |
| --- | --- | --- | --- |
| ``thua_dat/DC_<MaXa>.shp`` | Shapefile, TCVN3 DBF, no .cpg, ESRI .prj | VN-2000 / TM-3 105° | one commune's parcels |
| ``to_ban_do.gpkg`` (layer ``ToBanDo``) | GeoPackage | EPSG:5897 | map sheets |
| ``nen_dia_ly.gpkg`` (one layer per theme) | GeoPackage | EPSG:5897 | base geography |
| ``don_vi_hanh_chinh.geojson`` | GeoJSON (RFC 7946) | CRS84, official EPSG:6960 shift | the communes |
| ``dia_danh.geojson`` | GeoJSON (RFC 7946) | CRS84 | place names |
| ``bien_dong/DC_<MaXa>_bien_dong.shp`` | as the parcels | VN-2000 / TM-3 105° | a later update: split, change of use |
| ``manifest.json`` | | | seed, generator version, checksum, files, planted errors |
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

from landgeo.crs import transform
from landgeo.demo import tcvn3
from landgeo.demo.shapefile import DbfField, write_polygons
from landgeo.demo.synth import EPSG_TM3, GENERATOR_VERSION, DemoData, Layer, generate

# The .prj a provincial office's ArcGIS/MicroStation export carries: ESRI WKT, no TOWGS84, no EPSG code.
PRJ_TM3_105 = (
    'PROJCS["VN_2000_TM3_105",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",SPHEROID["WGS_1984",6378137.0,'
    '298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",105.0],'
    'PARAMETER["Scale_Factor",0.9999],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)

PARCEL_FIELDS = (
    DbfField("MaXa", "C", 5),
    DbfField("SoHieuToBa", "N", 4),
    DbfField("SoThuTuThu", "N", 6),
    DbfField("DienTich", "N", 12, 1),
    DbfField("KyHieuMucD", "C", 20),
    DbfField("DiaChi", "C", 120),
)

THEME_LAYERS = {  # target id -> GeoPackage layer name in nen_dia_ly.gpkg
    "boundaries": "DiaGioiHanhChinh", "roads": "DuongBo", "bridges": "Cau", "railways": "DuongSat",
    "hydro-lines": "ThuyHeDuong", "hydro-areas": "ThuyHeVung", "buildings": "Nha", "built-up-areas": "KhuDanCu",
    "contours": "DuongBinhDo", "spot-heights": "DiemDoCao", "control-points": "DiemKhongChe",
    "land-cover": "PhuBeMat",
}


@dataclass(frozen=True)
class Source:
    """One file (and layer) to load, and the target it feeds."""

    target: str
    path: Path
    layer: str | None = None


def update_file(out: Path, commune: str) -> Path:
    """The later update (biến động) of one commune: only the changed parcels."""
    return out / "bien_dong" / f"DC_{commune}_bien_dong.shp"


def sources(out: Path, communes: list[str], themes: list[str], updated: str | None = None) -> list[Source]:
    """Every load the demo runs, in the order a land office would run them: communes, map sheets, parcels of
    each commune, the later update (``updated`` commune), base-geography themes, place names."""
    items = [Source("admin-units", out / "don_vi_hanh_chinh.geojson"),
             Source("map-sheets", out / "to_ban_do.gpkg", "ToBanDo")]
    items += [Source("parcels", out / "thua_dat" / f"DC_{code}.shp") for code in communes]
    if updated:
        items.append(Source("parcels", update_file(out, updated)))
    items += [Source(target, out / "nen_dia_ly.gpkg", layer) for target, layer in THEME_LAYERS.items()
              if target in themes]
    items.append(Source("place-names", out / "dia_danh.geojson"))
    return items


def sources_from_manifest(out: Path, manifest: dict) -> list[Source]:
    """The loads for a data set already on disk (no need to regenerate it to know them)."""
    communes = [Path(f).stem.removeprefix("DC_") for f in manifest["files"]
                if f.startswith("thua_dat/") and f.endswith(".shp")]
    updates = manifest.get("updates") or []
    return sources(out, communes, list(manifest["counts"]), updates[0]["commune"] if updates else None)


def _field_type(values: list) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int64"
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return "float64"
    return "object"


def _write_gpkg(path: Path, layer: Layer, layer_name: str, append: bool) -> None:
    names = list(layer.rows[0].keys())
    field_data = []
    for name in names:
        values = [row.get(name) for row in layer.rows]
        kind = _field_type(values)
        if kind == "object":
            field_data.append(np.asarray(values, dtype=object))
        else:
            field_data.append(np.asarray([np.nan if v is None else v for v in values], dtype=kind))
    wkb = shapely.to_wkb(np.asarray(layer.geoms, dtype=object))
    pyogrio.raw.write(str(path), wkb, field_data, names, layer=layer_name, driver="GPKG",
                      geometry_type=layer.geometry_type, crs=f"EPSG:{EPSG_TM3}", append=append)


def _to_crs84(geoms: list) -> list:
    def fn(xy):
        lon, lat = transform(EPSG_TM3, "OGC:CRS84", xy[:, 0], xy[:, 1])
        return np.column_stack([np.round(lon, 9), np.round(lat, 9)])

    return list(shapely.transform(np.asarray(geoms, dtype=object), fn))


def _write_geojson(path: Path, layer: Layer) -> None:
    feats = []
    for g, row in zip(_to_crs84(layer.geoms), layer.rows, strict=True):
        feats.append({"type": "Feature", "properties": row, "geometry": json.loads(shapely.to_geojson(g))})
    doc = {"type": "FeatureCollection", "name": layer.name, "features": feats}
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")


def write(data: DemoData, out: Path) -> dict:
    """Write every file under ``out`` and the manifest; returns the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in (out / "to_ban_do.gpkg", out / "nen_dia_ly.gpkg"):
        stale.unlink(missing_ok=True)
    for code, layer in data.parcels.items():
        records = [[row[f.name] for f in PARCEL_FIELDS] for row in layer.rows]
        write_polygons(out / "thua_dat" / f"DC_{code}", layer.geoms, PARCEL_FIELDS, records, tcvn3.encode,
                       PRJ_TM3_105)
    if data.updates is not None:
        records = [[row[f.name] for f in PARCEL_FIELDS] for row in data.updates.rows]
        write_polygons(update_file(out, data.updates.rows[0]["MaXa"]).with_suffix(""), data.updates.geoms,
                       PARCEL_FIELDS, records, tcvn3.encode, PRJ_TM3_105)
    _write_gpkg(out / "to_ban_do.gpkg", data.map_sheets, "ToBanDo", append=False)
    first = True
    for target, layer_name in THEME_LAYERS.items():
        if target in data.themes:
            _write_gpkg(out / "nen_dia_ly.gpkg", data.themes[target], layer_name, append=not first)
            first = False
    _write_geojson(out / "don_vi_hanh_chinh.geojson", data.admin_units)
    _write_geojson(out / "dia_danh.geojson", data.place_names)
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "seed": data.seed,
        "checksum": data.checksum(),
        "crs": f"EPSG:{EPSG_TM3}",
        "counts": {"parcels": sum(len(v) for v in data.parcels.values()), "map-sheets": len(data.map_sheets),
                   "admin-units": len(data.admin_units), "place-names": len(data.place_names),
                   **{k: len(v) for k, v in data.themes.items()}},
        "planted_errors": data.planted,
        "updates": data.events,
        "files": sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()
                        and p.name != "manifest.json"),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


def read_manifest(out: Path) -> dict | None:
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not all((out / f).is_file() for f in manifest.get("files", [])):
        return None
    return manifest


def ensure(out: Path, seed: int, log=print) -> tuple[dict, bool]:
    """Generate unless ``out`` already holds this seed and generator version; returns (manifest, generated)."""
    manifest = read_manifest(out)
    if manifest and manifest.get("seed") == seed and manifest.get("generator_version") == GENERATOR_VERSION:
        return manifest, False
    log(f"generating the demo data set (seed {seed}) in {out}")
    return write(generate(seed), out), True
