"""Channels: stores on platforms selling one stock pool (migration 0008, docs/rules.md §10).

* ``channels`` — a store (platform, pack, the gateway to call, encrypted credentials)
  and whether it holds the live lock now (``live_since``);
* ``channel_links`` — a tierstock SKU sold in the store as the platform's item/SKU, with
  the figure last pushed and the figure last read back from the platform;
* ``channel_rules`` / ``channel_safety`` — how the pool is split (share, fixed, safety);
* ``channel_live_skus`` — the SKUs of the live session a store holds the live lock for;
* ``channel_pushes`` — the push queue, one row per link (so pushes coalesce: the row only
  says "this link's figure may have moved"; the figure is computed when it is pushed);
* ``channel_marks`` — how far the relay has read the ledger (the ledger is written in
  the same transaction as every stock change, so it is the outbox of stock changes);
* ``channel_cursors`` — how far each store's order list has been read;
* ``channel_orders`` — each platform order once, keyed (channel, platform order id);
* ``oversell_incidents`` — platform orders the pool could not cover: the buyer paid, so
  the order is kept, with what it may cost the merchant.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tierstock.store.tables import Base, Id
from tierstock.store.types import UTCDateTime


class ChannelRow(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("shop_id", "name", name="shop_name"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    platform: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    pack: Mapped[str] = mapped_column(String(40))
    server_url: Mapped[str | None] = mapped_column(String(300), nullable=True)
    credentials: Mapped[str | None] = mapped_column(Text, nullable=True)  # Fernet token
    live_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelLinkRow(Base):
    __tablename__ = "channel_links"
    __table_args__ = (
        UniqueConstraint("channel_id", "sku_id", name="channel_sku"),
        UniqueConstraint(
            "channel_id", "platform_item_id", "platform_sku_id", name="channel_platform_sku"
        ),
        Index("ix_channel_links_sku_id", "sku_id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    platform_item_id: Mapped[str] = mapped_column(String(100))
    platform_sku_id: Mapped[str] = mapped_column(String(100))
    pushed_figure: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    seen_figure: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Units of this store's orders for the SKU recorded so far (net of cancels), and that
    # count when the figure was last pushed: the store's sales since a push that are not
    # recorded yet are (pushed − shown) − (ingested − ingested_at_push) (relay.py).
    ingested_units: Mapped[int] = mapped_column(BigInteger, default=0)
    ingested_at_push: Mapped[int] = mapped_column(BigInteger, default=0)
    # A change whose outcome is unknown (5xx, timeout) was sent at this time: the next
    # push waits until the store's orders are read past it, then sets the quota itself.
    uncertain_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class ChannelRuleRow(Base):
    __tablename__ = "channel_rules"
    __table_args__ = (CheckConstraint("value >= 0", name="value_not_negative"),)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(BigInteger)


class ChannelSafetyRow(Base):
    __tablename__ = "channel_safety"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    units: Mapped[int] = mapped_column(BigInteger)


class ChannelLiveSkuRow(Base):
    """The SKUs on sale in the live session a store holds the lock for (售卖商品)."""

    __tablename__ = "channel_live_skus"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))


class ChannelPushRow(Base):
    __tablename__ = "channel_pushes"
    __table_args__ = (Index("ix_channel_pushes_due", "live", "due_at"),)
    link_id: Mapped[int] = mapped_column(ForeignKey("channel_links.id"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    live: Mapped[bool] = mapped_column(Boolean)  # a live session's SKU: pushed first
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    generation: Mapped[int] = mapped_column(BigInteger, default=0)  # bumped by each queueing
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)


class ChannelMarkRow(Base):
    __tablename__ = "channel_marks"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class ChannelCursorRow(Base):
    __tablename__ = "channel_cursors"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    synced_until: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    page_cursor: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelOrderRow(Base):
    __tablename__ = "channel_orders"
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    platform_order_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
    incident_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OversellIncidentRow(Base):
    __tablename__ = "oversell_incidents"
    __table_args__ = (
        UniqueConstraint("channel_id", "platform_order_id", "sku_id", name="once"),
        Index("ix_oversell_incidents_shop_id_id", "shop_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    platform_order_id: Mapped[str] = mapped_column(String(100))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger)
    exposure_fen: Mapped[int] = mapped_column(BigInteger)
    promised_ship_by: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


channels = cast(Table, ChannelRow.__table__)
channel_links = cast(Table, ChannelLinkRow.__table__)
channel_rules = cast(Table, ChannelRuleRow.__table__)
channel_safety = cast(Table, ChannelSafetyRow.__table__)
channel_live_skus = cast(Table, ChannelLiveSkuRow.__table__)
channel_pushes = cast(Table, ChannelPushRow.__table__)
channel_marks = cast(Table, ChannelMarkRow.__table__)
channel_cursors = cast(Table, ChannelCursorRow.__table__)
channel_orders = cast(Table, ChannelOrderRow.__table__)
oversell_incidents = cast(Table, OversellIncidentRow.__table__)
