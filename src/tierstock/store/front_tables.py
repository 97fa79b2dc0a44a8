"""The Redis reservation front's leases (migration 0007, services/placing/redis_front/front.py).

A lease is a run of a tier's units handed to the front: the tier row counts them as
sold from the moment of the lease (ledger kind ``lease``), so every other path keeps
selling only what is left in the database. ``sold`` counts the leased units that became
order lines (folded from the front's stream), ``returned`` those given back to the tier.
A lease is open while ``sold + returned < units``; its outstanding units are in Redis or
in the front's stream, which is what ``tierstock verify`` reconciles.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from tierstock.store.tables import Base, Id
from tierstock.store.types import UTCDateTime


class FrontLeaseRow(Base):
    __tablename__ = "front_leases"
    __table_args__ = (
        CheckConstraint("units > 0", name="units_positive"),
        CheckConstraint(
            "sold >= 0 AND returned >= 0 AND sold + returned <= units", name="never_past_units"
        ),
        Index("ix_front_leases_sku_tier", "sku_id", "tier"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    tier: Mapped[str] = mapped_column(String(10))
    first_unit: Mapped[int] = mapped_column(BigInteger)  # units first_unit .. +units-1
    units: Mapped[int] = mapped_column(BigInteger)
    sold: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FrontReleaseRow(Base):
    """One give-back of leased units, keyed by what caused it (the stream entry, or the
    drain's sweep of a lease): a re-delivered entry finds its key and changes nothing."""

    __tablename__ = "front_releases"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


front_leases = cast(Table, FrontLeaseRow.__table__)
front_releases = cast(Table, FrontReleaseRow.__table__)
