"""Products: create, list, list/delist (上架/下架), add SKUs, and the product card."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tierstock.api import convert
from tierstock.api.deps import (
    Caller,
    CatalogueWriter,
    Offset,
    ProductId,
    Reader,
    RuntimeDep,
    Writes,
    WritesDep,
)
from tierstock.api.schemas.products import (
    ProductCardPublic,
    ProductCreate,
    ProductPublic,
    ProductsPublic,
)
from tierstock.api.schemas.skus import (
    PresaleFormCreate,
    SkuCreate,
    SkuPublic,
    SpotFormCreate,
    TieredFormCreate,
)
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
from tierstock.services import catalogue
from tierstock.services.card_cache import cached_product_card

router = APIRouter(prefix="/products", tags=["products"])


def form_spec(form: SpotFormCreate | PresaleFormCreate | TieredFormCreate) -> SalesFormSpec:
    return SalesFormSpec(
        SalesForm(form.form),
        spot_window_hours=getattr(form, "spot_window_hours", None),
        presale_days=getattr(form, "presale_days", None),
        presale_ship_by=getattr(form, "presale_ship_by", None),
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProductPublic)
def create_product(
    body: ProductCreate, caller: CatalogueWriter, writes: WritesDep
) -> ProductPublic:
    cmd = catalogue.CreateProduct(
        caller.shop_id, body.name, tuple(body.service_promises), caller.actor
    )
    return convert.product(catalogue.create_product(cmd, writes.uow()), caller.zone)


@router.get("", response_model=ProductsPublic)
def list_products(
    caller: Reader,
    runtime: RuntimeDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProductsPublic:
    found = catalogue.list_products(
        caller.shop_id, runtime.uow(readonly=True), offset=offset, limit=limit
    )
    return ProductsPublic(data=[convert.product(p, caller.zone) for p in found], count=len(found))


def _set_listed(product_id: int, listed: bool, caller: Caller, writes: Writes) -> ProductPublic:
    cmd = catalogue.SetListed(caller.shop_id, product_id, listed, caller.actor)
    return convert.product(catalogue.set_listed(cmd, writes.uow()), caller.zone)


@router.post("/{product_id}/list", response_model=ProductPublic)
def list_product(
    product_id: ProductId, caller: CatalogueWriter, writes: WritesDep
) -> ProductPublic:
    """上架: put the product on sale (0 stock is allowed; it cannot be bought then)."""
    return _set_listed(product_id, True, caller, writes)


@router.post("/{product_id}/delist", response_model=ProductPublic)
def delist_product(
    product_id: ProductId, caller: CatalogueWriter, writes: WritesDep
) -> ProductPublic:
    """下架: take the product off sale; needed before changing a SKU's sales form."""
    return _set_listed(product_id, False, caller, writes)


@router.post("/{product_id}/skus", status_code=status.HTTP_201_CREATED, response_model=SkuPublic)
def add_sku(
    product_id: ProductId, body: SkuCreate, caller: CatalogueWriter, writes: WritesDep
) -> SkuPublic:
    cmd = catalogue.AddSku(
        caller.shop_id,
        product_id,
        body.code,
        body.price_fen,
        form_spec(body.sales_form),
        dict(body.specs),
        body.spot_stock,
        body.presale_stock,
        caller.actor,
    )
    return convert.sku(catalogue.add_sku(cmd, writes.uow()))


@router.get("/{product_id}/card", response_model=ProductCardPublic)
def product_card(product_id: ProductId, caller: Reader, runtime: RuntimeDep) -> ProductCardPublic:
    """The card the host, the product page and customer service all read; served from
    the card cache, so up to ``TIERSTOCK_CARD_CACHE_SECONDS`` old (see ``as_of``)."""
    found = cached_product_card(runtime, caller.shop_id, product_id)
    return convert.card(found, caller.zone)
