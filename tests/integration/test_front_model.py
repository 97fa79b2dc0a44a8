"""The Redis front always agrees with a plain model of the tiers — hypothesis drives
random sequences of payments, folds, drains and receipts through a front with small
leases, and after every step checks: ledger = stock (leased units included), every open
lease equals what Redis holds, and each answer is the one the model gives (earliest
tier holding the whole line, or sold out)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from itertools import count

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.integration.test_burst import TIERED, open_shop
from tests.integration.test_front import front_runtime
from tierstock.domain.errors import InsufficientStockError
from tierstock.domain.orders import LineRequest
from tierstock.domain.sales_forms import Tier
from tierstock.services import catalogue, stock
from tierstock.services.placing import PlaceOrder
from tierstock.services.placing.redis_front import admin as front_admin
from tierstock.services.placing.redis_front import supply as front_supply
from tierstock.services.placing.redis_front.fold import Folder
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

DRY = 0.02  # seconds a tier stays "dry" for the front in this test (1 s in production)
SETTINGS = settings(
    max_examples=12,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class FrontMachine(RuleBasedStateMachine):
    runtime: Runtime

    def __init__(self) -> None:
        super().__init__()
        self.keys = count()
        self.answered: dict[int, tuple[Tier, int]] = {}  # order id -> (tier, quantity)

    @initialize(spot=st.integers(0, 6), presale=st.integers(0, 6), lease=st.integers(1, 4))
    def open(self, spot: int, presale: int, lease: int) -> None:
        assert self.runtime.front is not None
        self.runtime.front.lease_units = lease
        self.shop = open_shop(self.runtime)
        product = catalogue.create_product(
            catalogue.CreateProduct(self.shop, "羽绒服"), self.runtime.uow()
        )
        self.sku = catalogue.add_sku(
            catalogue.AddSku(
                self.shop,
                product.id,
                f"M-{secrets.token_hex(3)}",
                100,
                TIERED,
                spot_stock=spot,
                presale_stock=presale,
            ),
            self.runtime.uow(),
        ).id
        catalogue.set_listed(catalogue.SetListed(self.shop, product.id, True), self.runtime.uow())
        self.quantity = {Tier.SPOT: spot, Tier.PRESALE: presale}
        self.sold = {Tier.SPOT: 0, Tier.PRESALE: 0}

    @rule(qty=st.integers(1, 3))
    def pay(self, qty: int) -> None:
        expected = next(
            (t for t in (Tier.SPOT, Tier.PRESALE) if self.quantity[t] - self.sold[t] >= qty), None
        )
        cmd = PlaceOrder(self.shop, f"m-{next(self.keys)}", (LineRequest(self.sku, qty),))
        try:
            placed = self.runtime.place_order(cmd)
        except InsufficientStockError:
            assert expected is None, f"refused though {expected} held {qty}"
            return
        tier = placed.order.lines[0].tier
        assert tier == expected
        self.sold[tier] += qty
        self.answered[placed.order.id] = (tier, qty)

    @rule()
    def fold(self) -> None:
        assert self.runtime.front is not None
        Folder(self.runtime.front).fold_all()
        with self.runtime.uow(readonly=True) as uow:
            for order_id, (tier, qty) in self.answered.items():
                order = uow.orders.get(self.shop, order_id)
                assert order is not None and [(ln.tier, ln.quantity) for ln in order.lines] == [
                    (tier, qty)
                ]

    @rule()
    def drain_and_switch_on(self) -> None:
        assert self.runtime.front is not None
        done = front_admin.drain(self.runtime.front, wait_seconds=5)
        assert done.void == []
        with self.runtime.uow(readonly=True) as uow:
            tiers = uow.stock.tiers([self.sku])[self.sku]
        assert {t: tiers[t].sold for t in tiers} == self.sold  # no leased unit left
        self.runtime.front.switch_on()

    @rule(units=st.integers(1, 4))
    def receive_spot(self, units: int) -> None:
        receipt = stock.ReceiveStock(  # with its evidence (docs/rules.md §3.5)
            self.shop,
            self.sku,
            Tier.SPOT,
            units,
            "model",
            supplier="工厂",
            delivery_note=f"DN-{secrets.token_hex(4)}",
        )
        stock.receive_stock(receipt, self.runtime.uow())
        time.sleep(DRY * 1.5)  # the front sees stock added by hand once "dry" expires
        self.quantity[Tier.SPOT] += units

    @invariant()
    def ledger_equals_stock_and_leases_equal_redis(self) -> None:
        if not hasattr(self, "shop"):
            return
        assert self.runtime.front is not None
        self.runtime.front.wait_for_background()  # leases taken ahead
        assert verify_ledger(self.runtime.uow(readonly=True), self.shop)[1] == []
        assert front_admin.reconcile(self.runtime.front, attempts=1) == []


@pytest.fixture()
def model_runtime(postgresql_url, redis_url, monkeypatch) -> Iterator[Runtime]:
    monkeypatch.setattr(front_supply, "DRY_SECONDS", DRY)
    runtime = front_runtime(postgresql_url, redis_url, f"model-{secrets.token_hex(4)}", fold=False)
    yield runtime
    assert runtime.front is not None
    front_admin.drain(runtime.front, wait_seconds=5)
    runtime.front.forget_everything()
    runtime.close()


def test_the_front_agrees_with_the_model(model_runtime):
    FrontMachine.runtime = model_runtime
    FrontMachine.TestCase.settings = SETTINGS
    FrontMachine.TestCase().runTest()
