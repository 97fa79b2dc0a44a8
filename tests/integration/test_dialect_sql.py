"""Every hand-written statement of store/sql/, run on its own database.

``database_url`` runs each check on SQLite and on PostgreSQL, with that database's text
(``dialect_sql``) and parameters in that database's shape (a list as an array or one
placeholder per value, a batch as JSON or ``executemany``), inside a transaction that
is rolled back. A check asserts what the repositories rely on the statement doing.
The two dialect modules must name the same statements, and each statement needs a
check here: a statement added for one database cannot be forgotten for the other, nor
go untested.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select

from tierstock.domain.ledger import LedgerKind
from tierstock.domain.orders import LineStatus
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import catalogue, shops
from tierstock.services.runtime import Runtime
from tierstock.store.sql import POSTGRESQL, DialectSql, dialect_sql, postgresql, sqlite
from tierstock.store.sql.columns import (
    KEY_COLUMNS,
    LEDGER_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    SKU_FOR_SALE_COLUMNS,
)
from tierstock.store.sql.driver import (
    json_rows,
    placeholders,
    raw_execute,
    raw_executemany,
    utc_text,
)
from tierstock.store.tables import order_lines, orders, stock_ledger

AT = datetime(2026, 11, 26, 2, 0, 0, 123456, tzinfo=UTC)
NO_SUCH_ID = 999_999_999


@dataclass(frozen=True)
class Shop:
    id: int
    tiered: int  # listed; spot 3, presale 1
    hidden: int  # not listed; spot 1 (its presale tier holds 0)


@pytest.fixture()
def shop(runtime: Runtime) -> Shop:
    """A small shop, committed through the services (as the application seeds one)."""
    shop_id = shops.create_shop(shops.CreateShop("直播间"), runtime.uow()).shop.id

    def sku(form: SalesFormSpec, *, listed: bool, spot: int, presale: int) -> int:
        product = catalogue.create_product(catalogue.CreateProduct(shop_id, "毛衣"), runtime.uow())
        added = catalogue.add_sku(
            catalogue.AddSku(
                shop_id,
                product.id,
                f"S-{product.id}",
                1990,
                form,
                specs={"颜色": "红"},
                spot_stock=spot,
                presale_stock=presale,
            ),
            runtime.uow(),
        )
        if listed:
            catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
        return added.id

    tiered = sku(SalesFormSpec(SalesForm.TIERED, 48, 5), listed=True, spot=3, presale=1)
    hidden = sku(SalesFormSpec(SalesForm.SPOT, 48), listed=False, spot=1, presale=0)
    return Shop(shop_id, tiered, hidden)


@pytest.fixture()
def conn(runtime: Runtime, shop: Shop) -> Iterator[Connection]:
    """A connection in a transaction that is never committed (the unit of work rolls it
    back), taken after ``shop``: on SQLite a unit of work holds the one writer's lock."""
    with runtime.uow() as uow:
        yield uow.stock.conn


# --- parameters in each database's shape ----------------------------------------------
def _on_pg(conn: Connection) -> bool:
    return conn.dialect.name == POSTGRESQL


def _in_list(conn: Connection, sql: str, leading: Sequence[Any], values: Sequence[Any]) -> Any:
    """A list parameter: one array (PostgreSQL) or one ``?`` per value (SQLite)."""
    if _on_pg(conn):
        return raw_execute(conn, sql, (*leading, list(values)))
    return raw_execute(conn, sql.format(placeholders(len(values))), (*leading, *values))


def _batch(conn: Connection, sql: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> Any:
    """A batch of rows: one JSON parameter (PostgreSQL) or ``executemany`` (SQLite)."""
    if _on_pg(conn):
        return raw_execute(conn, sql, (json_rows(columns, rows),))
    raw_executemany(conn, sql, rows)
    return None


def _order_rows(shop: Shop, *keys: str) -> list[tuple[Any, ...]]:
    return [(shop.id, key, f"hash-{key}", None, utc_text(AT)) for key in keys]


def _order_ids(conn: Connection, shop: Shop) -> dict[str, int]:
    rows = conn.execute(
        select(orders.c.idempotency_key, orders.c.id).where(orders.c.shop_id == shop.id)
    )
    return {key: order_id for key, order_id in rows}


# --- one check per statement ----------------------------------------------------------
Check = Callable[[Connection, DialectSql, Shop], None]
CHECKS: dict[str, Check] = {}


def check(name: str) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CHECKS[name] = fn
        return fn

    return register


@check("TAKE")
def _take(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    def take(tier: Tier, qty: int) -> list[Any]:
        return list(raw_execute(conn, sql.TAKE, (qty, shop.tiered, tier, qty)).fetchall())

    assert take(Tier.SPOT, 2) == [(2,)]  # fits: the new sold figure
    assert take(Tier.SPOT, 2) == []  # 2 + 2 > 3: nothing, and nothing changed
    assert take(Tier.SPOT, 1) == [(3,)]
    assert take(Tier.PRESALE, 1) == [(1,)]
    assert take(Tier.PRESALE, 1) == []


@check("LOCK_TIERS")
def _lock_tiers(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    rows = _in_list(conn, sql.LOCK_TIERS, (), [shop.hidden, NO_SUCH_ID, shop.tiered]).fetchall()
    assert [tuple(r) for r in rows] == [  # in id order: the tiered SKU was made first
        (shop.tiered, Tier.SPOT.value, 3, 0),
        (shop.tiered, Tier.PRESALE.value, 1, 0),
        (shop.hidden, Tier.SPOT.value, 1, 0),
        (shop.hidden, Tier.PRESALE.value, 0, 0),
    ]


@check("RECORD")
def _record(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    entries = [
        (shop.id, shop.tiered, Tier.SPOT, LedgerKind.SALE, 0, 2, "主播", "paid", AT, None, None),
        (shop.id, shop.tiered, Tier.PRESALE, LedgerKind.RECEIPT, 5, 0, "仓库", "in", AT, 7, 1),
    ]
    rows = [(*e[:8], utc_text(e[8]), *e[9:]) for e in entries]
    _batch(conn, sql.RECORD, LEDGER_COLUMNS, rows)
    found = conn.execute(
        select(*(stock_ledger.c[name] for name in LEDGER_COLUMNS))
        .where(stock_ledger.c.sku_id == shop.tiered)
        .order_by(stock_ledger.c.id.desc())
        .limit(2)
    ).all()
    assert [tuple(r) for r in reversed(found)] == entries


@check("ADD_ORDERS")
def _add_orders(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    returned = _batch(conn, sql.ADD_ORDERS, ORDER_COLUMNS, _order_rows(shop, "k1", "k2"))
    ids = _order_ids(conn, shop)
    assert set(ids) == {"k1", "k2"}
    if _on_pg(conn):  # each new id with its key (RETURNING's order is not promised)
        assert {tuple(r) for r in returned} == {(shop.id, k, i) for k, i in ids.items()}
    stored = conn.execute(
        select(orders.c.request_hash, orders.c.buyer, orders.c.paid_at).where(
            orders.c.id == ids["k1"]
        )
    ).one()
    assert tuple(stored) == ("hash-k1", None, AT)


@check("LAST_ORDER_ID")
def _last_order_id(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    if _on_pg(conn):
        assert sql.LAST_ORDER_ID is None  # ADD_ORDERS returns its ids
        return
    assert sql.LAST_ORDER_ID is not None
    _batch(conn, sql.ADD_ORDERS, ORDER_COLUMNS, _order_rows(shop, "k1", "k2", "k3"))
    (last,) = raw_execute(conn, sql.LAST_ORDER_ID).fetchone()
    ids = _order_ids(conn, shop)  # contiguous, ending at the last id, in row order
    assert [ids[k] for k in ("k1", "k2", "k3")] == [last - 2, last - 1, last]


@check("FIND_KEYS")
def _find_keys(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    _batch(conn, sql.ADD_ORDERS, ORDER_COLUMNS, _order_rows(shop, "k1", "k2"))
    ids = _order_ids(conn, shop)
    other_shop = shop.id + NO_SUCH_ID
    if _on_pg(conn):
        pairs = [(shop.id, "k1"), (shop.id, "missing"), (shop.id, "k2"), (other_shop, "k1")]
        rows = raw_execute(conn, sql.FIND_KEYS, (json_rows(KEY_COLUMNS, pairs),), prepare=False)
        found = {(s, k): (i, h) for s, k, i, h in rows}
        assert found == {(shop.id, k): (ids[k], f"hash-{k}") for k in ("k1", "k2")}
        return
    rows = _in_list(conn, sql.FIND_KEYS, (shop.id,), ["k1", "missing", "k2"])
    assert {k: (i, h) for k, i, h in rows} == {k: (ids[k], f"hash-{k}") for k in ("k1", "k2")}
    assert _in_list(conn, sql.FIND_KEYS, (other_shop,), ["k1"]).fetchall() == []


@check("INSERT_LINES")
def _insert_lines(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    order_id = conn.execute(
        insert(orders)
        .values(shop_id=shop.id, idempotency_key="k", request_hash="h", paid_at=AT)
        .returning(orders.c.id)
    ).scalar_one()
    ship_by = AT + timedelta(hours=48)
    lines = [
        (shop.id, order_id, 1, shop.tiered, Tier.SPOT, 2, 1990, ship_by, LineStatus.PAID, 2),
        (shop.id, order_id, 2, shop.hidden, Tier.SPOT, 1, 990, ship_by, LineStatus.PAID, 1),
    ]
    rows = [(*ln[:7], utc_text(ln[7]), *ln[8:]) for ln in lines]
    _batch(conn, sql.INSERT_LINES, LINE_COLUMNS, rows)
    found = conn.execute(
        select(*(order_lines.c[name] for name in LINE_COLUMNS))
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.line_no)
    ).all()
    assert [tuple(r) for r in found] == lines


@check("SKUS_FOR_SALE")
def _skus_for_sale(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    wanted = [shop.hidden, shop.tiered, NO_SUCH_ID]
    rows = _in_list(conn, sql.SKUS_FOR_SALE, (shop.id,), wanted).fetchall()
    assert all(len(r) == len(SKU_FOR_SALE_COLUMNS) for r in rows)
    by_id = {r[0]: r for r in rows}
    assert set(by_id) == {shop.tiered, shop.hidden}
    for sku_id, listed in ((shop.tiered, True), (shop.hidden, False)):
        # (id, shop_id, product_id, code, …, listed); SQLite hands the flag back as 0/1
        r = by_id[sku_id]
        assert (r[1], r[3], bool(r[-1])) == (shop.id, f"S-{r[2]}", listed)
    assert _in_list(conn, sql.SKUS_FOR_SALE, (shop.id + 1,), [shop.tiered]).fetchall() == []


@check("NEXT_ORDER_IDS")
def _next_order_ids(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    if not _on_pg(conn):
        assert sql.NEXT_ORDER_IDS is None  # the Redis front runs on PostgreSQL only
        return
    assert sql.NEXT_ORDER_IDS is not None
    ids = [int(r[0]) for r in raw_execute(conn, sql.NEXT_ORDER_IDS, (3,))]
    assert len(ids) == 3 and ids == sorted(set(ids))
    assert min(ids) > max(_order_ids(conn, shop).values(), default=0)


@check("FOLD_ORDERS")
def _fold_orders(conn: Connection, sql: DialectSql, shop: Shop) -> None:
    if not _on_pg(conn):
        assert sql.FOLD_ORDERS is None  # the Redis front runs on PostgreSQL only
        return
    assert sql.FOLD_ORDERS is not None and sql.NEXT_ORDER_IDS is not None
    ids = [int(r[0]) for r in raw_execute(conn, sql.NEXT_ORDER_IDS, (2,))]
    params = {
        "id": ids,
        "shop": [shop.id, shop.id],
        "key": ["r1", "r2"],
        "hash": ["h1", "h2"],
        "buyer": ["小红", None],
        "paid": [AT, AT],
    }
    assert sorted(int(r[0]) for r in raw_execute(conn, sql.FOLD_ORDERS, params)) == ids
    # re-delivered: the ids are there already, nothing is inserted
    assert raw_execute(conn, sql.FOLD_ORDERS, params).fetchall() == []
    assert _order_ids(conn, shop) == {"r1": ids[0], "r2": ids[1]}


# --- the tests ------------------------------------------------------------------------
def statement_names(module: ModuleType | type) -> set[str]:
    return {name for name in vars(module) if name.isupper() and not name.startswith("_")}


def test_both_databases_name_the_same_statements() -> None:
    """A statement written for one database only is still named in the other module
    (``None``, with a comment saying why), and listed in ``DialectSql``."""
    names = statement_names(sqlite)
    assert names == statement_names(postgresql) == statement_names(DialectSql)
    for name in names:
        spellings = (getattr(sqlite, name), getattr(postgresql, name))
        assert all(s is None or isinstance(s, str) for s in spellings), name
        assert any(isinstance(s, str) for s in spellings), f"{name} is None on both"


def test_every_statement_has_a_check() -> None:
    assert set(CHECKS) == statement_names(sqlite)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_statement_does_on_its_database_what_the_store_expects(
    name: str, conn: Connection, shop: Shop
) -> None:
    CHECKS[name](conn, dialect_sql(conn), shop)
