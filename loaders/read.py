"""Read stage (đọc dữ liệu nguồn): open a source file and stream it as Arrow batches through pyogrio/GDAL.

Sources: Shapefile (.shp with .shx/.dbf, ± .prj, ± .cpg), a zipped Shapefile (or any single GIS file in a
.zip), GeoPackage (``--layer``), GeoJSON, FlatGeobuf, CSV with a WKT column or X/Y columns, DXF.
Problems with the file itself (missing parts, truncated, unreadable, empty, not GIS at all) are refused
here with one line saying what and where, before anything touches the database.
"""

from __future__ import annotations

import re
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyogrio
from pyogrio import raw
from pyogrio.errors import DataLayerError, DataSourceError

from landgeo.errors import UserError
from loaders import checksum

FORMATS = {
    ".shp": "Shapefile", ".zip": "zipped Shapefile", ".gpkg": "GeoPackage", ".geojson": "GeoJSON",
    ".json": "GeoJSON", ".fgb": "FlatGeobuf", ".csv": "CSV", ".dxf": "DXF",
}
# CSV geometry columns GDAL should recognise (case-insensitive).
CSV_OPTIONS = {
    "GEOM_POSSIBLE_NAMES": "wkt,geom,geometry,the_geom,shape,wkt_geom",
    "X_POSSIBLE_NAMES": "x,lon,long,longitude,easting,toado_x,kinh_do",
    "Y_POSSIBLE_NAMES": "y,lat,latitude,northing,toado_y,vi_do",
    "KEEP_GEOM_COLUMNS": "NO",
}
GEOMETRY_COLUMN = "wkb_geometry"


@dataclass
class Batch:
    """``count`` features starting at ``start`` (0-based feature index in the source)."""

    start: int
    geometry: np.ndarray  # object array of WKB bytes (or None)
    columns: dict[str, pa.Array]

    @property
    def count(self) -> int:
        return len(self.geometry)


@dataclass
class Source:
    """An opened source layer: what to pass to GDAL, what it holds, which files make it up."""

    path: Path
    gdal_path: str
    format: str
    layer: str | None
    files: list[Path]
    info: dict
    open_options: dict = field(default_factory=dict)
    config: dict = field(default_factory=dict)
    prj_text: str | None = None
    cpg_text: str | None = None
    dbf: bool = False  # attribute text is raw DBF bytes (read as Latin-1, decoded by landgeo.vn_encodings)
    dxf: bool = False  # a CAD drawing: text labels are joined into the polygons that contain them
    notes: list[str] = field(default_factory=list)

    @property
    def feature_count(self) -> int:
        return int(self.info.get("features") or 0)

    @property
    def fields(self) -> list[str]:
        if self.dxf:
            return ["Layer", *DXF_LABEL_FIELDS]
        return [str(f) for f in self.info.get("fields", [])]

    @property
    def declared_crs(self) -> str | None:
        return self.info.get("crs")

    @property
    def geometry_type(self) -> str | None:
        return self.info.get("geometry_type")

    def sha256(self) -> str:
        """SHA-256 of the bytes that make up the source (all Shapefile parts, in a fixed order)."""
        return checksum.sha256(self.files)

    def batches(self, batch_size: int = 65536) -> Iterator[Batch]:
        """Stream the layer as Arrow record batches; memory is bounded by ``batch_size``."""
        if self.dxf:
            yield from self._dxf_batches(batch_size)
            return
        kwargs = dict(self.open_options)
        if self.dbf:
            kwargs["encoding"] = "ISO-8859-1"
        start = 0
        try:
            with _config(self.config), raw.open_arrow(self.gdal_path, layer=self.layer, batch_size=batch_size,
                                                      use_pyarrow=True, datetime_as_string=True,
                                                      **kwargs) as (meta, reader):
                geom_name = meta.get("geometry_name") or GEOMETRY_COLUMN
                for record_batch in reader:
                    names = record_batch.schema.names
                    if geom_name in names:
                        geometry = record_batch.column(geom_name).to_numpy(zero_copy_only=False)
                    else:
                        geometry = np.full(record_batch.num_rows, None, dtype=object)
                    columns = {n: record_batch.column(n) for n in names if n != geom_name and n != "OGC_FID"}
                    batch = Batch(start, geometry, columns)
                    start += batch.count
                    yield batch
        except (DataSourceError, DataLayerError, pa.ArrowInvalid, OSError) as exc:
            raise UserError(f"{self.path.name}: cannot read feature {start + 1} onwards: {_first_line(exc)}") from exc


    def _dxf_batches(self, batch_size: int) -> Iterator[Batch]:
        """A DXF drawing: polygons and lines with the text labels (TEXT/MTEXT) that lie inside each polygon.

        Vietnamese cadastral drawings label each parcel with its number, land-use code and area as separate
        texts (or one multi-line text) inside it. Each label token is classified: a whole number is the
        parcel number (``so_thua``), a code such as ``ONT`` or ``ONT+CLN`` the land use (``mdsd``), a decimal
        number the area (``dien_tich``). Text entities themselves are not loaded.
        """
        try:
            with _config(self.config):
                meta, table = pyogrio.read_arrow(self.gdal_path, layer=self.layer)
        except (DataSourceError, DataLayerError) as exc:
            raise UserError(f"{self.path.name}: cannot read the drawing: {_first_line(exc)}") from exc
        import shapely

        geoms = shapely.from_wkb(table.column(meta.get("geometry_name") or GEOMETRY_COLUMN)
                                 .to_numpy(zero_copy_only=False), on_invalid="ignore")
        texts = table.column("Text").to_pylist() if "Text" in table.column_names else [None] * len(geoms)
        layers = table.column("Layer").to_pylist() if "Layer" in table.column_names else [None] * len(geoms)
        types = shapely.get_type_id(geoms)
        is_label = np.array([t is not None and str(t).strip() != "" for t in texts]) & (types == 0)
        shapes = np.flatnonzero(~is_label & ~shapely.is_missing(geoms))
        labels = np.flatnonzero(is_label)
        columns: dict[str, list] = {name: [None] * len(shapes) for name in DXF_LABEL_FIELDS}
        polygonal = np.isin(types[shapes], (3, 6))
        if len(labels) and polygonal.any():
            poly_rows = shapes[polygonal]
            tree = shapely.STRtree(geoms[poly_rows])
            pt_idx, poly_idx = tree.query(geoms[labels], predicate="within")
            where = {int(r): i for i, r in enumerate(shapes)}
            for p, q in zip(pt_idx, poly_idx, strict=True):
                row = where[int(poly_rows[q])]
                for token in _label_tokens(str(texts[labels[p]])):
                    name = _classify_label(token)
                    if name and columns[name][row] is None:
                        columns[name][row] = token
        skipped = len(geoms) - len(shapes)
        if skipped:
            self.notes.append(f"DXF: {len(labels)} text labels joined into the polygons that contain them; "
                              f"{skipped} label/empty entities not loaded")
        for start in range(0, len(shapes), batch_size):
            rows = shapes[start: start + batch_size]
            cols = {"Layer": pa.array([layers[r] for r in rows], pa.string())}
            for name in DXF_LABEL_FIELDS:
                cols[name] = pa.array(columns[name][start: start + batch_size], pa.string())
            yield Batch(start, shapely.to_wkb(geoms[rows]), cols)


DXF_LABEL_FIELDS = ("so_thua", "mdsd", "dien_tich")
_LAND_USE_LABEL = re.compile(r"^[A-Z]{2,4}([+,][A-Z]{2,4})*$")


def _label_tokens(text: str) -> list[str]:
    """Tokens of a label: MTEXT formatting removed, split on line breaks, '/' and spaces."""
    text = re.sub(r"\\[A-Za-z][^;]*;|[{}]", " ", text.replace("\\P", "\n"))
    return [t for t in re.split(r"[\s/]+", text) if t]


def _classify_label(token: str) -> str | None:
    if token.isdigit():
        return "so_thua"
    if _LAND_USE_LABEL.match(token):
        return "mdsd"
    if re.fullmatch(r"\d+[.,]\d+", token):
        return "dien_tich"
    return None


class _config:
    """Set GDAL config options for the duration of a read (pyogrio has no context manager for it)."""

    def __init__(self, options: dict) -> None:
        self.options = options

    def __enter__(self):
        if self.options:
            pyogrio.set_gdal_config_options(self.options)
        return self

    def __exit__(self, *exc) -> None:
        if self.options:
            pyogrio.set_gdal_config_options({k: None for k in self.options})


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__


def _sibling(path: Path, ext: str) -> Path | None:
    for candidate in path.parent.iterdir():
        if candidate.stem == path.stem and candidate.suffix.lower() == ext:
            return candidate
    return None


def check_shapefile_parts(shp: Path) -> tuple[Path, Path]:
    """The .shx and .dbf of a Shapefile; refuse a missing or truncated part with the reason."""
    parts = {}
    for ext, what in ((".shx", "index"), (".dbf", "attribute table")):
        found = _sibling(shp, ext)
        if found is None:
            raise UserError(f"{shp.name}: the {ext} ({what}) is missing next to it; a Shapefile needs .shp, .shx "
                            "and .dbf (copy all the parts, or send the .zip)")
        parts[ext] = found
    for part in (shp, parts[".shx"]):
        _check_shape_header(part)
    _check_dbf(parts[".dbf"])
    return parts[".shx"], parts[".dbf"]


def _check_shape_header(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(100)
    if len(header) < 100 or struct.unpack(">i", header[:4])[0] != 9994:
        raise UserError(f"{path.name}: not a Shapefile {path.suffix} (bad or missing 100-byte header)")
    declared = struct.unpack(">i", header[24:28])[0] * 2
    if size < declared:
        raise UserError(f"{path.name} is truncated: its header says {declared} bytes, the file has {size} "
                        "(incomplete copy or download?)")


def _check_dbf(path: Path) -> None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(32)
    if len(header) < 32:
        raise UserError(f"{path.name}: not a dBase file (header too short)")
    records, header_len, record_len = struct.unpack("<IHH", header[4:12])
    if size < header_len + records * record_len:
        raise UserError(f"{path.name} is truncated: {records} records of {record_len} bytes need "
                        f"{header_len + records * record_len} bytes, the file has {size}")


def _read_text(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_bytes().decode("latin1").strip()


def open_source(path: str | Path, layer: str | None = None) -> Source:
    """Open ``path`` (and ``layer``) for reading; refuse files that are missing parts, damaged or not GIS."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file")
    if path.is_dir():
        raise UserError(f"{path} is a folder: give the .shp, .gpkg, .zip ... file itself")
    ext = path.suffix.lower()
    files = [path]
    prj = cpg = None
    dbf = False
    gdal_path = str(path.resolve())
    open_options: dict = {}
    config: dict = {}
    fmt = FORMATS.get(ext, "unknown")
    if ext == ".shp":
        shx, dbf_path = check_shapefile_parts(path)
        prj_path, cpg_path = _sibling(path, ".prj"), _sibling(path, ".cpg")
        files += [shx, dbf_path] + [p for p in (prj_path, cpg_path) if p]
        prj, cpg, dbf = _read_text(prj_path), _read_text(cpg_path), True
    elif ext == ".zip":
        gdal_path, layer, prj, cpg, dbf, fmt = _open_zip(path, layer)
    elif ext == ".csv":
        open_options = dict(CSV_OPTIONS)
    elif ext == ".dxf":
        config = {"DXF_CLOSED_LINE_AS_POLYGON": "TRUE"}
        open_options = {}
    layer = _choose_layer(path, gdal_path, layer, open_options)
    try:
        with _config(config):
            info = pyogrio.read_info(gdal_path, layer=layer, force_feature_count=True, **open_options)
    except (DataSourceError, DataLayerError) as exc:
        raise UserError(f"{path.name} is not a GIS file GDAL can read ({_first_line(exc)})") from exc
    if fmt == "unknown":
        fmt = info.get("driver") or "unknown"
    source = Source(path, gdal_path, fmt, layer, files, info, open_options, config, prj, cpg, dbf,
                    dxf=ext == ".dxf")
    where = f"layer {layer!r} of {path.name}" if layer else path.name
    if source.feature_count == 0:
        raise UserError(f"{where} has no features: nothing to load")
    if not source.geometry_type:
        hint = " (CSV needs a WKT column or X/Y columns)" if ext == ".csv" else ""
        raise UserError(f"{where} has no geometry column{hint}")
    return source


def _choose_layer(path: Path, gdal_path: str, layer: str | None, open_options: dict) -> str | None:
    try:
        layers = pyogrio.list_layers(gdal_path)
    except (DataSourceError, DataLayerError) as exc:
        raise UserError(f"{path.name} is not a GIS file GDAL can read ({_first_line(exc)})") from exc
    except Exception as exc:  # GDAL raises plain RuntimeError for some non-GIS bytes
        raise UserError(f"{path.name} is not a GIS file GDAL can read ({_first_line(exc)})") from exc
    names = [str(row[0]) for row in layers]
    if layer is not None:
        if layer not in names:
            raise UserError(f"{path.name} has no layer {layer!r}; layers: {', '.join(names) or 'none'}")
        return layer
    if not names:
        raise UserError(f"{path.name} has no layers: nothing to load")
    spatial = [str(row[0]) for row in layers if row[1]]
    if len(names) > 1:
        if len(spatial) == 1:
            return spatial[0]
        raise UserError(f"{path.name} has {len(names)} layers ({', '.join(names)}): choose one with --layer")
    return names[0]


_ZIP_GIS = (".shp", ".gpkg", ".geojson", ".json", ".fgb", ".csv", ".dxf")


def _open_zip(path: Path, layer: str | None):
    try:
        with zipfile.ZipFile(path) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/") and "__MACOSX" not in n]
            candidates = [n for n in names if Path(n).suffix.lower() in _ZIP_GIS]
            if not candidates:
                raise UserError(f"{path.name}: the zip holds no Shapefile or other GIS file")
            if layer:
                chosen = [n for n in candidates if Path(n).stem == layer or n == layer]
                if not chosen and len(candidates) == 1:
                    chosen = candidates  # --layer names a layer inside the one file (e.g. a GeoPackage)
            else:
                chosen = candidates
            if len(chosen) != 1:
                listing = ", ".join(Path(n).stem for n in candidates)
                raise UserError(f"{path.name} holds {len(candidates)} GIS files ({listing}): choose one with --layer")
            inner = chosen[0]
            suffix = Path(inner).suffix.lower()
            prj = cpg = None
            if suffix == ".shp":
                stem = inner[: -len(Path(inner).suffix)]
                siblings = {Path(n).suffix.lower(): n for n in names if n[: -len(Path(n).suffix) or None] == stem}
                for ext, what in ((".shx", "index"), (".dbf", "attribute table")):
                    if ext not in siblings:
                        raise UserError(f"{path.name}: {Path(inner).name} has no {ext} ({what}) in the zip; a "
                                        "Shapefile needs .shp, .shx and .dbf")
                _check_zip_member_sizes(zf, path, inner, siblings)
                if ".prj" in siblings:
                    prj = zf.read(siblings[".prj"]).decode("latin1").strip()
                if ".cpg" in siblings:
                    cpg = zf.read(siblings[".cpg"]).decode("latin1").strip()
    except zipfile.BadZipFile as exc:
        raise UserError(f"{path.name} is not a valid zip file ({exc})") from exc
    inner_layer = Path(inner).stem if suffix == ".shp" else (layer if layer and layer != Path(inner).stem else None)
    fmt = "zipped Shapefile" if suffix == ".shp" else f"zipped {FORMATS.get(suffix, suffix)}"
    return f"/vsizip/{path.resolve()}/{inner}", inner_layer, prj, cpg, suffix == ".shp", fmt


def _check_zip_member_sizes(zf: zipfile.ZipFile, path: Path, shp: str, siblings: dict) -> None:
    for ext in (".shp", ".shx"):
        name = shp if ext == ".shp" else siblings[ext]
        data = zf.open(name).read(100)
        if len(data) < 100 or struct.unpack(">i", data[:4])[0] != 9994:
            raise UserError(f"{path.name}: {Path(name).name} is not a Shapefile {ext} (bad header)")
        declared = struct.unpack(">i", data[24:28])[0] * 2
        if zf.getinfo(name).file_size < declared:
            raise UserError(f"{path.name}: {Path(name).name} is truncated: its header says {declared} bytes, it has "
                            f"{zf.getinfo(name).file_size}")
