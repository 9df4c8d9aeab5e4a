"""SQLAlchemy/GeoAlchemy2 models of the land database (``landdb`` and ``landdb_restricted``)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Computed, Date, FetchedValue, ForeignKey, Integer, Numeric, Text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from landgeo.db.models import TZ, Base

WGS84_COPY = Computed("meta.vn2000_to_wgs84(geom)", persisted=True)


class AdminUnit(Base):
    """Đơn vị hành chính (tỉnh / huyện / xã) with validity dates."""

    __tablename__ = "admin_unit"
    __table_args__ = {"schema": "landdb"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    code: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    level: Mapped[str] = mapped_column(Text)
    parent_code: Mapped[str | None] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source_srid: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4756, spatial_index=False))
    geom_wgs84 = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), WGS84_COPY)


class LandUseCode(Base):
    """Ký hiệu mục đích sử dụng đất (TT 08/2024 list '2024', TT 27/2018 list '2018')."""

    __tablename__ = "land_use_code"
    __table_args__ = {"schema": "landdb"}
    code: Mapped[str] = mapped_column(Text, primary_key=True)
    list: Mapped[str] = mapped_column(Text, primary_key=True)
    name_vi: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(Text)
    group_code: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class MapSheet(Base):
    """Tờ bản đồ địa chính."""

    __tablename__ = "map_sheet"
    __table_args__ = {"schema": "landdb"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    province_code: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str] = mapped_column(Text)
    sheet_number: Mapped[int] = mapped_column(Integer)
    scale: Mapped[int] = mapped_column(Integer)
    source_srid: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(TZ)
    valid_to: Mapped[datetime | None] = mapped_column(TZ)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4756, spatial_index=False), nullable=False)
    geom_wgs84 = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), WGS84_COPY)


class Parcel(Base):
    """Thửa đất: one row per version; the current version has ``valid_to`` NULL."""

    __tablename__ = "parcel"
    __table_args__ = {"schema": "landdb"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    province_code: Mapped[str] = mapped_column(Text, primary_key=True)
    commune_code: Mapped[str] = mapped_column(Text)
    sheet_number: Mapped[int] = mapped_column(Integer)
    parcel_number: Mapped[int] = mapped_column(Integer)
    land_use_codes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    declared_area: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    address: Mapped[str | None] = mapped_column(Text)
    source_srid: Mapped[int] = mapped_column(Integer)
    area_srid: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[datetime] = mapped_column(TZ)
    valid_to: Mapped[datetime | None] = mapped_column(TZ)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    geom = mapped_column(Geometry("MULTIPOLYGON", srid=4756, spatial_index=False), nullable=False)
    # stored copies set by the loader, else derived by trigger landdb.parcel_derive (migration 0041)
    geom_wgs84 = mapped_column(Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), FetchedValue(),
                               nullable=False)
    computed_area: Mapped[Decimal] = mapped_column(Numeric(14, 2), FetchedValue(), nullable=False)


class ParcelHistory(Base):
    """Biến động: split (tách thửa), merge (hợp thửa), update, correction."""

    __tablename__ = "parcel_history"
    __table_args__ = {"schema": "landdb"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parent_id: Mapped[int] = mapped_column(BigInteger)
    child_id: Mapped[int] = mapped_column(BigInteger)
    event: Mapped[str] = mapped_column(Text)
    happened_at: Mapped[datetime] = mapped_column(TZ)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    mutation_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("landdb.parcel_mutation.id"))


class ParcelMutation(Base):
    """Biến động đất đai: one register change with its legal basis (migration 0100)."""

    __tablename__ = "parcel_mutation"
    __table_args__ = {"schema": "landdb"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    document_number: Mapped[str | None] = mapped_column(Text)
    document_date: Mapped[date | None] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(TZ)
    province_code: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict] = mapped_column(JSONB)


class ParcelChange(Base):
    """Change feed of API writes (migration 0100)."""

    __tablename__ = "parcel_change"
    __table_args__ = {"schema": "landdb"}
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ)
    mutation_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("landdb.parcel_mutation.id"))
    feature_id: Mapped[int] = mapped_column(BigInteger)
    closed_version: Mapped[int | None] = mapped_column(BigInteger)
    op: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str] = mapped_column(Text)
    commune_code: Mapped[str] = mapped_column(Text)


class Party(Base):
    """Người sử dụng đất — personal data, restricted."""

    __tablename__ = "party"
    __table_args__ = {"schema": "landdb_restricted"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    kind: Mapped[str] = mapped_column(Text)
    full_name: Mapped[str] = mapped_column(Text)
    id_number: Mapped[str | None] = mapped_column(Text)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    province_code: Mapped[str | None] = mapped_column(Text)  # the province whose register holds it (0060)
    party_code: Mapped[str | None] = mapped_column(Text)


class LandRight(Base):
    """Quyền sử dụng đất — restricted."""

    __tablename__ = "land_right"
    __table_args__ = {"schema": "landdb_restricted"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    party_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("landdb_restricted.party.id"))
    right_type: Mapped[str] = mapped_column(Text)
    share: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    province_code: Mapped[str | None] = mapped_column(Text)  # of the parcel: the row-level security key (0060)
    commune_code: Mapped[str | None] = mapped_column(Text)
    right_code: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))


class Certificate(Base):
    """Giấy chứng nhận quyền sử dụng đất — restricted."""

    __tablename__ = "certificate"
    __table_args__ = {"schema": "landdb_restricted"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    serial: Mapped[str] = mapped_column(Text)
    book_number: Mapped[str | None] = mapped_column(Text)
    issued_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str | None] = mapped_column(Text)
    parcel_id: Mapped[int] = mapped_column(BigInteger)
    party_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("landdb_restricted.party.id"))
    revoked_on: Mapped[date | None] = mapped_column(Date)
    right_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("landdb_restricted.land_right.id"))
    province_code: Mapped[str | None] = mapped_column(Text)  # of the parcel: the row-level security key (0060)
    commune_code: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
