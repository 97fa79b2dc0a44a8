"""Published changes (the outbox): what approvals changed, for the people selling and for
other systems. Page with ``after`` = the last id seen."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tierstock.api.convert import local
from tierstock.api.deps import MAX_ID, Reader, RuntimeDep
from tierstock.api.schemas.events import EventPublic
from tierstock.services import counts

router = APIRouter(prefix="/events", tags=["events"])


@router.get("", response_model=list[EventPublic])
def read_events(
    caller: Reader,
    runtime: RuntimeDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="last event id seen")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    topic: Annotated[str | None, Query(max_length=60)] = None,
) -> list[EventPublic]:
    """The shop's events with id > ``after``, oldest first (topics: ``stock.adjusted``,
    ``stock.short_of_promises``, ``count.approved``)."""
    return [
        EventPublic(
            id=e.id,
            topic=e.topic,
            payload=e.payload,
            created_at=local(e.created_at, caller.zone),
            published_at=None if e.published_at is None else local(e.published_at, caller.zone),
        )
        for e in counts.read_events(
            caller.shop_id, runtime.uow(readonly=True), after=after, limit=limit, topic=topic
        )
    ]
