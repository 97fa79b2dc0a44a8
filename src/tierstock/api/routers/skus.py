"""SKUs: sales form, stock per tier, receipts, set stock, ledger; and the shop's report
of stock made sellable without evidence (``/stock/unevidenced``, docs/rules.md §3.5)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query

from tierstock.api import convert
from tierstock.api.deps import (
    Caller,
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
    UnevidencedPublic,
    UnevidencedRaisePublic,
    UnevidencedSkuPublic,
)
from tierstock.domain.access import ForbiddenError, Role
from tierstock.domain.allocation import TierStock
from tierstock.domain.evidence import (
    EvidencedEntry,
    UnevidencedRaise,
    UnevidencedReport,
    describe_raise,
)
from tierstock.domain.sales_forms import Tier
from tierstock.services import catalogue, stock

router = APIRouter()
skus = APIRouter(prefix="/skus", tags=["skus"])
shop_stock = APIRouter(prefix="/stock", tags=["stock"])
REPORT_ROLES = (Role.OWNER.value, Role.OPERATOR.value)


def _stock(sku_id: SkuId, tiers: dict[Tier, TierStock]) -> StockPublic:
    return StockPublic(sku_id=sku_id, tiers=[convert.tier(tiers[t]) for t in Tier if t in tiers])


@skus.put("/{sku_id}/sales-form", response_model=SkuPublic)
def change_sales_form(
    sku_id: SkuId, body: SalesFormCreate, caller: CatalogueWriter, writes: WritesDep
) -> SkuPublic:
    """Refused with 409 while the product is listed: delist, change, relist."""
    cmd = catalogue.ChangeSalesForm(caller.shop_id, sku_id, form_spec(body), caller.actor)
    return convert.sku(catalogue.change_sales_form(cmd, writes.uow()))


@skus.get("/{sku_id}/stock", response_model=StockPublic)
def read_stock(sku_id: SkuId, caller: Reader, runtime: RuntimeDep) -> StockPublic:
    tiers = stock.read_stock(caller.shop_id, sku_id, runtime.uow(readonly=True))
    return _stock(sku_id, dict(tiers))


@skus.post("/{sku_id}/stock/receipts", response_model=TierStockPublic)
def receive_stock(
    sku_id: SkuId, body: StockReceiptCreate, caller: StockWriter, writes: WritesDep
) -> TierStockPublic:
    """A spot receipt names its supplier and delivery note (its evidence); without
    them it is refused (409 ``stock_needs_evidence``) unless the owner overrides."""
    cmd = stock.ReceiveStock(
        caller.shop_id,
        sku_id,
        body.tier,
        body.quantity,
        caller.actor,
        body.reason,
        supplier=body.supplier,
        delivery_note=body.delivery_note,
        role=caller.role,
        override=body.override,
    )
    return convert.tier(stock.receive_stock(cmd, writes.uow()))


@skus.put("/{sku_id}/stock/{tier}", response_model=TierStockPublic)
def set_stock(
    sku_id: SkuId, tier: Tier, body: StockUpdate, caller: StockWriter, writes: WritesDep
) -> TierStockPublic:
    """Set how many units of the tier are available from now on (0 allowed). Raising
    spot needs evidence — a receipt or an approved count — or the owner's override
    (``override`` with a ``reason``; flagged): otherwise 409 ``stock_needs_evidence``."""
    cmd = stock.SetStock(
        caller.shop_id,
        sku_id,
        tier,
        body.available,
        caller.actor,
        body.reason,
        role=caller.role,
        override=body.override,
    )
    return convert.tier(stock.set_stock(cmd, writes.uow()))


@skus.get("/{sku_id}/ledger", response_model=list[LedgerEntryPublic])
def read_ledger(
    sku_id: SkuId,
    caller: Reader,
    runtime: RuntimeDep,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[LedgerEntryPublic]:
    """Oldest first; each entry that made units sellable says what they rest on."""
    entries = stock.read_ledger_evidence(
        caller.shop_id, sku_id, runtime.uow(readonly=True), offset=offset, limit=limit
    )
    return [_ledger_entry(e, caller.zone) for e in entries]


def _ledger_entry(e: EvidencedEntry, zone: ZoneInfo) -> LedgerEntryPublic:
    recorded = e.recorded
    return convert.ledger_entry(e.entry, zone).model_copy(
        update={
            "evidence": None if e.basis is None else e.basis.value,
            "supplier": recorded.supplier if recorded else None,
            "delivery_note": recorded.delivery_note if recorded else None,
            "flagged": e.flagged,
            "during_live": bool(recorded and recorded.during_live),
        }
    )


async def _report_reader(caller: Reader) -> Caller:
    """The owner and the operator: the people who answer for what was put on sale."""
    if caller.role not in REPORT_ROLES:
        raise ForbiddenError(
            f"a key with role {caller.role!r} may not do this (owner and operator only)",
            field="X-API-Key",
        )
    return caller


@shop_stock.get("/unevidenced", response_model=UnevidencedPublic)
def unevidenced(
    caller: Annotated[Caller, Depends(_report_reader)], runtime: RuntimeDep
) -> UnevidencedPublic:
    """Every spot unit made sellable without evidence, per SKU, with who, when and why:
    the owner's overrides (flagged — 库存无依据上调 — and marked when made during a
    live session), opening stock, and units made sellable before evidence was kept."""
    report = stock.unevidenced(caller.shop_id, runtime.uow(readonly=True))
    return _report(report, caller.zone)


def _report(report: UnevidencedReport, zone: ZoneInfo) -> UnevidencedPublic:
    return UnevidencedPublic(
        shop_id=report.shop_id,
        units=report.units,
        flagged_units=report.flagged_units,
        skus=[
            UnevidencedSkuPublic(
                sku_id=s.sku_id,
                sku_code=s.sku_code,
                product_name=s.product_name,
                units=s.units,
                flagged_units=s.flagged_units,
                live_units=s.live_units,
                raises=[_raise(r, zone) for r in s.raises],
            )
            for s in report.skus
        ],
    )


def _raise(r: UnevidencedRaise, zone: ZoneInfo) -> UnevidencedRaisePublic:
    text_en, text_zh = describe_raise(r)
    return UnevidencedRaisePublic(
        ledger_id=r.ledger_id,
        kind=r.kind.value,
        units=r.units,
        actor=r.actor,
        reason=r.reason,
        at=convert.local(r.at, zone),
        basis=r.basis.value,
        opening=r.opening,
        flagged=r.flagged,
        during_live=r.during_live,
        text_en=text_en,
        text_zh=text_zh,
    )


# both after their routes: including a router copies the routes it holds at that moment
router.include_router(skus)
router.include_router(shop_stock)
