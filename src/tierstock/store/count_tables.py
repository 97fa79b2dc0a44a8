"""Tables for stock counts (库存盘点) and the outbox of published events (migration 0005).

``stock_counts.open_warehouse`` holds the warehouse name while the count is open and
NULL afterwards; its unique key makes the database refuse a second open count of one
warehouse (NULLs never collide, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tierstock.store.tables import Base, Id
from tierstock.store.types import UTCDateTime


class StockCountRow(Base):
    __tablename__ = "stock_counts"
    __table_args__ = (
        UniqueConstraint("shop_id", "open_warehouse", name="uq_stock_counts_open_warehouse"),
        Index("ix_stock_counts_shop_id_id", "shop_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    warehouse: Mapped[str] = mapped_column(String(60))
    open_warehouse: Mapped[str | None] = mapped_column(String(60), nullable=True)
    status: Mapped[str] = mapped_column(String(10))
    sku_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str] = mapped_column(String(500))
    opened_by: Mapped[str] = mapped_column(String(100))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StockCountLineRow(Base):
    """One counted figure: a SKU at a location, and when it was counted.
    ``system_on_hand`` is the on-hand stock as of ``counted_at`` as known at entry; the
    report and approval recompute it (a shipment may be recorded late). Entering the
    same SKU and location again replaces the line."""

    __tablename__ = "stock_count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "sku_id", "location", name="uq_stock_count_lines_key"),
        CheckConstraint("counted >= 0", name="counted_not_negative"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_counts.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    location: Mapped[str] = mapped_column(String(60))
    counted: Mapped[int] = mapped_column(BigInteger)
    system_on_hand: Mapped[int] = mapped_column(BigInteger)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    counter: Mapped[str] = mapped_column(String(100))
    unit_cost_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxRow(Base):
    """Events for other systems (and the people selling), written in the transaction
    that made the change; readers page by ``id``. ``published_at`` is for a relay."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_shop_id_id", "shop_id", "id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    topic: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


stock_counts = cast(Table, StockCountRow.__table__)
stock_count_lines = cast(Table, StockCountLineRow.__table__)
outbox = cast(Table, OutboxRow.__table__)
