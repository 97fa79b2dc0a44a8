"""Ship an order line, or cancel it because it cannot ship (docs/rules.md §7).

A shipment fixes what the line became: on time, late (after its effective deadline,
within the grace period) or unshipped (after the grace period), judged by the carrier's
pickup (揽收) when given, else by the shipped-at. Neither may be back-dated beyond the
pack's bound nor before a scan that already judged the line; a back-dated shipment and a
pickup recorded afterwards are flagged in the audit trail. The promise scan then
records the compensation. A cancel as unshippable returns the units to their tier and
records the *unshipped* compensation at once, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.compensation import (
    CompensationBase,
    CompensationKind,
    CompensationRecord,
    CompensationSettledError,
    CompensationState,
    owed_fen,
)
from tierstock.domain.errors import AlreadyCancelledError, InvalidValueError, NotFoundError
from tierstock.domain.fulfilment import (
    ON_TIME,
    AlreadyShippedError,
    LineCancelledError,
    LineOutcome,
    LineRef,
    PickupAlreadyRecordedError,
    Shipment,
    ShipmentTimes,
    check_pickup_correction,
    check_shipment_times,
    grace_end,
    shipment_outcome,
)
from tierstock.domain.orders import LineStatus, Order
from tierstock.domain.policy import PolicyPack
from tierstock.services import audit
from tierstock.services.catalogue import shop_policy
from tierstock.services.placing.cancelling import return_line
from tierstock.store.uow import UnitOfWork

MAX_TEXT = {"carrier": 60, "tracking_no": 100}


def require_line(
    uow: UnitOfWork, shop_id: int, order_id: int, line_no: int, *, lock: bool = False
) -> LineRef:
    """The shop's line; another shop's line is *not found* (it must not leak)."""
    line = uow.shipments.find_line(shop_id, order_id, line_no, lock=lock)
    if line is None:
        raise NotFoundError(f"no line {line_no} of order {order_id} in this shop", field="line_no")
    return line


def ensure_open(uow: UnitOfWork, line: LineRef) -> None:
    """Refuse anything on a line that is cancelled or already shipped."""
    if line.status is LineStatus.CANCELLED:
        raise LineCancelledError(
            f"line {line.line_no} of order {line.order_id} is cancelled", field="line_no"
        )
    shipped = uow.shipments.of_line(line)
    if shipped is not None:
        raise AlreadyShippedError(
            f"line {line.line_no} of order {line.order_id} already shipped with "
            f"{shipped.carrier} {shipped.tracking_no} at {shipped.shipped_at.isoformat()}",
            field="line_no",
        )


@dataclass(frozen=True)
class ShipLine:
    shop_id: int
    order_id: int
    line_no: int
    carrier: str
    tracking_no: str
    shipped_at: datetime | None = None  # default: now, or the pickup if that was earlier
    actor: str = "system"
    picked_up_at: datetime | None = None  # the carrier's pickup (揽收), if known


def _text(name: str, value: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_TEXT[name]:
        raise InvalidValueError(f"{name} must be 1 to {MAX_TEXT[name]} characters", field=name)
    return value


def ship_line(cmd: ShipLine, uow: UnitOfWork) -> Shipment:
    """Record the shipment of one line (发货), once."""
    carrier, tracking = _text("carrier", cmd.carrier), _text("tracking_no", cmd.tracking_no)
    with uow:
        pack = shop_policy(uow, cmd.shop_id)
        line = require_line(uow, cmd.shop_id, cmd.order_id, cmd.line_no, lock=True)
        ensure_open(uow, line)
        now = uow.now()
        picked = cmd.picked_up_at
        shipped_at = cmd.shipped_at or (picked if picked is not None and picked < now else now)
        times = ShipmentTimes(shipped_at, picked)
        check_shipment_times(
            times,
            paid_at=line.paid_at,
            now=now,
            judged_at=uow.promises.judged_at(line.id),
            rules=pack.fulfilment,
        )
        deadline = uow.promises.effective_deadline(line.id, line.ship_by)
        shipment = Shipment(
            line.id,
            line.order_id,
            line.line_no,
            carrier,
            tracking,
            times.shipped_at,
            deadline,
            _outcome(times.judged_at, deadline, pack),
            cmd.actor,
            now,
            times.picked_up_at,
        )
        if not uow.shipments.add(cmd.shop_id, shipment):
            raise AlreadyShippedError(
                f"line {line.line_no} of order {line.order_id} was shipped meanwhile",
                field="line_no",
            )
        if shipment.shipped_at < now:
            _flag_backdated(uow, cmd.shop_id, shipment, pack)
        uow.commit()
    return shipment


def _outcome(judged_at: datetime, deadline: datetime, pack: PolicyPack) -> str:
    outcome = shipment_outcome(judged_at, deadline, pack.fulfilment)
    return outcome.value if outcome else ON_TIME


def _flag_backdated(uow: UnitOfWork, shop_id: int, s: Shipment, pack: PolicyPack) -> None:
    """A shipment dated before its recording is flagged, with what the line would have
    become had it been dated when it was recorded."""
    if_now = _outcome(s.picked_up_at or s.recorded_at, s.deadline, pack)
    audit.record(
        uow,
        shop_id,
        s.actor,
        "shipment.backdated",
        "order_line",
        s.line_id,
        {
            "order_id": s.order_id,
            "line_no": s.line_no,
            "shipped_at": s.shipped_at.isoformat(),
            "recorded_at": s.recorded_at.isoformat(),
            "backdated_minutes": int((s.recorded_at - s.shipped_at).total_seconds() // 60),
            "outcome": s.outcome,
            "outcome_if_dated_when_recorded": if_now,
            "changes_outcome": if_now != s.outcome,
        },
        "shipment dated before it was recorded",
    )


@dataclass(frozen=True)
class RecordPickup:
    """The carrier's pickup (揽收) of a line already shipped: a correction that judges
    the line by it from now on."""

    shop_id: int
    order_id: int
    line_no: int
    picked_up_at: datetime
    actor: str = "system"


def record_pickup(cmd: RecordPickup, uow: UnitOfWork) -> Shipment:
    """Record the pickup once; the line is judged by it. It cannot be before the
    shipment, so it can only keep or worsen the outcome: a *late* line it makes
    *unshipped* has its unsettled record turned into *unshipped*."""
    with uow:
        pack = shop_policy(uow, cmd.shop_id)
        line = require_line(uow, cmd.shop_id, cmd.order_id, cmd.line_no, lock=True)
        shipped = uow.shipments.of_line(line)
        if shipped is None:
            raise NotFoundError(
                f"line {line.line_no} of order {line.order_id} has no shipment yet",
                field="line_no",
            )
        now = uow.now()
        check_pickup_correction(shipped, cmd.picked_up_at, now)
        outcome = _outcome(cmd.picked_up_at, shipped.deadline, pack)
        if outcome != shipped.outcome and outcome == CompensationKind.UNSHIPPED.value:
            _rejudge_late(uow, cmd.shop_id, line, pack)
        if not uow.shipments.set_pickup(line.id, cmd.picked_up_at, outcome):
            raise PickupAlreadyRecordedError(
                "the carrier's pickup was recorded meanwhile", field="picked_up_at"
            )
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            "shipment.corrected",
            "order_line",
            line.id,
            {
                "order_id": line.order_id,
                "line_no": line.line_no,
                "shipped_at": shipped.shipped_at.isoformat(),
                "picked_up_at": cmd.picked_up_at.isoformat(),
                "previous_outcome": shipped.outcome,
                "outcome": outcome,
            },
            "carrier pickup recorded after the shipment",
        )
        uow.commit()
    return Shipment(
        shipped.line_id,
        shipped.order_id,
        shipped.line_no,
        shipped.carrier,
        shipped.tracking_no,
        shipped.shipped_at,
        shipped.deadline,
        outcome,
        shipped.actor,
        shipped.recorded_at,
        cmd.picked_up_at,
    )


def _rejudge_late(uow: UnitOfWork, shop_id: int, line: LineRef, pack: PolicyPack) -> None:
    """The line's *late* record becomes *unshipped* (a line owes one of them), unless it
    is settled already — then the correction is refused — or, under the order base, the
    order already owes *unshipped*."""
    late = [
        r
        for r in uow.promises.records_of_line(shop_id, line.id, lock=True)
        if r.kind is CompensationKind.LATE
    ]
    if not late:
        return  # not recorded yet: the next scan records *unshipped*
    record = late[0]
    if record.state not in (CompensationState.OWED, CompensationState.CLAIMED):
        raise CompensationSettledError(
            f"the late compensation of this line is already {record.state.value}; a pickup "
            "that makes it unshipped must be settled with the buyer",
            field="picked_up_at",
        )
    if record.base is CompensationBase.ORDER and any(
        r.kind is CompensationKind.UNSHIPPED
        for r in uow.promises.records_of_orders(shop_id, [line.order_id])
    ):
        return
    amount = owed_fen(CompensationKind.UNSHIPPED, record.paid_fen, pack.compensation)
    uow.promises.rejudge(record, CompensationKind.UNSHIPPED, record.paid_fen, amount)


@dataclass(frozen=True)
class CancelUnshippable:
    shop_id: int
    order_id: int
    line_no: int
    reason: str
    actor: str = "system"


@dataclass(frozen=True)
class Cancelled:
    line_id: int
    compensation_fen: int


def cancel_unshippable(cmd: CancelUnshippable, uow: UnitOfWork) -> Cancelled:
    """Cancel a paid line that cannot ship (缺货): units go back to their tier and the
    buyer is owed the *unshipped* compensation, recorded once."""
    if not cmd.reason.strip():
        raise InvalidValueError("say why the line cannot ship", field="reason")
    with uow:
        pack = shop_policy(uow, cmd.shop_id)
        line = require_line(uow, cmd.shop_id, cmd.order_id, cmd.line_no, lock=True)
        ensure_open(uow, line)
        now = uow.now()
        if not return_line(
            uow, cmd.shop_id, line.order_id, line, cmd.actor, f"unshippable: {cmd.reason.strip()}"
        ):
            raise AlreadyCancelledError("the line was cancelled meanwhile", field="line_no")
        by_order = pack.compensation.base == CompensationBase.ORDER.value
        paid = (
            uow.promises.orders_paid_fen([line.order_id])[line.order_id]
            if by_order
            else line.paid_fen
        )
        amount = owed_fen(CompensationKind.UNSHIPPED, paid, pack.compensation)
        deadline = uow.promises.effective_deadline(line.id, line.ship_by)
        uow.promises.record(
            cmd.shop_id,
            line.id,
            CompensationKind.UNSHIPPED,
            paid,
            amount,
            deadline,
            f"{pack.name}@{pack.version}",
            now,
            order_key=line.order_id if by_order else None,
        )
        uow.commit()
    return Cancelled(line.id, amount)


# --- an order with what became of each line ---------------------------------------------


@dataclass(frozen=True)
class LineFulfilment:
    """A line's shipment (if any), what it became, and its compensation records."""

    shipment: Shipment | None
    outcome: LineOutcome
    compensations: tuple[CompensationRecord, ...]


@dataclass(frozen=True)
class OrderFulfilment:
    order: Order
    lines: dict[int, LineFulfilment]  # by line number


def order_fulfilment(shop_id: int, order_id: int, uow: UnitOfWork) -> OrderFulfilment:
    """The order with each line's shipment, outcome and compensation (GET /orders/{id})."""
    with uow:
        order = uow.orders.get(shop_id, order_id)
        if order is None:
            raise NotFoundError(f"no order {order_id} in this shop", field="order_id")
        pack = shop_policy(uow, shop_id)
        now = uow.now()
        shipped = uow.shipments.of_order(shop_id, order_id)
        records = uow.promises.records_of_orders(shop_id, [order_id])
        lines: dict[int, LineFulfilment] = {}
        for ln in order.lines:
            own = tuple(r for r in records if r.line_no == ln.line_no)
            shipment = shipped.get(ln.line_no)
            if shipment is not None:
                outcome = LineOutcome(shipment.outcome)
            elif any(r.kind is CompensationKind.UNSHIPPED for r in own):
                outcome = LineOutcome.UNSHIPPED
            elif ln.status is LineStatus.CANCELLED:
                outcome = LineOutcome.CANCELLED
            else:
                outcome = _open_outcome(uow, shop_id, order_id, ln.line_no, now, pack)
            lines[ln.line_no] = LineFulfilment(shipment, outcome, own)
    return OrderFulfilment(order, lines)


def _open_outcome(
    uow: UnitOfWork, shop_id: int, order_id: int, line_no: int, now: datetime, pack: PolicyPack
) -> LineOutcome:
    """An open line is *unshipped* once its grace period is over, scanned or not."""
    line = require_line(uow, shop_id, order_id, line_no)
    deadline = uow.promises.effective_deadline(line.id, line.ship_by)
    lapsed = now > grace_end(deadline, pack.fulfilment)
    return LineOutcome.UNSHIPPED if lapsed else LineOutcome.OPEN
