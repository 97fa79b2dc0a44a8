"""The schema. Every table carries ``shop_id`` so shops can later shard by it.

Stock lives in ``stock_tiers`` (one row per SKU and tier) guarded by a CHECK that makes
the database itself refuse an oversell, and in ``stock_ledger``, the immutable history
the tier figures are derived from and verified against (docs/rules.md §3).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from tierstock.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so the id stays the rowid (autoincrement).
Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ShopRow(Base):
    __tablename__ = "shops"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    policy: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiKeyRow(Base):
    """API keys, stored as SHA-256 digests: a leaked table reveals no usable key."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # a supplier key speaks for one supplier of the shop (migration 0006)
    supplier_id: Mapped[int | None] = mapped_column(Id, nullable=True)


class ProductRow(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    service_promises: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SkuRow(Base):
    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("shop_id", "code", name="uq_skus_shop_code"),
        CheckConstraint("price_fen > 0", name="price_positive"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    specs: Mapped[dict[str, Any]] = mapped_column(JSON)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    sales_form: Mapped[str] = mapped_column(String(10))
    spot_window_hours: Mapped[int | None] = mapped_column(Integer, nullable=True)
    presale_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    presale_ship_by: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StockTierRow(Base):
    """One tier of one SKU. ``quantity`` counts every unit ever made sellable in the
    tier, ``sold`` the units promised to paid lines; available = quantity − sold."""

    __tablename__ = "stock_tiers"
    __table_args__ = (
        UniqueConstraint("sku_id", "tier", name="uq_stock_tiers_sku_tier"),
        CheckConstraint("sold >= 0 AND sold <= quantity", name="never_oversold"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    tier: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    sold: Mapped[int] = mapped_column(BigInteger, default=0)


class LedgerRow(Base):
    """Immutable: rows are only ever inserted. Sums per tier equal the tier row."""

    __tablename__ = "stock_ledger"
    __table_args__ = (Index("ix_stock_ledger_sku_tier", "sku_id", "tier"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    tier: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(20))
    quantity_delta: Mapped[int] = mapped_column(BigInteger)
    sold_delta: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(Id, nullable=True)
    line_no: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderRow(Base):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("shop_id", "idempotency_key", name="uq_orders_shop_idempotency"),
        # the spot-order share counts a shop's paid orders over a trailing window
        Index("ix_orders_shop_paid_at", "shop_id", "paid_at"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    buyer: Mapped[str | None] = mapped_column(String(200), nullable=True)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OrderLineRow(Base):
    """``tier_sold_after`` is the tier's ``sold`` right after this line took its units:
    the line holds units (tier_sold_after − quantity, tier_sold_after] of its tier, which
    lets tests prove no unit went to two buyers."""

    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_order_lines_sku_tier", "sku_id", "tier"),
        # the promise scan and the urgency list walk a shop's open lines by deadline
        Index("ix_order_lines_shop_status_ship_by", "shop_id", "status", "ship_by"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    tier: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    ship_by: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(12))
    tier_sold_after: Mapped[int] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


shops = cast(Table, ShopRow.__table__)
api_keys = cast(Table, ApiKeyRow.__table__)
products = cast(Table, ProductRow.__table__)
skus = cast(Table, SkuRow.__table__)
stock_tiers = cast(Table, StockTierRow.__table__)
stock_ledger = cast(Table, LedgerRow.__table__)
orders = cast(Table, OrderRow.__table__)
order_lines = cast(Table, OrderLineRow.__table__)


# --- Shipping promises to the end (issue 3, migration 0002) ---------------------------


class ShipmentRow(Base):
    """One shipment per order line (carrier, tracking number, when). ``deadline`` is the
    line's effective deadline when it shipped and ``outcome`` what that made it
    (``on_time`` / ``late`` / ``unshipped``), fixed at shipping — no delay can follow."""

    __tablename__ = "shipments"
    __table_args__ = (UniqueConstraint("line_id", name="uq_shipments_line"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_no: Mapped[str] = mapped_column(String(100))
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the carrier's pickup (揽收) time, which judges the line when given (migration 0010)
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ShipDelayRow(Base):
    """Immutable record of each accepted delay (延迟/预约/协商发货): the only way a
    deadline moves. The latest row's ``new_ship_by`` is the line's effective deadline."""

    __tablename__ = "ship_delays"
    __table_args__ = (Index("ix_ship_delays_line", "line_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(500))
    buyer_consent: Mapped[bool] = mapped_column(Boolean)
    previous_ship_by: Mapped[datetime] = mapped_column(UTCDateTime())
    new_ship_by: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CompensationRow(Base):
    """Compensation owed for a broken promise. The unique (line, kind) makes recording
    idempotent: a scan run twice, or two scans racing, record it once; under a pack whose
    ``compensation.base`` is ``order``, ``order_key`` (the order's id, else NULL) makes it
    once per order and kind. ``state`` and the columns after it (migration 0010) are the
    claim's life: owed → claimed / agreed → paid, or waived (docs/rules.md §7.2)."""

    __tablename__ = "compensations"
    __table_args__ = (
        UniqueConstraint("line_id", "kind", name="uq_compensations_line_kind"),
        UniqueConstraint("order_key", "kind", name="uq_compensations_order_kind"),
        CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"))
    kind: Mapped[str] = mapped_column(String(12))
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())
    policy: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    base: Mapped[str] = mapped_column(String(8), server_default="line")
    order_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state: Mapped[str] = mapped_column(String(10), server_default="owed")
    agreed_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    agreed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    settled_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    state_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    state_note: Mapped[str | None] = mapped_column(String(500), nullable=True)
    state_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class StoreScoreRow(Base):
    """The store score (店铺分) as a dated series, one value per shop and day."""

    __tablename__ = "store_scores"
    __table_args__ = (UniqueConstraint("shop_id", "scored_on", name="uq_store_scores_day"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    scored_on: Mapped[date] = mapped_column(Date)
    score_centi: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


shipments = cast(Table, ShipmentRow.__table__)
ship_delays = cast(Table, ShipDelayRow.__table__)
compensations = cast(Table, CompensationRow.__table__)
store_scores = cast(Table, StoreScoreRow.__table__)


# --- Evidence for stock (issue 14, migration 0009) -------------------------------------


class StockEvidenceRow(Base):
    """What a receipt or a set stock rests on, written with its ledger entry
    (docs/rules.md §3.5): a receipt's supplier and delivery note, or the owner's
    override of the evidence rule (flagged), with whether a live session held the SKU.
    A delivery note backs one receipt per SKU and supplier (NULLs never collide)."""

    __tablename__ = "stock_evidence"
    __table_args__ = (
        UniqueConstraint("ledger_id", name="uq_stock_evidence_ledger"),
        UniqueConstraint(
            "sku_id", "supplier", "delivery_note", name="uq_stock_evidence_delivery_note"
        ),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    ledger_id: Mapped[int] = mapped_column(ForeignKey("stock_ledger.id"))
    basis: Mapped[str] = mapped_column(String(10))
    supplier: Mapped[str | None] = mapped_column(String(200), nullable=True)
    delivery_note: Mapped[str | None] = mapped_column(String(100), nullable=True)
    during_live: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


stock_evidence = cast(Table, StockEvidenceRow.__table__)
