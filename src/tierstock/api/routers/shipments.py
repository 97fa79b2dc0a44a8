"""Shipments (发货): ship one order line, record the carrier's pickup (揽收), or cancel it
as unshippable (docs/rules.md §7)."""

from __future__ import annotations

from fastapi import APIRouter, status

from tierstock.api.convert import yuan
from tierstock.api.deps import LineNo, OrderId, ShippingWriter, WritesDep
from tierstock.api.schemas.shipments import (
    PickupCreate,
    ShipmentCreate,
    ShipmentPublic,
    UnshippableCreate,
    UnshippablePublic,
)
from tierstock.services import shipping

router = APIRouter(prefix="/orders", tags=["shipments"])


@router.post(
    "/{order_id}/lines/{line_no}/shipment",
    status_code=status.HTTP_201_CREATED,
    response_model=ShipmentPublic,
)
def ship_line(
    order_id: OrderId,
    line_no: LineNo,
    body: ShipmentCreate,
    caller: ShippingWriter,
    writes: WritesDep,
) -> ShipmentPublic:
    """Record the shipment of one paid line, once, judged by the carrier's pickup when
    given. Shipping twice, a cancelled line or another shop's line is refused (409, 409,
    404); so is a time back-dated beyond the pack's bound (422 ``shipment_backdated``) or
    before a scan recorded the line as unshipped (409 ``shipment_before_judgement``)."""
    cmd = shipping.ShipLine(
        caller.shop_id,
        order_id,
        line_no,
        body.carrier,
        body.tracking_no,
        body.shipped_at,
        caller.actor,
        body.picked_up_at,
    )
    return ShipmentPublic.of(shipping.ship_line(cmd, writes.uow()), caller.zone)


@router.post("/{order_id}/lines/{line_no}/shipment/pickup", response_model=ShipmentPublic)
def record_pickup(
    order_id: OrderId,
    line_no: LineNo,
    body: PickupCreate,
    caller: ShippingWriter,
    writes: WritesDep,
) -> ShipmentPublic:
    """Record the carrier's pickup (揽收) of a shipped line, once: from then on the line
    is judged by it (a correction, flagged in the audit trail). Not before the shipment,
    so it can only keep or worsen the outcome."""
    cmd = shipping.RecordPickup(caller.shop_id, order_id, line_no, body.picked_up_at, caller.actor)
    return ShipmentPublic.of(shipping.record_pickup(cmd, writes.uow()), caller.zone)


@router.post("/{order_id}/lines/{line_no}/unshippable", response_model=UnshippablePublic)
def cancel_unshippable(
    order_id: OrderId,
    line_no: LineNo,
    body: UnshippableCreate,
    caller: ShippingWriter,
    writes: WritesDep,
) -> UnshippablePublic:
    """Cancel a paid line that cannot ship (缺货): its units return to their tier and
    the *unshipped* compensation is recorded."""
    cmd = shipping.CancelUnshippable(caller.shop_id, order_id, line_no, body.reason, caller.actor)
    done = shipping.cancel_unshippable(cmd, writes.uow())
    return UnshippablePublic(
        order_id=order_id,
        line_no=line_no,
        compensation_fen=done.compensation_fen,
        compensation_yuan=yuan(done.compensation_fen),
    )
