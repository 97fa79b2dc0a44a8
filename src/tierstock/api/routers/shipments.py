"""Shipments (发货): ship one order line, or cancel it as unshippable (docs/rules.md §7)."""

from __future__ import annotations

from fastapi import APIRouter, status

from tierstock.api.convert import local, yuan
from tierstock.api.deps import LineNo, OrderId, ShippingWriter, WritesDep
from tierstock.api.schemas.shipments import (
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
    """Record the shipment of one paid line, once. Shipping twice, a cancelled line or
    another shop's line is refused (409, 409, 404)."""
    cmd = shipping.ShipLine(
        caller.shop_id,
        order_id,
        line_no,
        body.carrier,
        body.tracking_no,
        body.shipped_at,
        caller.actor,
    )
    x = shipping.ship_line(cmd, writes.uow())
    return ShipmentPublic(
        order_id=x.order_id,
        line_no=x.line_no,
        carrier=x.carrier,
        tracking_no=x.tracking_no,
        shipped_at=local(x.shipped_at, caller.zone),
        deadline=local(x.deadline, caller.zone),
        outcome=x.outcome,
    )


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
