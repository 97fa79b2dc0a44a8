"""Supplier capacity (产能确认, docs/rules.md §5): suppliers, per-SKU plans, the supplier's own
confirm / revise / decline, receiving a batch, and promises at risk with the pace.

Permissions: the merchant plans (``CatalogueWriter``), reads with ``Reader``; a supplier
key (``CapacityWriter``) sees and changes only its own supplier's batches — any other
batch answers 404; the owner (who holds every permission) may act for an offline
supplier; receiving goods is warehouse work (``StockWriter``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, status

from tierstock.api.convert import local, yuan
from tierstock.api.deps import (
    MAX_ID,
    Caller,
    CapacityWriter,
    CatalogueWriter,
    Reader,
    RuntimeDep,
    SkuId,
    StockWriter,
    WritesDep,
)
from tierstock.api.schemas.capacity import (
    AtRiskPublic,
    BatchChangedPublic,
    BatchNoteUpdate,
    BatchPublic,
    BatchRevisionPublic,
    BatchUpdate,
    CapacityCreate,
    CapacityRiskPublic,
    PacePublic,
    SkuCapacityPublic,
    SkuPresalePublic,
    SupplierCreate,
    SupplierPublic,
)
from tierstock.domain.access import Role
from tierstock.domain.capacity import (
    AtRiskLine,
    BatchAction,
    Pace,
    Supplier,
)
from tierstock.services import capacity, capacity_plans
from tierstock.services.capacity import BatchView

router = APIRouter(tags=["capacity"])

BatchId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _supplier(x: Supplier, zone: ZoneInfo) -> SupplierPublic:
    return SupplierPublic(id=x.id, name=x.name, created_at=local(x.created_at, zone))


def _batch(v: BatchView, zone: ZoneInfo) -> BatchPublic:
    b = v.batch
    return BatchPublic(
        id=b.id,
        sku_id=b.sku_id,
        supplier_id=b.supplier_id,
        quantity=b.quantity,
        ready_on=b.ready_on,
        status=b.status.value,
        in_presale_tier=b.in_tier,
        promised=v.promised,
        late=v.late,
        created_at=local(b.created_at, zone),
        pace=_pace(v.pace, zone) if v.pace else None,
        history=[
            BatchRevisionPublic(
                action=r.action.value,
                quantity=r.quantity,
                ready_on=r.ready_on,
                actor=r.actor,
                note=r.note,
                at=local(r.at, zone),
            )
            for r in v.history
        ],
    )


def _pace(p: Pace, zone: ZoneInfo) -> PacePublic:
    return PacePublic(
        hours=p.hours,
        units_sold=p.units_sold,
        per_hour=p.per_hour,
        remaining=p.remaining,
        runs_out_at=local(p.runs_out_at, zone) if p.runs_out_at else None,
    )


def _risk(x: AtRiskLine, zone: ZoneInfo) -> AtRiskPublic:
    return AtRiskPublic(
        order_id=x.line.order_id,
        line_no=x.line.line_no,
        quantity=x.line.quantity,
        ship_by=local(x.line.ship_by, zone),
        batch_id=x.batch_id,
        reason=x.reason.value,
        expected_ship=local(x.expected_ship, zone) if x.expected_ship else None,
        exposure_fen=x.exposure_fen,
        exposure_yuan=yuan(x.exposure_fen),
    )


def _scope(caller: Caller) -> int | None:
    """A supplier key acts on its own supplier's batches (none if it has no supplier);
    the owner acts for any supplier of the shop."""
    if caller.role == Role.SUPPLIER.value:
        return caller.supplier_id or 0
    return None


# the merchant -----------------------------------------------------------------------------
@router.post("/suppliers", status_code=status.HTTP_201_CREATED, response_model=SupplierPublic)
def create_supplier(
    body: SupplierCreate, caller: CatalogueWriter, writes: WritesDep
) -> SupplierPublic:
    made = capacity.create_supplier(caller.shop_id, body.name, caller.actor, writes.uow())
    return _supplier(made, caller.zone)


@router.get("/suppliers", response_model=list[SupplierPublic])
def list_suppliers(caller: Reader, runtime: RuntimeDep) -> list[SupplierPublic]:
    found = capacity.list_suppliers(caller.shop_id, runtime.uow(readonly=True))
    return [_supplier(x, caller.zone) for x in found]


@router.post(
    "/skus/{sku_id}/capacity", status_code=status.HTTP_201_CREATED, response_model=list[BatchPublic]
)
def propose(
    sku_id: SkuId, body: CapacityCreate, caller: CatalogueWriter, writes: WritesDep
) -> list[BatchPublic]:
    """Record what a supplier will deliver and by when; the batches wait for the
    supplier's confirmation before any unit of them can be sold."""
    cmd = capacity_plans.ProposeCapacity(
        caller.shop_id,
        sku_id,
        body.supplier_id,
        tuple((p.quantity, p.ready_on) for p in body.batches),
        caller.actor,
        body.note,
    )
    made = capacity_plans.propose(cmd, writes.uow())
    return [_batch(BatchView(b, 0, False, ()), caller.zone) for b in made]


@router.get("/skus/{sku_id}/capacity", response_model=SkuCapacityPublic)
def sku_capacity(sku_id: SkuId, caller: Reader, runtime: RuntimeDep) -> SkuCapacityPublic:
    got = capacity.sku_capacity(caller.shop_id, sku_id, runtime.uow(readonly=True))
    p = got.presale
    return SkuCapacityPublic(
        sku_id=sku_id,
        presale=SkuPresalePublic(
            quantity=p.quantity, sold=p.sold, available=p.available, unbatched=got.unbatched
        ),
        batches=[_batch(v, caller.zone) for v in got.batches],
    )


@router.get("/skus/{sku_id}/capacity/risk", response_model=CapacityRiskPublic)
def capacity_risk(
    sku_id: SkuId,
    caller: Reader,
    runtime: RuntimeDep,
    hours: Annotated[int, Query(ge=1, le=2160)] = capacity.DEFAULT_PACE_HOURS,
) -> CapacityRiskPublic:
    """Paid presale lines a late or shrunk batch can no longer keep, their compensation
    exposure, and when confirmed capacity runs out at the last ``hours``' pace."""
    r = capacity.capacity_risk(caller.shop_id, sku_id, runtime.uow(readonly=True), hours)
    return CapacityRiskPublic(
        sku_id=sku_id,
        late_batches=list(r.late_batches),
        revised_down=list(r.revised_down),
        lines=[_risk(x, caller.zone) for x in r.lines],
        exposure_fen=r.exposure_fen,
        exposure_yuan=yuan(r.exposure_fen),
        pace=_pace(r.pace, caller.zone),
    )


# the supplier -----------------------------------------------------------------------------
@router.get("/supplier/batches", response_model=list[BatchPublic])
def supplier_batches(caller: CapacityWriter, runtime: RuntimeDep) -> list[BatchPublic]:
    """The calling supplier's own batches (the owner: use GET /skus/{id}/capacity)."""
    views = capacity.supplier_batches(
        caller.shop_id, caller.supplier_id, runtime.uow(readonly=True)
    )
    return [_batch(v, caller.zone) for v in views]


def _act(
    caller: Caller,
    writes: WritesDep,
    batch_id: int,
    action: BatchAction,
    note: str,
    quantity: int | None = None,
    ready_on: date | None = None,
    scope: int | None = None,
) -> BatchChangedPublic:
    cmd = capacity_plans.BatchCommand(
        caller.shop_id, batch_id, action, scope, quantity, ready_on, note, caller.actor
    )
    done = capacity_plans.act(cmd, writes.uow())
    exposure = sum(x.exposure_fen for x in done.at_risk)
    return BatchChangedPublic(
        batch=_batch(BatchView(done.batch, 0, False, ()), caller.zone).model_copy(
            update={"promised": None}
        ),
        moved_to_spot=done.moved_to_spot,
        at_risk=[_risk(x, caller.zone) for x in done.at_risk],
        exposure_fen=exposure,
        exposure_yuan=yuan(exposure),
    )


def _for_supplier(
    caller: Caller,
    writes: WritesDep,
    batch_id: int,
    action: BatchAction,
    body: BatchNoteUpdate | None,
) -> BatchChangedPublic:
    """An action the supplier (or the owner for it) takes on its batch, with a note."""
    return _act(caller, writes, batch_id, action, body.note if body else "", scope=_scope(caller))


@router.post("/capacity/{batch_id}/confirm", response_model=BatchChangedPublic)
def confirm(
    batch_id: BatchId,
    caller: CapacityWriter,
    writes: WritesDep,
    body: BatchNoteUpdate | None = None,
) -> BatchChangedPublic:
    """The supplier commits: the batch's units become sellable presale capacity."""
    return _for_supplier(caller, writes, batch_id, BatchAction.CONFIRMED, body)


@router.post("/capacity/{batch_id}/revise", response_model=BatchChangedPublic)
def revise(
    batch_id: BatchId, body: BatchUpdate, caller: CapacityWriter, writes: WritesDep
) -> BatchChangedPublic:
    """New quantity and ready day (the batch is then confirmed with them). Capacity never
    drops below what is promised; promises put at risk come back in ``at_risk``."""
    return _act(
        caller,
        writes,
        batch_id,
        BatchAction.REVISED,
        body.note,
        body.quantity,
        body.ready_on,
        scope=_scope(caller),
    )


@router.post("/capacity/{batch_id}/decline", response_model=BatchChangedPublic)
def decline(
    batch_id: BatchId,
    caller: CapacityWriter,
    writes: WritesDep,
    body: BatchNoteUpdate | None = None,
) -> BatchChangedPublic:
    return _for_supplier(caller, writes, batch_id, BatchAction.DECLINED, body)


@router.post("/capacity/{batch_id}/receive", response_model=BatchChangedPublic)
def receive(
    batch_id: BatchId, caller: StockWriter, writes: WritesDep, body: BatchNoteUpdate | None = None
) -> BatchChangedPublic:
    """The goods arrived: promised units stay promised, the rest becomes spot stock."""
    return _act(caller, writes, batch_id, BatchAction.RECEIVED, body.note if body else "")
