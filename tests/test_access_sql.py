"""Row-level security on the restricted register, at the SQL level against the real database.

The API's role (``landgeo_register``) is taken with plain SQL and tries to read what its identity may not: the
database, not Python, must refuse. Also: ``landgeo_reader`` stays blind, the audit is append-only, users' tokens
are stored hashed, and the register loads link rows by codes (all or nothing).
"""

from __future__ import annotations

import re

import psycopg
import pytest
from register_data import expected_parties, register_database

from landgeo.api.collections import get_collection
from landgeo.api.statements import scope_sql

SET_IDENTITY = ("SELECT set_config('landgeo.user', %s, true), set_config('landgeo.role', %s, true), "
                "set_config('landgeo.provinces', %s, true), set_config('landgeo.communes', %s, true)")


@pytest.fixture(scope="module")
def register_db(server_url, template_db, tmp_path_factory):
    """A database with parcels of 79 and 01 and their register, loaded with `landgeo load --into …`."""
    with register_database(server_url, template_db, tmp_path_factory.mktemp("register"), "landgeo_test_rls") as url:
        yield url


def _as_api(url: str, role: str | None, provinces: str = "", communes: str = "", user: str = "t",
            db_role: str | None = None):
    """A connection acting as the API's register role (``landgeo_register_admin`` for an admin, as the API takes
    it), with (or without) an identity for its transaction; ``db_role`` forces another role (a Python bug)."""
    conn = psycopg.connect(url)
    conn.execute(f"SET ROLE {db_role or ('landgeo_register_admin' if role == 'admin' else 'landgeo_register')}")
    if role is not None:
        conn.execute(SET_IDENTITY, (user, role, provinces, communes))
    return conn


def _names(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT full_name FROM landdb_restricted.party")}


def test_officer_of_79_sees_79_only_whatever_the_sql(register_db):
    with _as_api(register_db, "officer", "79") as conn:
        assert _names(conn) == expected_parties("79")
        # asking for province 01 explicitly, by join, by id, by count: nothing
        sql01 = "SELECT count(*) FROM landdb_restricted.party WHERE province_code = '01'"
        assert conn.execute(sql01).fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM landdb_restricted.land_right r JOIN landdb.parcel p "
                            "ON p.id = r.parcel_id WHERE p.province_code = '01'").fetchone()[0] == 0
        provinces = {r[0] for r in conn.execute("SELECT DISTINCT province_code FROM landdb_restricted.certificate")}
        assert provinces == {"79"}
        assert conn.execute("SELECT count(*) FROM landdb_restricted.rights_published "
                            "WHERE province_code <> '79'").fetchone()[0] == 0
        assert {r[0] for r in conn.execute("SELECT full_name FROM landdb_restricted.parties_published")} == \
            expected_parties("79")


def test_forgetting_the_identity_shows_nothing(register_db):
    with _as_api(register_db, None) as conn:
        for table in ("party", "land_right", "certificate", "parties_published", "rights_published"):
            assert conn.execute(f"SELECT count(*) FROM landdb_restricted.{table}").fetchone()[0] == 0, table


def test_identity_is_transaction_local(register_db):
    with psycopg.connect(register_db, autocommit=True) as conn:  # as the API's pool: autocommit, BEGIN per request
        conn.execute("SET ROLE landgeo_register_admin")
        with conn.transaction():
            conn.execute(SET_IDENTITY, ("t", "admin", "", ""))
            assert conn.execute("SELECT count(*) FROM landdb_restricted.party").fetchone()[0] > 0
        # after COMMIT the identity is gone
        assert conn.execute("SELECT count(*) FROM landdb_restricted.party").fetchone()[0] == 0


def test_commune_scope_and_roles(register_db):
    with _as_api(register_db, "officer", "", "26740") as conn:
        assert _names(conn) == expected_parties("79", "26740")
        assert {r[0] for r in conn.execute("SELECT commune_code FROM landdb_restricted.land_right")} == {"26740"}
    with _as_api(register_db, "officer", "01") as conn:
        assert _names(conn) == expected_parties("01")
    with _as_api(register_db, "analyst") as conn:
        assert _names(conn) == set()
    with _as_api(register_db, "admin") as conn:
        assert _names(conn) == expected_parties()
    with _as_api(register_db, "officer") as conn:  # an officer without scope
        assert _names(conn) == set()


def test_admin_role_and_admin_identity_both_needed(register_db):
    """Migration 0150: every row needs the admin database role AND landgeo.role = admin; either alone fails
    closed (an admin identity under the officers' role reads nothing; the admin role with an officer's identity
    reads that officer's scope only)."""
    with _as_api(register_db, "admin", db_role="landgeo_register") as conn:
        for table in ("party", "land_right", "certificate", "parties_published"):
            assert conn.execute(f"SELECT count(*) FROM landdb_restricted.{table}").fetchone()[0] == 0, table
    with _as_api(register_db, "officer", "79", db_role="landgeo_register_admin") as conn:
        assert _names(conn) == expected_parties("79")
        assert conn.execute("SELECT count(*) FROM landdb_restricted.certificate "
                            "WHERE province_code <> '79'").fetchone()[0] == 0
    for role in ("analyst", None):
        with _as_api(register_db, role, db_role="landgeo_register_admin") as conn:
            assert _names(conn) == set()


def test_mixed_scope_and_counts_see_the_union_only(register_db):
    """A scope of a province and a commune of another province: the union, by rows, by count, by join."""
    with psycopg.connect(register_db) as conn:
        other = conn.execute("SELECT min(commune_code) FROM landdb_restricted.land_right "
                             "WHERE province_code = '01'").fetchone()[0]
    with _as_api(register_db, "officer", "79", other) as conn:
        assert _names(conn) == expected_parties("79") | expected_parties("01", other)
        rights = conn.execute("SELECT province_code, commune_code, count(*) FROM landdb_restricted.land_right "
                              "GROUP BY 1, 2").fetchall()
        assert {(p if p == "79" else c) for p, c, _n in rights} == {"79", other}
        count = conn.execute("SELECT count(*) FROM landdb_restricted.parties_published").fetchone()[0]
        assert count == len(expected_parties("79") | expected_parties("01", other))
        # a party of 01 outside the commune, asked by id: it does not exist
        assert conn.execute("SELECT count(*) FROM landdb_restricted.party p WHERE p.province_code = '01' AND NOT "
                            "EXISTS (SELECT 1 FROM landdb_restricted.land_right r WHERE r.party_id = p.id)"
                            ).fetchone()[0] == 0


def test_officer_policies_are_index_conditions(register_db):
    """Migration 0150's point: an officer's scope is found through the indexes, not by testing every row (the
    policies of 0061 OR-ed an admin flag into each test, which no index can serve). With only bitmap scans
    allowed (they need index conditions; a filter on a full walk does not count) the plans must find the rows
    by the scope's indexes; 0061's policies fell back to a sequential scan."""
    def plan(conn, table: str) -> str:
        for setting in ("enable_seqscan", "enable_indexscan", "enable_indexonlyscan"):
            conn.execute(f"SET {setting} = off")
        return "\n".join(r[0] for r in conn.execute(f"EXPLAIN SELECT * FROM landdb_restricted.{table}"))

    with _as_api(register_db, "officer", "", "26740") as conn:
        for table, index in (("land_right", "land_right_commune"), ("certificate", "certificate_commune")):
            text = plan(conn, table)
            assert "Seq Scan" not in text and f"Bitmap Index Scan on {index}" in text, text


def _hinted_plan(conn, collection: str, scope: tuple) -> str:
    """The plan of a page as the API asks it: the officer's scope repeated as index conditions (scope_sql)."""
    params: list = []
    hint = scope_sql(get_collection(collection), scope, None, params).as_string(conn)
    table = get_collection(collection).table
    return "\n".join(r[0] for r in conn.execute(
        f"EXPLAIN SELECT * FROM landdb_restricted.{table} WHERE {hint} ORDER BY id LIMIT 101", params))


def test_party_policy_tests_the_row_and_pages_use_the_hints(register_db):
    """Migration 0250: a party's commune arm tests the party row's own communes (``commune_codes``, the copy of
    its links), no probe of another table per row (0240: an EXISTS on the links' key, a second index descent per
    row) and no search of an array of ids (0150-0190); the API's scope hints find the parties by their indexes for
    every officer shape (the policy alone is not an index condition)."""
    with psycopg.connect(register_db) as conn:
        (qual,) = conn.execute("SELECT qual FROM pg_policies WHERE schemaname = 'landdb_restricted' "
                               "AND tablename = 'party' AND policyname = 'party_read'").fetchone()
    assert "commune_codes &&" in qual and "EXISTS" not in qual and "party_commune" not in qual, qual
    with _as_api(register_db, "officer", "", "26740") as conn:
        text = "\n".join(r[0] for r in conn.execute("EXPLAIN SELECT * FROM landdb_restricted.party WHERE id = 1"))
        assert "party_commune" not in text and "SubPlan" not in text and "commune_codes &&" in text, text
        for setting in ("enable_seqscan", "enable_sort"):
            conn.execute(f"SET {setting} = off")
        text = _hinted_plan(conn, "parties", ((), ("26740",)))
        # the links in id order, index-only: by (commune_code, party_id), or — the planner's choice on a table this
        # small — by the key (party_id, commune_code) with the commune as an index condition
        assert "Seq Scan" not in text and "Sort" not in text, text
        assert "Index Only Scan using party_commune_commune" in text or re.search(
            r"Index Only Scan using party_commune_pkey on party_commune  .*\n\s+Index Cond: .*"
            r"\(commune_code = '26740'::text\)", text), text
        text = _hinted_plan(conn, "rights", ((), ("26740",)))
        assert "Seq Scan" not in text and "land_right_commune" in text and "Sort" not in text, text
    with _as_api(register_db, "officer", "79") as conn:
        for setting in ("enable_seqscan", "enable_sort"):
            conn.execute(f"SET {setting} = off")
        text = _hinted_plan(conn, "parties", (("79",), ()))
        assert "Seq Scan" not in text and "party_province" in text and "Sort" not in text, text
    with _as_api(register_db, "officer", "79", "00004") as conn:  # a province and a commune: both indexes
        # on this table (62 parties, 50 of them in scope) the planner rightly walks the key once the tables are
        # analysed (autovacuum, at a random moment of the test); what is checked here is that both arms of the
        # hint are index conditions, so only bitmap scans are allowed
        for setting in ("enable_seqscan", "enable_indexscan"):
            conn.execute(f"SET {setting} = off")
        text = _hinted_plan(conn, "parties", (("79",), ("00004",)))
        assert "Seq Scan" not in text and "BitmapOr" in text and "Bitmap Index Scan on party_province" in text, text
        assert re.search(r"(Index Only Scan using|Bitmap Index Scan on) party_commune_(commune|pkey)\b.*\n\s+"
                         r"Index Cond: .*commune_code = '00004'::text", text), text  # the links, by the commune


def test_register_role_cannot_write_or_read_identities(register_db):
    with _as_api(register_db, "admin") as conn:
        for statement in ("UPDATE landdb_restricted.party SET full_name = 'x'",
                          "DELETE FROM landdb_restricted.land_right",
                          "INSERT INTO landdb_restricted.party (kind, full_name) VALUES ('person', 'x')",
                          "SELECT * FROM access.api_token", "SELECT * FROM access.app_user",
                          "SELECT * FROM access.audit_event"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SET ROLE landgeo_register_admin")


def test_reader_stays_blind(register_db):
    with psycopg.connect(register_db) as conn:
        conn.execute("SET ROLE landgeo_reader")
        for statement in ("SELECT 1 FROM landdb_restricted.party", "SELECT 1 FROM landdb_restricted.parties_published",
                          "SELECT 1 FROM access.audit_event", "SELECT * FROM access.resolve_token('x')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SET ROLE landgeo_reader")


def test_audit_is_append_only(register_db):
    with _as_api(register_db, "officer", "79", user="officer-audit") as conn:
        conn.execute("INSERT INTO access.audit_event (actor, auth, action) VALUES ('officer-audit', 'token', 'read')")
        conn.commit()
        conn.execute("SET ROLE landgeo_register")
        for statement in ("UPDATE access.audit_event SET actor = 'x'", "DELETE FROM access.audit_event",
                          "TRUNCATE access.audit_event"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
            conn.rollback()
            conn.execute("SET ROLE landgeo_register")
    with psycopg.connect(register_db) as conn:  # even the owner: the trigger refuses
        for statement in ("UPDATE access.audit_event SET actor = 'x'", "DELETE FROM access.audit_event",
                          "TRUNCATE access.audit_event"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
            conn.rollback()
        assert conn.execute("SELECT count(*) FROM access.audit_event WHERE actor = 'officer-audit'").fetchone()[0] == 1
        # the loads were audited too, with the ids they wrote
        loads = conn.execute("SELECT collection, cardinality(item_ids) FROM access.audit_event WHERE action = 'load' "
                             "ORDER BY id").fetchall()
        assert [c for c, _n in loads] == ["parties", "rights", "certificates"] and all(n > 0 for _c, n in loads)


def test_users_cli_stores_hashes_only(register_db, run_cli):
    r = run_cli("users", "add", "can-bo.79", "--role", "officer", "--province", "79", "--expires", "30d",
                db_url=register_db)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip().splitlines()[-1]
    assert token.startswith("lgt_") and len(token) == 47
    with psycopg.connect(register_db) as conn:
        dump = str(conn.execute("SELECT u.*, t.* FROM access.app_user u JOIN access.api_token t "
                                "ON t.user_id = u.id").fetchall())
        assert token not in dump and token[4:] not in dump
        conn.execute("SET ROLE landgeo_register")
        row = conn.execute("SELECT name, role, provinces FROM access.resolve_token(encode(sha256(%s::bytea), 'hex'))",
                           (token,)).fetchone()
        assert row == ("can-bo.79", "officer", ["79"])
    listed = run_cli("users", "list", db_url=register_db)
    assert "can-bo.79" in listed.stdout and token not in listed.stdout and token[:9] in listed.stdout
    audit = run_cli("audit", "--action", "user.add", db_url=register_db)
    assert "can-bo.79" in audit.stdout and token not in audit.stdout
    assert run_cli("users", "revoke", "can-bo.79", db_url=register_db).returncode == 0
    with psycopg.connect(register_db) as conn:
        conn.execute("SET ROLE landgeo_register")
        assert conn.execute("SELECT * FROM access.resolve_token(encode(sha256(%s::bytea), 'hex'))",
                            (token,)).fetchone() is None


@pytest.mark.parametrize("args, message", [
    (["users", "add", "x1", "--role", "boss"], "unknown role"),
    (["users", "add", "x2", "--role", "officer"], "needs a scope"),
    (["users", "add", "x3", "--role", "officer", "--province", "99"], "no province '99'"),
    (["users", "add", "x4", "--role", "officer", "--commune", "123"], "5 digits"),
    (["users", "add", "x5", "--role", "analyst", "--province", "79"], "only an officer has a scope"),
    (["users", "add", "x6", "--role", "analyst", "--expires", "yesterday"], "--expires"),
    (["users", "add", "x7", "--role", "analyst", "--expires", "2001-01-01"], "not in the future"),
    (["users", "add", "bad name!", "--role", "analyst"], "letters, digits"),
    (["users", "revoke", "nobody"], "no user 'nobody'"),
    (["audit", "--since", "last tuesday"], "--since"),
])
def test_users_cli_bad_input(register_db, run_cli, args, message):
    r = run_cli(*args, db_url=register_db)
    assert r.returncode != 0
    assert r.stderr.startswith("error:") and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_register_load_refuses_bad_files_whole(register_db, run_cli, tmp_path):
    with psycopg.connect(register_db) as conn:
        before = conn.execute("SELECT count(*) FROM landdb_restricted.land_right").fetchone()[0]
    cases = {
        "rights_unknown_parcel.csv": ("right_code,party_code,commune_code,sheet_number,parcel_number,right_type,"
                                      "share,valid_from\nZ1,P26737-1,26737,1,1,use,1,2020-01-01\n"
                                      "Z2,P26737-1,26737,1,999,use,1,2020-01-01\n", "row 3: no current parcel"),
        "rights_bad_type.csv": ("right_code,party_code,commune_code,sheet_number,parcel_number,right_type,share,"
                                "valid_from\nZ3,P26737-1,26737,1,1,theft,1,2020-01-01\n", "row 2: right_type"),
        "rights_bad_date.csv": ("right_code,party_code,commune_code,sheet_number,parcel_number,right_type,share,"
                                "valid_from\nZ4,P26737-1,26737,1,1,use,1,01/02/2020\n", "not a valid date"),
        "rights_missing_column.csv": ("right_code,party_code\nZ5,P26737-1\n", "missing column"),
        "rights_other_province_party.csv": ("right_code,party_code,commune_code,sheet_number,parcel_number,"
                                            "right_type,share,valid_from\nZ6,P00004-1,26737,1,1,use,1,2020-01-01\n",
                                            "no party P00004-1 in province 79"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        r = run_cli("load", str(path), "--into", "rights", db_url=register_db)
        assert r.returncode != 0 and message in r.stderr, (name, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    with psycopg.connect(register_db) as conn:
        assert conn.execute("SELECT count(*) FROM landdb_restricted.land_right").fetchone()[0] == before
