"""Channels: one stock pool sold in several stores (docs/rules.md §10).

A channel is a store on a platform — Kuaishou, Douyin, Taobao — or the merchant's own
storefront (``POST /orders``). The pool is the SKU's tiers as the ledger has them; each
channel sells a **quota** of each tier, derived here from the SKU's rules and never
typed in:

* **safety stock** — ``safety`` units of every tier are held back from every platform
  store (the own storefront allocates from the pool directly, with no sync lag, so it
  needs none): inside one sync interval two stores can then sell at most that many
  units the pool no longer has;
* **share** — a percentage of what is left after the safety stock (rounded down);
* **fixed** — a number of units, at most what is left;
* **no rule** — the whole of what is left (every store shows the pool: the ERPs'
  "full sync", fast to sell out and the most exposed to overselling in the lag);
* **live lock** (直播锁库) — while a live session runs on one platform store, that store
  gets the whole spot tier of the session's SKUs (less the safety stock) and the other
  platform stores none; presale keeps its rules. Released when the session ends.

A platform shows buyers one stock figure per SKU, so what is pushed to a store is the
sum of its quotas over the tiers the SKU's form sells (``figure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tierstock.domain.errors import InvalidValueError
from tierstock.domain.sales_forms import Tier


class Platform(StrEnum):
    OWN = "own"
    KUAISHOU = "kuaishou"
    DOUYIN = "douyin"
    TAOBAO = "taobao"

    @property
    def is_store_platform(self) -> bool:
        """A store whose figures are pushed over an open API (not the own storefront)."""
        return self is not Platform.OWN


class RuleKind(StrEnum):
    SHARE = "share"  # percent of the pool after safety stock
    FIXED = "fixed"  # units


@dataclass(frozen=True)
class Channel:
    id: int
    shop_id: int
    platform: Platform
    name: str
    live: bool  # holds the live lock now (for the SKUs of its live session)


@dataclass(frozen=True)
class QuotaRule:
    channel_id: int
    kind: RuleKind
    value: int


def check_rule(kind: RuleKind, value: int) -> None:
    """A share is 0–100 percent; a fixed quota is 0 units or more."""
    if kind is RuleKind.SHARE and not 0 <= value <= 100:
        raise InvalidValueError("a share is a percentage from 0 to 100", field="value")
    if kind is RuleKind.FIXED and value < 0:
        raise InvalidValueError("a fixed quota cannot be negative", field="value")


def check_shares(rules: Sequence[QuotaRule]) -> None:
    """The shares of one SKU add up to at most 100 %: more would promise the same unit
    to two stores by rule, not only inside the sync lag."""
    total = sum(r.value for r in rules if r.kind is RuleKind.SHARE)
    if total > 100:
        raise InvalidValueError(
            f"the shares of this SKU add up to {total} %, more than 100 %", field="value"
        )


def quotas(
    available: Mapping[Tier, int],
    tiers: Sequence[Tier],
    channels: Sequence[Channel],
    rules: Mapping[int, QuotaRule],
    safety: int,
    live: int | None = None,
) -> dict[int, dict[Tier, int]]:
    """Each channel's quota of each tier the form sells (see the module's rules).

    ``available`` is each tier's unsold units (quantity − sold, from the ledger);
    ``rules`` maps a channel id to its rule for this SKU (absent: no rule); ``live`` is
    the store holding the live lock for this SKU, if any.
    """
    out: dict[int, dict[Tier, int]] = {}
    for channel in channels:
        out[channel.id] = {}
        for tier in tiers:
            pool = max(available.get(tier, 0), 0)
            if not channel.platform.is_store_platform:
                out[channel.id][tier] = pool
                continue
            visible = max(pool - safety, 0)
            if tier is Tier.SPOT and live is not None:
                out[channel.id][tier] = visible if channel.id == live else 0
                continue
            out[channel.id][tier] = _by_rule(rules.get(channel.id), visible)
    return out


def _by_rule(rule: QuotaRule | None, visible: int) -> int:
    if rule is None:
        return visible
    if rule.kind is RuleKind.SHARE:
        return visible * rule.value // 100
    return min(rule.value, visible)


def figure(quota: Mapping[Tier, int]) -> int:
    """The one stock figure a platform shows for the SKU: its quotas over all tiers."""
    return sum(quota.values())


@dataclass(frozen=True)
class Link:
    """A tierstock SKU sold in a store as the platform's item/SKU."""

    id: int
    shop_id: int
    channel_id: int
    sku_id: int
    platform_item_id: str
    platform_sku_id: str
    pushed_figure: int | None  # what the store was last told (None: never)
    seen_figure: int | None  # what the store last said it shows (None: never read)
    ingested_units: int = 0  # units of the store's orders recorded so far (net of cancels)
    ingested_at_push: int = 0  # … when the figure was last pushed
    uncertain_since: datetime | None = None  # a change of unknown outcome was sent then

    def unrecorded_sales(self, shown: int) -> int:
        """Units the store sold since the last push that tierstock has not recorded yet:
        the store lowered its own figure by (pushed − shown), of which (ingested −
        ingested_at_push) are recorded. A push must not hand those units back."""
        if self.pushed_figure is None:
            return 0
        sold_there = self.pushed_figure - shown
        recorded = self.ingested_units - self.ingested_at_push
        return max(0, sold_there - recorded)


@dataclass(frozen=True)
class QueuedPush:
    """A link whose figure may have moved: pushed when due, live sessions first."""

    link_id: int
    channel_id: int
    live: bool
    attempts: int
    generation: int  # a push removes the row only if nothing queued it again since


@dataclass(frozen=True)
class SyncCursor:
    """How far a store's order list has been read: every order changed before
    ``synced_until`` is recorded; ``window_end``/``page_cursor`` are the window being
    paged now (None between windows)."""

    channel_id: int
    synced_until: datetime
    window_end: datetime | None
    page_cursor: str | None


@dataclass(frozen=True)
class OversellIncident:
    """A platform order the pool could not cover: the buyer paid, the order stands."""

    id: int
    shop_id: int
    channel_id: int
    platform_order_id: str
    sku_id: int
    quantity: int
    paid_fen: int
    exposure_fen: int  # what it may cost (the pack's unshipped compensation)
    promised_ship_by: datetime | None
    created_at: datetime
    resolved_at: datetime | None
