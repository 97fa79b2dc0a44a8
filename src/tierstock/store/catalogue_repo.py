"""Shops, API keys, products and SKUs.

``skus_for_sale`` is on the order hot path and runs on the raw driver connection (see
``store/sql/driver.py``); its SQLite and PostgreSQL text sits in ``store/sql/``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, bindparam, insert, select, update

from tierstock.domain.access import ApiKeyOwner
from tierstock.domain.catalogue import Product, ServicePromise, Shop, Sku
from tierstock.domain.errors import DuplicateError
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.store.rows import insert_new
from tierstock.store.sql import POSTGRESQL, dialect_sql
from tierstock.store.sql.driver import placeholders, raw_execute
from tierstock.store.tables import api_keys, products, shops, skus, stock_tiers


def _sku(row: Row[Any]) -> Sku:
    return Sku(
        id=row.id,
        shop_id=row.shop_id,
        product_id=row.product_id,
        code=row.code,
        specs=dict(row.specs),
        price_fen=row.price_fen,
        sales_form=SalesFormSpec(
            SalesForm(row.sales_form),
            spot_window_hours=row.spot_window_hours,
            presale_days=row.presale_days,
            presale_ship_by=row.presale_ship_by,
        ),
    )


def _product(row: Row[Any]) -> Product:
    return Product(
        id=row.id,
        shop_id=row.shop_id,
        name=row.name,
        listed=row.listed,
        service_promises=tuple(ServicePromise(p) for p in row.service_promises),
        created_at=row.created_at,
    )


def _form_columns(spec: SalesFormSpec) -> dict[str, Any]:
    return {
        "sales_form": spec.form.value,
        "spot_window_hours": spec.spot_window_hours,
        "presale_days": spec.presale_days,
        "presale_ship_by": spec.presale_ship_by,
    }


GET_SHOP = select(shops).where(shops.c.id == bindparam("shop_id"))


def _sku_for_sale(row: tuple[Any, ...]) -> tuple[Sku, bool]:
    """A raw ``SKUS_FOR_SALE`` row as SQLAlchemy would have typed it: SQLite hands back
    JSON as text, a DATE as 'YYYY-MM-DD' and a boolean as 0/1; psycopg types them."""
    (sku_id, shop_id, product_id, code, specs, price_fen, form, window, days, ship_by, listed) = row
    if isinstance(specs, str):
        specs = json.loads(specs)
    if isinstance(ship_by, str):
        ship_by = date.fromisoformat(ship_by)
    spec = SalesFormSpec(
        SalesForm(form), spot_window_hours=window, presale_days=days, presale_ship_by=ship_by
    )
    return Sku(sku_id, shop_id, product_id, code, dict(specs), price_fen, spec), bool(listed)


# A shop's policy pack is fixed when the shop is created, so it is read once per
# process and database (it is on every order's path).
_POLICY_OF_SHOP: dict[tuple[Engine, int], str] = {}


class CatalogueRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def policy_of_shop(self, shop_id: int) -> str | None:
        """The shop's policy pack name, or ``None`` if there is no such shop."""
        key = (self.conn.engine, shop_id)
        name = _POLICY_OF_SHOP.get(key)
        if name is None:
            shop = self.get_shop(shop_id)
            if shop is None:
                return None
            name = _POLICY_OF_SHOP.setdefault(key, shop.policy)
        return name

    # shops and keys -----------------------------------------------------------------
    def add_shop(self, name: str, policy: str, at: datetime) -> Shop:
        shop_id = self.conn.execute(
            insert(shops).values(name=name, policy=policy, created_at=at).returning(shops.c.id)
        ).scalar_one()
        return Shop(shop_id, name, policy, at)

    def get_shop(self, shop_id: int) -> Shop | None:
        row = self.conn.execute(GET_SHOP, {"shop_id": shop_id}).first()
        return Shop(row.id, row.name, row.policy, row.created_at) if row else None

    def add_api_key(
        self,
        shop_id: int,
        key_hash: str,
        role: str,
        label: str,
        at: datetime,
        supplier_id: int | None = None,
    ) -> int:
        key_id: int = self.conn.execute(
            insert(api_keys)
            .values(
                shop_id=shop_id,
                key_hash=key_hash,
                role=role,
                label=label,
                created_at=at,
                supplier_id=supplier_id,
            )
            .returning(api_keys.c.id)
        ).scalar_one()
        return key_id

    def key_owner(self, key_hash: str) -> ApiKeyOwner | None:
        row = self.conn.execute(
            select(
                api_keys.c.id,
                api_keys.c.shop_id,
                api_keys.c.role,
                shops.c.policy,
                api_keys.c.supplier_id,
            )
            .join(shops, shops.c.id == api_keys.c.shop_id)
            .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        ).first()
        return (
            ApiKeyOwner(row.shop_id, row.role, row.policy, row.id, row.supplier_id) if row else None
        )

    # products ---------------------------------------------------------------------
    def add_product(
        self, shop_id: int, name: str, promises: Iterable[ServicePromise], at: datetime
    ) -> Product:
        values = [p.value for p in promises]
        product_id = self.conn.execute(
            insert(products)
            .values(
                shop_id=shop_id, name=name, listed=False, service_promises=values, created_at=at
            )
            .returning(products.c.id)
        ).scalar_one()
        return Product(product_id, shop_id, name, False, tuple(promises), at)

    def get_product(self, shop_id: int, product_id: int, *, lock: bool = False) -> Product | None:
        query = select(products).where(products.c.id == product_id, products.c.shop_id == shop_id)
        if lock:
            query = query.with_for_update()
        row = self.conn.execute(query).first()
        return _product(row) if row else None

    def list_products(self, shop_id: int, *, offset: int, limit: int) -> list[Product]:
        rows = self.conn.execute(
            select(products)
            .where(products.c.shop_id == shop_id)
            .order_by(products.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [_product(r) for r in rows]

    def set_listed(self, product_id: int, listed: bool) -> None:
        self.conn.execute(update(products).where(products.c.id == product_id).values(listed=listed))

    # SKUs -------------------------------------------------------------------------
    def add_sku(
        self,
        product: Product,
        code: str,
        specs: dict[str, str],
        price_fen: int,
        spec: SalesFormSpec,
        at: datetime,
    ) -> Sku:
        """Insert the SKU and its two (empty) stock tiers."""
        sku_id = insert_new(
            self.conn,
            insert(skus)
            .values(
                shop_id=product.shop_id,
                product_id=product.id,
                code=code,
                specs=specs,
                price_fen=price_fen,
                created_at=at,
                **_form_columns(spec),
            )
            .returning(skus.c.id),
        )
        if sku_id is None:
            raise DuplicateError(f"SKU code {code!r} is already used in this shop", field="code")
        self.conn.execute(
            insert(stock_tiers),
            [
                {
                    "shop_id": product.shop_id,
                    "sku_id": sku_id,
                    "tier": t.value,
                    "quantity": 0,
                    "sold": 0,
                }
                for t in Tier
            ],
        )
        return Sku(sku_id, product.shop_id, product.id, code, specs, price_fen, spec)

    def get_sku(self, shop_id: int, sku_id: int) -> Sku | None:
        row = self.conn.execute(
            select(skus).where(skus.c.id == sku_id, skus.c.shop_id == shop_id)
        ).first()
        return _sku(row) if row else None

    def skus_of_product(self, product_id: int) -> list[Sku]:
        rows = self.conn.execute(
            select(skus).where(skus.c.product_id == product_id).order_by(skus.c.id)
        )
        return [_sku(r) for r in rows]

    def skus_for_sale(self, shop_id: int, sku_ids: Iterable[int]) -> dict[int, tuple[Sku, bool]]:
        """Hot path: the SKUs of an order with their product's listed flag, one query."""
        ids = sorted(set(sku_ids))
        if not ids:
            return {}
        sql = dialect_sql(self.conn).SKUS_FOR_SALE
        if self.conn.dialect.name == POSTGRESQL:
            rows = raw_execute(self.conn, sql, (shop_id, ids))
        else:
            rows = raw_execute(self.conn, sql.format(placeholders(len(ids))), (shop_id, *ids))
        return {row[0]: _sku_for_sale(row) for row in rows}

    def set_sales_form(self, sku_id: int, spec: SalesFormSpec) -> None:
        self.conn.execute(update(skus).where(skus.c.id == sku_id).values(**_form_columns(spec)))
