"""One contract for every order path (services/placing/): the same payments give every
buyer the same answer, whichever path the runtime picked.

The tier rule is written more than once — in Python (domain.allocation, used by the
per-order and group-commit paths), in the SQL guard of the conditional UPDATE, and in
the Redis front's Lua script — so these scenarios run against all three paths on both
databases and compare each answer with one expected value. A path that chose another
tier, another ship-by, another refusal or another replay fails here.

The Redis front needs PostgreSQL (documented): its SQLite cases are skipped with that
reason; it also needs the Redis that scripts/ensure-services.sh starts.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

import pytest

from tests.conftest import ManualClock
from tests.integration.test_burst import (
    PRESALE_DAYS,
    SOLD_OUT,
    SPOT_HOURS,
    assert_never_oversold,
    assert_tiers_fill_in_order,
    listed_sku,
    open_shop,
    outcome,
)
from tierstock.domain.errors import DomainError
from tierstock.domain.orders import LineRequest, Order
from tierstock.domain.sales_forms import Tier
from tierstock.services import catalogue
from tierstock.services.placing import CancelOrder, OrderPlaced, PlaceOrder
from tierstock.services.placing.redis_front import admin as front_admin
from tierstock.services.runtime import Runtime

PATHS = ["per_order", "group_commit", "redis_front"]
LEASE = 4  # small leases: the scenarios cross lease boundaries on the front


@dataclass
class Path:
    """A runtime placing through one path, and how to make its answers durable."""

    name: str
    runtime: Runtime

    def settle(self) -> None:
        """Orders the front answered are written to the database and its unsold leased
        units given back, so tier figures are exact (no-op on the database paths)."""
        front = self.runtime.front
        if front is not None:
            assert front_admin.drain(front, wait_seconds=5).void == []
            front.switch_on()

    def pay(self, shop: int, key: str, sku: int, qty: int) -> OrderPlaced:
        cmd = PlaceOrder(shop, key, (LineRequest(sku, qty),), buyer=f"buyer {key}")
        return self.runtime.place_order(cmd)


@pytest.fixture(params=PATHS)
def path(
    request: pytest.FixtureRequest, database_url: str, _engines: Runtime, clock: ManualClock
) -> Iterator[Path]:
    name = request.param
    runtime = Runtime(_engines.engine, clock, batch_orders=name != "per_order")
    if name != "redis_front":
        yield Path(name, runtime)
        return
    if not database_url.startswith("postgresql"):
        pytest.skip("the Redis front needs PostgreSQL (README: Redis reservation front)")
    redis_url = request.getfixturevalue("redis_url")
    runtime.attach_front(redis_url, LEASE, fold=False, namespace=f"c-{secrets.token_hex(4)}")
    assert runtime.front is not None
    yield Path(name, runtime)
    front_admin.drain(runtime.front, wait_seconds=5)  # the database is shared by tests
    runtime.front.forget_everything()


def answer(pay: Callable[[], OrderPlaced | Order]) -> tuple[object, ...]:
    """What the buyer sees: the line's tier, quantity and ship-by offset, or the refusal.

    ``pay`` places an order (an ``OrderPlaced``) or acts on one (an ``Order``, e.g. a
    cancel); either way the answer is read from the order."""
    try:
        done = pay()
    except DomainError as exc:
        return ("refused", exc.code, exc.field)
    order = done.order if isinstance(done, OrderPlaced) else done
    (line,) = order.lines
    return ("ok", line.tier.value, line.quantity, line.ship_by - order.paid_at)


SPOT = timedelta(hours=SPOT_HOURS)
PRESALE = timedelta(days=PRESALE_DAYS)


def test_a_line_takes_the_earliest_tier_that_holds_all_of_it(path: Path) -> None:
    shop = open_shop(path.runtime)
    sku = listed_sku(path.runtime, shop, "cross", spot=3, presale=5)
    wants = [2, 2, 1, 3, 1]

    def paying(i: int, q: int) -> Callable[[], OrderPlaced]:
        return lambda: path.pay(shop, f"k{i}", sku, q)

    answers = [answer(paying(i, q)) for i, q in enumerate(wants)]
    assert answers == [
        ("ok", "spot", 2, SPOT),
        ("ok", "presale", 2, PRESALE),  # one spot unit left: the whole line goes to presale
        ("ok", "spot", 1, SPOT),
        ("ok", "presale", 3, PRESALE),
        ("refused", "insufficient_stock", "lines[0].quantity"),
    ]
    path.settle()
    seen = outcome(path.runtime, shop, sku)
    assert (seen.tiers[Tier.SPOT].sold, seen.tiers[Tier.PRESALE].sold) == (3, 5)
    assert_never_oversold(seen)


def test_a_retried_payment_gets_its_first_answer_and_a_reused_key_is_refused(path: Path) -> None:
    shop = open_shop(path.runtime)
    sku = listed_sku(path.runtime, shop, "retry", spot=5, presale=0)
    first = path.pay(shop, "pay-1", sku, 2)
    again = path.pay(shop, "pay-1", sku, 2)
    assert (again.order.id, again.order.lines, again.replayed) == (
        first.order.id,
        first.order.lines,
        True,
    )
    assert answer(lambda: path.pay(shop, "pay-1", sku, 3)) == (
        "refused",
        "idempotency_key_reused",
        "Idempotency-Key",
    )
    path.settle()
    after_fold = path.pay(shop, "pay-1", sku, 2)
    assert (after_fold.order.id, after_fold.replayed) == (first.order.id, True)
    assert outcome(path.runtime, shop, sku).tiers[Tier.SPOT].sold == 2  # charged once


def test_refusals_name_the_same_rule_and_field_on_every_path(path: Path) -> None:
    shop = open_shop(path.runtime)
    sku = listed_sku(path.runtime, shop, "refuse", spot=2, presale=0)
    hidden = listed_sku(path.runtime, shop, "hidden", spot=2, presale=0)
    with path.runtime.uow(readonly=True) as uow:
        found = uow.catalogue.get_sku(shop, hidden)
    assert found is not None
    product_id = found.product_id
    catalogue.set_listed(catalogue.SetListed(shop, product_id, False), path.runtime.uow())
    assert [
        answer(lambda: path.pay(shop, "r1", sku, 3)),
        answer(lambda: path.pay(shop, "r2", 999_999, 1)),
        answer(lambda: path.pay(shop, "r3", hidden, 1)),
        answer(lambda: path.pay(shop, "r4", sku, 0)),
        answer(lambda: path.pay(shop, " ", sku, 1)),
    ] == [
        ("refused", "insufficient_stock", "lines[0].quantity"),
        ("refused", "not_found", "lines[0].sku_id"),
        ("refused", "product_not_listed", "lines[0].sku_id"),
        ("refused", "invalid_value", "lines[0].quantity"),
        ("refused", "invalid_value", "Idempotency-Key"),
    ]
    path.settle()
    assert outcome(path.runtime, shop, sku).tiers[Tier.SPOT].sold == 0


def test_a_cancel_returns_units_to_their_tier_once(path: Path) -> None:
    shop = open_shop(path.runtime)
    sku = listed_sku(path.runtime, shop, "cancel", spot=2, presale=4)
    placed = path.pay(shop, "c1", sku, 2)
    assert answer(lambda: path.pay(shop, "c2", sku, 2))[1] == "presale"
    path.settle()
    cancelled = path.runtime.cancel_order(CancelOrder(shop, placed.order.id, reason="buyer"))
    assert [ln.status.value for ln in cancelled.lines] == ["cancelled"]
    again = answer(lambda: path.runtime.cancel_order(CancelOrder(shop, placed.order.id)))
    assert again == ("refused", "already_cancelled", "order_id")
    assert answer(lambda: path.pay(shop, "c3", sku, 2)) == ("ok", "spot", 2, SPOT)
    path.settle()
    seen = outcome(path.runtime, shop, sku)
    assert (seen.tiers[Tier.SPOT].sold, seen.tiers[Tier.PRESALE].sold) == (2, 2)
    assert [m.describe() for m in seen.mismatches] == []


def test_a_concurrent_burst_sells_spot_then_presale_and_never_oversells(path: Path) -> None:
    shop = open_shop(path.runtime)
    sku = listed_sku(path.runtime, shop, "burst", spot=20, presale=30)
    wants = [1 + i % 3 for i in range(60)]  # 120 units asked for 50

    def one(i: int) -> int | str:
        try:
            return path.pay(shop, f"b{i}", sku, wants[i]).order.id
        except DomainError as exc:
            assert exc.code == SOLD_OUT
            return SOLD_OUT

    with ThreadPoolExecutor(24) as pool:
        results = list(pool.map(one, range(len(wants))))
    path.settle()
    seen = outcome(path.runtime, shop, sku)
    assert_never_oversold(seen)
    assert_tiers_fill_in_order(seen, wants, results)
    assert seen.tiers[Tier.SPOT].available < 1 and seen.tiers[Tier.PRESALE].available < 3
