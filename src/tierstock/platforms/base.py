"""What tierstock needs of a store platform's open API, whatever the platform.

Two needs, the same on Kuaishou, Douyin and Taobao under their own names and signing
rules (docs/rules.md §10): an **incremental order list** (orders paid or changed in a
time window, paged with the platform's cursor) and **the stock of a platform SKU**
(read it, and change it — by a delta on Kuaishou, absolute or by a delta elsewhere).

Each platform has one module here implementing :class:`PlatformClient`; the channel
services (services/channels/) only ever see this protocol and these values. Money is in
fen, times are aware datetimes (UTC), ids are the platform's strings.

Errors a client raises are :class:`PlatformError` subclasses, so the relay and the
sync worker can tell "slow down" (:class:`RateLimitedError`), "try again, the outcome
is unknown" (:class:`UnavailableError`: 5xx, timeout, connection cut — a stock delta
may or may not have been applied), "the platform refused this request"
(:class:`RejectedError`: never retried as is) and "the credentials no longer work"
(:class:`AuthError`). A message never contains a credential.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class PlatformOrderStatus(StrEnum):
    """Where a platform order stands, in tierstock's words."""

    PAID = "paid"  # paid, not yet shipped: its units are promised
    SHIPPED = "shipped"  # shipped or delivered or completed
    CANCELLED = "cancelled"  # cancelled or fully refunded before shipping: units come back
    UNPAID = "unpaid"  # placed, not paid: no units promised yet (skipped)


@dataclass(frozen=True)
class PlatformOrderLine:
    platform_item_id: str
    platform_sku_id: str
    quantity: int
    paid_fen: int  # what the buyer paid for the line


@dataclass(frozen=True)
class PlatformOrder:
    platform_order_id: str
    status: PlatformOrderStatus
    paid_at: datetime | None
    updated_at: datetime  # the platform's last change of the order (drives the cursor)
    promised_ship_by: datetime | None  # Kuaishou's promiseTimeStampOfDelivery, …
    buyer: str | None  # an opaque buyer reference, never a phone number or address
    lines: tuple[PlatformOrderLine, ...]


@dataclass(frozen=True)
class OrderPage:
    orders: tuple[PlatformOrder, ...]
    cursor: str | None  # the next page's cursor; None when the platform said "no more"


@dataclass(frozen=True)
class SkuRef:
    """A platform SKU tierstock sells through (a channel link)."""

    platform_item_id: str
    platform_sku_id: str


class PlatformError(Exception):
    """A platform call failed; ``code`` is the platform's own error code if it gave one."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class RateLimitedError(PlatformError):
    """The platform asked us to slow down; ``retry_after`` seconds if it said."""

    def __init__(
        self, message: str, *, code: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class UnavailableError(PlatformError):
    """5xx, timeout or a cut connection: the call may or may not have taken effect."""


class RejectedError(PlatformError):
    """The platform refused the request (bad parameter, unknown SKU …)."""


class AuthError(PlatformError):
    """The app key, secret or access token was refused (expired token, bad signature)."""


class PlatformClient(Protocol):
    """One store's open API. Implementations are thread-safe and hold their own HTTP
    connection pool; ``close`` releases it."""

    platform: str  # "kuaishou", "douyin", "taobao"

    def list_orders(
        self, since: datetime, until: datetime, cursor: str | None, page_size: int
    ) -> OrderPage:
        """Orders whose last change lies in [since, until), one page; ``cursor`` is the
        previous page's (None for the first)."""
        ...

    def read_stock(self, sku: SkuRef) -> int:
        """The stock the platform shows buyers for this SKU now."""
        ...

    def change_stock(self, sku: SkuRef, delta: int) -> None:
        """Add (``delta`` > 0) or remove units. Not idempotent: after an
        :class:`UnavailableError` read the stock again before deciding to retry."""
        ...

    def set_stock(self, sku: SkuRef, figure: int) -> None:
        """Set the platform's figure. Platforms without an absolute update implement it
        as read, then change by the difference (so a retry after a failure re-reads)."""
        ...

    def close(self) -> None: ...
