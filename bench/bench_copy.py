"""Measure the two ways the staging table can be filled, on the same rows, against the same server:

* CSV made by Arrow (vectorised) with geometry as hex EWKB (what ``loaders.write.stage`` does);
* psycopg binary COPY (``write_row`` per row, geometry sent as binary EWKB through a registered dumper).

    python bench/bench_copy.py [N=200000]

Prints seconds for building + sending each, and the ratio. Numbers are taken on a shared 2-core machine.
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely
from psycopg.adapt import Dumper
from psycopg.pq import Format

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.data import parcels  # noqa: E402
from landgeo.db.scratch import scratch_database  # noqa: E402

COLUMNS = "feature_index bigint, commune_code text, sheet_number bigint, parcel_number bigint, " \
          "land_use_codes text[], declared_area double precision, address text, geom geometry(Geometry, 4756)"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    wkb, fields = parcels(n)
    geoms = shapely.set_srid(shapely.from_wkb(wkb), 4756)
    with scratch_database("landgeo_bench_copy", migrated=False) as url:
        with psycopg.connect(url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.execute(f"CREATE UNLOGGED TABLE csv_copy ({COLUMNS})")
            conn.execute(f"CREATE UNLOGGED TABLE bin_copy ({COLUMNS})")
            conn.commit()

            t0 = time.perf_counter()
            codes = pa.array(["{" + c.replace("+", ",") + "}" for c in fields["KyHieuMucDichSuDung"]], pa.string())
            table = pa.Table.from_arrays([
                pa.array(np.arange(n)), pa.array(fields["MaXa"], pa.string()), pa.array(fields["SoHieuToBanDo"]),
                pa.array(fields["SoThuTuThua"]), codes, pa.array(fields["DienTich"]),
                pa.array(fields["DiaChi"], pa.string()),
                pa.array(shapely.to_wkb(geoms, hex=True, include_srid=True), pa.string())],
                names=["feature_index", "commune_code", "sheet_number", "parcel_number", "land_use_codes",
                       "declared_area", "address", "geom"])
            buf = io.BytesIO()
            pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="needed"))
            with conn.cursor() as cur, cur.copy("COPY csv_copy FROM STDIN WITH (FORMAT csv)") as copy:
                copy.write(buf.getvalue())
            conn.commit()
            csv_s = time.perf_counter() - t0

            geometry_oid = conn.execute("SELECT 'geometry'::regtype::oid").fetchone()[0]

            class EwkbDumper(Dumper):
                format = Format.BINARY
                oid = geometry_oid

                def dump(self, obj):
                    return obj

            t0 = time.perf_counter()
            ewkb = shapely.to_wkb(geoms, include_srid=True)
            with conn.cursor() as cur, cur.copy("COPY bin_copy FROM STDIN WITH (FORMAT binary)") as copy:
                copy.set_types(["bigint", "text", "bigint", "bigint", "text[]", "float8", "text", "bytea"])
                cur.adapters.register_dumper(bytes, EwkbDumper)
                copy.set_types(["bigint", "text", "bigint", "bigint", "text[]", "float8", "text", geometry_oid])
                for i in range(n):
                    copy.write_row((i, fields["MaXa"][i], int(fields["SoHieuToBanDo"][i]),
                                    int(fields["SoThuTuThua"][i]), fields["KyHieuMucDichSuDung"][i].split("+"),
                                    float(fields["DienTich"][i]), fields["DiaChi"][i], ewkb[i]))
            conn.commit()
            bin_s = time.perf_counter() - t0
            same = conn.execute("SELECT count(*) FROM csv_copy c JOIN bin_copy b USING (feature_index) "
                                "WHERE ST_OrderingEquals(c.geom, b.geom) AND c.land_use_codes = b.land_use_codes"
                                ).fetchone()[0]
        print("machine: 2 cores shared with other work (numbers taken under load)")
        print(f"rows {n}: Arrow CSV + hex EWKB {csv_s:.2f} s; psycopg binary COPY {bin_s:.2f} s; "
              f"ratio binary/csv {bin_s / csv_s:.2f}; identical rows {same}")


if __name__ == "__main__":
    main()
