"""Loading the land register (parties, rights, certificates): rows without geometry, linked by register codes.

``landgeo load FILE --into parties|rights|certificates`` comes here for every catalogue target that is not
spatial. Sources: CSV with a header (UTF-8, ``,`` or ``;``), JSON lines, or a JSON array of objects. Column names
are the target's load fields or their aliases (case-insensitive). One transaction: the rows are staged, checked
(required values, types, the allowed kinds and right types, links to parcels/parties/rights that must exist),
inserted with their lineage row in ``meta.load_batch`` and an audit row (the register is personal data); the
first bad row refuses the whole file with its row number. The same file again is a no-op that says so.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from landdb.register import PARTY_KINDS, RESOLVE_SQL, RIGHT_TYPES, UNRESOLVED_SQL
from landgeo.access import audit
from landgeo.access.users import operator
from landgeo.catalog import Field, Target, get_target
from landgeo.db.connect import connect
from landgeo.errors import UserError

CHOICES = {"kind": PARTY_KINDS, "right_type": RIGHT_TYPES}


@dataclass
class RegisterLoad:
    target: str
    batch_id: int
    rows: int
    seconds: float
    noop_of: int | None = None

    def summary(self, src: str) -> str:
        if self.noop_of is not None:
            return (f"no-op: {src} is already loaded into {self.target} (batch {self.noop_of}); recorded as batch "
                    f"{self.batch_id}")
        return f"loaded {src} into {self.target} as batch {self.batch_id}: {self.rows} rows in {self.seconds:.1f} s"


def load_fields(target: Target) -> tuple[Field, ...]:
    return tuple(target.extra.get("load_fields", target.fields))


def _read_rows(path: Path) -> tuple[list[dict], str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UserError(f"{path}: the register is read as UTF-8 (convert the file first)") from None
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson", ".geojson"):
        try:
            if suffix in (".jsonl", ".ndjson"):
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                data = json.loads(text)
                rows = [f.get("properties") or {} for f in data["features"]] if isinstance(data, dict) else data
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{path}: not valid JSON rows ({str(exc).splitlines()[0]})") from None
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise UserError(f"{path}: JSON must be an array of objects, JSON lines or a FeatureCollection")
        return rows, "json"
    if suffix not in (".csv", ".txt"):
        raise UserError(f"{path}: register files are CSV (.csv) or JSON (.json, .jsonl)")
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    if not reader.fieldnames:
        raise UserError(f"{path}: no header row")
    return list(reader), "csv"


def _columns(fields: tuple[Field, ...], names: list[str], path: Path) -> dict[str, str]:
    """target field -> source column."""
    by_lower = {n.strip().lower(): n for n in names}
    out = {}
    for f in fields:
        for candidate in (f.name, *f.aliases):
            if candidate.lower() in by_lower:
                out[f.name] = by_lower[candidate.lower()]
                break
    missing = [f.name for f in fields if f.required and f.name not in out]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)} (landgeo load --list-targets)")
    return out


def _check(value: str, f: Field, row_no: int) -> str:
    if value == "":
        if f.required:
            raise UserError(f"row {row_no}: {f.name} is empty")
        return value
    try:
        if f.type == "integer":
            int(value)
        elif f.type == "number":
            float(value)
        elif f.type == "date":
            dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"row {row_no}: {f.name} {value!r} is not a valid {f.type}") from None
    if f.name in CHOICES and value not in CHOICES[f.name]:
        raise UserError(f"row {row_no}: {f.name} {value!r} is not one of {', '.join(CHOICES[f.name])}")
    return value


def load_register(src: str | Path, target_id: str, mode: str = "append", url: str | None = None) -> RegisterLoad:
    """Load a register file; all or nothing. See the module docstring."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    target = get_target(target_id)
    if target_id not in RESOLVE_SQL:
        raise UserError(f"{target_id} is not a register target")
    if mode != "append":
        raise UserError(f"register targets load in append mode (got --mode {mode}); revoke or close rights by "
                        "register transactions")
    path = Path(src)
    rows, fmt = _read_rows(path)
    if not rows:
        raise UserError(f"{path}: no rows")
    fields = load_fields(target)
    columns = _columns(fields, list(rows[0].keys()), path)
    staged = []
    for i, row in enumerate(rows, start=2 if fmt == "csv" else 1):
        values = []
        for f in fields:
            raw = row.get(columns[f.name]) if f.name in columns else None
            values.append(_check("" if raw is None else str(raw).strip(), f, i))
        staged.append((i, *values))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    with connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"landgeo.load:{target.id}",))
        previous = conn.execute("SELECT id FROM meta.load_batch WHERE target = %s AND source_sha256 = %s AND "
                                "status = 'committed' ORDER BY id LIMIT 1", (target.id, sha)).fetchone()
        status = "noop" if previous else "committed"
        batch_id = conn.execute(
            "INSERT INTO meta.load_batch (target, source_path, source_sha256, source_format, mode, counts, status, "
            "started_at) VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s) RETURNING id",
            (target.id, str(path.resolve()), sha, fmt, mode, json.dumps({"read": len(rows)}), status,
             started_at)).fetchone()[0]
        if previous:
            return RegisterLoad(target.id, batch_id, 0, time.monotonic() - started, noop_of=previous[0])
        cols = sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(f.name)) for f in fields)
        conn.execute(sql.SQL("CREATE TEMP TABLE src (row_no integer, {}) ON COMMIT DROP").format(cols))
        names = sql.SQL(", ").join([sql.Identifier("row_no"), *(sql.Identifier(f.name) for f in fields)])
        with conn.cursor().copy(sql.SQL("COPY src ({}) FROM STDIN").format(names)) as copy:
            for values in staged:
                copy.write_row(values)
        bad = conn.execute(UNRESOLVED_SQL[target.id]).fetchone()
        if bad is not None:
            raise UserError(f"{path}: row {bad[0]}: {bad[1]}; nothing loaded")
        try:
            ids = [r[0] for r in conn.execute(RESOLVE_SQL[target.id], {"batch": batch_id}).fetchall()]
        except psycopg.errors.UniqueViolation as exc:
            detail = (exc.diag.message_detail or "").replace("Key ", "")
            raise UserError(f"{path}: already in the register: {detail or exc.diag.message_primary}; "
                            "nothing loaded") from None
        except (psycopg.errors.CheckViolation, psycopg.errors.DataError) as exc:
            raise UserError(f"{path}: {exc.diag.message_primary}; nothing loaded") from None
        conn.execute("UPDATE meta.load_batch SET counts = %s::jsonb WHERE id = %s",
                     (json.dumps({"read": len(rows), "inserted": len(ids)}), batch_id))
        audit.record(conn, operator(), "load", target.id, ids, {"batch": batch_id, "file": path.name})
    return RegisterLoad(target.id, batch_id, len(ids), time.monotonic() - started)
