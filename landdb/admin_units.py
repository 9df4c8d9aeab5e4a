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


def survey_province_lookup(conn) -> dict[str, str]:
    """Commune code -> code of the province (of the 63, before 2025-07-01) whose VN-2000 TM-3 zone the commune's
    cadastral maps were drawn in: an old commune's own province; a current commune's, when every old commune it
    was made of (the 2025 crosswalk) lay in one old province. A code the two readings (an old and a new commune
    can share a code) place in different old provinces is left out: today's province decides it.

    Existing cadastral data keep the central meridian of the former province (see the national data notes): a
    parcel of an old Bà Rịa–Vũng Tàu commune now in Hồ Chí Minh City was surveyed on 107°45', not 105°45'."""
    rows = conn.execute("""
        SELECT code, min(province) FROM (
            SELECT c.code, d.parent_code AS province
            FROM landdb.admin_unit c
            JOIN landdb.admin_unit d ON d.level = 'district' AND d.code = c.parent_code AND d.valid_from = c.valid_from
            WHERE c.level = 'commune' AND c.valid_to IS NOT NULL
            UNION ALL
            SELECT new_code, old_province_code FROM landdb.admin_crosswalk_2025
        ) s WHERE province IS NOT NULL GROUP BY code HAVING count(DISTINCT province) = 1""").fetchall()
    return dict(rows)
