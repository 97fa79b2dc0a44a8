"""What every order path shares (docs/rules.md §2–3): the commands, their answers, and
the checks and rows each path applies in the same words.

Three paths place orders (per_order, group_commit, redis_front — see ``placing``);
they differ only in how many buyers share a transaction or a round trip. Everything a
buyer can notice — the key check, the listed-SKU check, the refusal for too little
stock, the ship-by fixed at payment, the replay of a retried key — is decided here,
once, and tests/contract holds the three paths to identical answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from json.encoder import encode_basestring_ascii
from zoneinfo import ZoneInfo

from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import (
    IdempotencyKeyReusedError,
    InsufficientStockError,
    InvalidValueError,
    NotFoundError,
    ProductNotListedError,
)
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import LineRequest, LineStatus, NewLine, Order, OrderLine
from tierstock.domain.policy import PolicyPack
from tierstock.domain.promises import ship_by
from tierstock.domain.sales_forms import Tier
from tierstock.services.capacity import presale_promise
from tierstock.store.uow import UnitOfWork

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class PlaceOrder:
    shop_id: int
    idempotency_key: str
    lines: tuple[LineRequest, ...]
    buyer: str | None = None
    actor: str = "system"
    # A ship-by the buyer was already promised elsewhere (a platform order's
    # promiseTimeStampOfDelivery): it is the line's deadline whatever tier it takes, so
    # a promise the pool cannot keep shows at risk instead of being quietly moved.
    ship_by: datetime | None = None
    # The tiers the lines may take (None: the form's). A store without the live lock
    # must not take the spot units the live store shows (docs/rules.md §10.1).
    tiers: tuple[Tier, ...] | None = None

    @property
    def needs_own_transaction(self) -> bool:
        """Several lines, or a ship-by or tiers given from outside: the per-order path."""
        return len(self.lines) != 1 or self.ship_by is not None or self.tiers is not None

    def request_hash(self) -> str:
        """What a retry must repeat exactly to get the first answer back: the SHA-256 of
        ``json.dumps({"buyer": …, "lines": [[sku_id, quantity], …]}, sort_keys=True)``.

        Every order computes it, so plain values (str or None, ints) are spelled out
        directly (a third of the cost of json.dumps, same bytes: tests/unit); anything
        else goes through json.dumps itself.
        """
        return hashlib.sha256(self._hashed_body().encode()).hexdigest()

    def _hashed_body(self) -> str:
        buyer = self.buyer
        plain = (buyer is None or type(buyer) is str) and all(
            type(ln.sku_id) is int and type(ln.quantity) is int for ln in self.lines
        )
        if not plain:
            body = {"buyer": buyer, "lines": [[ln.sku_id, ln.quantity] for ln in self.lines]}
            return json.dumps(body, sort_keys=True)
        spelled = "null" if buyer is None else encode_basestring_ascii(buyer)
        lines = ", ".join([f"[{ln.sku_id}, {ln.quantity}]" for ln in self.lines])
        return f'{{"buyer": {spelled}, "lines": [{lines}]}}'


@dataclass(frozen=True)
class CancelOrder:
    """Cancel one line (``line_no``) or every still-paid line (``None``)."""

    shop_id: int
    order_id: int
    line_no: int | None = None
    actor: str = "system"
    reason: str = "cancelled"


@dataclass(frozen=True)
class OrderPlaced:
    order: Order
    replayed: bool  # True when an earlier request with the same key placed it


def checked_key(cmd: PlaceOrder) -> str:
    key = cmd.idempotency_key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidValueError(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
            field="Idempotency-Key",
        )
    return key


def sellable(forsale: dict[int, tuple[Sku, bool]], req: LineRequest, index: int) -> Sku:
    """The line's SKU if this shop has it and its product is listed."""
    if req.sku_id not in forsale:
        raise NotFoundError(f"no SKU {req.sku_id} in this shop", field=f"lines[{index}].sku_id")
    sku, listed = forsale[req.sku_id]
    if not listed:
        raise ProductNotListedError(
            f"SKU {sku.code} belongs to a delisted product", field=f"lines[{index}].sku_id"
        )
    return sku


def short_of(sku: Sku, req: LineRequest, index: int) -> InsufficientStockError:
    return InsufficientStockError(
        f"SKU {sku.code} has fewer than {req.quantity} units left", field=f"lines[{index}].quantity"
    )


@dataclass(frozen=True)
class Sale:
    """One allocated line: the row to write and its ledger entry."""

    line: NewLine
    entry: LedgerEntry


def deadline_of(
    uow: UnitOfWork,
    sku: Sku,
    tier: Tier,
    quantity: int,
    sold_after: int,
    paid_at: datetime,
    policy: PolicyPack,
    field: str,
) -> datetime:
    """A line's ship-by, fixed at payment: the supplier batch covering a presale line's
    last unit decides it (services/capacity), else the form's own window for the tier.
    Refuses (DomainError) a line no batch can ship in the window or a presale that ended.
    """
    promise = presale_promise(uow, sku, tier, quantity, sold_after, paid_at, policy, field)
    if promise is not None:
        return promise
    return ship_by(paid_at, sku.sales_form, tier, ZoneInfo(policy.display_timezone))


def sale(
    cmd: PlaceOrder,
    order_id: int,
    line_no: int,
    sku: Sku,
    tier: Tier,
    quantity: int,
    sold_after: int,
    paid_at: datetime,
    deadline: datetime,
) -> Sale:
    """The line to write and its ledger entry."""
    return Sale(
        NewLine(line_no, sku.id, quantity, tier, sku.price_fen, deadline, sold_after),
        LedgerEntry(
            cmd.shop_id,
            sku.id,
            tier,
            LedgerKind.SALE,
            0,
            quantity,
            cmd.actor,
            "order paid",
            paid_at,
            order_id,
            line_no,
        ),
    )


def replay(shop_id: int, key: str, request_hash: str, uow: UnitOfWork) -> OrderPlaced:
    keyed = uow.orders.find_by_key(shop_id, key)
    assert keyed is not None, "the key's insert conflicted, so its row exists"
    if keyed.request_hash != request_hash:
        raise IdempotencyKeyReusedError(
            "this Idempotency-Key was already used for a different order",
            field="Idempotency-Key",
        )
    order = uow.orders.get(shop_id, keyed.order_id)
    assert order is not None
    return OrderPlaced(order, replayed=True)


def placed(order_id: int, cmd: PlaceOrder, paid_at: datetime, lines: list[NewLine]) -> Order:
    return Order(
        order_id,
        cmd.shop_id,
        cmd.buyer,
        paid_at,
        tuple(
            [
                OrderLine(
                    ln.line_no,
                    ln.sku_id,
                    ln.quantity,
                    ln.tier,
                    ln.unit_price_fen,
                    ln.ship_by,
                    LineStatus.PAID,
                )
                for ln in lines
            ]
        ),
    )


def get_order(shop_id: int, order_id: int, uow: UnitOfWork) -> Order:
    with uow:
        order = uow.orders.get(shop_id, order_id)
    if order is None:
        raise NotFoundError(f"no order {order_id} in this shop", field="order_id")
    return order
