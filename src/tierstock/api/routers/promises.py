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
    CompensationAgreeCreate,
    CompensationNoteCreate,
    CompensationPublic,
    CompensationsPublic,
    DelayCreate,
    DelayPublic,
    LineDelaysPublic,
    PromisePublic,
    PromiseRiskPublic,
    PromisesPublic,
    ScanPublic,
    StateTotalPublic,
)
from tierstock.domain.compensation import CompensationKind, CompensationState
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
    """Every paid, unshipped line by urgency, with what it would add now and next. A line
    already recorded as broken shows its record (state and amount), not a fresh debt."""
    board = promises.promise_board(
        caller.shop_id, runtime.uow(readonly=True), due_within_hours=due_within_hours, limit=limit
    )
    z = caller.zone
    data = []
    for v in board.lines:
        cost = v.new_cost
        data.append(
            PromisePublic(
                order_id=v.line.order_id,
                line_no=v.line.line_no,
                sku_id=v.line.sku_id,
                tier=v.line.tier,
                paid_fen=v.line.paid_fen,
                deadline=local(v.line.deadline, z),
                urgency=v.exposure.urgency.value,
                compensation_now_fen=cost.now_fen,
                compensation_now_yuan=yuan(cost.now_fen),
                compensation_next_fen=cost.next_fen,
                compensation_next_at=local(cost.next_at, z) if cost.next_at else None,
                compensation_record=CompensationPublic.of(v.record, z) if v.record else None,
            )
        )
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
        outstanding_yuan=yuan(r.outstanding_fen),
        by_state={
            state.value: StateTotalPublic(
                records=t.records,
                amount_yuan=yuan(t.amount_fen),
                outstanding_yuan=yuan(t.outstanding_fen),
            )
            for state, t in sorted(r.by_state.items())
        },
    )


# --- compensation as a claim (docs/rules.md §7.2) -------------------------------------
# Claims, payments, waivers and agreements are dealings with the buyer, like the delay
# tools' consent: the keys that may move deadlines (owner, operator) may move them.


@router.get("/promises/compensations", response_model=CompensationsPublic)
def list_compensations(
    caller: Reader,
    runtime: RuntimeDep,
    state: Annotated[list[CompensationState] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> CompensationsPublic:
    """Recorded compensation, oldest first, optionally in the given states."""
    found = promises.list_compensations(
        caller.shop_id,
        runtime.uow(readonly=True),
        states=tuple(state) if state else None,
        limit=limit,
    )
    data = [CompensationPublic.of(r, caller.zone) for r in found]
    return CompensationsPublic(data=data, count=len(data))


def _change(
    order_id: int,
    line_no: int,
    action: str,
    caller: Reader,
    writes: WritesDep,
    note: str,
    kind: str | None,
    amount_fen: int | None = None,
) -> CompensationPublic:
    cmd = promises.ChangeCompensation(
        caller.shop_id, order_id, line_no, action, caller.actor, note, amount_fen, kind
    )
    return CompensationPublic.of(promises.change_compensation(cmd, writes.uow()), caller.zone)


COMPENSATION = "/orders/{order_id}/lines/{line_no}/compensation"


@router.post(f"{COMPENSATION}/claim", response_model=CompensationPublic)
def claim(
    order_id: OrderId,
    line_no: LineNo,
    body: CompensationNoteCreate,
    caller: DelayWriter,
    writes: WritesDep,
) -> CompensationPublic:
    """The buyer claims the compensation recorded for the line: the merchant owes it."""
    return _change(order_id, line_no, "claim", caller, writes, body.note, body.kind)


@router.post(f"{COMPENSATION}/pay", response_model=CompensationPublic)
def pay(
    order_id: OrderId,
    line_no: LineNo,
    body: CompensationNoteCreate,
    caller: DelayWriter,
    writes: WritesDep,
) -> CompensationPublic:
    """The merchant paid it (the agreed amount, if the parties agreed one). Final."""
    return _change(order_id, line_no, "pay", caller, writes, body.note, body.kind)


@router.post(f"{COMPENSATION}/waive", response_model=CompensationPublic)
def waive(
    order_id: OrderId,
    line_no: LineNo,
    body: CompensationNoteCreate,
    caller: DelayWriter,
    writes: WritesDep,
) -> CompensationPublic:
    """The buyer waived it; the note says how. Final."""
    return _change(order_id, line_no, "waive", caller, writes, body.note, body.kind)


@router.post(f"{COMPENSATION}/agree", response_model=CompensationPublic)
def agree(
    order_id: OrderId,
    line_no: LineNo,
    body: CompensationAgreeCreate,
    caller: DelayWriter,
    writes: WritesDep,
) -> CompensationPublic:
    """The parties agreed another amount, at most the rule's; then it is paid."""
    return _change(
        order_id, line_no, "agree", caller, writes, body.note, body.kind, body.amount_fen
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
