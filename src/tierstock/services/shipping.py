"""Ship an order line, or cancel it because it cannot ship (docs/rules.md §7).

A shipment fixes what the line became: on time, late (after its effective deadline,
within the grace period) or unshipped (after the grace period). The promise scan then
records the compensation. A cancel as unshippable returns the units to their tier and
records the *unshipped* compensation at once, in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.compensation import CompensationKind, owed_fen
from tierstock.domain.errors import AlreadyCancelledError, InvalidValueError, NotFoundError
from tierstock.domain.fulfilment import (
    ON_TIME,
    AlreadyShippedError,
    LineCancelledError,
    LineRef,
    Shipment,
    shipment_outcome,
)
from tierstock.domain.orders import LineStatus
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
    shipped_at: datetime | None = None  # default: now
    actor: str = "system"


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
        shipped_at = cmd.shipped_at or now
        if shipped_at.tzinfo is None or not line.paid_at <= shipped_at <= now:
            raise InvalidValueError(
                "shipped_at must be a time between payment and now, with its time zone",
                field="shipped_at",
            )
        deadline = uow.promises.effective_deadline(line.id, line.ship_by)
        outcome = shipment_outcome(shipped_at, deadline, pack.fulfilment)
        shipment = Shipment(
            line.id,
            line.order_id,
            line.line_no,
            carrier,
            tracking,
            shipped_at,
            deadline,
            outcome.value if outcome else ON_TIME,
            cmd.actor,
            now,
        )
        if not uow.shipments.add(cmd.shop_id, shipment):
            raise AlreadyShippedError(
                f"line {line.line_no} of order {line.order_id} was shipped meanwhile",
                field="line_no",
            )
        uow.commit()
    return shipment


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
        amount = owed_fen(CompensationKind.UNSHIPPED, line.paid_fen, pack.compensation)
        deadline = uow.promises.effective_deadline(line.id, line.ship_by)
        uow.promises.record(
            cmd.shop_id,
            line.id,
            CompensationKind.UNSHIPPED,
            line.paid_fen,
            amount,
            deadline,
            f"{pack.name}@{pack.version}",
            now,
        )
        uow.commit()
    return Cancelled(line.id, amount)
