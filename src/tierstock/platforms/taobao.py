"""Taobao open platform (TOP) adapter: :class:`TaobaoClient` implements
:class:`~tierstock.platforms.base.PlatformClient`.

Which documented API each need uses, and why:

- **Orders in** — ``taobao.trades.sold.increment.get`` (developer.alibaba.com
  ``api.htm?apiId=128``): the seller's trades *modified* in a window
  (``start_modified`` / ``end_modified``, ``yyyy-MM-dd HH:mm:ss`` in GMT+8), so a paid,
  cancelled or shipped trade comes back in the window of its change. The docs limit one
  request to a one-day span (and recommend 30 minutes or less), sort the answer by
  modification time, newest first, and say to page **from the last page back to the
  first** so that no trade is missed. So the client cuts ``[since, until)`` into chunks
  (30 minutes by default), and in each chunk reads page 1 with ``use_has_next=false`` to
  learn ``total_results``; when there is more than one page it reads the last page, then
  the ones before it. A trade modified while we page leaves the window and can only make
  us read another one twice, never skip it. Give an ``until`` a little in the past. The
  cursor is ``"<chunk>:<page>"``; chunks with no trade are passed over in one call.
  ``fields`` asks only for what tierstock needs; ``buyer_nick`` is in it because the
  docs return ``buyer_open_uid`` (the opaque buyer reference kept) only then.
- **Stock read** — ``taobao.item.sku.get`` (``apiId=38967`` is its Tmall twin with the
  same fields): one SKU's ``quantity``.
- **Stock write** — ``taobao.item.quantity.update`` (``apiId=38973``, the same for
  Tmall): ``type=1`` sets the figure (:meth:`TaobaoClient.set_stock`), ``type=2`` adds
  ``quantity`` (negative to remove; the sum may not go below zero)
  (:meth:`TaobaoClient.change_stock`).

Every call is a form POST to ``{server_url}/router/rest`` with ``method``, ``app_key``,
``session``, ``timestamp`` (GMT+8), ``format=json``, ``v=2.0``, ``sign_method`` and
``sign`` next to the business fields. :func:`sign` is the documented TOP signature
(``API调用方法详解``): every parameter but ``sign`` and empty ones, sorted by name, as
``name+value``; MD5 of it wrapped in the app secret, or HMAC-MD5 / HMAC-SHA256 of it
keyed with the secret; uppercase hex.

Errors come as ``{"error_response": {code, msg, sub_code, sub_msg}}``: the call-limit
codes (4–8, ``App Call Limited`` with ``This ban will last for N more seconds``) →
:class:`RateLimitedError` with ``retry_after``; code 10 and ``isp.*`` sub-codes (the
docs: a server-side fault, try again later), HTTP 5xx, timeouts and cut connections →
:class:`UnavailableError`; the signature, session and app-key codes (24–29) →
:class:`AuthError`; anything else → :class:`RejectedError`. Money comes in yuan
(``"19.90"``) and is turned into fen; times into aware UTC datetimes. The app secret and
the session key are never in an error, a log line or a repr (they travel in the POST
body, not the URL httpx logs).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import httpx

from tierstock.platforms.base import (
    AuthError,
    OrderPage,
    PlatformError,
    PlatformOrder,
    PlatformOrderLine,
    PlatformOrderStatus,
    RateLimitedError,
    RejectedError,
    SkuRef,
    UnavailableError,
)
from tierstock.platforms.http import json_or_none, send

DEFAULT_SERVER_URL = "https://eco.taobao.com"
SIGN_METHODS = ("md5", "hmac", "hmac-sha256")
CHINA = timezone(timedelta(hours=8), "GMT+8")  # TOP's times are GMT+8
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
MAX_SPAN = timedelta(days=1)  # end_modified - start_modified <= 1天
TRADE_FIELDS = ",".join(
    (
        "tid",
        "tid_str",
        "status",
        "pay_time",
        "modified",
        "consign_time",
        "buyer_nick",  # only then does the answer carry buyer_open_uid
        "buyer_open_uid",
        "orders.oid",
        "orders.num_iid",
        "orders.sku_id",
        "orders.num",
        "orders.payment",
        "orders.status",
        "orders.estimate_con_time",
    )
)

TRADE_STATUS = {
    "TRADE_NO_CREATE_PAY": PlatformOrderStatus.UNPAID,
    "WAIT_BUYER_PAY": PlatformOrderStatus.UNPAID,
    "PAY_PENDING": PlatformOrderStatus.UNPAID,
    "WAIT_PRE_AUTH_CONFIRM": PlatformOrderStatus.UNPAID,
    "WAIT_SELLER_SEND_GOODS": PlatformOrderStatus.PAID,
    "SELLER_CONSIGNED_PART": PlatformOrderStatus.PAID,
    "PAID_FORBID_CONSIGN": PlatformOrderStatus.PAID,
    "WAIT_BUYER_CONFIRM_GOODS": PlatformOrderStatus.SHIPPED,
    "TRADE_BUYER_SIGNED": PlatformOrderStatus.SHIPPED,
    "TRADE_FINISHED": PlatformOrderStatus.SHIPPED,
    "TRADE_CLOSED": PlatformOrderStatus.CANCELLED,
    "TRADE_CLOSED_BY_TAOBAO": PlatformOrderStatus.CANCELLED,
}

RATE_LIMIT_CODES = frozenset({4, 5, 6, 7, 8})  # User/Session/Partner/App call limited …
AUTH_CODES = frozenset({24, 25, 26, 27, 28, 29})  # signature, session, app key
UNAVAILABLE_CODES = frozenset({10})  # Service Currently Unavailable
BAN = re.compile(r"ban will last for (\d+) more seconds", re.IGNORECASE)


def sign(params: Mapping[str, str], app_secret: str, sign_method: str = "md5") -> str:
    """The documented TOP signature (uppercase hex) of every parameter but ``sign`` and
    those with an empty value, sorted by name and joined as ``name+value``."""
    joined = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k])
    secret = app_secret.encode()
    if sign_method == "md5":
        return hashlib.md5(secret + joined.encode() + secret).hexdigest().upper()
    if sign_method == "hmac":
        return hmac.new(secret, joined.encode(), hashlib.md5).hexdigest().upper()
    if sign_method == "hmac-sha256":
        return hmac.new(secret, joined.encode(), hashlib.sha256).hexdigest().upper()
    raise ValueError(f"unsupported sign_method {sign_method!r} (use one of {SIGN_METHODS})")


def top_time(at: datetime) -> str:
    return at.astimezone(CHINA).strftime(TIME_FORMAT)


def _utc(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=CHINA).astimezone(UTC)
    except ValueError:
        return None


def _fen(yuan: object) -> int:
    """``"19.90"`` yuan → 1990 fen."""
    try:
        amount = Decimal(str(yuan))
    except InvalidOperation:
        raise UnavailableError(f"taobao answer: {yuan!r} is not an amount") from None
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _numeric_id(value: str, field: str) -> str:
    if not value.isdigit():
        raise RejectedError(f"taobao {field} must be a number, got {value!r}")
    return value


class TaobaoClient:
    """One Taobao shop, through the app key, app secret and the seller's session key."""

    platform = "taobao"

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        session: str,
        server_url: str = DEFAULT_SERVER_URL,
        sign_method: str = "md5",
        timeout_s: float = 10.0,
        window_chunk: timedelta = timedelta(minutes=30),
    ) -> None:
        if sign_method not in SIGN_METHODS:
            raise ValueError(f"unsupported sign_method {sign_method!r}")
        if not timedelta(seconds=1) <= window_chunk <= MAX_SPAN - timedelta(seconds=1):
            raise ValueError("window_chunk must lie between 1 s and one day less 1 s")
        self._app_key = app_key
        self._secret = app_secret
        self._session = session
        self._server_url = server_url.rstrip("/")
        self._sign_method = sign_method
        self._chunk = window_chunk
        self._http = httpx.Client(timeout=timeout_s)

    def __repr__(self) -> str:
        return f"TaobaoClient(server_url={self._server_url!r}, app_key={self._app_key!r})"

    # --- PlatformClient ----------------------------------------------------------------
    def list_orders(
        self, since: datetime, until: datetime, cursor: str | None, page_size: int
    ) -> OrderPage:
        size = min(max(page_size, 1), MAX_PAGE_SIZE)
        chunks = self._chunks(since, until)
        chunk, page = self._parse_cursor(cursor)
        while chunk < len(chunks):
            low, high = chunks[chunk]
            if page == 0:  # first look at this chunk: how many pages?
                first = self._increment(low, high, 1, size)
                pages = math.ceil(_total(first) / size)
                if pages <= 1:
                    orders = self._orders(first, low, high)
                    chunk += 1
                    if orders or chunk == len(chunks):
                        return OrderPage(orders, self._cursor(chunk, 0, len(chunks)))
                    continue
                page = pages  # from the last page back (module docstring)
            data = self._increment(low, high, page, size)
            after = (chunk, page - 1) if page > 1 else (chunk + 1, 0)
            return OrderPage(self._orders(data, low, high), self._cursor(*after, len(chunks)))
        return OrderPage((), None)

    def read_stock(self, sku: SkuRef) -> int:
        answer = self._call(
            "taobao.item.sku.get",
            {
                "fields": "sku_id,num_iid,quantity",
                "num_iid": self._item(sku),
                "sku_id": self._sku(sku),
            },
        )
        found = answer.get("sku")
        if not isinstance(found, dict) or not isinstance(found.get("quantity"), int):
            raise UnavailableError("taobao taobao.item.sku.get: no quantity in the answer")
        quantity: int = found["quantity"]
        return quantity

    def change_stock(self, sku: SkuRef, delta: int) -> None:
        if delta == 0:
            return
        self._quantity_update(sku, delta, full=False)

    def set_stock(self, sku: SkuRef, figure: int) -> None:
        self._quantity_update(sku, figure, full=True)

    def close(self) -> None:
        self._http.close()

    # --- the calls -----------------------------------------------------------------------
    def _quantity_update(self, sku: SkuRef, quantity: int, *, full: bool) -> None:
        self._call(
            "taobao.item.quantity.update",
            {
                "num_iid": self._item(sku),
                "sku_id": self._sku(sku),
                "quantity": str(quantity),
                "type": "1" if full else "2",
            },
        )

    def _increment(self, low: datetime, high: datetime, page: int, size: int) -> dict[str, Any]:
        start = low.replace(microsecond=0)
        end = high if high.microsecond == 0 else high.replace(microsecond=0) + timedelta(seconds=1)
        return self._call(
            "taobao.trades.sold.increment.get",
            {
                "fields": TRADE_FIELDS,
                "start_modified": top_time(start),
                "end_modified": top_time(end),
                "page_no": str(page),
                "page_size": str(size),
                "use_has_next": "false",
            },
        )

    def _call(self, method: str, business: Mapping[str, str]) -> dict[str, Any]:
        params = {
            "method": method,
            "app_key": self._app_key,
            "session": self._session,
            "timestamp": top_time(datetime.now(UTC)),
            "format": "json",
            "v": "2.0",
            "sign_method": self._sign_method,
            **business,
        }
        params["sign"] = sign(params, self._secret, self._sign_method)
        url = f"{self._server_url}/router/rest"
        response = send("taobao", method, lambda: self._http.post(url, data=params))
        return self._unwrap(method, response)

    def _unwrap(self, method: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        payload = json_or_none("taobao", method, response)
        if not isinstance(payload, dict):
            if status == 200:
                raise UnavailableError(f"taobao {method}: unreadable answer")
            raise RejectedError(f"taobao {method}: HTTP {status}")
        error = payload.get("error_response")
        if isinstance(error, dict):
            raise self._error(method, error)
        # taobao.trades.sold.increment.get answers in trades_sold_increment_get_response
        body = payload.get(method.removeprefix("taobao.").replace(".", "_") + "_response")
        if not isinstance(body, dict):
            raise UnavailableError(f"taobao {method}: unreadable answer")
        return body

    def _error(self, method: str, error: Mapping[str, Any]) -> PlatformError:
        code = error.get("code")
        sub_code = str(error.get("sub_code") or "")
        sub_msg = str(error.get("sub_msg") or "")
        text = " ".join(str(p) for p in (code, error.get("msg"), sub_code, sub_msg) if p)
        message = self._scrub(f"taobao {method}: {text}")
        ident = sub_code or str(code)
        if code in RATE_LIMIT_CODES or sub_code.startswith("accesscontrol.limited"):
            ban = BAN.search(sub_msg)
            return RateLimitedError(
                message, code=ident, retry_after=float(ban.group(1)) if ban else None
            )
        if code in UNAVAILABLE_CODES or sub_code.startswith("isp."):
            return UnavailableError(message, code=ident)
        if code in AUTH_CODES:
            return AuthError(message, code=ident)
        return RejectedError(message, code=ident)

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._session):
            if secret:
                text = text.replace(secret, "***")
        return text

    # --- windows and cursors -------------------------------------------------------------
    def _chunks(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        chunks = []
        low = since
        while low < until:
            high = min(low + self._chunk, until)
            chunks.append((low, high))
            low = high
        return chunks

    @staticmethod
    def _parse_cursor(cursor: str | None) -> tuple[int, int]:
        if cursor is None:
            return 0, 0
        chunk, _, page = cursor.partition(":")
        if not (chunk.isdigit() and page.isdigit()):
            raise ValueError(f"not a taobao order cursor: {cursor!r}")
        return int(chunk), int(page)

    @staticmethod
    def _cursor(chunk: int, page: int, chunks: int) -> str | None:
        return None if chunk >= chunks else f"{chunk}:{page}"

    @staticmethod
    def _item(sku: SkuRef) -> str:
        return _numeric_id(sku.platform_item_id, "num_iid")

    @staticmethod
    def _sku(sku: SkuRef) -> str:
        if not sku.platform_sku_id:
            raise RejectedError("taobao items without SKUs are not supported")
        return _numeric_id(sku.platform_sku_id, "sku_id")

    # --- trades --------------------------------------------------------------------------
    def _orders(
        self, data: Mapping[str, Any], low: datetime, high: datetime
    ) -> tuple[PlatformOrder, ...]:
        trades = data.get("trades") or {}  # absent when no trade matched
        rows = trades.get("trade") if isinstance(trades, dict) else None
        if not isinstance(trades, dict) or not isinstance(rows or [], list):
            raise UnavailableError("taobao trades: unreadable trade list")
        orders = (self._order(row) for row in rows or [])
        return tuple(o for o in orders if low <= o.updated_at < high)

    @staticmethod
    def _order(row: Any) -> PlatformOrder:
        if not isinstance(row, dict):
            raise UnavailableError("taobao trades: unreadable trade")
        tid = str(row.get("tid_str") or row.get("tid") or "")
        updated_at = _utc(row.get("modified"))
        if not tid or updated_at is None:
            raise UnavailableError("taobao trades: trade without tid or modified")
        status = TRADE_STATUS.get(str(row.get("status")))
        if status is None:
            raise RejectedError(f"taobao trade {tid}: unknown status {row.get('status')!r}")
        if status is PlatformOrderStatus.CANCELLED and row.get("consign_time"):
            # closed after shipping (a refund with return): the units left the warehouse
            # (assumption: tierstock counts them as shipped)
            status = PlatformOrderStatus.SHIPPED
        wrapper = row.get("orders") or {}
        lines_in = (wrapper.get("order") if isinstance(wrapper, dict) else None) or []
        if not isinstance(lines_in, list):
            raise UnavailableError(f"taobao trade {tid}: unreadable orders")
        lines = tuple(_line(tid, line) for line in lines_in)
        # estimate_con_time (子订单预计发货时间) is a string; assumption: yyyy-MM-dd HH:mm:ss,
        # any other form is ignored rather than guessed
        ship_by = [d for d in (_utc(line.get("estimate_con_time")) for line in lines_in) if d]
        buyer = row.get("buyer_open_uid")
        return PlatformOrder(
            platform_order_id=tid,
            status=status,
            paid_at=_utc(row.get("pay_time")),
            updated_at=updated_at,
            promised_ship_by=min(ship_by) if ship_by else None,
            buyer=str(buyer) if buyer else None,
            lines=lines,
        )


def _line(tid: str, line: Any) -> PlatformOrderLine:
    if not isinstance(line, dict) or not isinstance(line.get("num"), int):
        raise UnavailableError(f"taobao trade {tid}: unreadable order")
    return PlatformOrderLine(
        platform_item_id=str(line.get("num_iid")),
        platform_sku_id=str(line.get("sku_id") or ""),
        quantity=line["num"],
        paid_fen=_fen(line.get("payment")),  # 子订单实付金额, yuan
    )


def _total(data: Mapping[str, Any]) -> int:
    total = data.get("total_results")
    if isinstance(total, int) and not isinstance(total, bool):
        return total
    raise UnavailableError("taobao taobao.trades.sold.increment.get: no total_results")
