"""Overview (概览): the shop at a glance — docs/rules.md §3, §6, §7, §8.

SKUs low on stock per tier; spot units made sellable without evidence, the owner's
overrides flagged (库存无依据上调, §3.5; shown to the owner and the operator, as the API's
report is); tiered-shipping eligibility (store score and spot-order
share against the pack's thresholds, with their trend and the products pulling the
share down); promises due soon or overdue with the compensation they expose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from tierstock.domain.access import Role
from tierstock.domain.allocation import TierStock
from tierstock.services import catalogue, eligibility, promises, stock
from tierstock.web.common import Page, PageDep
from tierstock.web.i18n import N_
from tierstock.web.queries import TIER_NAMES, SkuChoice, all_cards, sku_choices

router = APIRouter()
DEFAULT_LOW = 10
PROMISES_SHOWN = 20
UNEVIDENCED_SHOWN = 20
UNEVIDENCED_ROLES = (Role.OWNER.value, Role.OPERATOR.value)  # as GET /stock/unevidenced

URGENCY_NAMES = {
    "lapsed": N_("unshipped: grace period over"),
    "overdue": N_("overdue"),
    "due_soon": N_("due soon"),
    "on_track": N_("on track"),
}
RISK_NAMES = {
    "ok": N_("below the warning share"),
    "warning": N_("warning"),
    "breached": N_("threshold crossed"),
}


@dataclass(frozen=True)
class LowTier:
    choice: SkuChoice
    tier: TierStock


def low_tiers(choices: list[SkuChoice], below: int) -> list[LowTier]:
    """Tiers the SKU's form sells from with at most ``below`` units available, emptiest
    first; spot before presale at equal counts."""
    found = [LowTier(c, t) for c in choices for t in c.card.tiers if t.available <= below]
    return sorted(
        found, key=lambda x: (x.tier.available, x.tier.tier.value != "spot", x.choice.sku.id)
    )


def _promises(page: Page) -> dict[str, Any]:
    with page.runtime.uow(readonly=True) as uow:
        due_soon_hours = catalogue.shop_policy(uow, page.shop_id).fulfilment.due_soon_hours
    board = promises.promise_board(
        page.shop_id,
        page.runtime.uow(readonly=True),
        due_within_hours=due_soon_hours,
        limit=PROMISES_SHOWN,
    )
    risk = promises.risk_report(page.shop_id, page.runtime.uow(readonly=True))
    return {
        "board": board,
        "risk": risk,
        "due_soon_hours": due_soon_hours,
        "urgency_names": URGENCY_NAMES,
        "risk_names": RISK_NAMES,
    }


def _unevidenced(page: Page) -> dict[str, Any]:
    """Spot units made sellable without evidence (docs/rules.md §3.5): the flagged
    overrides (live ones first) and the SKUs with the most such units."""
    if page.merchant.role not in UNEVIDENCED_ROLES:
        return {"unevidenced": None}
    report = stock.unevidenced(page.shop_id, page.runtime.uow(readonly=True))
    return {
        "unevidenced": report,
        "unevidenced_flagged": report.flagged[:UNEVIDENCED_SHOWN],
        "unevidenced_skus": report.skus[:UNEVIDENCED_SHOWN],
        "unevidenced_shown": UNEVIDENCED_SHOWN,
    }


def _eligibility(page: Page) -> dict[str, Any]:
    report = eligibility.eligibility_report(page.shop_id, page.runtime.uow(readonly=True))
    trend = {
        "share": [
            [p.until.isoformat(), None if p.share.share_bp is None else p.share.share_bp / 100]
            for p in report.share_trend
        ],
        "score": [[s.scored_on.isoformat(), s.score_centi / 100] for s in report.scores],
        "min_share": report.rules.min_spot_share_bp / 100,
        "min_score": report.rules.min_store_score_centi / 100,
        "max_score": report.rules.max_store_score_centi / 100,
    }
    return {"elig": report, "elig_trend": json.dumps(trend)}


@router.get("/", response_class=HTMLResponse)
def overview(page: PageDep, below: int = DEFAULT_LOW) -> HTMLResponse:
    below = max(below, 0)
    cards = all_cards(page.runtime, page.shop_id)
    choices = sku_choices(cards)
    totals = {
        t: sum(x.available for c in choices for x in c.card.tiers if x.tier.value == t)
        for t in TIER_NAMES
    }
    codes = {c.sku.id: c.label for c in choices}
    return page.render(
        "overview.html",
        below=below,
        low=low_tiers(choices, below),
        tiers=TIER_NAMES,
        products=len(cards),
        listed=sum(c.product.listed for c in cards),
        skus=len(choices),
        totals=totals,
        sku_labels=codes,
        **_promises(page),
        **_eligibility(page),
        **_unevidenced(page),
    )
