"""Tables for supplier capacity (产能确认, migration 0006): suppliers, their batches and
the immutable history of every action on a batch.

``capacity_batches.in_tier`` is what the batch currently adds to the presale tier's
``quantity`` (see :mod:`tierstock.domain.capacity`); it changes only in the same
transaction as the tier row and its ledger entry.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tierstock.store.tables import Base, Id
from tierstock.store.types import UTCDateTime


class SupplierRow(Base):
    __tablename__ = "suppliers"
    __table_args__ = (UniqueConstraint("shop_id", "name", name="uq_suppliers_shop_name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CapacityBatchRow(Base):
    __tablename__ = "capacity_batches"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("in_tier >= 0", name="in_tier_not_negative"),
        Index("ix_capacity_batches_sku_id", "sku_id", "ready_on"),
        Index("ix_capacity_batches_shop_supplier", "shop_id", "supplier_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    ready_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))
    in_tier: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CapacityRevisionRow(Base):
    """Immutable: one row per action (proposed, confirmed, revised, declined, received),
    with the batch's quantity and ready day after it."""

    __tablename__ = "capacity_revisions"
    __table_args__ = (Index("ix_capacity_revisions_batch_id", "batch_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("capacity_batches.id"))
    action: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(BigInteger)
    ready_on: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


suppliers = cast(Table, SupplierRow.__table__)
capacity_batches = cast(Table, CapacityBatchRow.__table__)
capacity_revisions = cast(Table, CapacityRevisionRow.__table__)
