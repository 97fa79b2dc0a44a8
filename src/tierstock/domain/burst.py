"""The expected burst of a live session (直播爆单): buyers per minute and their quantities.

docs/rules.md §8: the planner takes either a curve over the session — (minute, weight) points or
a named shape — with a total number of buyers and a quantity distribution, or a past
session's order log. Arrivals per minute follow the curve by largest-remainder
apportionment (no randomness, so small cases can be computed by hand); the seed draws
each buyer's quantity with ``random.Random(seed)``: same seed, same burst.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from tierstock.domain.errors import InvalidValueError

CURVE_SHAPES = ("flat", "spike", "ramp")


@dataclass(frozen=True)
class Arrivals:
    """The burst: buyers arriving in each minute, and each buyer's quantity in order."""

    per_minute: tuple[int, ...]
    quantities: tuple[int, ...]


def shape_points(name: str, duration: int) -> tuple[tuple[int, float], ...]:
    """A named curve as (minute, weight) points: ``flat``; ``spike`` (the link goes up
    at once, most buyers in the first tenth, then a tail); ``ramp`` (rising)."""
    last = max(duration - 1, 0)
    shapes = {
        "flat": ((0, 1.0), (last, 1.0)),
        "spike": ((0, 50.0), (max(duration // 10, 1), 2.0), (last, 1.0)),
        "ramp": ((0, 1.0), (last, 10.0)),
    }
    if name not in shapes:
        raise InvalidValueError(
            f"curve shape must be one of {', '.join(CURVE_SHAPES)}", field="curve.shape"
        )
    return shapes[name]


def curve_weights(points: Sequence[tuple[int, float]], duration: int) -> list[float]:
    """Each minute's weight, linear between points and flat beyond the first and last."""
    pts = sorted(points)
    if not pts or duration < 1:
        raise InvalidValueError("a curve needs at least one point and one minute", field="curve")
    if any(w < 0 for _, w in pts) or not any(w > 0 for _, w in pts):
        raise InvalidValueError("curve weights must be ≥ 0 and not all 0", field="curve")
    out = []
    for m in range(duration):
        if m <= pts[0][0]:
            out.append(pts[0][1])
        elif m >= pts[-1][0]:
            out.append(pts[-1][1])
        else:
            (m0, w0), (m1, w1) = next((a, b) for a, b in pairwise(pts) if a[0] <= m <= b[0])
            out.append(w0 if m1 == m0 else w0 + (w1 - w0) * (m - m0) / (m1 - m0))
    return out


def apportion(total: int, weights: Sequence[float]) -> tuple[int, ...]:
    """``total`` split in proportion to ``weights``, largest remainders first (ties to
    the earlier minute), so the counts sum to ``total`` exactly."""
    whole = sum(weights)
    if whole <= 0:
        raise InvalidValueError("curve weights must not all be 0", field="curve")
    exact = [total * w / whole for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return tuple(counts)


def curve_arrivals(
    buyers: int, weights: Sequence[float], quantities: Sequence[tuple[int, int]], seed: int
) -> Arrivals:
    """Buyers spread over the curve; each buyer's quantity drawn from (quantity, weight)
    pairs with ``random.Random(seed)`` — same seed, same burst."""
    if (
        not quantities
        or any(q < 1 or w < 0 for q, w in quantities)
        or not any(w > 0 for _, w in quantities)
    ):
        raise InvalidValueError(
            "quantities need a positive quantity with a weight > 0", field="quantities"
        )
    values = [q for q, _ in quantities]
    drawn = random.Random(seed).choices(values, weights=[w for _, w in quantities], k=buyers)
    return Arrivals(apportion(buyers, weights), tuple(drawn))


def log_arrivals(orders: Sequence[tuple[int, int]]) -> Arrivals:
    """A past session replayed as it happened: (minute, quantity) in payment order."""
    ordered = sorted(orders, key=lambda o: o[0])  # stable: payment order within a minute
    per_minute = Counter(m for m, _ in ordered)
    length = (ordered[-1][0] + 1) if ordered else 1
    return Arrivals(
        tuple(per_minute.get(m, 0) for m in range(length)), tuple(q for _, q in ordered)
    )
