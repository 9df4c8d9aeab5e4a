"""Administrative units (đơn vị hành chính) as the land database holds them: which province a commune is in."""

from __future__ import annotations


def province_lookup(conn) -> dict[str, str]:
    """Commune code -> province code from landdb.admin_unit (current units; via the district before 2025)."""
    rows = conn.execute("""
        SELECT c.code, CASE WHEN p.level = 'province' THEN p.code ELSE p.parent_code END
        FROM landdb.admin_unit c
        LEFT JOIN landdb.admin_unit p ON p.code = c.parent_code AND p.level IN ('province', 'district')
             AND p.valid_to IS NULL
        WHERE c.level = 'commune' AND c.valid_to IS NULL AND c.parent_code IS NOT NULL""").fetchall()
    return {code: prov for code, prov in rows if prov}
