"""The hand-written statements, SQLite spelling (sqlite3: ``?`` placeholders).

The same names, in the same order, as ``postgresql.py``: read the two side by side.
Lists go in as one ``?`` per value (an ``{}`` in the text takes
``driver.placeholders(n)``) and row batches as ``executemany`` (sqlite3 loops in C and
keeps the compiled statement); no write lock is taken per row because ``BEGIN
IMMEDIATE`` already excludes every other writer for the whole transaction.
"""

from __future__ import annotations

from tierstock.store.sql import columns

# The guard lives in the WHERE clause: a tier never gives more than it holds (and the
# row's CHECK constraint would refuse it anyway).
TAKE = (
    "UPDATE stock_tiers SET sold = sold + ? WHERE sku_id = ? AND tier = ? "
    "AND sold + ? <= quantity RETURNING sold"
)
# No FOR UPDATE in SQLite: BEGIN IMMEDIATE is the lock. `{}`: one `?` per SKU id.
LOCK_TIERS = "SELECT sku_id, tier, quantity, sold FROM stock_tiers WHERE sku_id IN ({}) ORDER BY id"
RECORD = (
    f"INSERT INTO stock_ledger ({', '.join(columns.LEDGER_COLUMNS)}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# One shop per statement, `{}`: one `?` per key. A row-value IN (VALUES …) over (shop,
# key) pairs would scan the whole table; this probes the unique (shop_id, key) index
# once per key.
FIND_KEYS = (
    "SELECT idempotency_key, id, request_hash FROM orders "
    "WHERE shop_id = ? AND idempotency_key IN ({})"
)
ADD_ORDERS = f"INSERT INTO orders ({', '.join(columns.ORDER_COLUMNS)}) VALUES (?, ?, ?, ?, ?)"
# sqlite3 has no RETURNING for executemany: ADD_ORDERS' ids are the contiguous run
# ending here (an INTEGER PRIMARY KEY left NULL becomes the largest rowid + 1, and
# BEGIN IMMEDIATE keeps every other writer out).
LAST_ORDER_ID = "SELECT last_insert_rowid()"
INSERT_LINES = (
    f"INSERT INTO order_lines ({', '.join(columns.LINE_COLUMNS)}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# `{}`: one `?` per SKU id, after the shop's.
SKUS_FOR_SALE = (
    f"SELECT {', '.join(columns.SKU_FOR_SALE_COLUMNS)} "
    "FROM skus s JOIN products p ON p.id = s.product_id "
    "WHERE s.shop_id = ? AND s.id IN ({})"
)
# PostgreSQL only: the Redis front (front_repo), which refuses SQLite at start-up,
# takes order ids from the `orders` sequence ahead of the orders …
NEXT_ORDER_IDS = None
# … and folds its reservations into orders with those ids.
FOLD_ORDERS = None
