"""The database's stock figures always equal a plain in-memory model — docs/rules.md §2–3.

Hypothesis drives random sequences of receipts, stock settings, orders, cancels,
listing changes and sales-form changes against a fresh shop, and compares after every
step: tier figures, sold within stock, ledger = stock, and that each operation is
refused exactly when the model says it must be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from tierstock.domain.errors import (
    AlreadyCancelledError,
    DomainError,
    InsufficientStockError,
    ListedProductFormChangeError,
    ProductNotListedError,
)
from tierstock.domain.evidence import TierNotSoldError
from tierstock.domain.orders import LineRequest, LineStatus
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops, stock
from tierstock.services.placing import CancelOrder, PlaceOrder, cancel_order, place_order
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

FORMS = {
    SalesForm.SPOT: SalesFormSpec(SalesForm.SPOT, spot_window_hours=48),
    SalesForm.PRESALE: SalesFormSpec(SalesForm.PRESALE, presale_days=10),
    SalesForm.TIERED: SalesFormSpec(SalesForm.TIERED, spot_window_hours=24, presale_days=3),
}
SKUS = 2
forms = st.sampled_from(list(FORMS))
tiers = st.sampled_from(list(Tier))
sku_indexes = st.integers(0, SKUS - 1)
order_lines = st.lists(st.tuples(sku_indexes, st.integers(1, 4)), min_size=1, max_size=2)

SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class ModelSku:
    """What the merchant should see for one SKU: [quantity, sold] per tier."""

    sku_id: int
    product_id: int
    form: SalesForm
    listed: bool
    stock: dict[Tier, list[int]] = field(default_factory=dict)

    def available(self, tier: Tier) -> int:
        quantity, sold = self.stock[tier]
        return quantity - sold


@dataclass
class ModelLine:
    line_no: int
    sku: int  # index into the machine's SKUs
    tier: Tier
    quantity: int
    paid: bool = True


def allocate(
    skus: list[ModelSku], lines: list[tuple[int, int]]
) -> tuple[list[Tier] | None, set[type[DomainError]]]:
    """The model's answer to an order: each line's tier, or the refusals it may get.

    An order is all or nothing; a line takes the first tier of its form that holds the
    whole quantity. When an order is refused for more than one reason, either may be
    named (which is found first is the implementation's business).
    """
    refusals: set[type[DomainError]] = set()
    if any(not skus[i].listed for i, _ in lines):
        refusals.add(ProductNotListedError)
    left = {(i, t): skus[i].available(t) for i in range(len(skus)) for t in Tier}
    chosen: dict[int, Tier] = {}
    # the database takes lines in SKU order; two lines of one SKU share its stock
    for line_no, (i, qty) in sorted(enumerate(lines), key=lambda p: (skus[p[1][0]].sku_id, p[0])):
        tier = next((t for t in FORMS[skus[i].form].tiers if left[i, t] >= qty), None)
        if tier is None:
            refusals.add(InsufficientStockError)
            break
        left[i, tier] -= qty
        chosen[line_no] = tier
    if refusals:
        return None, refusals
    return [chosen[n] for n in range(len(lines))], refusals


def make_machine(runtime: Runtime) -> type[RuleBasedStateMachine]:
    keys = count()

    class LedgerModel(RuleBasedStateMachine):
        """One fresh shop per example, two products with one SKU each."""

        def __init__(self) -> None:
            super().__init__()
            self.shop_id = 0
            self.skus: list[ModelSku] = []
            self.orders: dict[int, list[ModelLine]] = {}

        @initialize(
            start=st.lists(
                st.tuples(forms, st.integers(0, 4), st.integers(0, 4), st.booleans()),
                min_size=SKUS,
                max_size=SKUS,
            )
        )
        def open_shop(self, start: list[tuple[SalesForm, int, int, bool]]) -> None:
            self.shop_id = shops.create_shop(shops.CreateShop("模型 shop"), runtime.uow()).shop.id
            for n, (form, spot, presale, listed) in enumerate(start):
                product = catalogue.create_product(
                    catalogue.CreateProduct(self.shop_id, f"product {n}"), runtime.uow()
                )
                sku = catalogue.add_sku(
                    catalogue.AddSku(
                        self.shop_id,
                        product.id,
                        f"SKU-{n}",
                        1_000 + n,
                        FORMS[form],
                        spot_stock=spot,
                        presale_stock=presale,
                    ),
                    runtime.uow(),
                )
                catalogue.set_listed(
                    catalogue.SetListed(self.shop_id, product.id, listed), runtime.uow()
                )
                self.skus.append(
                    ModelSku(
                        sku.id,
                        product.id,
                        form,
                        listed,
                        {Tier.SPOT: [spot, 0], Tier.PRESALE: [presale, 0]},
                    )
                )

        # stock --------------------------------------------------------------------------
        @rule(i=sku_indexes, tier=tiers, quantity=st.integers(1, 5))
        def receive(self, i: int, tier: Tier, quantity: int) -> None:
            sku = self.skus[i]
            receipt = stock.ReceiveStock(  # with its evidence (docs/rules.md §3.5)
                self.shop_id,
                sku.sku_id,
                tier,
                quantity,
                supplier="模型工厂",
                delivery_note=f"DN-{next(keys)}",
            )
            if tier not in FORMS[sku.form].tiers:  # units there would never be offered
                with pytest.raises(TierNotSoldError):
                    stock.receive_stock(receipt, runtime.uow())
                return
            stock.receive_stock(receipt, runtime.uow())
            sku.stock[tier][0] += quantity

        @rule(i=sku_indexes, tier=tiers, available=st.integers(0, 6))
        def set_stock(self, i: int, tier: Tier, available: int) -> None:
            sku = self.skus[i]
            # raising spot without evidence: the owner's override (docs/rules.md §3.5)
            cmd = stock.SetStock(
                self.shop_id,
                sku.sku_id,
                tier,
                available,
                reason="模型",
                role="owner",
                override=True,
            )
            raising = sku.stock[tier][1] + available > sku.stock[tier][0]
            if raising and tier not in FORMS[sku.form].tiers:
                with pytest.raises(TierNotSoldError):
                    stock.set_stock(cmd, runtime.uow())
                return
            after = stock.set_stock(cmd, runtime.uow())
            sku.stock[tier][0] = sku.stock[tier][1] + available
            assert after.available == available

        # orders -------------------------------------------------------------------------
        @rule(lines=order_lines)
        def place_order(self, lines: list[tuple[int, int]]) -> None:
            expected, refusals = allocate(self.skus, lines)
            cmd = PlaceOrder(
                self.shop_id,
                f"model-{next(keys)}",
                tuple(LineRequest(self.skus[i].sku_id, q) for i, q in lines),
            )
            try:
                order = place_order(cmd, runtime.uow()).order
            except (InsufficientStockError, ProductNotListedError) as refused:
                assert type(refused) in refusals, f"refused with {refused!r}, model: {refusals}"
                return
            assert expected is not None, f"paid, but the model refuses it: {refusals}"
            assert [ln.tier for ln in order.lines] == expected
            self.orders[order.id] = [
                ModelLine(n, i, tier, qty)
                for n, ((i, qty), tier) in enumerate(zip(lines, expected, strict=True), 1)
            ]
            for (i, qty), tier in zip(lines, expected, strict=True):
                self.skus[i].stock[tier][1] += qty

        def _cancel(self, order_id: int, line_no: int | None) -> None:
            targets = [ln for ln in self.orders[order_id] if line_no in (None, ln.line_no)]
            still_paid = [ln for ln in targets if ln.paid]
            try:
                after = cancel_order(CancelOrder(self.shop_id, order_id, line_no), runtime.uow())
            except AlreadyCancelledError:
                assert not still_paid, "refused as cancelled, but the model has paid lines"
                return
            assert still_paid, "cancelled again: units went back twice"
            for ln in still_paid:
                ln.paid = False
                self.skus[ln.sku].stock[ln.tier][1] -= ln.quantity
            assert [ln.status is LineStatus.PAID for ln in after.lines] == [
                ln.paid for ln in self.orders[order_id]
            ]

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel_order(self, data: st.DataObject) -> None:
            self._cancel(data.draw(st.sampled_from(sorted(self.orders)), label="order"), None)

        @precondition(lambda self: self.orders)
        @rule(data=st.data())
        def cancel_line(self, data: st.DataObject) -> None:
            order_id = data.draw(st.sampled_from(sorted(self.orders)), label="order")
            line_no = data.draw(st.integers(1, len(self.orders[order_id])), label="line")
            self._cancel(order_id, line_no)

        # listing and sales forms --------------------------------------------------------
        def _set_listed(self, i: int, listed: bool) -> None:
            sku = self.skus[i]
            after = catalogue.set_listed(
                catalogue.SetListed(self.shop_id, sku.product_id, listed), runtime.uow()
            )
            assert after.listed is listed
            sku.listed = listed

        @rule(i=sku_indexes)
        def delist(self, i: int) -> None:
            """下架; delisting a delisted product is allowed and changes nothing."""
            self._set_listed(i, False)

        @rule(i=sku_indexes)
        def relist(self, i: int) -> None:
            """上架; 0 stock does not stop a product from being listed (docs/rules.md §1)."""
            self._set_listed(i, True)

        @rule(i=sku_indexes, form=forms)
        def change_sales_form(self, i: int, form: SalesForm) -> None:
            sku = self.skus[i]
            cmd = catalogue.ChangeSalesForm(self.shop_id, sku.sku_id, FORMS[form])
            try:
                changed = catalogue.change_sales_form(cmd, runtime.uow())
            except ListedProductFormChangeError:
                assert sku.listed, "form change refused on a delisted product"
                return
            assert not sku.listed, "form changed while the product is listed"
            assert changed.sales_form.form is form
            sku.form = form

        # after every step ---------------------------------------------------------------
        @invariant()
        def the_database_agrees_with_the_model(self) -> None:
            """Tier figures, listing and forms as the model says; the ledger sums to the
            tier figures (one read-only transaction for the figures, one for the audit)."""
            if not self.skus:
                return
            ids = [s.sku_id for s in self.skus]
            with runtime.uow(readonly=True) as uow:
                held = uow.stock.tiers(ids)
                products = [
                    uow.catalogue.get_product(self.shop_id, s.product_id) for s in self.skus
                ]
                stored = [uow.catalogue.get_sku(self.shop_id, i) for i in ids]
            for sku in self.skus:
                seen = {t: [s.quantity, s.sold] for t, s in held[sku.sku_id].items()}
                assert seen == sku.stock, f"SKU {sku.sku_id}"
                for quantity, sold in seen.values():
                    assert 0 <= sold <= quantity
            assert [p.listed for p in products if p] == [s.listed for s in self.skus]
            assert [s.sales_form.form for s in stored if s] == [s.form for s in self.skus]
            _, mismatches = verify_ledger(runtime.uow(readonly=True), self.shop_id)
            assert [m.describe() for m in mismatches] == []

    return LedgerModel


def test_stock_figures_always_equal_the_model_and_the_ledger(runtime):
    run_state_machine_as_test(make_machine(runtime), settings=SETTINGS)


@pytest.mark.parametrize(
    "lines, expected",
    [
        ([(0, 2)], [Tier.SPOT]),
        ([(0, 3)], [Tier.PRESALE]),
        ([(0, 2), (0, 1)], [Tier.SPOT, Tier.PRESALE]),
        ([(0, 5)], None),
    ],
)
def test_the_model_takes_the_earliest_tier_that_holds_the_whole_line(lines, expected):
    tiered = ModelSku(1, 1, SalesForm.TIERED, True, {Tier.SPOT: [2, 0], Tier.PRESALE: [3, 0]})
    assert allocate([tiered], lines)[0] == expected
