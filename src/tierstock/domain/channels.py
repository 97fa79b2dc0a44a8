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
  gets the whole spot tier (less the safety stock) and the other platform stores none;
  presale keeps its rules. Released when the session ends.

A platform shows buyers one stock figure per SKU, so what is pushed to a store is the
sum of its quotas over the tiers the SKU's form sells (``figure``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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
    live: bool  # holds the live lock now


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
) -> dict[int, dict[Tier, int]]:
    """Each channel's quota of each tier the form sells (see the module's rules).

    ``available`` is each tier's unsold units (quantity − sold, from the ledger);
    ``rules`` maps a channel id to its rule for this SKU (absent: no rule).
    """
    live = next((c.id for c in channels if c.live and c.platform.is_store_platform), None)
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
