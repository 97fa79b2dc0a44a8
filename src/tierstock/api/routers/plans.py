"""Live-burst planner (直播前推演) — docs/rules.md §8: ``POST /plans`` simulates a session.

Reading permission is enough: a plan changes nothing. Register in ``api/main.py``
with the other routers (``plans.router``).
"""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter

from tierstock.api.convert import local, sales_form, yuan
from tierstock.api.deps import Reader, RuntimeDep
from tierstock.api.routers.products import form_spec
from tierstock.api.schemas.plans import (
    BatchRiskPublic,
    CurveCreate,
    PlanBatchPublic,
    PlanCreate,
    PlanPresalePublic,
    PlanPublic,
    PlanRiskPublic,
    PromiseCountPublic,
    RefusedPublic,
    SeriesPublic,
    ShareFiguresPublic,
    ShareOutcomePublic,
    TierOutcomePublic,
)
from tierstock.domain.eligibility import ShareCount, percent
from tierstock.domain.plan import Plan
from tierstock.services import planner
from tierstock.services.planner import LivePlan

router = APIRouter(prefix="/plans", tags=["plans"])


@router.post("", response_model=PlanPublic)
def create_plan(body: PlanCreate, caller: Reader, runtime: RuntimeDep) -> PlanPublic:
    """Simulate a live session: when spot sells out, what buyers are promised, who is
    refused, the spot-order share afterwards, compensation at risk if a batch slips by
    ``slip_days``, and the spot quantity that keeps the share eligible. Changes nothing;
    the same input and seed give the same answer."""
    curve = body.curve or CurveCreate()
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


def _share(x: ShareCount) -> ShareFiguresPublic:
    return ShareFiguresPublic(
        spot_lines=x.spot_lines, paid_lines=x.paid_lines, percent=percent(x.share_bp)
    )


def _tier(lines: int, units: int, minute: int | None, r: LivePlan) -> TierOutcomePublic:
    at = None if minute is None else local(r.input.starts_at + timedelta(minutes=minute), r.zone)
    return TierOutcomePublic(lines=lines, units=units, sold_out_minute=minute, sold_out_at=at)


def _risk(p: Plan, r: LivePlan) -> PlanRiskPublic:
    slip = timedelta(days=p.slip_days)
    return PlanRiskPublic(
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


def _presale(r: LivePlan) -> PlanPresalePublic:
    presale = r.input.presale
    slots = presale.layout.slots  # the merchant's own units come first, batch-less
    unbatched = slots[0].end if slots and slots[0].batch is None else 0
    return PlanPresalePublic(
        quantity=presale.quantity, sold_before=presale.sold, unbatched=unbatched
    )


def plan_public(r: LivePlan) -> PlanPublic:
    p, inp, rules = r.plan, r.input, r.rules
    layout = inp.presale.layout
    return PlanPublic(
        sku_id=r.sku_id,
        seed=r.seed,
        starts_at=local(inp.starts_at, r.zone),
        minutes=len(p.series),
        sales_form=sales_form(inp.sales_form),
        price_fen=inp.price_fen,
        spot_quantity=inp.spot_quantity,
        presale_stock=_presale(r),
        batches=[
            PlanBatchPublic(
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
        refused=RefusedPublic(
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
        share=ShareOutcomePublic(
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
