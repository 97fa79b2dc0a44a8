"""Channels (docs/rules.md §10): platform stores selling one stock pool, their SKU links,
quota rules, safety stock, the live lock, oversell incidents and drift repair.

Permissions: the owner alone adds a store (it hands over the store's open-API secrets)
and repairs drift (it writes to every store); the owner and the operator, who runs the
live sessions (``CatalogueWriter``), see the stores and set links, rules, safety stock
and the live lock. Credentials never come back: responses name the fields set.
The stores' figures are pushed, and their orders read, by the channel worker
(``tierstock channels sync --follow``), not by these requests.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from tierstock.api.convert import local, yuan
from tierstock.api.deps import MAX_ID, CatalogueWriter, Owner, RuntimeDep, SkuId, WritesDep
from tierstock.api.schemas.channels import (
    ChannelCreate,
    ChannelPublic,
    ChannelStatusPublic,
    DriftPublic,
    IncidentPublic,
    LinkCreate,
    LinkPublic,
    LiveLockCreate,
    LiveLockPublic,
    ReconcilePublic,
    RulePublic,
    RuleUpdate,
    SafetyStockPublic,
    SafetyStockUpdate,
)
from tierstock.domain.channels import Channel
from tierstock.services.channels import credentials, setup
from tierstock.services.channels.reconcile import reconcile_shop
from tierstock.services.channels.status import channel_status, incidents_of

router = APIRouter(tags=["channels"])

ChannelId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _channel(c: Channel) -> dict[str, object]:
    # a store holds every credential field of its platform or none (credentials.check)
    return {
        "id": c.id,
        "platform": c.platform.value,
        "name": c.name,
        "live": c.live,
        "credential_fields": list(credentials.FIELDS[c.platform]),
    }


@router.post("/channels", status_code=status.HTTP_201_CREATED, response_model=ChannelPublic)
def add_channel(body: ChannelCreate, caller: Owner, writes: WritesDep) -> ChannelPublic:
    """Add a store; its credentials are checked, sealed, and never shown again."""
    cmd = setup.AddChannel(
        caller.shop_id,
        body.platform.value,
        body.name,
        dict(body.credentials),
        body.server_url,
        actor=caller.actor,
    )
    made = setup.add_channel(cmd, writes.uow(), writes.runtime.secret_key())
    return ChannelPublic.model_validate(_channel(made))


@router.get("/channels", response_model=list[ChannelStatusPublic])
def list_channels(caller: CatalogueWriter, runtime: RuntimeDep) -> list[ChannelStatusPublic]:
    """The shop's stores with their figures: links, last order sync, push queue, drift,
    open oversell incidents and what they may cost."""
    rows = channel_status(caller.shop_id, runtime.uow(readonly=True))
    return [
        ChannelStatusPublic.model_validate(
            {
                **_channel(s.channel),
                "links": s.links,
                "synced_until": local(s.synced_until, caller.zone) if s.synced_until else None,
                "platform_orders": s.platform_orders,
                "queued_pushes": s.queued,
                "drifted_links": s.drifted,
                "open_incidents": s.open_incidents,
                "exposure_fen": s.exposure_fen,
                "exposure_yuan": yuan(s.exposure_fen),
            }
        )
        for s in rows
    ]


@router.post(
    "/channels/{channel_id}/links", status_code=status.HTTP_201_CREATED, response_model=LinkPublic
)
def link_sku(
    channel_id: ChannelId, body: LinkCreate, caller: CatalogueWriter, writes: WritesDep
) -> LinkPublic:
    """Sell a SKU in the store as the platform's item and SKU; its figure is queued."""
    cmd = setup.LinkSku(
        caller.shop_id,
        channel_id,
        body.sku_id,
        body.platform_item_id,
        body.platform_sku_id,
        caller.actor,
    )
    made = setup.link_sku(cmd, writes.uow())
    return LinkPublic(
        id=made.id,
        channel_id=made.channel_id,
        sku_id=made.sku_id,
        platform_item_id=made.platform_item_id,
        platform_sku_id=made.platform_sku_id,
    )


@router.put("/skus/{sku_id}/channels/{channel_id}/rule", response_model=RulePublic)
def set_rule(
    sku_id: SkuId,
    channel_id: ChannelId,
    body: RuleUpdate,
    caller: CatalogueWriter,
    writes: WritesDep,
) -> RulePublic:
    """The SKU's quota in one store: a share of the pool after safety stock, a fixed
    number of units, or (``kind`` null) no rule."""
    cmd = setup.SetRule(caller.shop_id, sku_id, channel_id, body.kind, body.value, caller.actor)
    setup.set_rule(cmd, writes.uow())
    return RulePublic(
        sku_id=sku_id,
        channel_id=channel_id,
        kind=body.kind,
        value=None if body.kind is None else body.value,
    )


@router.put("/skus/{sku_id}/safety-stock", response_model=SafetyStockPublic)
def set_safety_stock(
    sku_id: SkuId, body: SafetyStockUpdate, caller: CatalogueWriter, writes: WritesDep
) -> SafetyStockPublic:
    """Units of every tier of the SKU that no platform store shows."""
    cmd = setup.SetSafety(caller.shop_id, sku_id, body.units, caller.actor)
    setup.set_safety(cmd, writes.uow())
    return SafetyStockPublic(sku_id=sku_id, units=body.units)


@router.post("/live-lock", response_model=LiveLockPublic)
def live_lock(body: LiveLockCreate, caller: CatalogueWriter, writes: WritesDep) -> LiveLockPublic:
    """Live lock 直播锁库: the store running a live session gets the whole spot tier of
    its SKUs, the other platform stores none, until ``DELETE /live-lock``."""
    sku_ids = tuple(body.sku_ids)
    cmd = setup.LiveLock(caller.shop_id, body.channel_id, sku_ids, caller.actor)
    setup.live_lock(cmd, writes.uow())
    return LiveLockPublic(channel_id=body.channel_id, sku_ids=sorted(set(sku_ids)))


@router.delete("/live-lock", status_code=status.HTTP_204_NO_CONTENT)
def end_live_lock(caller: CatalogueWriter, writes: WritesDep) -> None:
    """The live session ended: every store back to its rules."""
    setup.live_lock(setup.LiveLock(caller.shop_id, None, (), caller.actor), writes.uow())


@router.get("/channels/incidents", response_model=list[IncidentPublic])
def list_incidents(
    caller: CatalogueWriter,
    runtime: RuntimeDep,
    open_only: Annotated[bool, Query(alias="open", description="only unresolved")] = False,
) -> list[IncidentPublic]:
    """Oversells: platform orders the pool could not cover (the buyer paid, the order
    stands), each with what it may cost."""
    found = incidents_of(caller.shop_id, runtime.uow(readonly=True), open_only=open_only)
    zone = caller.zone
    return [
        IncidentPublic(
            id=i.id,
            channel_id=i.channel_id,
            platform_order_id=i.platform_order_id,
            sku_id=i.sku_id,
            quantity=i.quantity,
            paid_fen=i.paid_fen,
            paid_yuan=yuan(i.paid_fen),
            exposure_fen=i.exposure_fen,
            exposure_yuan=yuan(i.exposure_fen),
            promised_ship_by=local(i.promised_ship_by, zone) if i.promised_ship_by else None,
            created_at=local(i.created_at, zone),
            resolved_at=local(i.resolved_at, zone) if i.resolved_at else None,
        )
        for i in found
    ]


@router.post("/channels/reconcile", response_model=ReconcilePublic)
def reconcile(
    caller: Owner,
    runtime: RuntimeDep,
    dry_run: Annotated[bool, Query(description="only report what differs")] = False,
) -> ReconcilePublic:
    """Read what each store shows and compare it with its quota; unless ``dry_run``, set
    each drifted figure right. Safe to repeat (each figure is absolute), so no
    Idempotency-Key is needed."""
    drifts = reconcile_shop(runtime, runtime.secret_key(), caller.shop_id, repair=not dry_run)
    return ReconcilePublic(
        dry_run=dry_run,
        drifts=[
            DriftPublic(
                channel=d.channel,
                link_id=d.link_id,
                sku_id=d.sku_id,
                shown=d.shown,
                quota=d.quota,
                repaired=d.repaired,
                error=d.error,
            )
            for d in drifts
        ],
    )
