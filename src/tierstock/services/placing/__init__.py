"""Placing orders, the hot path: one protocol (path.py), three paths (per_order,
group_commit, redis_front/), the commands and checks they share (order.py)."""

from tierstock.services.placing.cancelling import cancel_order
from tierstock.services.placing.order import (
    CancelOrder,
    OrderPlaced,
    PlaceOrder,
    get_order,
)
from tierstock.services.placing.path import Database, OrderPath
from tierstock.services.placing.per_order import place_order

__all__ = [
    "CancelOrder",
    "Database",
    "OrderPath",
    "OrderPlaced",
    "PlaceOrder",
    "cancel_order",
    "get_order",
    "place_order",
]
