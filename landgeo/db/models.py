"""SQLAlchemy/GeoAlchemy2 models of the platform metadata (``meta``); shared declarative base.

The migrations in ``schemas/migrations`` are the definition of the database; these models describe
the same tables for Python code, and a test proves the two agree.
"""

from __future__ import annotations

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, ForeignKey, Integer, Text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Declarative base of every landgeo model."""


TZ = TIMESTAMP(timezone=True)


class SchemaMigration(Base):
    __tablename__ = "schema_migration"
    __table_args__ = {"schema": "meta"}
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Text)
    applied_at: Mapped[datetime] = mapped_column(TZ)


class LoadBatch(Base):
    """Lô nạp dữ liệu: lineage of one committed load."""

    __tablename__ = "load_batch"
    __table_args__ = {"schema": "meta"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(Text)
    source_sha256: Mapped[str] = mapped_column(Text)
    source_format: Mapped[str | None] = mapped_column(Text)
    source_layer: Mapped[str | None] = mapped_column(Text)
    crs_in: Mapped[str | None] = mapped_column(Text)
    crs_out: Mapped[str | None] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(Text)
    options: Mapped[dict] = mapped_column(JSONB)
    counts: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(Text)
    loaded_by: Mapped[str] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(TZ)
    finished_at: Mapped[datetime] = mapped_column(TZ)


class ValidationRun(Base):
    __tablename__ = "validation_run"
    __table_args__ = {"schema": "meta"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    target: Mapped[str | None] = mapped_column(Text)
    scope: Mapped[dict] = mapped_column(JSONB)
    counts: Mapped[dict] = mapped_column(JSONB)
    started_at: Mapped[datetime] = mapped_column(TZ)
    finished_at: Mapped[datetime | None] = mapped_column(TZ)


class ValidationFinding(Base):
    """Kết quả kiểm tra: one finding, located on the map."""

    __tablename__ = "validation_finding"
    __table_args__ = {"schema": "meta"}
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    run_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.validation_run.id"))
    batch_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("meta.load_batch.id"))
    check_code: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    feature_id: Mapped[str | None] = mapped_column(Text)
    province_code: Mapped[str | None] = mapped_column(Text)
    commune_code: Mapped[str | None] = mapped_column(Text)
    message_vi: Mapped[str] = mapped_column(Text)
    message_en: Mapped[str] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSONB)
    found_at: Mapped[datetime] = mapped_column(TZ)
    geom = mapped_column(Geometry("GEOMETRY", srid=4326, spatial_index=False))
