"""`tierstock demo`: a seeded shop and a simulated live-stream burst (docs/rules.md §3, §8).

A host says "上链接" and a thousand buyers pay at once for one tiered SKU. Buyers run
on a thread pool against the real database, each with its own idempotency key, and
the report is computed back from the database, not from what the buyers were told.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from tierstock.domain.allocation import units_held_twice
from tierstock.domain.catalogue import ServicePromise
from tierstock.domain.errors import DomainError
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops
from tierstock.services.placing import PlaceOrder
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger


@dataclass(frozen=True)
class BurstPlan:
    buyers: int = 1000
    workers: int = 32
    spot: int = 100
    presale: int = 400
    spot_window_hours: int = 48
    presale_days: int = 5
    max_quantity: int = 1  # each buyer wants 1..max_quantity units
    seed: int = 7


@dataclass(frozen=True)
class BurstReport:
    shop_id: int
    sku_id: int
    plan: BurstPlan
    units_sold: dict[Tier, int]
    lines_by_tier: dict[Tier, int]
    buyers_refused: int
    oversold_units: int
    units_held_twice: int
    promises: dict[Tier, tuple[datetime, datetime]]  # earliest and latest ship-by
    ledger_ok: bool
    seconds: float


def seed_tiered_sku(runtime: Runtime, plan: BurstPlan) -> tuple[int, int]:
    """A shop with one listed tiered SKU; returns (shop id, SKU id)."""
    shop = shops.create_shop(shops.CreateShop("直播间 demo shop"), runtime.uow()).shop
    product = catalogue.create_product(
        catalogue.CreateProduct(
            shop.id, "加厚羽绒服 down jacket", (ServicePromise.SEVEN_DAY_RETURN,)
        ),
        runtime.uow(),
    )
    form = SalesFormSpec(SalesForm.TIERED, plan.spot_window_hours, plan.presale_days)
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop.id,
            product.id,
            "JACKET-BLACK-L",
            29_900,
            form,
            {"颜色": "黑", "尺码": "L"},
            plan.spot,
            plan.presale,
            "demo",
        ),
        runtime.uow(),
    )
    catalogue.set_listed(catalogue.SetListed(shop.id, product.id, True), runtime.uow())
    return shop.id, sku.id


def run_burst(
    runtime: Runtime, plan: BurstPlan, on_paid: Callable[[], None] | None = None
) -> BurstReport:

    shop_id, sku_id = seed_tiered_sku(runtime, plan)
    rng = random.Random(plan.seed)
    wants = [rng.randint(1, plan.max_quantity) for _ in range(plan.buyers)]

    def buy(i: int) -> bool:
        cmd = PlaceOrder(
            shop_id, f"demo-{i}", (LineRequest(sku_id, wants[i]),), f"buyer-{i}", "demo"
        )
        try:
            runtime.place_order(cmd)
            return True
        except DomainError:
            return False
        finally:
            if on_paid:
                on_paid()

    started = time.perf_counter()
    with ThreadPoolExecutor(plan.workers) as pool:
        paid = list(pool.map(buy, range(plan.buyers)))
    seconds = time.perf_counter() - started
    if runtime.front is not None:  # the Redis front answered: write it all, then report
        from tierstock.services.placing.redis_front import admin as front_admin

        front_admin.drain(runtime.front)
        runtime.front.switch_on()
    return _report(runtime, plan, shop_id, sku_id, paid.count(False), seconds)


def _report(
    runtime: Runtime, plan: BurstPlan, shop_id: int, sku_id: int, refused: int, seconds: float
) -> BurstReport:
    with runtime.uow(readonly=True) as uow:
        tiers = uow.stock.tiers([sku_id])[sku_id]
        lines = uow.orders.lines_of_sku(sku_id)
    twice = sum(
        units_held_twice((ln.tier_sold_after, ln.quantity) for ln in lines if ln.tier == t)
        for t in Tier
    )
    promises: dict[Tier, tuple[datetime, datetime]] = {}
    for t in Tier:
        dates = [ln.ship_by for ln in lines if ln.tier == t]
        if dates:
            promises[t] = (min(dates), max(dates))
    _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
    return BurstReport(
        shop_id=shop_id,
        sku_id=sku_id,
        plan=plan,
        units_sold={t: tiers[t].sold for t in Tier},
        lines_by_tier=dict(Counter(Tier(ln.tier) for ln in lines)),
        buyers_refused=refused,
        oversold_units=sum(max(0, s.sold - s.quantity) for s in tiers.values()),
        units_held_twice=twice,
        promises=promises,
        ledger_ok=not mismatches,
        seconds=seconds,
    )
