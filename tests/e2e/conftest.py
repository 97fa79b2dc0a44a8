"""End-to-end fixtures: the real ``tierstock serve`` process, spoken to over HTTP.

One server per backend per test run (it follows the session-scoped, parametrised
``database_url`` fixture), so every e2e test runs against SQLite and PostgreSQL. Each
test makes its own shop, so tests never see each other's data.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tierstock.testing import served

ERROR_KEYS = {"error", "field", "message"}


@pytest.fixture(scope="session")
def server_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``tierstock serve`` on a free port against this backend; yield its base URL.

    Cards are read fresh here (cache off): the tests read a card right after changing
    stock. tests/e2e/test_card_cache_api.py runs its own server with the cache on."""
    log = tmp_path_factory.mktemp("server") / "serve.log"
    with served(database_url, log, env={"TIERSTOCK_CARD_CACHE_SECONDS": "0"}) as (base, _):
        yield base


class _SharedTransport(httpx.BaseTransport):
    """One connection pool for every client of a run; closing a client leaves it open
    (so making a client per shop costs no new pool or TLS context)."""

    def __init__(self) -> None:
        self.pool = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.pool.handle_request(request)

    def close(self) -> None:
        pass


class ShopClient:
    """An HTTP client speaking for one shop (its key in X-API-Key), plus helpers.

    ``http`` is a plain ``httpx.Client`` that sends the shop's key by default; pass
    ``headers={"X-API-Key": ...}`` to speak with another key.
    """

    def __init__(
        self, base_url: str, shop: dict[str, Any], transport: httpx.BaseTransport | None = None
    ) -> None:
        self.shop = shop
        self.id: int = shop["id"]
        self.key: str = shop["api_key"]
        self.http = httpx.Client(
            base_url=base_url, headers={"X-API-Key": self.key}, timeout=60, transport=transport
        )

    # raw verbs -----------------------------------------------------------------------
    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.post(path, **kw)

    def put(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.put(path, **kw)

    # catalogue -----------------------------------------------------------------------
    def create_product(self, name: str = "连衣裙", **extra: Any) -> dict[str, Any]:
        r = self.post("/products", json={"name": name, **extra})
        assert r.status_code == 201, r.text
        body: dict[str, Any] = r.json()
        return body

    def add_sku(self, product_id: int, **fields: Any) -> dict[str, Any]:
        body = {
            "code": f"SKU-{uuid.uuid4().hex[:8]}",
            "price_fen": 19_900,
            "sales_form": {"form": "tiered", "spot_window_hours": 48, "presale_days": 5},
            **fields,
        }
        r = self.post(f"/products/{product_id}/skus", json=body)
        assert r.status_code == 201, r.text
        sku: dict[str, Any] = r.json()
        return sku

    def list_product(self, product_id: int) -> None:
        r = self.post(f"/products/{product_id}/list")
        assert r.status_code == 200, r.text
        assert r.json()["listed"] is True

    def delist_product(self, product_id: int) -> None:
        r = self.post(f"/products/{product_id}/delist")
        assert r.status_code == 200, r.text
        assert r.json()["listed"] is False

    def listed_sku(self, *, spot: int = 10, presale: int = 10, **fields: Any) -> dict[str, Any]:
        """A listed product with one SKU (tiered 48 h + 5 days unless told otherwise)."""
        product = self.create_product(fields.pop("product_name", "连衣裙"))
        sku = self.add_sku(product["id"], spot_stock=spot, presale_stock=presale, **fields)
        self.list_product(product["id"])
        return sku

    # stock and orders ----------------------------------------------------------------
    def stock(self, sku_id: int) -> dict[str, dict[str, int]]:
        r = self.get(f"/skus/{sku_id}/stock")
        assert r.status_code == 200, r.text
        return {t["tier"]: t for t in r.json()["tiers"]}

    def available(self, sku_id: int) -> dict[str, int]:
        return {tier: t["available"] for tier, t in self.stock(sku_id).items()}

    def card(self, product_id: int) -> dict[str, Any]:
        r = self.get(f"/products/{product_id}/card")
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    def order(
        self,
        lines: list[tuple[int, int]] | list[dict[str, int]] | list[dict[str, object]],
        *,
        key: str | None = "auto",
        buyer: str | None = None,
    ) -> httpx.Response:
        """POST /orders; ``key="auto"`` sends a fresh Idempotency-Key, ``None`` sends none."""
        body: dict[str, Any] = {
            "lines": [
                ln if isinstance(ln, dict) else {"sku_id": ln[0], "quantity": ln[1]} for ln in lines
            ]
        }
        if buyer is not None:
            body["buyer"] = buyer
        headers = {}
        if key is not None:
            headers["Idempotency-Key"] = uuid.uuid4().hex if key == "auto" else key
        return self.post("/orders", json=body, headers=headers)

    def close(self) -> None:
        self.http.close()


class Api:
    """Entry point for a test: an anonymous client and a factory of shops."""

    def __init__(self, base_url: str, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url
        self.transport = transport
        self.anon = httpx.Client(base_url=base_url, timeout=60, transport=transport)
        self._clients: list[httpx.Client] = [self.anon]

    def new_shop(self, name: str = "小店") -> ShopClient:
        r = self.anon.post("/shops", json={"name": name})
        assert r.status_code == 201, r.text
        assert r.json()["api_key"]
        shop = ShopClient(self.base_url, r.json(), self.transport)
        self._clients.append(shop.http)
        return shop

    def close(self) -> None:
        for client in self._clients:
            client.close()


@pytest.fixture(scope="session")
def _transport(server_url: str) -> Iterator[_SharedTransport]:
    """Keep-alive connections to this backend's server, shared by every test."""
    shared = _SharedTransport()
    yield shared
    shared.pool.close()


@pytest.fixture()
def api(server_url: str, _transport: _SharedTransport) -> Iterator[Api]:
    a = Api(server_url, _transport)
    yield a
    a.close()


@pytest.fixture()
def shop(api: Api) -> ShopClient:
    """A fresh shop of its own for this test."""
    return api.new_shop("测试小店")


def assert_error(
    r: httpx.Response,
    status: int | None = None,
    *,
    error: str | None = None,
    field: str | None = None,
) -> dict[str, Any]:
    """A refusal in the one error shape: 4xx JSON {"error","field","message"}, no trace."""
    assert "Traceback" not in r.text, r.text
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    if status is not None:
        assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body: dict[str, Any] = r.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["message"], str) and body["message"]
    if error is not None:
        assert body["error"] == error, body
    if field is not None:
        assert body["field"] == field, body
    return body
