"""Orders: place (idempotent), read, cancel an order or one line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response, status

from tierstock.api import convert
from tierstock.api.deps import LineNo, OrderId, OrderWriter, Reader, RuntimeDep, WritesDep
from tierstock.api.schemas.orders import OrderCreate, OrderPublic
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.orders import LineRequest
from tierstock.services import placing
from tierstock.services.runtime import Runtime

router = APIRouter(prefix="/orders", tags=["orders"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderPublic,
    responses={200: {"description": "replay of an earlier request with this key"}},
)
async def place_order(
    body: OrderCreate,
    caller: OrderWriter,
    request: Request,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(description="one key per buyer payment; a retry with it returns the same order"),
    ] = None,
) -> OrderPublic:
    """Each line takes the earliest tier that holds its whole quantity; its ship-by
    deadline is fixed now. A retry with the same key allocates nothing twice.

    ``async``: the orders of concurrent requests are grouped on the event loop and
    placed together (Runtime.place_order_async), not one worker thread per buyer."""
    if idempotency_key is None:
        raise InvalidValueError(
            "send an Idempotency-Key header with every order", field="Idempotency-Key"
        )
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
    return convert.order(placed.order, caller.zone)


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: OrderId, caller: Reader, runtime: RuntimeDep) -> OrderPublic:
    found = placing.get_order(caller.shop_id, order_id, runtime.uow(readonly=True))
    return convert.order(found, caller.zone)


@router.post("/{order_id}/cancel", response_model=OrderPublic)
def cancel_order(order_id: OrderId, caller: OrderWriter, writes: WritesDep) -> OrderPublic:
    """Cancel every paid line; units return to the tier each came from."""
    cmd = placing.CancelOrder(caller.shop_id, order_id, None, caller.actor, "order cancelled")
    return convert.order(placing.cancel_order(cmd, writes.uow()), caller.zone)


@router.post("/{order_id}/lines/{line_no}/cancel", response_model=OrderPublic)
def cancel_line(
    order_id: OrderId, line_no: LineNo, caller: OrderWriter, writes: WritesDep
) -> OrderPublic:
    cmd = placing.CancelOrder(caller.shop_id, order_id, line_no, caller.actor, "line cancelled")
    return convert.order(placing.cancel_order(cmd, writes.uow()), caller.zone)
