"""Tiered-shipping eligibility (docs/rules.md §6): store scores in, figures and verdict out.

``ensure_tiered_allowed`` is what the catalogue calls before a SKU becomes tiered;
``eligibility_report`` is what the workbench, the API and the CLI show: both figures,
the thresholds, the trend, the products pulling the share down, and the tiered SKUs
that are non-compliant while the shop is ineligible (they keep selling).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tierstock.domain.eligibility import (
    PullingProduct,
    ScorePoint,
    ShareCount,
    TieredSku,
    Verdict,
    check_score,
    judge,
    refusal,
)
from tierstock.domain.errors import NotFoundError
from tierstock.domain.policy import EligibilityRules, PolicyPack
from tierstock.policies import load_pack
from tierstock.store.uow import UnitOfWork


def _pack(uow: UnitOfWork, shop_id: int) -> PolicyPack:
    shop = uow.catalogue.get_shop(shop_id)
    if shop is None:
        raise NotFoundError(f"no shop {shop_id}", field="shop_id")
    return load_pack(shop.policy)


def _today(now: datetime, pack: PolicyPack) -> date:
    return now.astimezone(ZoneInfo(pack.display_timezone)).date()


def _verdict(uow: UnitOfWork, shop_id: int, pack: PolicyPack, now: datetime) -> Verdict:
    rules = pack.eligibility
    latest = uow.eligibility.scores(shop_id, _today(now, pack), 1)
    share = uow.eligibility.share(shop_id, now - timedelta(days=rules.window_days), now)
    return judge(latest[-1].score_centi if latest else None, share, rules)


def ensure_tiered_allowed(uow: UnitOfWork, shop_id: int, pack: PolicyPack, now: datetime) -> None:
    """Raise ``TieredNotEligibleError`` (409, with the figures) if the shop may not
    create or switch a SKU to the tiered form now. Call inside ``with uow:``."""
    verdict = _verdict(uow, shop_id, pack, now)
    if not verdict.eligible:
        raise refusal(verdict)


@dataclass(frozen=True)
class RecordScores:
    shop_id: int
    points: tuple[ScorePoint, ...]
    actor: str = "system"


def record_scores(cmd: RecordScores, uow: UnitOfWork) -> int:
    """Enter or import store scores (one per day; a later entry for a day replaces it).
    All are checked first, so a bad row in an import changes nothing."""
    with uow:
        pack = _pack(uow, cmd.shop_id)
        for point in cmd.points:
            check_score(point.score_centi, pack.eligibility)
        now = uow.now()
        for point in sorted(cmd.points, key=lambda p: p.scored_on):
            uow.eligibility.put_score(cmd.shop_id, point, cmd.actor, now)
        uow.commit()
    return len(cmd.points)


@dataclass(frozen=True)
class SharePoint:
    until: date
    share: ShareCount


@dataclass(frozen=True)
class EligibilityReport:
    shop_id: int
    as_of: datetime
    verdict: Verdict
    rules: EligibilityRules
    share: ShareCount
    scores: tuple[ScorePoint, ...]
    share_trend: tuple[SharePoint, ...]
    pulling: tuple[PullingProduct, ...]
    non_compliant: tuple[TieredSku, ...]  # tiered SKUs selling while ineligible


def eligibility_report(shop_id: int, uow: UnitOfWork) -> EligibilityReport:
    with uow:
        pack = _pack(uow, shop_id)
        rules = pack.eligibility
        now = uow.now()
        window = timedelta(days=rules.window_days)
        share = uow.eligibility.share(shop_id, now - window, now)
        scores = uow.eligibility.scores(shop_id, _today(now, pack), rules.trend_points)
        verdict = judge(scores[-1].score_centi if scores else None, share, rules)
        trend = tuple(_trend(uow, shop_id, now, window, rules, pack))
        pulling = uow.eligibility.pulling_products(
            shop_id, now - window, now, rules.pulling_products
        )
        tiered = () if verdict.eligible else tuple(uow.eligibility.tiered_skus(shop_id))
    return EligibilityReport(
        shop_id, now, verdict, rules, share, tuple(scores), trend, tuple(pulling), tiered
    )


def _trend(
    uow: UnitOfWork,
    shop_id: int,
    now: datetime,
    window: timedelta,
    rules: EligibilityRules,
    pack: PolicyPack,
) -> Iterable[SharePoint]:
    """The share over the window ending at each of the last trend points, oldest first."""
    for back in reversed(range(rules.trend_points)):
        until = now - timedelta(days=back * rules.trend_step_days)
        yield SharePoint(_today(until, pack), uow.eligibility.share(shop_id, until - window, until))
