"""The land register (sổ địa chính), LADM (ISO 19152) party / RRR / administrative source: restricted targets.

- ``parties`` (LA_Party — người sử dụng đất): people, households, organisations, communities, the State;
- ``rights`` (LA_RRR — quyền, hạn chế, trách nhiệm): a right, restriction or responsibility of a party on a parcel;
- ``certificates`` (LA_AdministrativeSource — giấy chứng nhận): the certificate that records a right.

They are *restricted* (a fact of the target, :attr:`landgeo.catalog.Target.restricted`): personal data under
Decree 13/2023/NĐ-CP. The API publishes them only to officers of their province/commune (row-level security in
the database) and records every read; anonymous users and analysts get nothing, not even counts.

Files are loaded by ``landgeo load FILE --into parties|rights|certificates`` (CSV with a header, or JSON lines):
rows name their links by the codes a provincial register uses — a right its party (``party_code``) and its
parcel (``commune_code`` + ``sheet_number`` + ``parcel_number``, current version), a certificate its right
(``right_code``) — and the load resolves them; an unknown link refuses the whole file. ``RESOLVE_SQL`` holds,
per target, how staged rows (all text, table ``src``) become rows of the table.
"""

from __future__ import annotations

from landgeo.target import Field, Target

PARTY_KINDS = ("person", "household", "organisation", "community", "state")
RIGHT_TYPES = ("use", "ownership_of_assets", "lease", "mortgage", "easement", "restriction")

PARTIES = Target(
    id="parties",
    schema="landdb_restricted",
    table="party",
    title="Người sử dụng đất — land users (restricted)",
    description="Parties of the land register (LADM LA_Party): people, households, organisations. Personal data: "
    "officers of the party's province (or of a commune where it holds a right) only; every read is audited.",
    geometry_type="None",
    natural_key=("province_code", "party_code"),
    keywords=("người sử dụng đất", "party", "LADM", "restricted"),
    fields=(
        Field("party_code", "text", "Mã người sử dụng đất — party code in the register", required=True,
              aliases=("ma_nsd", "manguoisudung")),
        Field("kind", "text", "Loại — person | household | organisation | community | state", required=True,
              aliases=("loai",)),
        Field("full_name", "text", "Họ tên / tên tổ chức — name", required=True, aliases=("hoten", "ho_ten", "ten")),
        Field("id_number", "text", "Số định danh (CCCD) / mã số doanh nghiệp — identity number",
              aliases=("cccd", "so_dinh_danh", "sodinhdanh")),
        Field("birth_year", "integer", "Năm sinh — year of birth", aliases=("namsinh", "nam_sinh")),
        Field("address", "text", "Địa chỉ thường trú — address", aliases=("diachi", "dia_chi")),
        Field("province_code", "text", "Mã tỉnh — province whose register holds the party", required=True,
              aliases=("matinh", "ma_tinh")),
    ),
    restricted=True,
    extra={
        "published_as": "parties_published",
        # a commune officer's scope hint (landgeo.api.guard.scope_hint): a party has no commune; the links of its
        # rights (migration 0190: table, party id column, commune_code) give its communes, walked in id order
        "scope_via": {"commune_code": ("landdb_restricted.party_commune", "party_id")},
    },
)

RIGHTS = Target(
    id="rights",
    schema="landdb_restricted",
    table="land_right",
    title="Quyền sử dụng đất — rights, restrictions, responsibilities (restricted)",
    description="Rights of parties on parcels (LADM LA_RRR): type, share, lifespan, the parcel and the party. "
    "Officers of the parcel's province or commune only; every read is audited.",
    geometry_type="None",
    natural_key=("province_code", "right_code"),
    keywords=("quyền sử dụng đất", "right", "RRR", "LADM", "restricted"),
    fields=(
        Field("right_code", "text", "Mã quyền — right code in the register", required=True, aliases=("ma_quyen",)),
        Field("parcel_id", "integer", "Id of the parcel (collection parcels)"),
        Field("party_id", "integer", "Id of the party (collection parties)"),
        Field("right_type", "text", "Loại quyền — " + " | ".join(RIGHT_TYPES), required=True,
              aliases=("loai_quyen", "loaiquyen")),
        Field("share", "number", "Tỷ lệ sở hữu — share (0–1]", aliases=("ty_le", "tyle")),
        Field("valid_from", "date", "Hiệu lực từ — valid from", required=True, aliases=("tu_ngay",)),
        Field("valid_to", "date", "Hiệu lực đến — valid to", aliases=("den_ngay",)),
        Field("province_code", "text", "Mã tỉnh — province of the parcel"),
        Field("commune_code", "text", "Mã xã — commune of the parcel"),
    ),
    restricted=True,
    extra={
        "published_as": "rights_published",
        "links": {"parcel_id": "parcels", "party_id": "parties"},  # property -> the collection it points into
        # the file names the parcel and the party by their codes; the ids are resolved at load
        "load_fields": (
            Field("right_code", "text", "Mã quyền", required=True, aliases=("ma_quyen",)),
            Field("party_code", "text", "Mã người sử dụng đất of the holder", required=True, aliases=("ma_nsd",)),
            Field("commune_code", "text", "Mã xã of the parcel", required=True, aliases=("maxa", "ma_xa")),
            Field("sheet_number", "integer", "Số hiệu tờ bản đồ of the parcel", required=True,
                  aliases=("soto", "so_to")),
            Field("parcel_number", "integer", "Số thửa of the parcel", required=True, aliases=("sothua", "so_thua")),
            Field("right_type", "text", "Loại quyền", required=True, aliases=("loai_quyen",)),
            Field("share", "number", "Tỷ lệ", aliases=("ty_le",)),
            Field("valid_from", "date", "Hiệu lực từ", required=True, aliases=("tu_ngay",)),
            Field("valid_to", "date", "Hiệu lực đến", aliases=("den_ngay",)),
        ),
    },
)

CERTIFICATES = Target(
    id="certificates",
    schema="landdb_restricted",
    table="certificate",
    title="Giấy chứng nhận — land-use right certificates (restricted)",
    description="Certificates (LADM LA_AdministrativeSource): serial, book entry, issue date and issuer, the right "
    "they record. Officers of the parcel's province or commune only; every read is audited.",
    geometry_type="None",
    natural_key=("serial",),
    keywords=("giấy chứng nhận", "sổ đỏ", "certificate", "LADM", "restricted"),
    fields=(
        Field("serial", "text", "Số phát hành (seri) — certificate serial", required=True, aliases=("so_seri", "seri")),
        Field("book_number", "text", "Số vào sổ cấp GCN — entry in the issuing book", aliases=("so_vao_so",)),
        Field("issued_on", "date", "Ngày cấp — issue date", required=True, aliases=("ngay_cap",)),
        Field("issuer", "text", "Cơ quan cấp — issuing authority", aliases=("co_quan_cap",)),
        Field("right_id", "integer", "Id of the right it records (collection rights)"),
        Field("parcel_id", "integer", "Id of the parcel (collection parcels)"),
        Field("party_id", "integer", "Id of the holder (collection parties)"),
        Field("revoked_on", "date", "Ngày thu hồi — revoked on", aliases=("ngay_thu_hoi",)),
        Field("province_code", "text", "Mã tỉnh — province of the parcel"),
        Field("commune_code", "text", "Mã xã — commune of the parcel"),
    ),
    restricted=True,
    extra={
        "published_as": "certificates_published",
        "links": {"right_id": "rights", "parcel_id": "parcels", "party_id": "parties"},
        "load_fields": (
            Field("serial", "text", "Số seri", required=True, aliases=("so_seri", "seri")),
            Field("book_number", "text", "Số vào sổ", aliases=("so_vao_so",)),
            Field("issued_on", "date", "Ngày cấp", required=True, aliases=("ngay_cap",)),
            Field("issuer", "text", "Cơ quan cấp", aliases=("co_quan_cap",)),
            Field("right_code", "text", "Mã quyền of the right it records", required=True, aliases=("ma_quyen",)),
            Field("province_code", "text", "Mã tỉnh of the right", required=True, aliases=("ma_tinh",)),
            Field("revoked_on", "date", "Ngày thu hồi", aliases=("ngay_thu_hoi",)),
        ),
    },
)

REGISTER = (PARTIES, RIGHTS, CERTIFICATES)

# Staged rows (temporary table ``src``, text columns named after the load fields, plus ``row_no``) -> the table.
# Each statement returns the inserted ids; ``%(batch)s`` is the load batch. Links that do not resolve are found
# by UNRESOLVED_SQL first (the load is refused with the row number).
RESOLVE_SQL = {
    "parties": """
        INSERT INTO landdb_restricted.party (party_code, kind, full_name, id_number, birth_year, address,
                                             province_code, batch_id)
        SELECT party_code, kind, full_name, NULLIF(id_number, ''), NULLIF(birth_year, '')::integer,
               NULLIF(address, ''), province_code, %(batch)s
        FROM src ORDER BY row_no RETURNING id""",
    "rights": """
        INSERT INTO landdb_restricted.land_right (right_code, parcel_id, party_id, right_type, share, valid_from,
                                                  valid_to, province_code, commune_code, batch_id)
        SELECT s.right_code, coalesce(p.feature_id, p.id), y.id, s.right_type, NULLIF(s.share, '')::numeric,
               s.valid_from::date, NULLIF(s.valid_to, '')::date, p.province_code, p.commune_code, %(batch)s
        FROM src s
        JOIN landdb.parcel p ON p.commune_code = s.commune_code AND p.sheet_number = s.sheet_number::integer
             AND p.parcel_number = s.parcel_number::integer AND p.valid_to IS NULL
        JOIN landdb_restricted.party y ON y.party_code = s.party_code AND y.province_code = p.province_code
        ORDER BY s.row_no RETURNING id""",
    "certificates": """
        INSERT INTO landdb_restricted.certificate (serial, book_number, issued_on, issuer, right_id, parcel_id,
                                                   party_id, revoked_on, province_code, commune_code, batch_id)
        SELECT s.serial, NULLIF(s.book_number, ''), s.issued_on::date, NULLIF(s.issuer, ''), r.id, r.parcel_id,
               r.party_id, NULLIF(s.revoked_on, '')::date, r.province_code, r.commune_code, %(batch)s
        FROM src s JOIN landdb_restricted.land_right r
             ON r.right_code = s.right_code AND r.province_code = s.province_code
        ORDER BY s.row_no RETURNING id""",
}

UNRESOLVED_SQL = {
    "parties": "SELECT row_no, 'province ' || province_code || ' is not a 2-digit code' FROM src "
               "WHERE province_code !~ '^[0-9]{2}$' ORDER BY row_no LIMIT 1",
    "rights": """
        SELECT s.row_no, CASE WHEN p.id IS NULL THEN 'no current parcel ' || s.commune_code || '/' || s.sheet_number
                                   || '/' || s.parcel_number
                              ELSE 'no party ' || s.party_code || ' in province ' || p.province_code END
        FROM src s
        LEFT JOIN landdb.parcel p ON p.commune_code = s.commune_code AND p.sheet_number = s.sheet_number::integer
             AND p.parcel_number = s.parcel_number::integer AND p.valid_to IS NULL
        LEFT JOIN landdb_restricted.party y ON y.party_code = s.party_code AND y.province_code = p.province_code
        WHERE p.id IS NULL OR y.id IS NULL ORDER BY s.row_no LIMIT 1""",
    "certificates": """
        SELECT s.row_no, 'no right ' || s.right_code || ' in province ' || s.province_code FROM src s
        LEFT JOIN landdb_restricted.land_right r ON r.right_code = s.right_code AND r.province_code = s.province_code
        WHERE r.id IS NULL ORDER BY s.row_no LIMIT 1""",
}
