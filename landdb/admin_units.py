"""Administrative units (đơn vị hành chính) as the land database holds them: which province a commune is in."""

from __future__ import annotations


def province_lookup(conn) -> dict[str, str]:
    """Commune code of either generation -> current province code: a current commune's province (directly, or via
    its district), an old commune's new province through the official 2025 crosswalk. A code the two generations
    place in different provinces is left out: --province decides it."""
    rows = conn.execute("""
        SELECT code, min(province) FROM (
            SELECT c.code, CASE WHEN p.level = 'province' THEN p.code ELSE p.parent_code END AS province
            FROM landdb.admin_unit c
            LEFT JOIN landdb.admin_unit p ON p.code = c.parent_code AND p.level IN ('province', 'district')
                 AND p.valid_to IS NULL
            WHERE c.level = 'commune' AND c.valid_to IS NULL AND c.parent_code IS NOT NULL
            UNION ALL
            SELECT old_code, new_province_code FROM landdb.admin_crosswalk_2025
            UNION ALL  -- old communes the crosswalk lacks: their old province went whole into one new province
            SELECT c.code, pc.new_province_code FROM landdb.admin_unit c
            JOIN landdb.admin_unit d ON d.level = 'district' AND d.code = c.parent_code AND d.valid_from = c.valid_from
            JOIN (SELECT DISTINCT old_province_code, new_province_code FROM landdb.admin_crosswalk_2025) pc
                 ON pc.old_province_code = d.parent_code
            WHERE c.level = 'commune' AND c.valid_to IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM landdb.admin_crosswalk_2025 x WHERE x.old_code = c.code)
        ) s WHERE province IS NOT NULL GROUP BY code HAVING count(DISTINCT province) = 1""").fetchall()
    return dict(rows)
