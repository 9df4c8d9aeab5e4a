"""The register's per-scope row counts (migration 0190) against count(*) under row-level security.

``access.register_matched(collection)`` gives an unfiltered listing's ``numberMatched``; it must be exactly the
number of rows the identity sees — after loads of the register (``landgeo load --into …``), writes, retirements,
moves between communes, deletions, a TRUNCATE and several writers at once — or NULL where a sum of per-code
counts is not exact (the API then counts). And the counts leak nothing: the API's role reads the count rows and
party-commune links of its own codes only, and cannot write them.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from register_data import register_database

SET_IDENTITY = ("SELECT set_config('landgeo.user', 't', true), set_config('landgeo.role', %s, true), "
                "set_config('landgeo.provinces', %s, true), set_config('landgeo.communes', %s, true)")
#: what the listing of each collection shows without a filter (rights: current ones)
VISIBLE = {"parties": "SELECT count(*) FROM landdb_restricted.parties_published",
           "rights": "SELECT count(*) FROM landdb_restricted.rights_published WHERE valid_to IS NULL",
           "certificates": "SELECT count(*) FROM landdb_restricted.certificates_published"}
#: (role, provinces, communes, parties exact?)
IDENTITIES = [("officer", "79", "", True), ("officer", "01", "", True), ("officer", "79,01", "", True),
              ("officer", "", "26737", True), ("officer", "", "26740", True), ("officer", "", "00004", True),
              ("officer", "", "26737,00004", False), ("officer", "01", "26740", False), ("admin", "", "", True),
              ("analyst", "", "", True), ("officer", "", "99999", True)]


@pytest.fixture(scope="module")
def counts_db(server_url, template_db, tmp_path_factory):
    """The test register (79: communes 26737, 26740; 01: 00004), loaded with `landgeo load --into …`; the tests
    below write to it in turn."""
    with register_database(server_url, template_db, tmp_path_factory.mktemp("register"),
                           "landgeo_test_counts") as url:
        yield url


def _as(url: str, role: str, provinces: str, communes: str) -> psycopg.Connection:
    conn = psycopg.connect(url)
    conn.execute(f"SET ROLE {'landgeo_register_admin' if role == 'admin' else 'landgeo_register'}")
    conn.execute(SET_IDENTITY, (role, provinces, communes))
    return conn


def assert_counts_exact(url: str) -> dict:
    """Every identity's register_matched equals count(*) under its row-level security (or is NULL where it must
    be); returns the figures, by identity and collection."""
    seen = {}
    for role, provinces, communes, parties_exact in IDENTITIES:
        with _as(url, role, provinces, communes) as conn:
            for coll, count_sql in VISIBLE.items():
                rows = conn.execute(count_sql).fetchone()[0]
                matched = conn.execute("SELECT access.register_matched(%s)", (coll,)).fetchone()[0]
                if coll == "parties" and not parties_exact:
                    assert matched is None, (role, provinces, communes, coll)
                else:
                    assert matched == rows, (role, provinces, communes, coll, matched, rows)
                seen[(role, provinces, communes, coll)] = rows
    return seen


def assert_party_communes_copied(url: str) -> int:
    """Every party's ``commune_codes`` (what the parties' policy reads, migration 0250) is exactly the sorted
    communes of its links, which are the communes of its rights; returns how many parties have a commune."""
    with psycopg.connect(url) as conn:
        wrong = conn.execute(
            "SELECT p.id, p.commune_codes, ARRAY(SELECT DISTINCT r.commune_code FROM landdb_restricted.land_right r "
            "WHERE r.party_id = p.id AND r.commune_code IS NOT NULL ORDER BY 1) FROM landdb_restricted.party p "
            "WHERE p.commune_codes IS DISTINCT FROM ARRAY(SELECT l.commune_code FROM landdb_restricted.party_commune l "
            "WHERE l.party_id = p.id ORDER BY 1) OR p.commune_codes IS DISTINCT FROM ARRAY(SELECT DISTINCT "
            "r.commune_code FROM landdb_restricted.land_right r WHERE r.party_id = p.id "
            "AND r.commune_code IS NOT NULL ORDER BY 1)").fetchall()
        assert not wrong, wrong[:5]
        return conn.execute("SELECT count(*) FROM landdb_restricted.party WHERE commune_codes <> '{}'").fetchone()[0]


def test_counts_follow_loads_writes_retirements_and_truncate(counts_db):
    seen = assert_counts_exact(counts_db)
    assert assert_party_communes_copied(counts_db) == 62  # every loaded party holds a right
    # the loaded register: 79 has 40 parcels (+8 second holders), 01 has 12 (+2); nobody else sees anything
    assert seen[("officer", "79", "", "parties")] == 48 and seen[("officer", "01", "", "parties")] == 14
    assert seen[("officer", "", "26740", "rights")] == 12 and seen[("admin", "", "", "parties")] == 62
    assert seen[("analyst", "", "", "rights")] == 0 and seen[("officer", "", "99999", "parties")] == 0
    with psycopg.connect(counts_db) as conn:
        # a retirement (valid_to set), a right moved to another commune, a second right of a party in a commune,
        # a deleted right, a party moved to another province's register, certificates deleted and added
        conn.execute("UPDATE landdb_restricted.land_right SET valid_to = '2024-01-01' "
                     "WHERE right_code IN ('R26737-1-0', 'R00004-2-0')")
        conn.execute("UPDATE landdb_restricted.land_right SET commune_code = '26740' WHERE right_code = 'R26737-3-0'")
        conn.execute("INSERT INTO landdb_restricted.land_right (right_code, parcel_id, party_id, right_type, "
                     "valid_from, province_code, commune_code) SELECT 'R-extra', parcel_id, party_id, 'mortgage', "
                     "'2023-01-01', province_code, commune_code FROM landdb_restricted.land_right "
                     "WHERE right_code = 'R26740-31-0'")
        conn.execute("DELETE FROM landdb_restricted.certificate WHERE right_id IN (SELECT id FROM "
                     "landdb_restricted.land_right WHERE right_code = 'R26737-7-0')")
        conn.execute("DELETE FROM landdb_restricted.land_right WHERE right_code = 'R26737-7-0'")
        conn.execute("UPDATE landdb_restricted.party SET province_code = '01' WHERE party_code = 'P26737-9'")
        conn.execute("UPDATE landdb_restricted.certificate SET commune_code = NULL WHERE serial LIKE 'CS 00004%'")
    after = assert_counts_exact(counts_db)
    assert_party_communes_copied(counts_db)  # moved, added and deleted rights: the party rows followed
    with psycopg.connect(counts_db) as conn:
        moved = conn.execute("SELECT p.commune_codes FROM landdb_restricted.party p JOIN "
                             "landdb_restricted.land_right r ON r.party_id = p.id "
                             "WHERE r.right_code = 'R26737-3-0'").fetchone()[0]
        assert "26740" in moved, moved
    assert after[("officer", "", "26740", "rights")] == 14  # moved in, and a second right of one party
    assert after[("officer", "", "26740", "parties")] == 13  # the moved right's party only: one more
    assert after[("officer", "01", "", "parties")] == 15
    assert after[("officer", "", "00004", "certificates")] == 0
    with psycopg.connect(counts_db) as conn:  # a rolled-back write leaves no trace
        with pytest.raises(psycopg.errors.RaiseException), conn.transaction():
            conn.execute("DELETE FROM landdb_restricted.certificate")
            conn.execute("DO $$ BEGIN RAISE EXCEPTION 'roll back'; END $$")
    assert assert_counts_exact(counts_db) == after
    with psycopg.connect(counts_db) as conn:
        conn.execute("TRUNCATE landdb_restricted.certificate")
    assert assert_counts_exact(counts_db)[("admin", "", "", "certificates")] == 0
    with psycopg.connect(counts_db) as conn:  # a copy that drifted is rebuilt with the links by a TRUNCATE's recount
        conn.execute("UPDATE landdb_restricted.party SET commune_codes = '{99999}' WHERE party_code = 'P26737-9'")
        conn.execute("TRUNCATE landdb_restricted.certificate")
    assert_party_communes_copied(counts_db)


def test_counts_exact_under_concurrent_writers(counts_db):
    """Four writers add and retire rights and parties in the same communes at once, one of them rolling back:
    no writer waits on a counter row (SKIP LOCKED folds), none is counted twice or lost."""
    before = assert_counts_exact(counts_db)[("admin", "", "", "parties")]
    with psycopg.connect(counts_db) as conn:
        parties = {c: [r[0] for r in conn.execute(
            "SELECT DISTINCT party_id FROM landdb_restricted.land_right WHERE commune_code = %s ORDER BY 1",
            (c,))] for c in ("26737", "26740", "00004")}
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(k: int) -> None:
        try:
            with psycopg.connect(counts_db) as conn:
                for step in range(6):
                    barrier_wait = step == 0
                    with conn.transaction():
                        if barrier_wait:
                            barrier.wait(timeout=30)
                        for commune, province in (("26737", "79"), ("26740", "79"), ("00004", "01")):
                            party = parties[commune][(k + step) % len(parties[commune])]
                            conn.execute(
                                "INSERT INTO landdb_restricted.land_right (right_code, parcel_id, party_id, "
                                "right_type, valid_from, province_code, commune_code) "
                                "VALUES (%s, 1, %s, 'lease', '2024-01-01', %s, %s)",
                                (f"W{k}-{step}-{commune}", party, province, commune))
                            conn.execute("INSERT INTO landdb_restricted.party (party_code, kind, full_name, "
                                         "province_code) VALUES (%s, 'organisation', 'Công ty Thử', %s)",
                                         (f"W{k}-{step}-{commune}", province))
                        if step % 2:
                            conn.execute("UPDATE landdb_restricted.land_right SET valid_to = '2025-01-01' "
                                         "WHERE right_code LIKE %s", (f"W{k}-{step - 1}-%",))
                        if step == 3:
                            conn.execute("DELETE FROM landdb_restricted.land_right WHERE right_code LIKE %s",
                                         (f"W{k}-0-%",))
                        if k == 3 and step == 5:
                            raise RuntimeError("rolled back on purpose")
        except RuntimeError:
            pass
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    seen = assert_counts_exact(counts_db)
    assert seen[("admin", "", "", "parties")] == before + 4 * 6 * 3 - 3  # the rolled-back step added nothing
    assert_party_communes_copied(counts_db)  # no commune of a party lost or left behind by concurrent writers
    # The folds leave a few delta rows per key, not one per statement (≈ 100 deltas a key here): each transaction
    # ends with at most one row of its own (its last statement cannot fold rows of the others still uncommitted),
    # and the rolled-back transaction gives back the committed rows its folds had taken — at most as many again.
    with psycopg.connect(counts_db) as conn:
        worst = conn.execute("SELECT max(k) FROM (SELECT count(*) AS k FROM access.register_count "
                             "GROUP BY collection, province_code, commune_code) s").fetchone()[0]
    assert worst <= 2 * len(threads)


def test_counts_and_links_leak_nothing(counts_db):
    with _as(counts_db, "officer", "79", "") as conn:
        assert {r[0] for r in conn.execute("SELECT DISTINCT province_code FROM access.register_count")} == {"79"}
        assert conn.execute("SELECT count(*) FROM landdb_restricted.party_commune").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT access.register_count_add('rights', ARRAY['79'], ARRAY['26737'], ARRAY[5::bigint])")
    with _as(counts_db, "officer", "", "26740") as conn:
        rows = conn.execute("SELECT DISTINCT commune_code FROM access.register_count").fetchall()
        assert rows == [("26740",)]
        assert {r[0] for r in conn.execute("SELECT DISTINCT commune_code FROM landdb_restricted.party_commune")} \
            == {"26740"}
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO access.register_count VALUES ('rights', '01', '00004', 1000)")
    for role in ("analyst", "officer"):  # an officer without codes, an analyst: nothing
        with _as(counts_db, role, "", "") as conn:
            assert conn.execute("SELECT count(*) FROM access.register_count").fetchone()[0] == 0
            assert conn.execute("SELECT access.register_matched('rights')").fetchone()[0] == 0
    with _as(counts_db, "admin", "", "", ) as conn:  # the admin identity under the officers' role: nothing
        conn.execute("RESET ROLE")
        conn.execute("SET ROLE landgeo_register")
        assert conn.execute("SELECT access.register_matched('parties')").fetchone()[0] == 0
    with _as(counts_db, "officer", "", "26740") as conn:  # the copy the policy reads is not the API's to write
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE landdb_restricted.party SET commune_codes = '{26740}'")
    with psycopg.connect(counts_db) as conn:  # the public reader has no access at all
        conn.execute("SET ROLE landgeo_reader")
        for table in ("access.register_count", "landdb_restricted.party_commune"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege), conn.transaction():
                conn.execute(f"SELECT count(*) FROM {table}")
