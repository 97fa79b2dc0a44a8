"""Tiered-shipping eligibility (docs/rules.md §6): store scores in, figures and verdict out."""

from __future__ import annotations

from fastapi import APIRouter

from tierstock.api.convert import local
from tierstock.api.deps import CatalogueWriter, Reader, RuntimeDep, ShopId, WritesDep
from tierstock.api.schemas.eligibility import (
    EligibilityPublic,
    NonCompliantSkuPublic,
    ProductPullPublic,
    ScorePublic,
    ScoresCreate,
    ScoresRecordedPublic,
    SharePublic,
)
from tierstock.domain.eligibility import ScorePoint, percent, score
from tierstock.domain.errors import NotFoundError
from tierstock.services import eligibility

router = APIRouter(prefix="/shops", tags=["eligibility"])


def _own(shop_id: int, caller: Reader) -> None:
    if shop_id != caller.shop_id:
        raise NotFoundError(f"no shop {shop_id}", field="shop_id")


@router.get("/{shop_id}/eligibility", response_model=EligibilityPublic)
def get_eligibility(shop_id: ShopId, caller: Reader, runtime: RuntimeDep) -> EligibilityPublic:
    """Store score and spot-order share against the pack's thresholds, their trend, the
    products pulling the share down, and tiered SKUs flagged while ineligible."""
    _own(shop_id, caller)
    r = eligibility.eligibility_report(shop_id, runtime.uow(readonly=True))
    v, rules = r.verdict, r.rules
    why = "; ".join(v.reasons)
    return EligibilityPublic(
        shop_id=shop_id,
        as_of=local(r.as_of, caller.zone),
        eligible=v.eligible,
        reasons=list(v.reasons),
        store_score=score(v.score_centi),
        min_store_score=score(rules.min_store_score_centi),
        spot_share_percent=percent(v.share_bp),
        spot_lines=r.share.spot_lines,
        paid_lines=r.share.paid_lines,
        min_spot_share_percent=percent(rules.min_spot_share_bp),
        window_days=rules.window_days,
        min_paid_lines=rules.min_paid_lines,
        score_trend=[
            ScorePublic(scored_on=p.scored_on, score=score(p.score_centi)) for p in r.scores
        ],
        share_trend=[
            SharePublic(
                until=p.until,
                spot_lines=p.share.spot_lines,
                paid_lines=p.share.paid_lines,
                share_percent=percent(p.share.share_bp),
            )
            for p in r.share_trend
        ],
        pulling_products=[
            ProductPullPublic(
                product_id=p.product_id,
                name=p.name,
                presale_lines=p.presale_lines,
                paid_lines=p.paid_lines,
            )
            for p in r.pulling
        ],
        non_compliant_skus=[
            NonCompliantSkuPublic(
                sku_id=t.sku_id,
                code=t.code,
                product_id=t.product_id,
                product_name=t.product_name,
                reason=why,
            )
            for t in r.non_compliant
        ],
    )


@router.post("/{shop_id}/store-scores", response_model=ScoresRecordedPublic)
def record_scores(
    shop_id: ShopId, body: ScoresCreate, caller: CatalogueWriter, writes: WritesDep
) -> ScoresRecordedPublic:
    """Enter or import the dated store-score series; a day entered again is replaced."""
    _own(shop_id, caller)
    points = tuple(ScorePoint(p.scored_on, int(p.score * 100)) for p in body.data)
    n = eligibility.record_scores(
        eligibility.RecordScores(shop_id, points, caller.actor), writes.uow()
    )
    return ScoresRecordedPublic(recorded=n)
