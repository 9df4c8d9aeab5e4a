"""Register writes are scoped in PostgreSQL itself: as the API's register role, with an identity set in the
transaction, plain SQL cannot write outside the scope — whatever the Python layer does."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from register_data import PARCELS_SQL

from landgeo.access.identity import Identity
from landgeo.access.session import apply_identity

OFFICER_79 = Identity("off79", "officer", provinces=("79",))
OFFICER_26740 = Identity("off26740", "officer", communes=("26740",))
ANALYST = Identity("ana", "analyst")
ADMIN = Identity("chief", "admin")


@pytest.fixture
def conn(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as c:
        c.execute(PARCELS_SQL)
        yield c


def _as(conn, identity: Identity | None):
    tx = conn.transaction()
    tx.__enter__()
    if identity is None:
        conn.execute("SET LOCAL ROLE landgeo_register")
    else:
        apply_identity(conn, identity)
    return tx


def _rollback(tx):
    tx.__exit__(psycopg.Rollback, psycopg.Rollback(), None)


def _id(conn, commune: str, number: int) -> int:
    return conn.execute("SELECT id FROM landdb.parcel WHERE commune_code = %s AND parcel_number = %s",
                        (commune, number)).fetchone()[0]


def test_officer_updates_only_its_province(conn):
    mine, theirs = _id(conn, "26737", 1), _id(conn, "00004", 1)
    tx = _as(conn, OFFICER_79)
    assert conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s", (mine,)).rowcount == 1
    assert conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s", (theirs,)).rowcount == 0
    assert conn.execute("SELECT id FROM landdb.parcel WHERE id = %s FOR UPDATE", (theirs,)).fetchone() is None
    _rollback(tx)


def test_a_version_is_never_rewritten_only_closed(conn):
    """Migration 0210: the register role may set valid_to (close a version) and nothing else, even in scope."""
    mine = _id(conn, "26737", 1)
    for column, value in (("address", "x"), ("land_use_codes", ["ODT"]), ("feature_id", 1), ("valid_from", None)):
        tx = _as(conn, OFFICER_79)
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"UPDATE landdb.parcel SET {column} = %s WHERE id = %s", (value, mine))
        _rollback(tx)
    tx = _as(conn, ADMIN)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE landdb.parcel SET geom = ST_Reverse(geom) WHERE id = %s", (mine,))
    _rollback(tx)


def test_officer_cannot_move_a_parcel_out_of_scope_or_insert_elsewhere(conn):
    mine = _id(conn, "26737", 2)
    tx = _as(conn, OFFICER_79)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE landdb.parcel SET province_code = '01', commune_code = '00004' WHERE id = %s", (mine,))
    _rollback(tx)
    tx = _as(conn, OFFICER_79)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO landdb.parcel (province_code, commune_code, sheet_number, parcel_number, "
                     "land_use_codes, source_srid, area_srid, geom) SELECT '01', '00004', 3, 99, ARRAY['ODT'], "
                     "5897, 5897, geom FROM landdb.parcel WHERE id = %s", (mine,))
    _rollback(tx)


def test_commune_officer_writes_its_commune_only(conn):
    inside, outside = _id(conn, "26740", 31), _id(conn, "26737", 3)
    tx = _as(conn, OFFICER_26740)
    assert conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s", (inside,)).rowcount == 1
    assert conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s", (outside,)).rowcount == 0
    _rollback(tx)


@pytest.mark.parametrize("identity", [ANALYST, None])
def test_analyst_and_no_identity_write_nothing(conn, identity):
    fid = _id(conn, "26737", 4)
    tx = _as(conn, identity)
    assert conn.execute("UPDATE landdb.parcel SET valid_to = now() WHERE id = %s", (fid,)).rowcount == 0
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("INSERT INTO landdb.parcel_mutation (kind, province_code, commune_code, actor) "
                     "VALUES ('update', '79', '26737', 'ana')")
    _rollback(tx)


def test_no_row_is_ever_deleted_and_mutations_name_their_actor(conn):
    fid = _id(conn, "26737", 5)
    tx = _as(conn, OFFICER_79)
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("DELETE FROM landdb.parcel WHERE id = %s", (fid,))
    _rollback(tx)
    tx = _as(conn, OFFICER_79)
    with pytest.raises(errors.InsufficientPrivilege):  # an officer cannot file a mutation in someone else's name
        conn.execute("INSERT INTO landdb.parcel_mutation (kind, province_code, commune_code, actor) "
                     "VALUES ('update', '79', '26737', 'admin')")
    _rollback(tx)
    tx = _as(conn, OFFICER_79)
    mid = conn.execute("INSERT INTO landdb.parcel_mutation (kind, province_code, commune_code) "
                       "VALUES ('update', '79', '26737') RETURNING actor").fetchone()
    assert mid == ("off79",)
    _rollback(tx)


def test_public_reads_unchanged(conn):
    conn.execute("SET ROLE landgeo_reader")
    assert conn.execute("SELECT count(*) FROM landdb.parcel").fetchone()[0] == 52
    with pytest.raises(errors.InsufficientPrivilege):
        conn.execute("UPDATE landdb.parcel SET address = 'x'")


def test_cli_split_and_a_refused_merge(conn, fresh_db, run_cli, tmp_path):
    import json

    assert run_cli("users", "add", "can-bo.79", "--role", "officer", "--province", "79",
                   db_url=fresh_db).returncode == 0
    fid = _id(conn, "26737", 6)
    x = 604000 + 20 * 5
    halves = [[[x, 1192000], [x + 10, 1192000], [x + 10, 1192030], [x, 1192030], [x, 1192000]],
              [[x + 10, 1192000], [x + 20, 1192000], [x + 20, 1192030], [x + 10, 1192030], [x + 10, 1192000]]]
    parts = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
         "properties": {"parcel_number": 100 + k, "land_use_codes": ["ONT"], "declared_area": 300}}
        for k, ring in enumerate(halves)]}
    (tmp_path / "parts.geojson").write_text(json.dumps(parts))
    args = ["parcel", "split", str(fid), "--parts", str(tmp_path / "parts.geojson"), "--as", "can-bo.79",
            "--document-number", "45/QĐ-UBND", "--document-date", "2026-11-02",
            "--crs", "http://www.opengis.net/def/crs/EPSG/0/9210"]
    done = run_cli(*args, db_url=fresh_db)
    assert done.returncode == 0, done.stderr
    assert "new" in done.stdout
    assert conn.execute("SELECT count(*) FROM landdb.parcel WHERE commune_code = '26737' AND parcel_number "
                        "IN (100, 101) AND valid_to IS NULL").fetchone()[0] == 2
    assert conn.execute("SELECT actor, document_number FROM landdb.parcel_mutation WHERE kind = 'split'"
                        ).fetchone() == ("can-bo.79", "45/QĐ-UBND")
    assert conn.execute("SELECT auth FROM access.audit_event WHERE action = 'split'").fetchone() == ("cli",)
    (tmp_path / "merged.geojson").write_text(json.dumps({**parts["features"][0], "properties": {
        "parcel_number": 7, "land_use_codes": ["ONT"]}}))
    a, b = _id(conn, "26737", 8), _id(conn, "26737", 10)
    refused = run_cli("parcel", "merge", str(a), str(b), "--result", str(tmp_path / "merged.geojson"), "--as",
                      "can-bo.79", "--document-number", "1", "--document-date", "2026-11-02", "--crs", args[-1],
                      db_url=fresh_db)
    assert refused.returncode != 0 and refused.stderr.startswith("error: ") and "touch" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_write_notifies_tile_caches_at_commit(conn, fresh_db):
    """The hook for tile caches: NOTIFY landgeo_features with the collection, ids and CRS84 bbox, at commit."""
    import json

    from landgeo.register import writes

    listener = psycopg.connect(fresh_db, autocommit=True)
    listener.execute("LISTEN landgeo_features")
    fid = _id(conn, "26737", 9)
    with psycopg.connect(fresh_db, autocommit=True) as writer:
        cur = writes.versions.peek(writer, fid)
        doc = {"properties": {"address": "mới"}}
        crs = writes.BodyCrs(4326, False, "http://www.opengis.net/def/crs/OGC/1.3/CRS84")
        out = writes.update(writer, OFFICER_79, str(fid), cur.etag, doc, crs, partial=True)
    note = next(listener.notifies(timeout=5, stop_after=1))
    listener.close()
    payload = json.loads(note.payload)
    assert payload["collection"] == "parcels" and payload["ids"] == out.ids == [fid]
    west, south, east, north = payload["bbox"]
    assert 106 < west < east < 107 and 10 < south < north < 11
    history = conn.execute("SELECT h.parent_id, h.event FROM landdb.parcel_history h JOIN landdb.parcel p "
                           "ON p.id = h.child_id WHERE p.feature_id = %s", (fid,)).fetchall()
    assert history == [(out.closed[0], "update")] and out.closed == [fid]  # the loaded row was the first version
