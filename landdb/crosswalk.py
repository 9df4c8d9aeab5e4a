"""The 2025 commune crosswalk (bảng chuyển đổi ĐVHC cấp xã, 2025-07-01) as a lookup: what an old commune code
became, and what a new commune came from (``landdb.admin_crosswalk_2025``, seeded by migration 0050)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg

from landgeo.errors import UserError

_CODE = re.compile(r"^[0-9]{1,5}$")


class UnknownCode(UserError):
    """A well-formed commune code that neither generation's list has."""

    exit_code = 1


@dataclass(frozen=True)
class Counterpart:
    """One commune on the other side of the crosswalk."""

    code: str
    name: str | None
    province_code: str
    partly_merged: bool  # the old commune of this pair went only partly into the new one

    def line(self) -> str:
        """``CODE name`` (and ``(partly merged)``): one line of ``landgeo admin convert``."""
        name = self.name or "(name not in the official list)"
        return f"{self.code} {name}" + (" (partly merged)" if self.partly_merged else "")


def commune_code(text: str) -> str:
    """A commune code as typed (``26734``, ``4`` or ``00004``) -> its 5 digits; anything else is a UserError."""
    text = text.strip()
    if not _CODE.match(text):
        raise UserError(f"{text!r} is not a commune code: a commune code (mã xã) is up to 5 digits, e.g. 26734")
    return text.zfill(5)


def became(conn: psycopg.Connection, code: str) -> list[Counterpart]:
    """The new commune(s) the old commune ``code`` became on 2025-07-01 (empty when it is not an old code)."""
    rows = conn.execute(
        "SELECT new_code, new_name, new_province_code, partly_merged FROM landdb.admin_crosswalk_2025 "
        "WHERE old_code = %s ORDER BY new_code", (code,)).fetchall()
    return [Counterpart(*r) for r in rows]


def came_from(conn: psycopg.Connection, code: str) -> list[Counterpart]:
    """The old communes the new commune ``code`` was formed from (empty when it is not a new code)."""
    rows = conn.execute(
        "SELECT old_code, old_name, old_province_code, partly_merged FROM landdb.admin_crosswalk_2025 "
        "WHERE new_code = %s ORDER BY old_code", (code,)).fetchall()
    return [Counterpart(*r) for r in rows]


def unit_names(conn: psycopg.Connection, code: str) -> dict[str, str]:
    """{'old'|'new': name} of the commune ``code`` in each generation's official list that has it."""
    rows = conn.execute(
        "SELECT CASE WHEN valid_to IS NULL THEN 'new' ELSE 'old' END, name FROM landdb.admin_unit "
        "WHERE level = 'commune' AND code = %s AND (valid_to IS NULL OR valid_to = '2025-06-30')", (code,)).fetchall()
    return dict(rows)
