"""Stock, listing, cancelling and idempotency through the services (docs/rules.md §1–3).

Every test runs on SQLite and on PostgreSQL (the ``runtime`` fixture) and checks what a
merchant or a buyer would notice: figures on the tiers, refusals with their error, the
ledger's rows.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tierstock.domain.errors import (
    AlreadyCancelledError,
    IdempotencyKeyReusedError,
    InsufficientStockError,
    ListedProductFormChangeError,
    NotFoundError,
    PresaleEndedError,
    ProductNotListedError,
)
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import LineRequest, LineStatus, Order
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops, stock
from tierstock.services.placing import CancelOrder, PlaceOrder, cancel_order, place_order
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

TIERED = SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=5)
SPOT = SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)


# helpers -------------------------------------------------------------------------------
def open_shop(runtime: Runtime, name: str = "直播间") -> int:
    return shops.create_shop(shops.CreateShop(name), runtime.uow()).shop.id


def new_sku(
    runtime: Runtime,
    shop_id: int,
    form: SalesFormSpec = TIERED,
    *,
    spot: int = 0,
    presale: int = 0,
    code: str = "SKU-A",
    listed: bool = True,
    actor: str = "system",
) -> tuple[int, int]:
    """A product with one SKU; returns (product id, SKU id)."""
    product = catalogue.create_product(
        catalogue.CreateProduct(shop_id, f"product {code}"), runtime.uow()
    )
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop_id,
            product.id,
            code,
            9_900,
            form,
            spot_stock=spot,
            presale_stock=presale,
            actor=actor,
        ),
        runtime.uow(),
    )
    if listed:
        set_listed(runtime, shop_id, product.id, True)
    return product.id, sku.id


def set_listed(runtime: Runtime, shop_id: int, product_id: int, listed: bool) -> None:
    catalogue.set_listed(catalogue.SetListed(shop_id, product_id, listed), runtime.uow())


def buy(
    runtime: Runtime, shop_id: int, key: str, *lines: tuple[int, int], actor: str = "system"
) -> Order:
    cmd = PlaceOrder(shop_id, key, tuple(LineRequest(s, q) for s, q in lines), actor=actor)
    return place_order(cmd, runtime.uow()).order


def tiers(runtime: Runtime, shop_id: int, sku_id: int) -> dict[Tier, tuple[int, int]]:
    """(quantity, sold) per tier, as the database holds them."""
    held = stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True))
    return {t: (s.quantity, s.sold) for t, s in held.items()}


def available(runtime: Runtime, shop_id: int, sku_id: int) -> dict[Tier, int]:
    held = stock.read_stock(shop_id, sku_id, runtime.uow(readonly=True))
    return {t: s.available for t, s in held.items()}


def ledger(runtime: Runtime, shop_id: int, sku_id: int) -> list[LedgerEntry]:
    return stock.read_ledger(shop_id, sku_id, runtime.uow(readonly=True), limit=1000)


def assert_ledger_matches_stock(runtime: Runtime, shop_id: int) -> None:
    _, mismatches = verify_ledger(runtime.uow(readonly=True), shop_id)
    assert [m.describe() for m in mismatches] == []


def is_listed(runtime: Runtime, shop_id: int, product_id: int) -> bool:
    products = catalogue.list_products(shop_id, runtime.uow(readonly=True))
    return next(p.listed for p in products if p.id == product_id)


# stock set to 0 and below what is sold ------------------------------------------------
def test_setting_stock_to_zero_keeps_the_product_listed_but_refuses_orders(runtime):
    shop = open_shop(runtime)
    product, sku = new_sku(runtime, shop, SPOT, spot=5)

    stock.set_stock(stock.SetStock(shop, sku, Tier.SPOT, 0), runtime.uow())

    assert is_listed(runtime, shop, product)
    with pytest.raises(InsufficientStockError) as refused:
        buy(runtime, shop, "after-zero", (sku, 1))
    assert refused.value.code == "insufficient_stock"
    assert tiers(runtime, shop, sku)[Tier.SPOT] == (0, 0)
    assert_ledger_matches_stock(runtime, shop)


def test_setting_stock_below_what_is_sold_keeps_the_promised_units(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, SPOT, spot=10)
    promised = buy(runtime, shop, "big-buyer", (sku, 6))

    stock.set_stock(stock.SetStock(shop, sku, Tier.SPOT, 2), runtime.uow())

    assert tiers(runtime, shop, sku)[Tier.SPOT] == (8, 6)
    assert available(runtime, shop, sku)[Tier.SPOT] == 2
    order = buy(runtime, shop, "late-buyer", (sku, 2))
    assert order.lines[0].tier is Tier.SPOT
    with pytest.raises(InsufficientStockError):
        buy(runtime, shop, "too-late", (sku, 1))
    cancel_order(CancelOrder(shop, promised.id), runtime.uow())
    assert available(runtime, shop, sku)[Tier.SPOT] == 6
    assert_ledger_matches_stock(runtime, shop)


# cancelling ---------------------------------------------------------------------------
def test_cancelling_a_line_returns_its_units_to_the_tier_it_came_from(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, TIERED, spot=5, presale=10)
    from_spot = buy(runtime, shop, "spot-buyer", (sku, 4))
    from_presale = buy(runtime, shop, "presale-buyer", (sku, 3))
    assert from_spot.lines[0].tier is Tier.SPOT
    assert from_presale.lines[0].tier is Tier.PRESALE

    cancel_order(CancelOrder(shop, from_spot.id, 1), runtime.uow())
    assert available(runtime, shop, sku) == {Tier.SPOT: 5, Tier.PRESALE: 7}

    # spot now has room for 3, but these units were presale units and go back there
    cancelled = cancel_order(CancelOrder(shop, from_presale.id, 1), runtime.uow())
    assert cancelled.lines[0].status is LineStatus.CANCELLED
    assert available(runtime, shop, sku) == {Tier.SPOT: 5, Tier.PRESALE: 10}
    assert tiers(runtime, shop, sku) == {Tier.SPOT: (5, 0), Tier.PRESALE: (10, 0)}
    assert_ledger_matches_stock(runtime, shop)


def test_cancelling_a_line_twice_is_refused_and_returns_its_units_once(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, SPOT, spot=5)
    order = buy(runtime, shop, "twice", (sku, 2))
    cancel_order(CancelOrder(shop, order.id, 1), runtime.uow())
    rows_after_first_cancel = len(ledger(runtime, shop, sku))

    with pytest.raises(AlreadyCancelledError):
        cancel_order(CancelOrder(shop, order.id, 1), runtime.uow())
    with pytest.raises(AlreadyCancelledError):
        cancel_order(CancelOrder(shop, order.id), runtime.uow())

    assert tiers(runtime, shop, sku)[Tier.SPOT] == (5, 0)
    assert len(ledger(runtime, shop, sku)) == rows_after_first_cancel
    assert_ledger_matches_stock(runtime, shop)


def test_cancelling_a_whole_order_cancels_only_the_lines_still_paid(runtime):
    shop = open_shop(runtime)
    _, a = new_sku(runtime, shop, SPOT, spot=5, code="A")
    _, b = new_sku(runtime, shop, SPOT, spot=5, code="B")
    order = buy(runtime, shop, "two-lines", (a, 1), (b, 2))
    cancel_order(CancelOrder(shop, order.id, 1), runtime.uow())

    after = cancel_order(CancelOrder(shop, order.id), runtime.uow())

    assert [ln.status for ln in after.lines] == [LineStatus.CANCELLED] * 2
    assert tiers(runtime, shop, a)[Tier.SPOT] == (5, 0)
    assert tiers(runtime, shop, b)[Tier.SPOT] == (5, 0)
    assert [e.kind for e in ledger(runtime, shop, a)].count(LedgerKind.CANCEL) == 1
    assert_ledger_matches_stock(runtime, shop)


def test_cancelling_a_line_the_order_does_not_have_is_not_found(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, SPOT, spot=5)
    order = buy(runtime, shop, "one-line", (sku, 1))
    with pytest.raises(NotFoundError):
        cancel_order(CancelOrder(shop, order.id, 2), runtime.uow())
    other_shop = open_shop(runtime, "another shop")
    with pytest.raises(NotFoundError):
        cancel_order(CancelOrder(other_shop, order.id), runtime.uow())
    assert tiers(runtime, shop, sku)[Tier.SPOT] == (5, 1)


# sales forms and listing --------------------------------------------------------------
def test_changing_the_sales_form_is_refused_while_listed_and_works_after_delisting(runtime):
    shop = open_shop(runtime)
    product, sku = new_sku(runtime, shop, TIERED, spot=3, presale=5)
    presale_10_days = SalesFormSpec(SalesForm.PRESALE, presale_days=10)

    with pytest.raises(ListedProductFormChangeError) as refused:
        catalogue.change_sales_form(
            catalogue.ChangeSalesForm(shop, sku, presale_10_days), runtime.uow()
        )
    assert refused.value.code == "listed_product_form_change"
    assert buy(runtime, shop, "still-tiered", (sku, 1)).lines[0].tier is Tier.SPOT

    set_listed(runtime, shop, product, False)
    changed = catalogue.change_sales_form(
        catalogue.ChangeSalesForm(shop, sku, presale_10_days), runtime.uow()
    )
    assert changed.sales_form.form is SalesForm.PRESALE
    set_listed(runtime, shop, product, True)

    # spot still holds 2 units, but a presale SKU sells only presale, with its own promise
    order = buy(runtime, shop, "now-presale", (sku, 1))
    line = order.lines[0]
    assert line.tier is Tier.PRESALE
    assert line.ship_by == order.paid_at + timedelta(days=10)
    assert available(runtime, shop, sku) == {Tier.SPOT: 2, Tier.PRESALE: 4}
    assert_ledger_matches_stock(runtime, shop)


def test_ordering_a_delisted_product_is_refused(runtime):
    shop = open_shop(runtime)
    product, sku = new_sku(runtime, shop, SPOT, spot=5)
    _, never_listed = new_sku(runtime, shop, SPOT, spot=5, code="NEW", listed=False)
    set_listed(runtime, shop, product, False)

    with pytest.raises(ProductNotListedError):
        buy(runtime, shop, "delisted", (sku, 1))
    with pytest.raises(ProductNotListedError):
        buy(runtime, shop, "never-listed", (never_listed, 1))

    assert tiers(runtime, shop, sku)[Tier.SPOT] == (5, 0)
    assert tiers(runtime, shop, never_listed)[Tier.SPOT] == (5, 0)
    set_listed(runtime, shop, product, True)
    assert buy(runtime, shop, "relisted", (sku, 1)).lines[0].tier is Tier.SPOT


# atomicity and shop boundaries --------------------------------------------------------
def test_an_order_line_for_another_shops_sku_is_not_found_and_allocates_nothing(runtime):
    shop = open_shop(runtime, "ours")
    _, ours = new_sku(runtime, shop, SPOT, spot=5)
    other = open_shop(runtime, "theirs")
    _, theirs = new_sku(runtime, other, SPOT, spot=5)

    with pytest.raises(NotFoundError):
        buy(runtime, shop, "mixed-shops", (ours, 1), (theirs, 1))
    with pytest.raises(NotFoundError):
        buy(runtime, shop, "only-theirs", (theirs, 1))

    assert tiers(runtime, shop, ours)[Tier.SPOT] == (5, 0)
    assert tiers(runtime, other, theirs)[Tier.SPOT] == (5, 0)
    assert [e.kind for e in ledger(runtime, shop, ours)] == [LedgerKind.RECEIPT]
    assert [e.kind for e in ledger(runtime, other, theirs)] == [LedgerKind.RECEIPT]


def test_an_order_whose_second_line_is_short_allocates_nothing_at_all(runtime):
    shop = open_shop(runtime)
    _, plenty = new_sku(runtime, shop, TIERED, spot=5, presale=5, code="PLENTY")
    _, scarce = new_sku(runtime, shop, TIERED, spot=1, presale=0, code="SCARCE")

    with pytest.raises(InsufficientStockError) as refused:
        buy(runtime, shop, "all-or-nothing", (plenty, 2), (scarce, 2))
    assert refused.value.field == "lines[1].quantity"

    assert tiers(runtime, shop, plenty) == {Tier.SPOT: (5, 0), Tier.PRESALE: (5, 0)}
    assert tiers(runtime, shop, scarce) == {Tier.SPOT: (1, 0), Tier.PRESALE: (0, 0)}
    assert all(e.kind is LedgerKind.RECEIPT for e in ledger(runtime, shop, plenty))
    assert_ledger_matches_stock(runtime, shop)


# idempotency --------------------------------------------------------------------------
def test_a_retry_with_the_same_key_and_body_gets_the_first_order_back(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, SPOT, spot=5)
    cmd = PlaceOrder(shop, "retry-me", (LineRequest(sku, 2),), buyer="b1")
    first = place_order(cmd, runtime.uow())
    again = place_order(cmd, runtime.uow())

    assert not first.replayed and again.replayed
    assert again.order == first.order
    assert tiers(runtime, shop, sku)[Tier.SPOT] == (5, 2)


def test_reusing_an_idempotency_key_with_a_different_body_is_refused(runtime):
    shop = open_shop(runtime)
    _, sku = new_sku(runtime, shop, SPOT, spot=5)
    buy(runtime, shop, "same-key", (sku, 1))

    with pytest.raises(IdempotencyKeyReusedError) as refused:
        buy(runtime, shop, "same-key", (sku, 2))
    assert refused.value.code == "idempotency_key_reused"
    assert tiers(runtime, shop, sku)[Tier.SPOT] == (5, 1)
    assert [e.kind for e in ledger(runtime, shop, sku)].count(LedgerKind.SALE) == 1


def test_two_shops_may_use_the_same_idempotency_key(runtime):
    first_shop, second_shop = open_shop(runtime, "one"), open_shop(runtime, "two")
    _, a = new_sku(runtime, first_shop, SPOT, spot=5)
    _, b = new_sku(runtime, second_shop, SPOT, spot=5)
    one = buy(runtime, first_shop, "shared", (a, 1))
    two = buy(runtime, second_shop, "shared", (b, 1))
    assert one.id != two.id
    assert tiers(runtime, second_shop, b)[Tier.SPOT] == (5, 1)


# fixed-date presale -------------------------------------------------------------------
def test_a_fixed_date_presale_sells_until_its_date_and_refuses_after_it(runtime, clock):
    clock.now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    shop = open_shop(runtime)
    fixed = SalesFormSpec(SalesForm.PRESALE, presale_ship_by=date(2026, 12, 5))
    _, sku = new_sku(runtime, shop, fixed, presale=10)
    end_of_5_dec_in_shanghai = datetime(2026, 12, 5, 15, 59, 59, tzinfo=UTC)

    first = buy(runtime, shop, "early", (sku, 1))
    assert first.lines[0].ship_by == end_of_5_dec_in_shanghai
    clock.now = datetime(2026, 12, 5, 15, 59, tzinfo=UTC)  # 23:59 on 5 Dec in Shanghai
    assert buy(runtime, shop, "last-minute", (sku, 1)).lines[0].tier is Tier.PRESALE

    clock.now = datetime(2026, 12, 5, 16, 0, 1, tzinfo=UTC)  # 6 Dec in Shanghai
    with pytest.raises(PresaleEndedError) as refused:
        buy(runtime, shop, "too-late", (sku, 1))
    assert refused.value.code == "presale_ended"
    assert tiers(runtime, shop, sku)[Tier.PRESALE] == (10, 2)
    assert_ledger_matches_stock(runtime, shop)


# the ledger ---------------------------------------------------------------------------
def test_every_stock_change_writes_exactly_one_ledger_row_with_actor_and_reason(runtime):
    shop = open_shop(runtime)
    product, sku = new_sku(runtime, shop, TIERED, spot=3, actor="alice")
    rows = ledger(runtime, shop, sku)
    assert [(e.kind, e.tier, e.quantity_delta, e.sold_delta, e.actor, e.reason) for e in rows] == [
        (LedgerKind.RECEIPT, Tier.SPOT, 3, 0, "alice", "opening stock")
    ]

    def one_new_row() -> LedgerEntry:
        nonlocal rows
        now = ledger(runtime, shop, sku)
        assert now[: len(rows)] == rows, "ledger rows are never changed"
        assert len(now) == len(rows) + 1
        rows = now
        return now[-1]

    stock.receive_stock(
        stock.ReceiveStock(shop, sku, Tier.PRESALE, 4, "bob", "truck 7"), runtime.uow()
    )
    e = one_new_row()
    assert (e.kind, e.tier, e.quantity_delta, e.sold_delta, e.actor, e.reason) == (
        LedgerKind.RECEIPT,
        Tier.PRESALE,
        4,
        0,
        "bob",
        "truck 7",
    )

    stock.set_stock(
        stock.SetStock(shop, sku, Tier.SPOT, 1, "carol", "damaged in store"), runtime.uow()
    )
    e = one_new_row()
    assert (e.kind, e.tier, e.quantity_delta, e.sold_delta, e.actor, e.reason) == (
        LedgerKind.SET_STOCK,
        Tier.SPOT,
        -2,
        0,
        "carol",
        "damaged in store",
    )

    order = buy(runtime, shop, "ledgered", (sku, 2), actor="live-room")
    e = one_new_row()
    assert (e.kind, e.tier, e.quantity_delta, e.sold_delta, e.actor) == (
        LedgerKind.SALE,
        Tier.PRESALE,
        0,
        2,
        "live-room",
    )
    assert e.reason and (e.order_id, e.line_no) == (order.id, 1)

    cancel_order(
        CancelOrder(shop, order.id, actor="cs-dave", reason="buyer changed mind"), runtime.uow()
    )
    e = one_new_row()
    assert (e.kind, e.tier, e.quantity_delta, e.sold_delta, e.actor, e.reason) == (
        LedgerKind.CANCEL,
        Tier.PRESALE,
        0,
        -2,
        "cs-dave",
        "buyer changed mind",
    )
    assert (e.order_id, e.line_no) == (order.id, 1)
    assert all(r.created_at == runtime.clock() for r in rows)

    # refusals and no-op changes write nothing
    set_listed(runtime, shop, product, False)
    with pytest.raises(ProductNotListedError):
        buy(runtime, shop, "refused", (sku, 1))
    stock.set_stock(stock.SetStock(shop, sku, Tier.SPOT, 1, "carol"), runtime.uow())
    assert ledger(runtime, shop, sku) == rows
    assert_ledger_matches_stock(runtime, shop)
