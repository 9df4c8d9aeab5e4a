"""Backups and point-in-time restore, end to end on a cluster of the test's own (its own folder and port):
load, back up, change and delete, restore to a moment in between — every table equals what it was then."""

from __future__ import annotations

import time

import psycopg
import pytest
import vectorfiles as vf
from owncluster import env_for, owned_cluster
from psycopg import sql

SCHEMAS = ("landdb", "landdb_restricted", "geobase", "meta")


def table_checksums(url: str) -> dict[str, str]:
    """md5 of every row's text, in order, for every table of landgeo's schemas (partitions included)."""
    out = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = ANY(%s) ORDER BY 1, 2", (list(SCHEMAS),)
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL("SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')), count(*) "
                            "FROM {}.{} t").format(sql.Identifier(schema), sql.Identifier(table))
            digest, count = conn.execute(query).fetchone()
            out[f"{schema}.{table}"] = f"{count}:{digest}"
    return out


def _wait_archived(url: str) -> None:
    """Close the current WAL segment and wait until the archiver has copied it."""
    with psycopg.connect(url, autocommit=True) as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.time() + 30
        while conn.execute("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver").fetchone()[0] < segment:
            assert time.time() < deadline, "the archiver did not copy the WAL"
            time.sleep(0.1)


@pytest.fixture
def cluster(tmp_path):
    with owned_cluster(tmp_path) as c:
        yield c


def test_backup_then_restore_to_a_moment_between_changes(cluster, tmp_path, run_cli):
    env = env_for(cluster)
    url = cluster.url()
    # a real load: 30 parcels of Hà Nội (province 01) through the loader, with its lineage row
    src = vf.write(tmp_path / "hn.gpkg", vf.grid(30), vf.cadastral_fields(30, commune="00004"), driver="GPKG")
    load = run_cli("load", str(src), "--into", "parcels", "--province", "01", env=env)
    assert load.returncode == 0, load.stderr
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO landdb_restricted.party (kind, full_name, id_number, birth_year, province_code, "
                     "party_code) VALUES ('person', 'Trần Thị Lan', '001190000001', 1990, '01', 'NSD-1')")

    used = tmp_path / "used"
    used.mkdir()
    (used / "x").write_text("x")
    res = run_cli("db", "backup", str(used), env=env)
    assert res.returncode != 0 and "not an empty folder" in res.stderr and "Traceback" not in res.stderr
    backup_dir = tmp_path / "backup"
    res = run_cli("db", "backup", str(backup_dir), "--verify", env=env)
    assert res.returncode == 0, res.stderr
    assert "verified" in res.stdout and "backup complete" in res.stdout
    assert (backup_dir / "backup_manifest").exists()
    assert oct((backup_dir / "password").stat().st_mode & 0o777) == "0o600"
    at_backup = table_checksums(url)

    # after the backup: change, delete, insert — then remember this moment
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE landdb.parcel SET land_use_codes = ARRAY['ODT'] WHERE parcel_number <= 5")
        conn.execute("DELETE FROM landdb.parcel WHERE parcel_number BETWEEN 20 AND 24")
        conn.execute("UPDATE landdb_restricted.party SET address = 'Số 1 phố Huế'")
    with psycopg.connect(url, autocommit=True) as conn:
        moment = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    wanted = table_checksums(url)
    assert wanted != at_backup
    time.sleep(0.3)
    # later, a mistake: most parcels deleted, the party too
    with psycopg.connect(url) as conn:
        conn.execute("DELETE FROM landdb.parcel WHERE parcel_number > 2")
        conn.execute("DELETE FROM landdb_restricted.party")
    later = table_checksums(url)
    assert later != wanted
    _wait_archived(url)

    # bad inputs, each one line, nothing changed
    running = run_cli("db", "restore", str(backup_dir), "--to", moment.isoformat(), env=env)
    assert running.returncode != 0 and "running" in running.stderr and "Traceback" not in running.stderr
    assert run_cli("db", "down", env=env).returncode == 0
    stopped = run_cli("db", "backup", str(tmp_path / "b2"), env=env)
    assert stopped.returncode != 0 and "not running" in stopped.stderr
    for args, message in [
        ((str(tmp_path / "nowhere"),), "no backup at"),
        ((str(tmp_path),), "is not a landgeo backup"),
        ((str(backup_dir), "--to", "yesterday"), "is not an ISO 8601 time"),
        ((str(backup_dir), "--to", "2020-01-01T00:00:00Z"), "before the backup was complete"),
    ]:
        bad = run_cli("db", "restore", *args, env=env)
        assert bad.returncode != 0, args
        assert message in bad.stderr and bad.stderr.count("\n") == 1, bad.stderr
    assert not cluster.running()

    out = run_cli("db", "restore", str(backup_dir), "--to", moment.isoformat(), env=env)
    assert out.returncode == 0, out.stderr + out.stdout
    assert "previous data" in out.stdout
    assert table_checksums(url) == wanted
    with psycopg.connect(url) as conn:  # promoted: takes writes again
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
        conn.execute("DELETE FROM landdb.parcel WHERE parcel_number = 1")
    assert "recovery_target_time" not in (cluster.datadir / "postgresql.auto.conf").read_text()
