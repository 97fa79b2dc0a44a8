"""Promises: open lines by urgency, the delay tools, the scan and the risk (docs/rules.md §7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tierstock.api.convert import local, yuan
from tierstock.api.deps import (
    DelayWriter,
    LineNo,
    OrderId,
    Reader,
    RuntimeDep,
    ShippingWriter,
    WritesDep,
)
from tierstock.api.schemas.promises import (
    DelayCreate,
    DelayPublic,
    LineDelaysPublic,
    PromisePublic,
    PromiseRiskPublic,
    PromisesPublic,
    ScanPublic,
)
from tierstock.domain.compensation import CompensationKind
from tierstock.domain.delays import Delay
from tierstock.services import delays, promises

router = APIRouter(tags=["promises"])


def _pct(bp: int | None) -> str:
    return "n/a" if bp is None else f"{bp // 100}.{bp % 100:02d}"


@router.get("/promises", response_model=PromisesPublic)
def list_promises(
    caller: Reader,
    runtime: RuntimeDep,
    due_within_hours: Annotated[int | None, Query(ge=0, le=24 * 365)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> PromisesPublic:
    """Every paid, unshipped line by urgency, with what it costs now and next."""
    board = promises.promise_board(
        caller.shop_id, runtime.uow(readonly=True), due_within_hours=due_within_hours, limit=limit
    )
    z = caller.zone
    data = [
        PromisePublic(
            order_id=v.line.order_id,
            line_no=v.line.line_no,
            sku_id=v.line.sku_id,
            tier=v.line.tier,
            paid_fen=v.line.paid_fen,
            deadline=local(v.line.deadline, z),
            urgency=v.exposure.urgency.value,
            compensation_now_fen=v.exposure.now_fen,
            compensation_now_yuan=yuan(v.exposure.now_fen),
            compensation_next_fen=v.exposure.next_fen,
            compensation_next_at=local(v.exposure.next_at, z) if v.exposure.next_at else None,
        )
        for v in board.lines
    ]
    return PromisesPublic(as_of=local(board.now, z), data=data, count=len(data))


@router.post("/promises/scan", response_model=ScanPublic)
def scan(caller: ShippingWriter, runtime: RuntimeDep) -> ScanPublic:
    """Record due compensation for this shop; safe to repeat (each line once)."""
    r = promises.scan_promises(promises.ScanPromises(caller.shop_id), runtime.uow)
    return ScanPublic(
        line_ids=r.line_ids,
        late_recorded=r.recorded[CompensationKind.LATE],
        unshipped_recorded=r.recorded[CompensationKind.UNSHIPPED],
        seconds=round(r.seconds, 3),
    )


@router.get("/promises/risk", response_model=PromiseRiskPublic)
def risk(caller: Reader, runtime: RuntimeDep) -> PromiseRiskPublic:
    """Mass non-fulfilment: late + unshipped share of lines due in the pack's window."""
    r = promises.risk_report(caller.shop_id, runtime.uow(readonly=True))
    rec = r.recorded
    late = rec.get(CompensationKind.LATE, (0, 0))[1]
    unshipped = rec.get(CompensationKind.UNSHIPPED, (0, 0))[1]
    return PromiseRiskPublic(
        window_days=r.window_days,
        due_lines=r.due_lines,
        failed_lines=r.failed_lines,
        overdue_open_lines=r.overdue_open_lines,
        share_percent=_pct(r.share_bp),
        projected_share_percent=_pct(r.projected_share_bp),
        warning_percent=_pct(r.warning_bp),
        threshold_percent=_pct(r.threshold_bp),
        level=r.level.value,
        projected_level=r.projected_level.value,
        overdue_exposure_yuan=yuan(r.exposure.overdue_fen),
        due_soon_lines=r.exposure.due_soon_lines,
        due_soon_exposure_yuan=yuan(r.exposure.due_soon_fen),
        recorded_late_yuan=yuan(late),
        recorded_unshipped_yuan=yuan(unshipped),
    )


def _delay(d: Delay, caller: Reader) -> DelayPublic:
    z = caller.zone
    return DelayPublic(
        kind=d.kind.value,
        reason=d.reason,
        actor=d.actor,
        buyer_consent=d.buyer_consent,
        previous_ship_by=local(d.previous_ship_by, z),
        new_ship_by=local(d.new_ship_by, z),
        created_at=local(d.created_at, z),
    )


@router.post(
    "/orders/{order_id}/lines/{line_no}/delays",
    status_code=status.HTTP_201_CREATED,
    response_model=DelayPublic,
)
def request_delay(
    order_id: OrderId, line_no: LineNo, body: DelayCreate, caller: DelayWriter, writes: WritesDep
) -> DelayPublic:
    """Move a deadline with delayed, appointment or negotiated shipping; anything else,
    or beyond the pack's limits, is refused."""
    cmd = delays.RequestDelay(
        caller.shop_id,
        order_id,
        line_no,
        body.kind,
        body.reason,
        body.new_ship_by,
        body.buyer_consent,
        caller.actor,
    )
    return _delay(delays.request_delay(cmd, writes.uow()), caller)


@router.get("/orders/{order_id}/lines/{line_no}/delays", response_model=LineDelaysPublic)
def line_delays(
    order_id: OrderId, line_no: LineNo, caller: Reader, runtime: RuntimeDep
) -> LineDelaysPublic:
    got = delays.line_delays(caller.shop_id, order_id, line_no, runtime.uow(readonly=True))
    return LineDelaysPublic(
        original_ship_by=local(got.original_ship_by, caller.zone),
        effective_ship_by=local(got.effective_ship_by, caller.zone),
        data=[_delay(d, caller) for d in got.delays],
    )
