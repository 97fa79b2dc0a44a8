"""Move a ship-by deadline through one of the three delay tools (docs/rules.md §7).

Each accepted delay is an immutable row (reason, who, when, buyer's consent); nothing
else moves a deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.delays import Delay, DelayRequest, check_delay, parse_kind
from tierstock.domain.errors import InvalidValueError
from tierstock.services.catalogue import shop_policy
from tierstock.services.shipping import ensure_open, require_line
from tierstock.store.uow import UnitOfWork


@dataclass(frozen=True)
class RequestDelay:
    shop_id: int
    order_id: int
    line_no: int
    kind: str  # "delayed" / "appointment" / "negotiated"; anything else is refused
    reason: str
    new_ship_by: datetime
    buyer_consent: bool = False
    actor: str = "system"


def request_delay(cmd: RequestDelay, uow: UnitOfWork) -> Delay:
    kind = parse_kind(cmd.kind)
    if cmd.new_ship_by.tzinfo is None:
        raise InvalidValueError("new_ship_by needs a time zone", field="new_ship_by")
    with uow:
        pack = shop_policy(uow, cmd.shop_id)
        line = require_line(uow, cmd.shop_id, cmd.order_id, cmd.line_no, lock=True)
        ensure_open(uow, line)
        current = uow.promises.effective_deadline(line.id, line.ship_by)
        delay = check_delay(
            DelayRequest(kind, cmd.reason, cmd.new_ship_by, cmd.buyer_consent, cmd.actor),
            original=line.ship_by,
            current=current,
            paid_at=line.paid_at,
            now=uow.now(),
            pack=pack,
        )
        uow.promises.add_delay(cmd.shop_id, line.id, delay)
        uow.commit()
    return delay


@dataclass(frozen=True)
class LineDelays:
    original_ship_by: datetime
    effective_ship_by: datetime
    delays: tuple[Delay, ...]


def line_delays(shop_id: int, order_id: int, line_no: int, uow: UnitOfWork) -> LineDelays:
    with uow:
        line = require_line(uow, shop_id, order_id, line_no)
        delays = tuple(uow.promises.delays_of(line.id))
    effective = delays[-1].new_ship_by if delays else line.ship_by
    return LineDelays(line.ship_by, effective, delays)
