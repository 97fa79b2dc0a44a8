"""The hot path's raw-driver statements (store/: find_keys, add_orders, insert_lines_of,
record, skus_for_sale, lock_tiers, take) write and read exactly what the SQLAlchemy
code around them expects — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.exc import IntegrityError

from tierstock.domain.errors import InvalidValueError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.orders import LineStatus, NewLine
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops, stock
from tierstock.services.runtime import Runtime

BEIJING = timezone(timedelta(hours=8))


def _shop(runtime: Runtime) -> int:
    return shops.create_shop(shops.CreateShop("直播间"), runtime.uow()).shop.id


def _sku(
    runtime: Runtime,
    shop: int,
    form: SalesFormSpec,
    *,
    listed: bool = True,
    spot: int = 0,
    presale: int = 0,
) -> int:
    product = catalogue.create_product(catalogue.CreateProduct(shop, "毛衣"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(
            shop,
            product.id,
            f"S-{product.id}",
            1990,
            form,
            specs={"颜色": "红", "size": "L"},
            spot_stock=spot,
            presale_stock=presale,
        ),
        runtime.uow(),
    )
    if listed:
        catalogue.set_listed(catalogue.SetListed(shop, product.id, True), runtime.uow())
    return sku.id


def test_orders_written_together_get_their_own_ids_in_row_order(runtime: Runtime) -> None:
    shop_a, shop_b = _shop(runtime), _shop(runtime)
    paid = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=BEIJING)
    rows = [
        (shop_a, "same", "h1", "a", paid),
        (shop_b, "same", "h2", None, paid),
        (shop_a, "other", "h3", "小红", paid + timedelta(seconds=1)),
    ]
    with runtime.uow() as uow:
        ids = uow.orders.add_orders(rows)
        uow.commit()
    assert len(set(ids)) == 3
    with runtime.uow(readonly=True) as uow:
        known = uow.orders.find_keys(
            [(shop, key) for shop, key, *_ in rows] + [(shop_b, "missing")]
        )
        for order_id, (shop, key, digest, buyer, paid_at) in zip(ids, rows, strict=True):
            assert known[(shop, key)].order_id == order_id
            assert known[(shop, key)].request_hash == digest
            order = uow.orders.get(shop, order_id)
            assert order is not None
            assert (order.buyer, order.paid_at) == (buyer, paid_at.astimezone(UTC))
    assert (shop_b, "missing") not in known


def test_lines_and_ledger_entries_read_back_through_sqlalchemy(runtime: Runtime) -> None:
    shop = _shop(runtime)
    sku = _sku(runtime, shop, SalesFormSpec(SalesForm.TIERED, 48, 5), spot=5)
    paid = datetime(2026, 11, 26, 10, 0, tzinfo=BEIJING)
    ship_by = paid + timedelta(hours=48)
    # read back in the same transaction, never committed: a line and a ledger entry
    # without their stock change would leave the shared database failing `verify`
    with runtime.uow() as uow:
        (order_id,) = uow.orders.add_orders([(shop, "k", "h", None, paid)])
        uow.orders.insert_lines_of(
            [(shop, order_id, NewLine(1, sku, 2, Tier.SPOT, 1990, ship_by, 2))]
        )
        uow.stock.record(
            [
                LedgerEntry(
                    shop,
                    sku,
                    Tier.SPOT,
                    LedgerKind.SALE,
                    0,
                    2,
                    "主播",
                    "order paid",
                    paid,
                    order_id,
                    1,
                )
            ]
        )
        order = uow.orders.get(shop, order_id)
        entries = uow.stock.ledger(shop, sku, offset=0, limit=10)
    assert order is not None
    (line,) = order.lines
    assert (line.tier, line.quantity, line.unit_price_fen, line.status) == (
        Tier.SPOT,
        2,
        1990,
        LineStatus.PAID,
    )
    assert line.ship_by == ship_by and line.ship_by.tzinfo == UTC
    sale = entries[-1]
    assert (sale.kind, sale.tier, sale.sold_delta, sale.actor) == (
        LedgerKind.SALE,
        Tier.SPOT,
        2,
        "主播",
    )
    assert (sale.created_at, sale.order_id, sale.line_no) == (paid, order_id, 1)


def test_skus_for_sale_reads_a_sku_as_the_catalogue_does(runtime: Runtime) -> None:
    shop = _shop(runtime)
    presale = SalesFormSpec(
        SalesForm.PRESALE, presale_ship_by=runtime.clock().date() + timedelta(days=10)
    )
    listed = _sku(runtime, shop, presale, presale=3)
    hidden = _sku(runtime, shop, SalesFormSpec(SalesForm.SPOT, 48), listed=False, spot=1)
    with runtime.uow(readonly=True) as uow:
        found = uow.catalogue.skus_for_sale(shop, [hidden, listed, listed, 999_999])
        expected = {sku_id: uow.catalogue.get_sku(shop, sku_id) for sku_id in (listed, hidden)}
        assert uow.catalogue.skus_for_sale(shop + 1_000, [listed]) == {}
    assert found == {listed: (expected[listed], True), hidden: (expected[hidden], False)}
    assert found[listed][0].specs == {"颜色": "红", "size": "L"}


def test_take_promises_units_only_while_the_tier_holds_them(runtime: Runtime) -> None:
    shop = _shop(runtime)
    sku = _sku(runtime, shop, SalesFormSpec(SalesForm.TIERED, 48, 5), spot=3, presale=1)
    with runtime.uow() as uow:
        assert uow.stock.take(sku, Tier.SPOT, 2) == 2
        assert uow.stock.take(sku, Tier.SPOT, 2) is None
        assert uow.stock.take(sku, Tier.PRESALE, 1) == 1
        tiers = uow.stock.lock_tiers([sku, sku])
        # not committed: units taken without lines or ledger entries fail `verify`
    assert {t: (s.quantity, s.sold) for t, s in tiers[sku].items()} == {
        Tier.SPOT: (3, 2),
        Tier.PRESALE: (1, 1),
    }


def test_a_value_the_database_refuses_is_still_bad_input(
    runtime: Runtime, database_url: str
) -> None:
    """Driver errors come back as SQLAlchemy's, so the unit of work still maps a DataError
    (PostgreSQL stores no NUL in text) to a 422-style refusal, and a reused key to an
    IntegrityError."""
    shop = _shop(runtime)
    sku = _sku(runtime, shop, SalesFormSpec(SalesForm.SPOT, 48), spot=1)
    receipt = stock.ReceiveStock(
        shop, sku, Tier.SPOT, 1, reason="nul \x00 byte", supplier="工厂", delivery_note="DN-1"
    )
    if database_url.startswith("postgresql"):
        with pytest.raises(InvalidValueError):
            stock.receive_stock(receipt, runtime.uow())
    paid = runtime.clock()
    with runtime.uow() as uow:
        uow.orders.add_orders([(shop, "once", "h", None, paid)])
        with pytest.raises(IntegrityError):
            uow.orders.add_orders([(shop, "once", "h", None, paid)])
