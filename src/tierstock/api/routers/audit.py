"""The audit trail: who changed what, when and why; as JSON or a CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from tierstock.api.deps import Reader, RuntimeDep
from tierstock.api.schemas.audit import AuditEntryPublic
from tierstock.domain.audit import AuditEntry
from tierstock.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])

Since = Annotated[datetime | None, Query(description="ISO 8601 with offset")]
Limit = Annotated[int, Query(ge=1, le=10_000)]


def _trail(
    caller: Reader, runtime: RuntimeDep, since: datetime | None, limit: int
) -> list[AuditEntry]:
    return audit.audit_trail(caller.shop_id, runtime.uow(readonly=True), since=since, limit=limit)


@router.get("", response_model=list[AuditEntryPublic])
def read_audit(
    caller: Reader, runtime: RuntimeDep, since: Since = None, limit: Limit = 1000
) -> list[AuditEntryPublic]:
    return [
        AuditEntryPublic(
            actor=e.actor,
            action=e.action,
            object_type=e.object_type,
            object_id=e.object_id,
            detail=e.detail,
            reason=e.reason,
            created_at=e.created_at.astimezone(caller.zone),
        )
        for e in _trail(caller, runtime, since, limit)
    ]


@router.get("/export.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_audit(
    caller: Reader, runtime: RuntimeDep, since: Since = None, limit: Limit = 10_000
) -> Response:
    """The same trail as CSV (UTF-8 with BOM so spreadsheet programs read Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["created_at", "actor", "action", "object_type", "object_id", "reason", "detail"]
    )
    for e in _trail(caller, runtime, since, limit):
        writer.writerow(
            [
                e.created_at.astimezone(caller.zone).isoformat(),
                e.actor,
                e.action,
                e.object_type,
                e.object_id,
                e.reason,
                json.dumps(e.detail, ensure_ascii=False),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
