"""The audit trail: who changed what, when and why, newest first; as JSON or a CSV export.

Times are in the shop's zone; an order line is named by its order id and line number."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tierstock.api.deps import Reader, RuntimeDep
from tierstock.api.schemas.audit import AuditEntryPublic
from tierstock.api.schemas.fields import IsoDateTime
from tierstock.domain.audit import AuditEntry
from tierstock.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])

Since = Annotated[
    IsoDateTime | None,
    Query(
        description="only entries from then on: 2026-12-01 (that day, in the shop's zone) or "
        "2026-12-01T20:00 (shop's local time) or 2026-12-01T12:00:00Z"
    ),
]
Limit = Annotated[int, Query(ge=1, le=10_000, description="the newest this many entries")]
COLUMNS = ("created_at", "actor", "action", "object_type", "object_id", "order_id", "line_no")


def _trail(
    caller: Reader, runtime: RuntimeDep, since: IsoDateTime | None, limit: int
) -> list[AuditEntryPublic]:
    entries = audit.audit_trail(
        caller.shop_id, runtime.uow(readonly=True), since=since, limit=limit, zone=caller.zone
    )
    return [_public(e) for e in entries]


def _public(e: AuditEntry) -> AuditEntryPublic:
    return AuditEntryPublic(
        created_at=e.created_at,
        actor=e.actor,
        action=e.action,
        object_type=e.object_type,
        object_id=None if e.object_type == "order_line" else e.object_id,
        order_id=e.order_id,
        line_no=e.line_no,
        detail=e.detail,
        reason=e.reason,
    )


@router.get("", response_model=list[AuditEntryPublic])
def read_audit(
    caller: Reader, runtime: RuntimeDep, since: Since = None, limit: Limit = 1000
) -> list[AuditEntryPublic]:
    """The shop's trail, newest first."""
    return _trail(caller, runtime, since, limit)


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_audit(
    caller: Reader, runtime: RuntimeDep, since: Since = None, limit: Limit = 10_000
) -> Response:
    """The same trail as CSV, newest first (UTF-8 with BOM so spreadsheet programs read
    Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*COLUMNS, "reason", "detail"])
    for e in _trail(caller, runtime, since, limit):
        writer.writerow(
            [
                e.created_at.isoformat(),
                e.actor,
                e.action,
                e.object_type,
                "" if e.object_id is None else e.object_id,
                "" if e.order_id is None else e.order_id,
                "" if e.line_no is None else e.line_no,
                e.reason,
                json.dumps(e.detail, ensure_ascii=False),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
