"""The demo's land register (sổ địa chính): synthetic land users, rights and certificates for the demo parcels.

Every person is invented: names are drawn from common Vietnamese family, middle and given names, identity
numbers start with ``000`` (no province has that code: they cannot be anyone's CCCD), addresses name the demo
villages. Written as the CSV files a provincial register export would be (``parties.csv``, ``rights.csv``,
``certificates.csv``), for ``landgeo load … --into parties|rights|certificates``.

The files follow the parcels actually in the database (current versions of the demo communes, in key order)
and a fixed seed, so generating again gives the same bytes and loading them again is a no-op.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import psycopg

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đào")
MIDDLE_M = ("Văn", "Đức", "Hữu", "Minh", "Quang", "Công", "Thành")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Thanh", "Kim", "Hồng")
GIVEN_M = ("An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khoa", "Long", "Nam", "Phúc", "Quân", "Sơn", "Tâm",
           "Thắng", "Tuấn", "Việt")
GIVEN_F = ("Anh", "Chi", "Dung", "Hà", "Hạnh", "Hoa", "Lan", "Liên", "Mai", "Nga", "Oanh", "Phương", "Thảo",
           "Trang", "Vân", "Yến")
VILLAGES = {"09877": ("Thôn An Trai", "Thôn Yên Vĩnh"), "09871": ("Thôn Phúc Lý", "Thôn Đồng Nhân")}
BANKS = ("Ngân hàng TMCP Mẫu Thử chi nhánh Hoài Đức", "Quỹ tín dụng nhân dân Minh Họa")
SEED = 16


def _person(rng: random.Random, female: bool) -> str:
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{rng.choice(FAMILY)} {middle} {given}"


def _parcels(conn: psycopg.Connection, province: str, communes: tuple[str, ...]) -> list[tuple]:
    return conn.execute(
        "SELECT commune_code, sheet_number, parcel_number, land_use_codes FROM landdb.parcel "
        "WHERE province_code = %s AND commune_code = ANY(%s) AND valid_to IS NULL "
        "ORDER BY commune_code, sheet_number, parcel_number", (province, list(communes))).fetchall()


def generate(conn: psycopg.Connection, out: Path, province: str, communes: tuple[str, ...],
             seed: int = SEED) -> dict[str, Path]:
    """Write parties.csv, rights.csv, certificates.csv for the current parcels of ``communes``; their paths."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    parties, rights, certificates = [], [], []
    banks = []
    for i, name in enumerate(BANKS, start=1):
        code = f"TC{i:04d}"
        banks.append(code)
        parties.append((code, "organisation", name, f"0000{i:06d}", "", "Hoài Đức, Hà Nội", province))
    commune_org = {}
    for c in communes:
        code = f"UB{c}"
        commune_org[c] = code
        parties.append((code, "state", f"Ủy ban nhân dân xã (mã {c})", "", "", f"Trụ sở xã {c}", province))
    serial = 100000
    for n, (commune, sheet, number, uses) in enumerate(_parcels(conn, province, communes), start=1):
        village = rng.choice(VILLAGES.get(commune, ("Thôn Mẫu",)))
        public = any(u in ("DGT", "DTL", "SON", "NTD", "DKV", "TSC", "DGD") for u in uses) or rng.random() < 0.04
        start = f"{rng.randint(1994, 2023)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        holders: list[tuple[str, str]] = []
        if public:
            holders.append((commune_org[commune], "1"))
        else:
            code = f"NSD{commune}{n:06d}"
            female = rng.random() < 0.45
            kind = "household" if rng.random() < 0.6 else "person"
            full = ("Hộ ông " if not female else "Hộ bà ") + _person(rng, female) if kind == "household" \
                else _person(rng, female)
            parties.append((code, kind, full, f"000{rng.randint(0, 999_999_999):09d}",
                            str(rng.randint(1940, 2000)), f"{village}, xã {commune}", province))
            if kind == "person" and rng.random() < 0.3:  # husband and wife hold it together
                code2 = f"{code}B"
                parties.append((code2, "person", _person(rng, not female), f"000{rng.randint(0, 999_999_999):09d}",
                                str(rng.randint(1940, 2000)), f"{village}, xã {commune}", province))
                holders += [(code, "0.5"), (code2, "0.5")]
            else:
                holders.append((code, "1"))
        for k, (party, share) in enumerate(holders):
            right_code = f"Q{commune}-{sheet}-{number}-{k + 1}"
            rights.append((right_code, party, commune, sheet, number, "use", share, start, ""))
            if not public and rng.random() < 0.85:
                serial += rng.randint(1, 40)
                issued = f"{min(int(start[:4]) + rng.randint(0, 3), 2024)}-{rng.randint(1, 12):02d}-" \
                         f"{rng.randint(1, 28):02d}"
                certificates.append((f"{rng.choice(('AA', 'BĐ', 'CS', 'DA'))} {serial:06d}",
                                     f"CS{rng.randint(1, 9999):05d}", issued, "Sở Nông nghiệp và Môi trường Hà Nội",
                                     right_code, province, ""))
        if not public and rng.random() < 0.08:  # a mortgage registered on the parcel
            rights.append((f"Q{commune}-{sheet}-{number}-TC", rng.choice(banks), commune, sheet, number, "mortgage",
                           "", f"{rng.randint(2018, 2024)}-{rng.randint(1, 12):02d}-01", ""))
    files = {
        "parties": (("party_code", "kind", "full_name", "id_number", "birth_year", "address", "province_code"),
                    parties),
        "rights": (("right_code", "party_code", "commune_code", "sheet_number", "parcel_number", "right_type",
                    "share", "valid_from", "valid_to"), rights),
        "certificates": (("serial", "book_number", "issued_on", "issuer", "right_code", "province_code",
                          "revoked_on"), certificates),
    }
    paths = {}
    for target, (header, rows) in files.items():
        path = out / f"{target}.csv"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        if not path.exists() or path.read_bytes() != tmp.read_bytes():
            tmp.replace(path)
        else:
            tmp.unlink()
        paths[target] = path
    return paths


def prepare(out: Path, url: str, home: Path, province: str, communes: tuple[str, ...]) -> list[list[str]]:
    """Generate the register files (after the parcels are loaded) and return the ``landgeo load`` commands."""
    with psycopg.connect(url) as conn:
        paths = generate(conn, out, province, communes)
    commands = []
    for target in ("parties", "rights", "certificates"):
        path = paths[target]
        try:
            shown = path.relative_to(home)
        except ValueError:
            shown = path
        commands.append(["load", str(shown), "--into", target])
    return commands
