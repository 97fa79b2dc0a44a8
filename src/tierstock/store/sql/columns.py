"""Column lists the SQLite and PostgreSQL statements share.

The order is a contract with the repositories: they build each row as a plain tuple in
this order (SQLite binds it positionally, PostgreSQL names it through
:func:`~tierstock.store.sql.driver.json_rows`) and unpack read rows in this order. One
list per table keeps the two dialects from drifting apart.
"""

from __future__ import annotations

LEDGER_COLUMNS = (
    "shop_id",
    "sku_id",
    "tier",
    "kind",
    "quantity_delta",
    "sold_delta",
    "actor",
    "reason",
    "created_at",
    "order_id",
    "line_no",
)
ORDER_COLUMNS = ("shop_id", "idempotency_key", "request_hash", "buyer", "paid_at")
LINE_COLUMNS = (
    "shop_id",
    "order_id",
    "line_no",
    "sku_id",
    "tier",
    "quantity",
    "unit_price_fen",
    "ship_by",
    "status",
    "tier_sold_after",
)
KEY_COLUMNS = ("shop_id", "key")
"""The (shop, idempotency key) pairs ``FIND_KEYS`` looks up (PostgreSQL: as JSON)."""
SKU_FOR_SALE_COLUMNS = (
    "s.id",
    "s.shop_id",
    "s.product_id",
    "s.code",
    "s.specs",
    "s.price_fen",
    "s.sales_form",
    "s.spot_window_hours",
    "s.presale_days",
    "s.presale_ship_by",
    "p.listed",
)
"""What ``SKUS_FOR_SALE`` reads (``s``: skus, ``p``: its product)."""
