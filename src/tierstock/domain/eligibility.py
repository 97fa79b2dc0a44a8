"""Tiered-shipping eligibility (现货+预售阶梯发货资格) — docs/rules.md §6.

A shop may create or switch SKUs to the tiered form while its latest store score
(店铺分) and its spot-order share (现货订单交易占比: spot lines ÷ paid lines over the
pack's trailing window) meet the pack's thresholds. Losing eligibility stops *new*
tiered SKUs only; existing ones keep selling and are flagged non-compliant.

Not judged yet counts as passing (assumption): a shop with no score recorded, or with
fewer paid lines in the window than the pack's minimum, is not refused on that figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tierstock.domain.compensation import BASIS_POINTS
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.policy import EligibilityRules


class TieredNotEligibleError(DomainError):
    code = "tiered_not_eligible"
    kind = "conflict"


@dataclass(frozen=True)
class ScorePoint:
    scored_on: date
    score_centi: int


@dataclass(frozen=True)
class ShareCount:
    spot_lines: int
    paid_lines: int

    @property
    def share_bp(self) -> int | None:
        return None if self.paid_lines == 0 else self.spot_lines * BASIS_POINTS // self.paid_lines


@dataclass(frozen=True)
class Verdict:
    eligible: bool
    score_centi: int | None
    share_bp: int | None
    reasons: tuple[str, ...]
    figures: str


def percent(bp: int | None) -> str:
    return "n/a" if bp is None else f"{bp / 100:.2f} %"


def score(centi: int | None) -> str:
    return "n/a" if centi is None else f"{centi / 100:.2f}"


def judge(latest_score: int | None, share: ShareCount, rules: EligibilityRules) -> Verdict:
    """Both figures against the thresholds; ``reasons`` says what fails, for people."""
    reasons: list[str] = []
    if latest_score is not None and latest_score < rules.min_store_score_centi:
        reasons.append(
            f"store score {score(latest_score)} is below {score(rules.min_store_score_centi)}"
        )
    judged = share.paid_lines >= rules.min_paid_lines
    if judged and (share.share_bp or 0) < rules.min_spot_share_bp:
        reasons.append(
            f"spot-order share {percent(share.share_bp)} over {rules.window_days} "
            f"days is below {percent(rules.min_spot_share_bp)}"
        )
    figures = (
        f"store score {score(latest_score)} (minimum "
        f"{score(rules.min_store_score_centi)}), spot-order share "
        f"{percent(share.share_bp)} of {share.paid_lines} paid lines over "
        f"{rules.window_days} days (minimum {percent(rules.min_spot_share_bp)}, "
        f"judged from {rules.min_paid_lines} lines)"
    )
    return Verdict(not reasons, latest_score, share.share_bp, tuple(reasons), figures)


def refusal(verdict: Verdict) -> TieredNotEligibleError:
    return TieredNotEligibleError(
        "this shop may not use tiered spot + presale shipping now: "
        + "; ".join(verdict.reasons)
        + f". Figures: {verdict.figures}",
        field="sales_form",
    )


def check_score(score_centi: int, rules: EligibilityRules) -> None:
    """A store score lies on the pack's scale (0 to ``max_store_score_centi``)."""
    if not 0 <= score_centi <= rules.max_store_score_centi:
        raise InvalidValueError(
            f"store score must be between 0 and {score(rules.max_store_score_centi)}", field="score"
        )


@dataclass(frozen=True)
class PullingProduct:
    """A product whose presale lines pull the spot share down."""

    product_id: int
    name: str
    presale_lines: int
    paid_lines: int


@dataclass(frozen=True)
class TieredSku:
    sku_id: int
    code: str
    product_id: int
    product_name: str
