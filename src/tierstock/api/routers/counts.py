"""Stock counts (库存盘点): open, enter counted figures, variance report, approve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.responses import Response

from tierstock.api.convert import local, yuan
from tierstock.api.deps import MAX_ID, Offset, Reader, RuntimeDep, StockWriter, WritesDep
from tierstock.api.schemas.counts import (
    AdjustmentPublic,
    AffectedLinePublic,
    ApprovalCreate,
    ApprovalPublic,
    CountCreate,
    CountEntriesCreate,
    CountEntriesPublic,
    CountPublic,
    RowErrorPublic,
    SkuVariancePublic,
    VariancePublic,
)
from tierstock.domain.counts import (
    CountEntry,
    PromisedLine,
    RowError,
    StockCount,
    VarianceReport,
    ensure_may_approve,
)
from tierstock.services import count_approval, counts
from tierstock.services.count_import import (
    XLSX_MEDIA_TYPE,
    variance_file_name,
    variance_xlsx,
)

router = APIRouter(prefix="/counts", tags=["counts"])

CountId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _approver(caller: StockWriter) -> StockWriter:
    """Approving rewrites stock: the owner or the warehouse, not an operator."""
    ensure_may_approve(caller.role)
    return caller


Approver = Annotated[StockWriter, Depends(_approver)]


def _count(c: StockCount, caller: Reader) -> CountPublic:
    return CountPublic(
        id=c.id,
        warehouse=c.warehouse,
        status=c.status.value,
        sku_ids=None if c.sku_ids is None else list(c.sku_ids),
        note=c.note,
        opened_at=local(c.opened_at, caller.zone),
        opened_by=c.opened_by,
        approved_at=None if c.approved_at is None else local(c.approved_at, caller.zone),
        approved_by=c.approved_by,
    )


def _rows(errors: tuple[RowError, ...]) -> list[RowErrorPublic]:
    return [RowErrorPublic(row=e.row, field=e.field, message=e.message) for e in errors]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CountPublic)
def open_count(body: CountCreate, caller: StockWriter, writes: WritesDep) -> CountPublic:
    """Open a count of the warehouse over every SKU or the chosen ones (409 while the
    warehouse has another open count)."""
    cmd = counts.OpenCount(
        caller.shop_id,
        body.warehouse,
        None if body.sku_ids is None else tuple(body.sku_ids),
        body.note,
        caller.actor,
    )
    return _count(counts.open_count(cmd, writes.uow()), caller)


@router.get("", response_model=list[CountPublic])
def list_counts(caller: Reader, runtime: RuntimeDep, offset: Offset = 0) -> list[CountPublic]:
    return [
        _count(c, caller)
        for c in counts.list_counts(caller.shop_id, runtime.uow(readonly=True), offset=offset)
    ]


@router.get("/{count_id}", response_model=CountPublic)
def read_count(count_id: CountId, caller: Reader, runtime: RuntimeDep) -> CountPublic:
    return _count(counts.get_count(caller.shop_id, count_id, runtime.uow(readonly=True)), caller)


@router.post("/{count_id}/entries", response_model=CountEntriesPublic)
def enter_counts(
    count_id: CountId, body: CountEntriesCreate, caller: StockWriter, writes: WritesDep
) -> CountEntriesPublic:
    """Counted figures, each compared with on-hand stock at its ``counted_at``. A bad
    entry refuses the whole batch (422 naming every row) unless ``accept_good_rows``.
    The same SKU and location sent again replaces the earlier figure."""
    entries = tuple(
        CountEntry(e.sku_code, e.counted, e.location, e.counter, e.unit_cost_fen, e.counted_at)
        for e in body.entries
    )
    cmd = counts.RecordCounts(
        caller.shop_id, count_id, entries, caller.actor, body.accept_good_rows
    )
    done = counts.record_counts(cmd, writes.uow())
    return CountEntriesPublic(count_id=done.count_id, saved=done.saved, refused=_rows(done.refused))


def _report(caller: Reader, runtime: RuntimeDep, count_id: int) -> VarianceReport:
    return counts.variance_report(caller.shop_id, count_id, runtime.uow(readonly=True))


@router.get("/{count_id}/variance", response_model=VariancePublic)
def variance(count_id: CountId, caller: Reader, runtime: RuntimeDep) -> VariancePublic:
    """Counted against system stock at counting time, per SKU: quantity and value at
    cost (SKUs without a cost are listed and left out of the value)."""
    r = _report(caller, runtime, count_id)
    return VariancePublic(
        count=_count(r.count, caller),
        skus=[
            SkuVariancePublic(
                sku_id=v.sku_id,
                sku_code=v.sku_code,
                locations=list(v.locations),
                counted=v.counted,
                system_on_hand=v.system_on_hand,
                counted_at=local(v.counted_at, caller.zone),
                variance=v.variance,
                unit_cost_fen=v.unit_cost_fen,
                value_fen=v.value_fen,
            )
            for v in r.skus
        ],
        skus_counted=len(r.skus),
        skus_off=r.skus_off,
        share_off=round(r.share_off, 4),
        net_quantity=r.net_quantity,
        gross_quantity=r.gross_quantity,
        net_value_fen=r.net_value_fen,
        net_value_yuan=yuan(r.net_value_fen),
        gross_value_fen=r.gross_value_fen,
        not_counted=list(r.not_counted),
        without_cost=list(r.without_cost),
    )


@router.get(
    "/{count_id}/variance.xlsx",
    response_class=Response,
    responses={200: {"content": {XLSX_MEDIA_TYPE: {}}}},
)
def variance_export(count_id: CountId, caller: Reader, runtime: RuntimeDep) -> Response:
    """The variance report as an Excel workbook."""
    data = variance_xlsx(_report(caller, runtime, count_id), caller.zone)
    return Response(
        data,
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{variance_file_name(count_id)}"'},
    )


def _line(p: PromisedLine, caller: Reader) -> AffectedLinePublic:
    return AffectedLinePublic(
        order_id=p.order_id,
        line_no=p.line_no,
        quantity=p.quantity,
        paid_at=local(p.paid_at, caller.zone),
        ship_by=local(p.ship_by, caller.zone),
    )


@router.post("/{count_id}/approve", response_model=ApprovalPublic)
def approve(
    count_id: CountId, caller: Approver, writes: WritesDep, body: ApprovalCreate | None = None
) -> ApprovalPublic:
    """Owner or warehouse only. Writes adjustment ledger entries so system stock equals
    counted stock, publishes each change as an event, and flags SKUs whose spot stock
    is now below what paid lines were promised, with those lines."""
    cmd = count_approval.ApproveCount(
        caller.shop_id, count_id, caller.role, caller.actor, body.reason if body else ""
    )
    done = count_approval.approve_count(cmd, writes.uow())
    return ApprovalPublic(
        count=_count(done.count, caller),
        adjustments=[
            AdjustmentPublic(
                sku_id=a.sku_id,
                sku_code=a.sku_code,
                counted=a.counted,
                system_on_hand=a.system_on_hand,
                variance=a.variance,
                quantity_delta=a.spot.delta,
                quantity=a.spot.quantity_after,
                sold=a.spot.sold,
                shortfall=a.spot.shortfall,
                affected=[_line(p, caller) for p in a.affected],
            )
            for a in done.adjustments
        ],
        flagged_skus=[a.sku_code for a in done.flagged],
        affected_orders=sorted({p.order_id for a in done.flagged for p in a.affected}),
        events=done.events,
    )
