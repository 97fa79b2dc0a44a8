"""The hand-written statements, PostgreSQL spelling (psycopg 3: ``%s`` placeholders).

The same names, in the same order, as ``sqlite.py``: read the two side by side.
Lists and row batches go in as ONE parameter (an array, or JSON text from
``driver.json_rows``), so each statement keeps one fixed text whatever the number of
values and psycopg prepares it once per connection.
"""

from __future__ import annotations

from tierstock.store.sql import columns

# The guard lives in the WHERE clause: a tier never gives more than it holds (and the
# row's CHECK constraint would refuse it anyway).
TAKE = (
    "UPDATE stock_tiers SET sold = sold + %s WHERE sku_id = %s AND tier = %s "
    "AND sold + %s <= quantity RETURNING sold"
)
# Row locks in id order, so two batches locking overlapping SKUs never deadlock.
LOCK_TIERS = (
    "SELECT sku_id, tier, quantity, sold FROM stock_tiers "
    "WHERE sku_id = ANY(%s::bigint[]) ORDER BY id FOR UPDATE"
)
RECORD = (
    f"INSERT INTO stock_ledger ({', '.join(columns.LEDGER_COLUMNS)}) "
    f"SELECT {', '.join(columns.LEDGER_COLUMNS)} "
    "FROM json_populate_recordset(NULL::stock_ledger, %s::json)"
)
# Probes the unique (shop_id, key) index once per key, whatever the statistics say:
# with stale statistics PostgreSQL chose a shop-wide scan for `key = ANY(…)` (the LIMIT
# keeps the lateral probe from being flattened into a hash join). Run it unprepared.
FIND_KEYS = (
    "SELECT k.shop_id, k.key, o.id, o.request_hash "
    "FROM json_to_recordset(%s::json) AS k(shop_id bigint, key text) "
    "CROSS JOIN LATERAL (SELECT id, request_hash FROM orders "
    "WHERE shop_id = k.shop_id AND idempotency_key = k.key LIMIT 1) AS o"
)
# PostgreSQL does not promise RETURNING in input order: rows come back with their keys.
ADD_ORDERS = (
    f"INSERT INTO orders ({', '.join(columns.ORDER_COLUMNS)}) "
    f"SELECT {', '.join(columns.ORDER_COLUMNS)} "
    "FROM json_populate_recordset(NULL::orders, %s::json) "
    "RETURNING shop_id, idempotency_key, id"
)
# Not needed: ADD_ORDERS returns each new order's id with its key.
LAST_ORDER_ID = None
INSERT_LINES = (
    f"INSERT INTO order_lines ({', '.join(columns.LINE_COLUMNS)}) "
    f"SELECT {', '.join(columns.LINE_COLUMNS)} "
    "FROM json_populate_recordset(NULL::order_lines, %s::json)"
)
SKUS_FOR_SALE = (
    f"SELECT {', '.join(columns.SKU_FOR_SALE_COLUMNS)} "
    "FROM skus s JOIN products p ON p.id = s.product_id "
    "WHERE s.shop_id = %s AND s.id = ANY(%s::bigint[])"
)
# The Redis front reserves order ids in blocks (an id it never uses is a harmless gap).
NEXT_ORDER_IDS = (
    "SELECT nextval(pg_get_serial_sequence('orders', 'id')) FROM generate_series(1, %s)"
)
# The fold inserts thousands of orders per transaction, with explicit ids and ON
# CONFLICT (a re-delivered entry): one statement with arrays (``unnest``), sent in
# binary (``%(name)b``): in text format psycopg escapes every string of every array
# with a regular expression, most of the fold's Python time.
FOLD_ORDERS = """
INSERT INTO orders (id, shop_id, idempotency_key, request_hash, buyer, paid_at)
SELECT * FROM unnest(%(id)b::bigint[], %(shop)b::bigint[], %(key)b::varchar[],
                     %(hash)b::varchar[], %(buyer)b::varchar[], %(paid)b::timestamptz[])
ON CONFLICT DO NOTHING
RETURNING id
"""
