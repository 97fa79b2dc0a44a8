"""SKUs: sales form, stock per tier, receipts, set stock, ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tierstock.api import convert
from tierstock.api.deps import (
    CatalogueWriter,
    Offset,
    Reader,
    RuntimeDep,
    SkuId,
    StockWriter,
    WritesDep,
)
from tierstock.api.routers.products import form_spec
from tierstock.api.schemas.skus import (
    LedgerEntryPublic,
    SalesFormCreate,
    SkuPublic,
    StockPublic,
    StockReceiptCreate,
    StockUpdate,
    TierStockPublic,
)
from tierstock.domain.allocation import TierStock
from tierstock.domain.sales_forms import Tier
from tierstock.services import catalogue, stock

router = APIRouter(prefix="/skus", tags=["skus"])


def _stock(sku_id: SkuId, tiers: dict[Tier, TierStock]) -> StockPublic:
    return StockPublic(sku_id=sku_id, tiers=[convert.tier(tiers[t]) for t in Tier if t in tiers])


@router.put("/{sku_id}/sales-form", response_model=SkuPublic)
def change_sales_form(
    sku_id: SkuId, body: SalesFormCreate, caller: CatalogueWriter, writes: WritesDep
) -> SkuPublic:
    """Refused with 409 while the product is listed: delist, change, relist."""
    cmd = catalogue.ChangeSalesForm(caller.shop_id, sku_id, form_spec(body), caller.actor)
    return convert.sku(catalogue.change_sales_form(cmd, writes.uow()))


@router.get("/{sku_id}/stock", response_model=StockPublic)
def read_stock(sku_id: SkuId, caller: Reader, runtime: RuntimeDep) -> StockPublic:
    tiers = stock.read_stock(caller.shop_id, sku_id, runtime.uow(readonly=True))
    return _stock(sku_id, dict(tiers))


@router.post("/{sku_id}/stock/receipts", response_model=TierStockPublic)
def receive_stock(
    sku_id: SkuId, body: StockReceiptCreate, caller: StockWriter, writes: WritesDep
) -> TierStockPublic:
    cmd = stock.ReceiveStock(
        caller.shop_id, sku_id, body.tier, body.quantity, caller.actor, body.reason
    )
    return convert.tier(stock.receive_stock(cmd, writes.uow()))


@router.put("/{sku_id}/stock/{tier}", response_model=TierStockPublic)
def set_stock(
    sku_id: SkuId, tier: Tier, body: StockUpdate, caller: StockWriter, writes: WritesDep
) -> TierStockPublic:
    """Set how many units of the tier are available from now on (0 allowed)."""
    cmd = stock.SetStock(caller.shop_id, sku_id, tier, body.available, caller.actor, body.reason)
    return convert.tier(stock.set_stock(cmd, writes.uow()))


@router.get("/{sku_id}/ledger", response_model=list[LedgerEntryPublic])
def read_ledger(
    sku_id: SkuId,
    caller: Reader,
    runtime: RuntimeDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LedgerEntryPublic]:
    entries = stock.read_ledger(
        caller.shop_id, sku_id, runtime.uow(readonly=True), offset=offset, limit=limit
    )
    return [convert.ledger_entry(e, caller.zone) for e in entries]
