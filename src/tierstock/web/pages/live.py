"""Live session (直播): pick the SKUs on sale, watch them live over SSE — docs/rules.md §8.

The live view gets one server-sent event every 500 ms built from one database read,
whatever the number of orders in between, so a burst of hundreds of orders per second
costs the page two messages a second. Promises at risk (due soon, overdue, at risk
from capacity batches) ride in the same message — see :mod:`tierstock.web.live`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, StreamingResponse

from tierstock.domain.access import Permission
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.services.catalogue import shop_policy
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status
from tierstock.web.live import LiveTracker
from tierstock.web.queries import TIER_NAMES, SkuChoice, all_cards, sku_choices
from tierstock.web.simulate import MAX_BUYERS, BurstRequest

router = APIRouter()
TICK_S = 0.5
MAX_SKUS = 12
SkuIds = Annotated[list[int], Query(alias="sku")]


def _on_sale(page: Page) -> list[SkuChoice]:
    return [c for c in sku_choices(all_cards(page.runtime, page.shop_id)) if c.listed]


@router.get("/live", response_class=HTMLResponse)
def live_page(page: PageDep, sku_ids: SkuIds = []) -> HTMLResponse:  # noqa: B006
    on_sale = _on_sale(page)
    chosen = [c for c in on_sale if c.sku.id in sku_ids][:MAX_SKUS]
    with page.runtime.uow(readonly=True) as uow:
        due_soon_hours = shop_policy(uow, page.shop_id).fulfilment.due_soon_hours
    return page.render(
        "live.html",
        on_sale=on_sale,
        chosen=chosen,
        tiers=TIER_NAMES,
        chosen_ids=[c.sku.id for c in chosen],
        max_buyers=MAX_BUYERS,
        due_soon_hours=due_soon_hours,
    )


@router.get("/live/stream")
def live_stream(page: PageDep, sku_ids: SkuIds = []) -> StreamingResponse:  # noqa: B006
    if not sku_ids or len(sku_ids) > MAX_SKUS:
        raise InvalidValueError(f"choose 1 to {MAX_SKUS} SKUs", field="sku")
    tracker = LiveTracker(page.runtime, page.shop_id, list(dict.fromkeys(sku_ids)))
    request = page.request

    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        while not await request.is_disconnected():
            now = await run_in_threadpool(tracker.refresh)
            data = json.dumps(tracker.snapshot(now), separators=(",", ":"))
            yield f"event: live\ndata: {data}\n\n"
            await asyncio.sleep(TICK_S)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/live/burst", response_class=HTMLResponse)
def start_burst(
    page: ChangeDep,
    sku: Annotated[str, Form()] = "",
    buyers: Annotated[str, Form()] = "300",
    per_second: Annotated[str, Form()] = "100",
    max_quantity: Annotated[str, Form()] = "1",
) -> HTMLResponse:
    try:
        page.merchant.require(Permission.ORDERS)
        req = BurstRequest(
            page.shop_id,
            forms.whole(sku, "sku", minimum=1),
            forms.whole(buyers, "buyers", minimum=1),
            forms.whole(per_second, "per_second", minimum=1),
            min(forms.whole(max_quantity, "max_quantity", minimum=1), 10),
            f"{page.merchant.actor}:simulation",
        )
        progress = page.web.bursts.start(req)
    except DomainError as exc:
        return page.render(
            "partials/burst.html", status=error_status(exc), error=exc, progress=None
        )
    return page.render("partials/burst.html", progress=progress, error=None)


@router.get("/live/burst/{burst_id}", response_class=HTMLResponse)
def burst_status(page: PageDep, burst_id: str) -> HTMLResponse:
    progress = page.web.bursts.get(page.shop_id, burst_id)
    if progress is None:
        raise InvalidValueError("no such simulated burst in this shop", field="burst_id")
    return page.render("partials/burst.html", progress=progress, error=None)
