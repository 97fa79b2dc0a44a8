"""Live-burst planner (直播前推演) — docs/rules.md §8: ``POST /plans`` simulates a session.

Reading permission is enough: a plan changes nothing. Register in ``api/main.py``
with the other routers (``plans.router``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field, model_validator

from tierstock.api import schemas as s
from tierstock.api.convert import local, yuan
from tierstock.api.deps import Reader, RuntimeDep
from tierstock.api.routers.products import form_spec
from tierstock.domain.eligibility import ShareCount, percent
from tierstock.domain.plan import Plan
from tierstock.domain.sales_forms import Tier
from tierstock.services import planner
from tierstock.services.planner import MAX_BATCHES, MAX_BUYERS, MAX_MINUTES, LivePlan

router = APIRouter(prefix="/plans", tags=["plans"])

MAX_LOG_CHARS = 40_000_000  # room for 1,000,000 rows of "2026-11-26T20:00:00+08:00,1"
MAX_COUNT = 10_000_000_000


class BatchIn(s.Strict):
    quantity: s.Quantity
    ready_on: date = Field(description="local date the units can ship from")


class CurvePoint(s.Strict):
    minute: int = Field(ge=0, lt=MAX_MINUTES)
    share: float = Field(ge=0, le=1_000_000, description="relative weight of this minute")


class CurveIn(s.Strict):
    """A named shape or (minute, share) points, joined by straight lines."""

    shape: Literal["flat", "spike", "ramp"] | None = None
    points: list[CurvePoint] | None = Field(None, min_length=1, max_length=MAX_MINUTES)
    duration_minutes: int = Field(120, ge=1, le=MAX_MINUTES)

    @model_validator(mode="after")
    def _one_curve(self) -> CurveIn:
        if self.shape is not None and self.points is not None:
            raise ValueError("give a shape or points, not both")
        return self


class QuantityShare(s.Strict):
    quantity: int = Field(ge=1, le=10_000)
    weight: float = Field(ge=0, le=1_000_000)


class ShareIn(s.Strict):
    spot_lines: int = Field(ge=0, le=MAX_COUNT)
    paid_lines: int = Field(ge=0, le=MAX_COUNT)


class PlanCreate(s.Strict):
    """Leave out what the SKU knows: with ``sku_id`` the sales form, price, spot stock
    and presale capacity (its unbatched units and confirmed supplier batches, less what
    is already promised) come from the database. ``batches`` replace the SKU's presale
    (a what-if: confirmed batches with nothing promised yet)."""

    sku_id: s.RowId | None = None
    sales_form: s.SalesFormIn | None = None
    price_fen: s.PriceFen | None = None
    spot_quantity: s.Quantity | None = None
    batches: list[BatchIn] | None = Field(None, max_length=MAX_BATCHES)
    buyers: int | None = Field(None, ge=0, le=MAX_BUYERS)
    curve: CurveIn | None = None
    quantities: list[QuantityShare] = Field(
        default_factory=lambda: [QuantityShare(quantity=1, weight=1)], min_length=1, max_length=100
    )
    order_log: str | None = Field(
        None, max_length=MAX_LOG_CHARS, description="CSV: payment time (ISO 8601), quantity"
    )
    seed: int = Field(0, ge=0, le=2**63 - 1)
    starts_at: datetime | None = None
    slip_days: int = Field(0, ge=0, le=365)
    current_share: ShareIn | None = Field(
        None, description="spot and paid lines over the pack's window; default: the shop's"
    )


class PromiseCountPublic(BaseModel):
    tier: Tier
    ship_by_date: date
    lines: int
    units: int


class TierOutcome(BaseModel):
    lines: int
    units: int
    sold_out_minute: int | None
    sold_out_at: datetime | None


class Refused(BaseModel):
    buyers: int
    units: int
    reasons: dict[str, int] = Field(
        description="buyers by the error the live order would get: sold_out, "
        "capacity_exhausted, capacity_beyond_window, presale_ended"
    )


class ShareFigures(BaseModel):
    spot_lines: int
    paid_lines: int
    percent: str


class ShareOutcome(BaseModel):
    before: ShareFigures
    after: ShareFigures
    min_percent: str
    window_days: int
    min_paid_lines: int
    eligible_after: bool
    spot_needed: int | None = Field(
        description="least spot quantity keeping the share eligible; null if none is enough"
    )


class BatchRiskPublic(BaseModel):
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


class RiskPublic(BaseModel):
    slip_days: int
    at_risk_lines: int
    compensation_fen: int
    compensation_yuan: str
    batches: list[BatchRiskPublic]


class SeriesPublic(BaseModel):
    """One value per minute of the session, column by column (for the charts)."""

    minute: list[int]
    buyers: list[int]
    orders: list[int]
    spot_units: list[int]
    presale_units: list[int]
    refused: list[int]
    spot_left: list[int]
    presale_left: list[int]


class BatchPublic(BaseModel):
    """A supplier batch as the session finds it (``batch_id`` null: from the request)."""

    batch_id: int | None
    status: str
    quantity: int
    ready_on: date
    promised_before: int


class PresalePublic(BaseModel):
    quantity: int
    sold_before: int
    unbatched: int


class PlanPublic(BaseModel):
    sku_id: int | None
    seed: int
    starts_at: datetime
    minutes: int
    sales_form: s.SalesFormPublic
    price_fen: int
    spot_quantity: int
    presale_stock: PresalePublic
    batches: list[BatchPublic]
    buyers: int
    spot: TierOutcome
    presale: TierOutcome
    refused: Refused
    promises: list[PromiseCountPublic]
    share: ShareOutcome
    risk: RiskPublic
    series: SeriesPublic


@router.post("", response_model=PlanPublic)
def create_plan(body: PlanCreate, caller: Reader, runtime: RuntimeDep) -> PlanPublic:
    """Simulate a live session: when spot sells out, what buyers are promised, who is
    refused, the spot-order share afterwards, compensation at risk if a batch slips by
    ``slip_days``, and the spot quantity that keeps the share eligible. Changes nothing;
    the same input and seed give the same answer."""
    curve = body.curve or CurveIn()
    cmd = planner.PlanLive(
        shop_id=caller.shop_id,
        sku_id=body.sku_id,
        sales_form=form_spec(body.sales_form) if body.sales_form else None,
        price_fen=body.price_fen,
        spot_quantity=body.spot_quantity,
        batches=None
        if body.batches is None
        else tuple(planner.BatchIn(b.quantity, b.ready_on) for b in body.batches),
        buyers=body.buyers,
        duration_minutes=curve.duration_minutes,
        curve_shape=curve.shape,
        curve_points=tuple((p.minute, p.share) for p in curve.points or ()),
        quantities=tuple((q.quantity, _weight(q.weight)) for q in body.quantities),
        order_log=None if body.order_log is None else planner.parse_order_log(body.order_log),
        seed=body.seed,
        starts_at=body.starts_at,
        slip_days=body.slip_days,
        spot_lines=body.current_share.spot_lines if body.current_share else None,
        paid_lines=body.current_share.paid_lines if body.current_share else None,
    )
    return plan_public(planner.plan_live(cmd, runtime.uow(readonly=True)))


def _weight(w: float) -> int:
    """Quantity weights as integers (per million), so the seeded draw is exact."""
    return round(w * 1_000_000)


def _share(x: ShareCount) -> ShareFigures:
    return ShareFigures(
        spot_lines=x.spot_lines, paid_lines=x.paid_lines, percent=percent(x.share_bp)
    )


def _tier(lines: int, units: int, minute: int | None, r: LivePlan) -> TierOutcome:
    at = None if minute is None else local(r.input.starts_at + timedelta(minutes=minute), r.zone)
    return TierOutcome(lines=lines, units=units, sold_out_minute=minute, sold_out_at=at)


def _risk(p: Plan, r: LivePlan) -> RiskPublic:
    slip = timedelta(days=p.slip_days)
    return RiskPublic(
        slip_days=p.slip_days,
        at_risk_lines=sum(b.late_lines + b.unshipped_lines for b in p.risks),
        compensation_fen=p.compensation_at_risk_fen,
        compensation_yuan=yuan(p.compensation_at_risk_fen),
        batches=[
            BatchRiskPublic(
                index=b.index,
                batch_id=b.batch_id,
                quantity=b.quantity,
                ready_on=b.ready_on,
                arrives_on=b.ready_on + slip,
                promised_before=b.promised_before,
                lines=b.lines,
                units=b.units,
                late_lines=b.late_lines,
                unshipped_lines=b.unshipped_lines,
                compensation_fen=b.compensation_fen,
                compensation_yuan=yuan(b.compensation_fen),
            )
            for b in p.risks
        ],
    )


def _series(p: Plan) -> SeriesPublic:
    pts = p.series
    return SeriesPublic(
        minute=[x.minute for x in pts],
        buyers=[x.buyers for x in pts],
        orders=[x.lines for x in pts],
        spot_units=[x.spot_units for x in pts],
        presale_units=[x.presale_units for x in pts],
        refused=[x.refused for x in pts],
        spot_left=[x.spot_left for x in pts],
        presale_left=[x.presale_left for x in pts],
    )


def _presale(r: LivePlan) -> PresalePublic:
    presale = r.input.presale
    slots = presale.layout.slots  # the merchant's own units come first, batch-less
    unbatched = slots[0].end if slots and slots[0].batch is None else 0
    return PresalePublic(quantity=presale.quantity, sold_before=presale.sold, unbatched=unbatched)


def plan_public(r: LivePlan) -> PlanPublic:
    p, inp, rules, f = r.plan, r.input, r.rules, r.input.sales_form
    layout = inp.presale.layout
    return PlanPublic(
        sku_id=r.sku_id,
        seed=r.seed,
        starts_at=local(inp.starts_at, r.zone),
        minutes=len(p.series),
        sales_form=s.SalesFormPublic(
            form=f.form,
            spot_window_hours=f.spot_window_hours,
            presale_days=f.presale_days,
            presale_ship_by=f.presale_ship_by,
        ),
        price_fen=inp.price_fen,
        spot_quantity=inp.spot_quantity,
        presale_stock=_presale(r),
        batches=[
            BatchPublic(
                batch_id=b.id if inp.presale.stored else None,
                status=b.status.value,
                quantity=b.quantity,
                ready_on=b.ready_on,
                promised_before=layout.promised_in(b.id, inp.presale.sold),
            )
            for b in inp.presale.batches
        ],
        buyers=p.buyers,
        spot=_tier(p.spot_lines, p.spot_units, p.spot_sold_out_minute, r),
        presale=_tier(p.presale_lines, p.presale_units, p.capacity_sold_out_minute, r),
        refused=Refused(
            buyers=p.refused_buyers,
            units=p.refused_units,
            reasons={k.value: n for k, n in p.refusals},
        ),
        promises=[
            PromiseCountPublic(
                tier=x.tier, ship_by_date=x.ship_by_date, lines=x.lines, units=x.units
            )
            for x in p.promises
        ],
        share=ShareOutcome(
            before=_share(p.share_before),
            after=_share(p.share_after),
            min_percent=percent(rules.min_spot_share_bp),
            window_days=rules.window_days,
            min_paid_lines=rules.min_paid_lines,
            eligible_after=p.eligible_after,
            spot_needed=p.spot_needed,
        ),
        risk=_risk(p, r),
        series=_series(p),
    )
