"""Orders: place (idempotent), read, cancel an order or one line."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from tierstock.api import convert
from tierstock.api.deps import (
    LineNo,
    OrderId,
    OrderWriter,
    Reader,
    RequiredIdempotencyKey,
    RuntimeDep,
    WritesDep,
)
from tierstock.api.schemas.orders import OrderCreate, OrderPublic
from tierstock.api.schemas.promises import CompensationPublic
from tierstock.api.schemas.shipments import ShipmentPublic
from tierstock.domain.orders import LineRequest
from tierstock.services import placing, shipping
from tierstock.services.runtime import Runtime

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses={
        200: {"model": OrderPublic, "description": "replay of an earlier request with this key"}
    },
)
async def place_order(
    body: OrderCreate,
    caller: OrderWriter,
    request: Request,
    response: Response,
    idempotency_key: RequiredIdempotencyKey,
) -> OrderPublic:
    """Each line takes the earliest tier that holds its whole quantity; its ship-by
    deadline is fixed now. A retry with the same key allocates nothing twice.

    ``async``: the orders of concurrent requests are grouped on the event loop and
    placed together (Runtime.place_order_async), not one worker thread per buyer."""
    cmd = placing.PlaceOrder(
        caller.shop_id,
        idempotency_key,
        tuple(LineRequest(ln.sku_id, ln.quantity) for ln in body.lines),
        body.buyer,
        caller.actor,
    )
    runtime: Runtime = request.app.state.runtime  # not a Depends: the hot path
    placed = await runtime.place_order_async(cmd)
    if placed.replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    public = convert.order(placed.order, caller.zone)
    for line in public.lines:  # as placed: nothing shipped or recorded yet
        line.outcome = "open" if line.status == "paid" else line.status
    return public


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: OrderId, caller: Reader, runtime: RuntimeDep) -> OrderPublic:
    """The order with each line's shipment (carrier, tracking, shipped and pickup
    times), what it became (open, on time, late, unshipped, cancelled) and the
    compensation recorded for it."""
    return _fulfilled(order_id, caller, runtime)


def _fulfilled(order_id: int, caller: Reader, runtime: Runtime) -> OrderPublic:
    """The order as GET shows it: each line with its shipment, outcome and compensation."""
    found = shipping.order_fulfilment(caller.shop_id, order_id, runtime.uow(readonly=True))
    public = convert.order(found.order, caller.zone)
    for line in public.lines:
        got = found.lines[line.line_no]
        if got.shipment is not None:
            line.status = "shipped"
            line.shipment = ShipmentPublic.of(got.shipment, caller.zone)
        line.outcome = got.outcome.value
        line.compensation = [CompensationPublic.of(r, caller.zone) for r in got.compensations]
    return public


@router.post("/{order_id}/cancel", response_model=OrderPublic)
def cancel_order(order_id: OrderId, caller: OrderWriter, writes: WritesDep) -> OrderPublic:
    """Cancel every paid line; units return to the tier each came from."""
    cmd = placing.CancelOrder(caller.shop_id, order_id, None, caller.actor, "order cancelled")
    placing.cancel_order(cmd, writes.uow())
    return _fulfilled(order_id, caller, writes.runtime)


@router.post("/{order_id}/lines/{line_no}/cancel", response_model=OrderPublic)
def cancel_line(
    order_id: OrderId, line_no: LineNo, caller: OrderWriter, writes: WritesDep
) -> OrderPublic:
    cmd = placing.CancelOrder(caller.shop_id, order_id, line_no, caller.actor, "line cancelled")
    placing.cancel_order(cmd, writes.uow())
    return _fulfilled(order_id, caller, writes.runtime)
