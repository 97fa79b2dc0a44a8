"""Upgrading from the first released schema keeps every row, on both backends."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from tests.conftest import IN_CI, PG_SERVER, _admin_engine
from tierstock.domain.orders import LineRequest
from tierstock.services import placing
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger
from tierstock.store.engine import make_engine
from tierstock.store.migrate import upgrade

FIRST_RELEASE = "0001"
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC).replace(tzinfo=None)

SEED = [
    ("shops", {"id": 1, "name": "老店", "policy": "kuaishou", "created_at": NOW}),
    (
        "api_keys",
        {
            "id": 1,
            "shop_id": 1,
            "key_hash": "ab" * 32,
            "role": "owner",
            "label": "first",
            "created_at": NOW,
            "revoked_at": None,
        },
    ),
    (
        "products",
        {
            "id": 1,
            "shop_id": 1,
            "name": "羊毛衫",
            "listed": True,
            "service_promises": '["seven_day_return"]',
            "created_at": NOW,
        },
    ),
    (
        "skus",
        {
            "id": 1,
            "shop_id": 1,
            "product_id": 1,
            "code": "WOOL-M",
            "specs": '{"尺码": "M"}',
            "price_fen": 15900,
            "sales_form": "tiered",
            "spot_window_hours": 48,
            "presale_days": 5,
            "presale_ship_by": None,
            "created_at": NOW,
        },
    ),
    (
        "stock_tiers",
        {"id": 1, "shop_id": 1, "sku_id": 1, "tier": "spot", "quantity": 10, "sold": 2},
    ),
    (
        "stock_tiers",
        {"id": 2, "shop_id": 1, "sku_id": 1, "tier": "presale", "quantity": 5, "sold": 0},
    ),
    (
        "stock_ledger",
        {
            "id": 1,
            "shop_id": 1,
            "sku_id": 1,
            "tier": "spot",
            "kind": "receipt",
            "quantity_delta": 10,
            "sold_delta": 0,
            "order_id": None,
            "line_no": None,
            "actor": "cli",
            "reason": "opening",
            "created_at": NOW,
        },
    ),
    (
        "stock_ledger",
        {
            "id": 2,
            "shop_id": 1,
            "sku_id": 1,
            "tier": "presale",
            "kind": "receipt",
            "quantity_delta": 5,
            "sold_delta": 0,
            "order_id": None,
            "line_no": None,
            "actor": "cli",
            "reason": "opening",
            "created_at": NOW,
        },
    ),
    (
        "stock_ledger",
        {
            "id": 3,
            "shop_id": 1,
            "sku_id": 1,
            "tier": "spot",
            "kind": "sale",
            "quantity_delta": 0,
            "sold_delta": 2,
            "order_id": 1,
            "line_no": 1,
            "actor": "api",
            "reason": "order paid",
            "created_at": NOW,
        },
    ),
    (
        "orders",
        {
            "id": 1,
            "shop_id": 1,
            "idempotency_key": "old-1",
            "request_hash": "0" * 64,
            "buyer": "买家",
            "paid_at": NOW,
        },
    ),
    (
        "order_lines",
        {
            "id": 1,
            "shop_id": 1,
            "order_id": 1,
            "line_no": 1,
            "sku_id": 1,
            "tier": "spot",
            "quantity": 2,
            "unit_price_fen": 15900,
            "ship_by": NOW,
            "status": "paid",
            "tier_sold_after": 2,
            "cancelled_at": None,
        },
    ),
]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of its own (the shared test database is already at head)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return
    name = f"tierstock_migrate_{secrets.token_hex(4)}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        (pytest.fail if IN_CI else pytest.skip)(f"PostgreSQL not reachable: {exc}")
    engine = make_engine(make_url(PG_SERVER).set(database=name).render_as_string(False))
    yield engine
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """The seeded columns of each seeded table (later migrations may add columns)."""
    columns = {t: ", ".join(row) for t, row in SEED}
    with engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(text(f"SELECT {c} FROM {t} ORDER BY id"))]
            for t, c in sorted(columns.items())
        }


def test_upgrading_from_the_first_release_keeps_every_row(empty_engine: Engine) -> None:
    upgrade(empty_engine, FIRST_RELEASE)
    with empty_engine.begin() as conn:
        for table, row in SEED:
            cols = ", ".join(row)
            conn.execute(
                text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"),
                row,
            )
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on
            for table in {t for t, _ in SEED}:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
    before = _rows(empty_engine)

    upgrade(empty_engine)

    assert _rows(empty_engine) == before
    runtime = Runtime(empty_engine)
    assert verify_ledger(runtime.uow(readonly=True)) == (2, [])
    placed = placing.place_order(
        placing.PlaceOrder(1, "new-after-upgrade", (LineRequest(1, 1),)), runtime.uow()
    )
    assert placed.order.lines[0].tier == "spot"


def test_the_migrations_build_exactly_the_schema_the_code_declares(database_url: str) -> None:
    """A table or index added to the models without a migration fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import tierstock.store.audit_tables  # noqa: F401 - registers its tables
    from tierstock.store.tables import Base

    engine = make_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
