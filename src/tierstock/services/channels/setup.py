"""Setting up channels: stores, SKU links, quota rules, safety stock and the live lock.

Every change that can move a store's quota queues a push of the links it touches in
the same transaction (relay.py pushes them), and writes an audit row; credentials are
sealed before they are stored and never written to the audit trail.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tierstock.domain.channels import (
    Channel,
    Link,
    Platform,
    QuotaRule,
    RuleKind,
    check_rule,
    check_shares,
)
from tierstock.domain.errors import DuplicateError, InvalidValueError, NotFoundError
from tierstock.policies import available_packs
from tierstock.services import audit
from tierstock.services.catalogue import require_sku
from tierstock.services.channels import credentials
from tierstock.store.uow import UnitOfWork

MAX_NAME = 200
MAX_PLATFORM_ID = 100


@dataclass(frozen=True)
class AddChannel:
    shop_id: int
    platform: str
    name: str
    credentials: dict[str, str] = field(default_factory=dict)
    server_url: str | None = None  # the platform's gateway; None: the real one
    pack: str | None = None  # the policy pack (default: the platform's own)
    actor: str = "system"


def add_channel(cmd: AddChannel, uow: UnitOfWork, key: bytes | None) -> Channel:
    try:
        platform = Platform(cmd.platform)
    except ValueError:
        names = ", ".join(p.value for p in Platform)
        raise InvalidValueError(f"platform must be one of {names}", field="platform") from None
    name = cmd.name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidValueError(f"a channel name is 1 to {MAX_NAME} characters", field="name")
    pack = cmd.pack or (platform.value if platform.is_store_platform else "kuaishou")
    if pack not in available_packs():
        raise InvalidValueError(f"no policy pack {pack!r}", field="pack")
    if cmd.server_url is not None and not cmd.server_url.startswith(("http://", "https://")):
        raise InvalidValueError("server_url must be an http(s) URL", field="server_url")
    values = credentials.check(platform, cmd.credentials)
    sealed = credentials.seal(values, key) if values else None
    with uow:
        if uow.channels.name_taken(cmd.shop_id, name):
            raise DuplicateError(f"the shop already has a channel named {name!r}", field="name")
        channel = uow.channels.add_channel(
            cmd.shop_id, platform, name, pack, cmd.server_url, sealed, uow.now()
        )
        detail = {"platform": platform.value, "name": name, "credentials": sorted(values)}
        audit.record(uow, cmd.shop_id, cmd.actor, "channel_added", "channel", channel.id, detail)
        uow.commit()
    return channel


def channels_of(shop_id: int, uow: UnitOfWork) -> list[Channel]:
    with uow:
        return uow.channels.channels(shop_id)


def require_channel(uow: UnitOfWork, shop_id: int, channel_id: int) -> Channel:
    channel = uow.channels.channel(shop_id, channel_id)
    if channel is None:
        raise NotFoundError(f"no channel {channel_id} in this shop", field="channel_id")
    return channel


def _platform_id(value: str, field_name: str) -> str:
    value = value.strip()
    if not value or len(value) > MAX_PLATFORM_ID:
        raise InvalidValueError(
            f"{field_name} is 1 to {MAX_PLATFORM_ID} characters", field=field_name
        )
    return value


@dataclass(frozen=True)
class LinkSku:
    shop_id: int
    channel_id: int
    sku_id: int
    platform_item_id: str
    platform_sku_id: str
    actor: str = "system"


def link_sku(cmd: LinkSku, uow: UnitOfWork) -> Link:
    item = _platform_id(cmd.platform_item_id, "platform_item_id")
    sku_ref = _platform_id(cmd.platform_sku_id, "platform_sku_id")
    with uow:
        channel = require_channel(uow, cmd.shop_id, cmd.channel_id)
        if not channel.platform.is_store_platform:
            raise InvalidValueError(
                "the own storefront sells every SKU from the pool; it needs no link",
                field="channel_id",
            )
        require_sku(uow, cmd.shop_id, cmd.sku_id)
        taken = uow.channels.link_by_platform_sku(channel.id, item, sku_ref)
        if taken is not None or any(
            ln.sku_id == cmd.sku_id for ln in uow.channels.links(cmd.shop_id, channel.id)
        ):
            raise DuplicateError(
                "this SKU or this platform SKU is already linked in the channel",
                field="platform_sku_id",
            )
        link = uow.channels.add_link(cmd.shop_id, channel.id, cmd.sku_id, item, sku_ref)
        queue_skus(uow, [cmd.sku_id])
        detail = {"sku_id": cmd.sku_id, "item": item, "sku": sku_ref}
        audit.record(uow, cmd.shop_id, cmd.actor, "channel_linked", "channel", channel.id, detail)
        uow.commit()
    return link


@dataclass(frozen=True)
class SetRule:
    """The SKU's quota rule in one store: ``kind`` None removes it (the whole pool)."""

    shop_id: int
    sku_id: int
    channel_id: int
    kind: str | None
    value: int = 0
    actor: str = "system"


def set_rule(cmd: SetRule, uow: UnitOfWork) -> None:
    rule = None
    if cmd.kind is not None:
        try:
            kind = RuleKind(cmd.kind)
        except ValueError:
            raise InvalidValueError("kind must be share or fixed", field="kind") from None
        check_rule(kind, cmd.value)
        rule = QuotaRule(cmd.channel_id, kind, cmd.value)
    with uow:
        require_channel(uow, cmd.shop_id, cmd.channel_id)
        require_sku(uow, cmd.shop_id, cmd.sku_id)
        others = uow.channels.rules_of_skus([cmd.sku_id]).get(cmd.sku_id, {})
        check_shares(
            [r for c, r in others.items() if c != cmd.channel_id] + ([rule] if rule else [])
        )
        uow.channels.set_rule(cmd.shop_id, cmd.sku_id, rule, cmd.channel_id)
        queue_skus(uow, [cmd.sku_id])
        detail = {"sku_id": cmd.sku_id, "kind": cmd.kind, "value": cmd.value}
        audit.record(uow, cmd.shop_id, cmd.actor, "channel_rule", "channel", cmd.channel_id, detail)
        uow.commit()


@dataclass(frozen=True)
class SetSafety:
    shop_id: int
    sku_id: int
    units: int
    actor: str = "system"


def set_safety(cmd: SetSafety, uow: UnitOfWork) -> None:
    if cmd.units < 0:
        raise InvalidValueError("safety stock cannot be negative", field="units")
    with uow:
        require_sku(uow, cmd.shop_id, cmd.sku_id)
        uow.channels.set_safety(cmd.shop_id, cmd.sku_id, cmd.units)
        queue_skus(uow, [cmd.sku_id])
        detail = {"units": cmd.units}
        audit.record(uow, cmd.shop_id, cmd.actor, "channel_safety", "sku", cmd.sku_id, detail)
        uow.commit()


@dataclass(frozen=True)
class LiveLock:
    """Give the live lock (直播锁库) for ``sku_ids`` to a store; ``channel_id`` None ends
    the live session and releases it."""

    shop_id: int
    channel_id: int | None
    sku_ids: tuple[int, ...] = ()
    actor: str = "system"


def live_lock(cmd: LiveLock, uow: UnitOfWork) -> None:
    with uow:
        before = uow.channels.live_skus([cmd.shop_id]).get(cmd.shop_id, (0, set()))[1]
        if cmd.channel_id is not None:
            channel = require_channel(uow, cmd.shop_id, cmd.channel_id)
            if not channel.platform.is_store_platform:
                raise InvalidValueError(
                    "the live lock goes to a platform store", field="channel_id"
                )
            if not cmd.sku_ids:
                raise InvalidValueError("name the live session's SKUs", field="sku_ids")
            for sku_id in cmd.sku_ids:
                require_sku(uow, cmd.shop_id, sku_id)
        uow.channels.set_live(cmd.shop_id, cmd.channel_id, sorted(set(cmd.sku_ids)), uow.now())
        queue_skus(uow, sorted(before | set(cmd.sku_ids)), live=True)
        detail = {"sku_ids": sorted(set(cmd.sku_ids))}
        action = "live_lock" if cmd.channel_id is not None else "live_unlock"
        audit.record(uow, cmd.shop_id, cmd.actor, action, "channel", cmd.channel_id or 0, detail)
        uow.commit()


def queue_skus(uow: UnitOfWork, sku_ids: Iterable[int], *, live: bool = False) -> int:
    """Queue a push of every link of these SKUs (inside the caller's transaction); links of
    a live session's SKUs go first."""
    links = uow.channels.links_of_skus(sku_ids)
    if not links:
        return 0
    lives = uow.channels.live_skus({ln.shop_id for ln in links})
    return uow.channels.queue(
        [(ln, live or ln.sku_id in lives.get(ln.shop_id, (0, set()))[1]) for ln in links],
        uow.now(),
    )
