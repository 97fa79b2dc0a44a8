"""Which tier a line takes — the rule the database hot path enforces row by row.

docs/rules.md §2: an order line takes the earliest tier that can hold its whole quantity. The
store applies the same rule with conditional UPDATEs; this pure version is the model
the tests compare the database against, and what the product card uses to say which
tier the next unit comes from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from tierstock.domain.sales_forms import Tier


@dataclass(frozen=True)
class TierStock:
    """One tier of one SKU: ``quantity`` units ever made sellable, ``sold`` promised."""

    tier: Tier
    quantity: int
    sold: int

    @property
    def available(self) -> int:
        return self.quantity - self.sold


def choose_tier(quantity: int, tiers: Iterable[Tier], available: Mapping[Tier, int]) -> Tier | None:
    """The first of ``tiers`` (in the form's order) whose availability holds ``quantity``."""
    for tier in tiers:
        if available.get(tier, 0) >= quantity:
            return tier
    return None


def units_held_twice(holdings: Iterable[tuple[int, int]]) -> int:
    """Units claimed by more than one line, from (tier_sold_after, quantity) pairs.

    Each line holds the half-open range (sold_after − quantity, sold_after] of its tier's
    units; in a run without cancels the ranges must be disjoint. Used by the burst
    checks (tests, demo, benchmarks) to prove no unit went to two buyers.
    """
    ranges = sorted((after - qty, after) for after, qty in holdings)
    twice, reach = 0, 0
    for start, end in ranges:
        if start < reach:
            twice += min(end, reach) - start
        reach = max(reach, end)
    return twice
