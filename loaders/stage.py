"""Stage (bảng tạm nạp): a per-load UNLOGGED table in schema ``staging`` filled by COPY.

The table is created inside the load's transaction, so a load that fails, is interrupted or whose client
dies leaves no trace of it; a successful load drops it before committing. Rows are written as CSV made by
Arrow (vectorised, no Python loop per row) with geometry as hex EWKB in SRID 4756; measured faster here
than psycopg's binary COPY, which converts row by row in Python.
"""

from __future__ import annotations

import io
import os
import secrets

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely
from psycopg import Connection, sql

from landgeo.catalog import Target

SQL_TYPES = {"text": "text", "integer": "bigint", "number": "double precision", "date": "date",
             "datetime": "timestamptz", "text[]": "text[]", "json": "jsonb"}


class StagingTable:
    """``staging.load_<pid>_<random>``: feature_index (row in the source), the target's fields, extra columns,
    attributes (themes), geom (4756), reject_code/reject_message (set-based rejects)."""

    def __init__(self, conn: Connection, target: Target, extra: dict[str, str] | None = None) -> None:
        self.conn = conn
        self.target = target
        self.name = f"load_{os.getpid()}_{secrets.token_hex(4)}"
        self.fields = [f for f in target.fields]
        self.has_attributes = target.schema == "geobase"
        self.extra = dict(extra or {})  # more columns the merge copies (parcels: area_srid)
        self.columns = ["feature_index", *(f.name for f in self.fields), *self.extra]
        if self.has_attributes:
            self.columns.append("attributes")
        self.columns.append("geom")
        self.rows = 0

    @property
    def ident(self) -> sql.Composed:
        return sql.Identifier("staging", self.name)

    def create(self) -> None:
        cols = [sql.SQL("feature_index bigint NOT NULL")]
        cols += [sql.SQL("{} {}").format(sql.Identifier(f.name), sql.SQL(SQL_TYPES[f.type])) for f in self.fields]
        cols += [sql.SQL("{} {}").format(sql.Identifier(k), sql.SQL(v)) for k, v in self.extra.items()]
        if self.has_attributes:
            cols.append(sql.SQL("attributes jsonb"))
        cols += [sql.SQL("geom geometry(Geometry, 4756)"), sql.SQL("reject_code text"), sql.SQL("reject_message text")]
        self.conn.execute(sql.SQL("CREATE UNLOGGED TABLE {} ({})").format(self.ident, sql.SQL(", ").join(cols)))

    def prepare_batch(self, src_index: np.ndarray, columns: dict[str, pa.Array], geoms: np.ndarray,
                      attributes: pa.Array | None = None) -> bytes:
        """CSV bytes of one batch of accepted rows (``geoms`` already in SRID 4756), built by Arrow."""
        if len(geoms) == 0:
            return b""
        arrays: list[pa.Array] = [pa.array(src_index, pa.int64())]
        for f in self.fields:
            arr = columns.get(f.name)
            if arr is None:
                arrays.append(pa.nulls(len(geoms), pa.string()))
            elif f.type == "text[]":
                arrays.append(pg_array_literal(arr))
            else:
                arrays.append(arr)
        for name in self.extra:
            arrays.append(columns[name])
        if self.has_attributes:
            arrays.append(attributes if attributes is not None else pa.nulls(len(geoms), pa.string()))
        wkb = shapely.to_wkb(shapely.set_srid(geoms, 4756), hex=True, include_srid=True)
        arrays.append(pa.array(wkb, pa.string()))
        table = pa.Table.from_arrays(arrays, names=self.columns)
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
        return buf.getvalue()

    def write(self, data: bytes, rows: int) -> None:
        """COPY prepared CSV bytes into the table (runs on the database thread)."""
        if not data:
            return
        query = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
            self.ident, sql.SQL(", ").join(sql.Identifier(c) for c in self.columns))
        with self.conn.cursor() as cur, cur.copy(query) as copy:
            view = memoryview(data)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset: offset + (1 << 20)])
        self.rows += rows

    def copy_batch(self, src_index: np.ndarray, columns: dict[str, pa.Array], geoms: np.ndarray,
                   attributes: pa.Array | None = None) -> None:
        """Prepare and COPY one batch in the calling thread."""
        self.write(self.prepare_batch(src_index, columns, geoms, attributes), len(geoms))

    def drop(self) -> None:
        self.conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(self.ident))


def pg_array_literal(arr: pa.Array) -> pa.Array:
    """A list<string> Arrow array as PostgreSQL array literals ('{"ONT","CLN"}'), vectorised."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    values = arr.flatten()
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    quoted = pc.binary_join_element_wise('"', escaped, '"', "")
    offsets = pc.subtract(arr.offsets, arr.offsets[0])
    rebuilt = pa.ListArray.from_arrays(offsets, quoted, mask=arr.is_null())
    joined = pc.binary_join(rebuilt, ",")
    return pc.binary_join_element_wise("{", joined, "}", "")
