"""Time `promises scan` over N open order lines on PostgreSQL and SQLite.

    .venv/bin/python bench/scan_promises.py --lines 1000000
    .venv/bin/python bench/scan_promises.py --lines 100000 --backend sqlite

Each backend gets a throwaway database (PostgreSQL: ``tierstock_bench_<random>`` on
``--pg``, dropped afterwards; SQLite: a temporary file). Seeding is set-based
(``generate_series`` on PostgreSQL, a recursive CTE on SQLite): N lines in N/10 orders,
deadlines spread over 100 hours around "now" so that 3 % have lapsed past the grace
period (→ unshipped compensation), 24 % are overdue, the rest are due later; 10 % are
shipped, a tenth of those late. The first scan records the compensation, the second
finds nothing to do (idempotence); both are timed.
"""

from __future__ import annotations

import argparse
import secrets
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tierstock.domain.compensation import CompensationKind
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue, shops
from tierstock.services.promises import ScanPromises, scan_promises
from tierstock.services.runtime import Runtime

NOW = datetime(2026, 11, 26, 4, 0, tzinfo=UTC)
LINES_PER_ORDER = 10
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# x = line sequence % 100; ship_by = now + (x - 27) h; x in 50..59 shipped, x = 50 late.
SEED_PG = """
INSERT INTO orders (shop_id, idempotency_key, request_hash, buyer, paid_at)
SELECT :shop, 'bench-' || g, 'bench', NULL, :paid FROM generate_series(1, :orders) g;
INSERT INTO order_lines (shop_id, order_id, line_no, sku_id, tier, quantity, unit_price_fen,
                         ship_by, status, tier_sold_after)
SELECT :shop, o.id, l, :sku, 'spot', 1 + (o.id % 3), :price,
       :now_naive + (((o.id * 10 + l) % 100) - 27) * interval '1 hour', 'paid', 0
FROM orders o CROSS JOIN generate_series(1, 10) l WHERE o.shop_id = :shop;
INSERT INTO shipments (shop_id, line_id, carrier, tracking_no, shipped_at, deadline, outcome,
                       actor, recorded_at)
SELECT :shop, id, 'SF', 'SF' || id, :now_naive, ship_by,
       CASE WHEN (order_id * 10 + line_no) % 100 = 50 THEN 'late' ELSE 'on_time' END,
       'bench', :now_naive
FROM order_lines WHERE shop_id = :shop AND (order_id * 10 + line_no) % 100 BETWEEN 50 AND 59;
ANALYZE orders; ANALYZE order_lines; ANALYZE shipments;
"""

SEED_SQLITE = """
WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < :orders)
INSERT INTO orders (shop_id, idempotency_key, request_hash, buyer, paid_at)
SELECT :shop, 'bench-' || x, 'bench', NULL, :paid FROM g;
WITH RECURSIVE l(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM l WHERE n < 10)
INSERT INTO order_lines (shop_id, order_id, line_no, sku_id, tier, quantity, unit_price_fen,
                         ship_by, status, tier_sold_after)
SELECT :shop, o.id, l.n, :sku, 'spot', 1 + (o.id % 3), :price,
       strftime('%Y-%m-%d %H:%M:%S.000000', :now_naive,
                (((o.id * 10 + l.n) % 100) - 27) || ' hours'), 'paid', 0
FROM orders o CROSS JOIN l WHERE o.shop_id = :shop;
INSERT INTO shipments (shop_id, line_id, carrier, tracking_no, shipped_at, deadline, outcome,
                       actor, recorded_at)
SELECT :shop, id, 'SF', 'SF' || id, :now_naive, ship_by,
       CASE WHEN (order_id * 10 + line_no) % 100 = 50 THEN 'late' ELSE 'on_time' END,
       'bench', :now_naive
FROM order_lines WHERE shop_id = :shop AND (order_id * 10 + line_no) % 100 BETWEEN 50 AND 59;
ANALYZE;
"""


@contextmanager
def pg_database(server: str) -> Iterator[str]:
    name = f"tierstock_bench_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def seed(runtime: Runtime, lines: int) -> int:
    shop = shops.create_shop(shops.CreateShop("bench"), runtime.uow()).shop
    product = catalogue.create_product(catalogue.CreateProduct(shop.id, "p"), runtime.uow())
    sku = catalogue.add_sku(
        catalogue.AddSku(shop.id, product.id, "B", 4_990, SalesFormSpec(SalesForm.SPOT, 48)),
        runtime.uow(),
    )
    script = SEED_PG if runtime.engine.dialect.name == "postgresql" else SEED_SQLITE
    params = {
        "shop": shop.id,
        "sku": sku.id,
        "price": 4_990,
        "orders": lines // LINES_PER_ORDER,
        "paid": (NOW - timedelta(days=3)).replace(tzinfo=None),
        "now_naive": NOW.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
    }
    if runtime.engine.dialect.name == "postgresql":
        params["now_naive"] = NOW.replace(tzinfo=None)
    with runtime.engine.begin() as conn:
        for statement in filter(str.strip, script.split(";")):
            conn.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
    return shop.id


def bench(url: str, lines: int) -> tuple[float, float, dict[CompensationKind, int], float]:
    runtime = Runtime.open(url, clock=lambda: NOW)
    try:
        started = time.perf_counter()
        shop_id = seed(runtime, lines)
        seeded = time.perf_counter() - started
        first = scan_promises(ScanPromises(shop_id), runtime.uow)
        second = scan_promises(ScanPromises(shop_id), runtime.uow)
        assert sum(second.recorded.values()) == 0, "the second scan must record nothing"
        return seeded, first.seconds, first.recorded, second.seconds
    finally:
        runtime.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--pg", default=PG_SERVER, help="PostgreSQL server URL (admin db)")
    args = parser.parse_args()
    table = Table(title=f"promises scan over {args.lines:,} open order lines")
    for col in ("backend", "seed s", "scan s", "late", "unshipped", "re-scan s", "lines/s"):
        table.add_column(col, justify="left" if col == "backend" else "right")
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    for name in backends:
        db = pg_database(args.pg) if name == "postgresql" else sqlite_database()
        with db as url:
            seeded, scan, recorded, rescan = bench(url, args.lines)
        table.add_row(
            name,
            f"{seeded:.1f}",
            f"{scan:.2f}",
            f"{recorded[CompensationKind.LATE]:,}",
            f"{recorded[CompensationKind.UNSHIPPED]:,}",
            f"{rescan:.2f}",
            f"{args.lines / scan:,.0f}",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
