"""Each link's figure: the quota of its store, derived from the pool now (docs/rules.md
§10; the rule itself is domain/channels.py). Computed when a push or a check needs it,
never stored by hand: the ledger stays the only source."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from tierstock.domain.channels import Channel, Link, figure, quotas
from tierstock.store.uow import UnitOfWork


def figures(uow: UnitOfWork, links: Iterable[Link]) -> dict[int, int]:
    """link id → the stock figure its store should show (0 for a delisted product)."""
    links = list(links)
    by_shop: dict[int, set[int]] = defaultdict(set)
    for link in links:
        by_shop[link.shop_id].add(link.sku_id)
    sku_ids = {s for ids in by_shop.values() for s in ids}
    tiers = uow.stock.tiers(sku_ids)
    rules = uow.channels.rules_of_skus(sku_ids)
    safety = uow.channels.safety_of_skus(sku_ids)
    lives = uow.channels.live_skus(by_shop)
    stores: dict[int, list[Channel]] = {s: uow.channels.channels(s) for s in by_shop}
    forsale = {s: uow.catalogue.skus_for_sale(s, ids) for s, ids in by_shop.items()}
    out: dict[int, int] = {}
    for link in links:
        found = forsale[link.shop_id].get(link.sku_id)
        if found is None or not found[1]:
            out[link.id] = 0  # delisted: listed but not buyable shows 0 everywhere
            continue
        sku = found[0]
        available = {t: s.available for t, s in tiers.get(link.sku_id, {}).items()}
        live_channel, live_skus = lives.get(link.shop_id, (None, set()))
        split = quotas(
            available,
            sku.sales_form.tiers,
            stores[link.shop_id],
            rules.get(link.sku_id, {}),
            safety.get(link.sku_id, 0),
            live_channel if link.sku_id in live_skus else None,
        )
        out[link.id] = figure(split[link.channel_id])
    return out
