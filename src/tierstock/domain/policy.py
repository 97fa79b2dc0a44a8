"""The numbers of a platform's rules, as one frozen value.

Every rule number lives in a policy pack file (``policies/<platform>.toml``); this module
only gives it a shape. The domain receives a :class:`PolicyPack` and never reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpotRules:
    """Spot (现货): ship within N hours of payment, N from a closed list."""

    windows_hours: tuple[int, ...]


@dataclass(frozen=True)
class PresaleRules:
    """Presale (预售): ship within D days of payment, or by a fixed date."""

    min_days: int
    max_days: int


@dataclass(frozen=True)
class TieredRules:
    """Tiered spot + presale (现货+预售阶梯发货): spot window plus a short presale window."""

    spot_windows_hours: tuple[int, ...]
    presale_min_days: int
    presale_max_days: int


@dataclass(frozen=True)
class OrderLimits:
    """Bounds on one order, so a typo cannot empty a SKU or flood the ledger."""

    max_line_quantity: int
    max_lines_per_order: int


@dataclass(frozen=True)
class PolicyPack:
    name: str
    version: str
    display_timezone: str
    spot: SpotRules
    presale: PresaleRules
    tiered: TieredRules
    orders: OrderLimits
