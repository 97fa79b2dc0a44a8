"""The live-burst planner: a session to simulate in, its outcome minute by minute out."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from tierstock.api.schemas.base import Public, Strict
from tierstock.api.schemas.fields import (
    MAX_ID,
    IsoDate,
    IsoDateTime,
    PriceFen,
    Quantity,
    RowId,
)
from tierstock.api.schemas.skus import SalesFormCreate, SalesFormPublic
from tierstock.domain.sales_forms import Tier
from tierstock.services.planner import MAX_BATCHES, MAX_BUYERS, MAX_MINUTES

MAX_LOG_CHARS = 40_000_000  # room for 1,000,000 rows of "2026-11-26T20:00:00+08:00,1"
MAX_COUNT = 10_000_000_000


class PlanBatchCreate(Strict):
    quantity: Quantity
    ready_on: IsoDate = Field(description="local date the units can ship from")


class CurvePointCreate(Strict):
    minute: int = Field(ge=0, lt=MAX_MINUTES)
    share: float = Field(ge=0, le=1_000_000, description="relative weight of this minute")


class CurveCreate(Strict):
    """A named shape or (minute, share) points, joined by straight lines."""

    shape: Literal["flat", "spike", "ramp"] | None = None
    points: list[CurvePointCreate] | None = Field(None, min_length=1, max_length=MAX_MINUTES)
    duration_minutes: int = Field(120, ge=1, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _one_curve(self) -> CurveCreate:
        if self.shape is not None and self.points is not None:
            raise ValueError("give a shape or points, not both")
        return self


class QuantityShareCreate(Strict):
    quantity: int = Field(ge=1, le=10_000)
    weight: float = Field(ge=0, le=1_000_000)


class ShareCreate(Strict):
    spot_lines: int = Field(ge=0, le=MAX_COUNT)
    paid_lines: int = Field(ge=0, le=MAX_COUNT)


class PlanCreate(Strict):
    """Leave out what the SKU knows: with ``sku_id`` the sales form, price, spot stock
    and presale capacity (its unbatched units and confirmed supplier batches, less what
    is already promised) come from the database. ``batches`` replace the SKU's presale
    (a what-if: confirmed batches with nothing promised yet). One of ``sku_id`` and
    ``sales_form`` is needed (services.planner says so otherwise)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["sku_id"], "properties": {"sku_id": {"type": "integer"}}},
                {"required": ["sales_form"], "properties": {"sales_form": {"type": "object"}}},
            ]
        }
    )

    sku_id: RowId | None = None
    sales_form: SalesFormCreate | None = None
    price_fen: PriceFen | None = None
    spot_quantity: Quantity | None = None
    batches: list[PlanBatchCreate] | None = Field(None, max_length=MAX_BATCHES)
    buyers: int | None = Field(None, ge=0, le=MAX_BUYERS)
    curve: CurveCreate | None = None
    quantities: list[QuantityShareCreate] = Field(
        default_factory=lambda: [QuantityShareCreate(quantity=1, weight=1)],
        min_length=1,
        max_length=100,
    )
    order_log: str | None = Field(
        None, max_length=MAX_LOG_CHARS, description="CSV: payment time (ISO 8601), quantity"
    )
    seed: int = Field(0, ge=0, le=MAX_ID)
    starts_at: IsoDateTime | None = None
    slip_days: int = Field(0, ge=0, le=365)
    current_share: ShareCreate | None = Field(
        None, description="spot and paid lines over the pack's window; default: the shop's"
    )


class PromiseCountPublic(Public):
    tier: Tier
    ship_by_date: date
    lines: int
    units: int


class TierOutcomePublic(Public):
    lines: int
    units: int
    sold_out_minute: int | None
    sold_out_at: datetime | None


class RefusedPublic(Public):
    buyers: int
    units: int
    reasons: dict[str, int] = Field(
        description="buyers by the error the live order would get: sold_out, "
        "capacity_exhausted, capacity_beyond_window, presale_ended"
    )


class ShareFiguresPublic(Public):
    spot_lines: int
    paid_lines: int
    percent: str


class ShareOutcomePublic(Public):
    before: ShareFiguresPublic
    after: ShareFiguresPublic
    min_percent: str
    window_days: int
    min_paid_lines: int
    eligible_after: bool
    spot_needed: int | None = Field(
        description="least spot quantity keeping the share eligible; null if none is enough"
    )


class BatchRiskPublic(Public):
    index: int
    batch_id: int | None
    quantity: int
    ready_on: date
    arrives_on: date
    promised_before: int
    lines: int
    units: int
    late_lines: int
    unshipped_lines: int
    compensation_fen: int
    compensation_yuan: str


class PlanRiskPublic(Public):
    slip_days: int
    at_risk_lines: int
    compensation_fen: int
    compensation_yuan: str
    batches: list[BatchRiskPublic]


class SeriesPublic(Public):
    """One value per minute of the session, column by column (for the charts)."""

    minute: list[int]
    buyers: list[int]
    orders: list[int]
    spot_units: list[int]
    presale_units: list[int]
    refused: list[int]
    spot_left: list[int]
    presale_left: list[int]


class PlanBatchPublic(Public):
    """A supplier batch as the session finds it (``batch_id`` null: from the request)."""

    batch_id: int | None
    status: str
    quantity: int
    ready_on: date
    promised_before: int


class PlanPresalePublic(Public):
    quantity: int
    sold_before: int
    unbatched: int


class PlanPublic(Public):
    sku_id: int | None
    seed: int
    starts_at: datetime
    minutes: int
    sales_form: SalesFormPublic
    price_fen: int
    spot_quantity: int
    presale_stock: PlanPresalePublic
    batches: list[PlanBatchPublic]
    buyers: int
    spot: TierOutcomePublic
    presale: TierOutcomePublic
    refused: RefusedPublic
    promises: list[PromiseCountPublic]
    share: ShareOutcomePublic
    risk: PlanRiskPublic
    series: SeriesPublic
