"""Tables for trust: the audit trail and stored answers to idempotent writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tierstock.store.tables import Base, Id
from tierstock.store.types import UTCDateTime


class AuditRow(Base):
    """Who changed what, when and why — for every change that is not a stock movement
    (stock movements are in ``stock_ledger``, which carries the same who/when/why)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_shop_id_id", "shop_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[int] = mapped_column(Id)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdempotencyRow(Base):
    """A write's Idempotency-Key, claimed in the same transaction as the write, and the
    answer given, stored right after so a retry gets it back byte for byte."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("shop_id", "key", name="uq_idempotency_keys_shop_key"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    response_body: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


audit_log = cast(Table, AuditRow.__table__)
idempotency_keys = cast(Table, IdempotencyRow.__table__)
