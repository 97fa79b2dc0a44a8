"""Which tier a line takes — the rule the database hot path enforces row by row.

docs/rules.md §2: an order line takes the earliest tier that can hold its whole quantity. The
store applies the same rule with conditional UPDATEs; this pure version is the model
the tests compare the database against, and what the product card uses to say which
tier the next unit comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

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


T = TypeVar("T")


def first_tier_taking(
    tiers: Iterable[Tier], take: Callable[[Tier], T | None]
) -> tuple[Tier, T] | None:
    """The tier rule itself: try ``tiers`` in the form's order (spot before presale) and
    stop at the first one ``take`` accepts the whole line from (``take`` answers
    ``None`` to refuse). ``take`` may be a pure test (:func:`choose_tier`) or the
    store's conditional UPDATE (the per-order path): one rule, whoever holds the figures.
    """
    for tier in tiers:
        taken = take(tier)
        if taken is not None:
            return tier, taken
    return None


def choose_tier(quantity: int, tiers: Iterable[Tier], available: Mapping[Tier, int]) -> Tier | None:
    """The first of ``tiers`` (in the form's order) whose availability holds ``quantity``."""
    found = first_tier_taking(tiers, lambda t: True if available.get(t, 0) >= quantity else None)
    return None if found is None else found[0]


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
