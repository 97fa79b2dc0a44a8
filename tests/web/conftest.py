"""Workbench end-to-end fixtures: the real server, the real database, real Chromium.

The server is ``tierstock serve`` (the workbench is mounted at /web/). It follows the
session-scoped, parametrised ``database_url`` fixture, so these tests run
on SQLite and on PostgreSQL. Chromium is Debian's (/usr/bin/chromium), never a
downloaded build; ``scripts/install-web-test-deps.sh`` installs it and the fonts.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tierstock.testing import served

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# Pictures go to a temporary folder, so the test command leaves the git tree clean;
# `make screenshots` sets TIERSTOCK_SCREENSHOTS=docs/screenshots to refresh the README's.
SCREENSHOTS = Path(
    os.environ.get("TIERSTOCK_SCREENSHOTS")
    or Path(os.environ.get("TMPDIR", "/tmp")) / "tierstock-screenshots"
)
STARTUP_TIMEOUT_S = 30

playwright_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="session")
def web_url(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        message = "Chromium is missing: run scripts/install-web-test-deps.sh"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    log = tmp_path_factory.mktemp("web-server") / "serve.log"
    with served(database_url, log, ready_path="/web/signin") as (base, _):
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class Shop:
    """A shop made through the REST API, plus helpers to seed it like a merchant would."""

    def __init__(self, base: str, name: str) -> None:
        r = httpx.post(f"{base}/shops", json={"name": name}, timeout=30)
        assert r.status_code == 201, r.text
        self.id: int = r.json()["id"]
        self.key: str = r.json()["api_key"]
        self.http = httpx.Client(base_url=base, headers={"X-API-Key": self.key}, timeout=30)

    def listed_tiered_sku(self, name: str, *, spot: int, presale: int) -> dict[str, Any]:
        product = self.http.post("/products", json={"name": name})
        assert product.status_code == 201, product.text
        pid = product.json()["id"]
        sku = self.http.post(
            f"/products/{pid}/skus",
            json={
                "code": f"SKU-{uuid.uuid4().hex[:6]}",
                "price_fen": 19_900,
                "sales_form": {"form": "tiered", "spot_window_hours": 48, "presale_days": 5},
                "spot_stock": spot,
                "presale_stock": presale,
            },
        )
        assert sku.status_code == 201, sku.text
        assert self.http.post(f"/products/{pid}/list").status_code == 200
        body: dict[str, Any] = {**sku.json(), "product_id": pid}
        return body

    def sold(self, sku_id: int) -> dict[str, int]:
        r = self.http.get(f"/skus/{sku_id}/stock")
        assert r.status_code == 200, r.text
        return {t["tier"]: t["sold"] for t in r.json()["tiers"]}


@pytest.fixture()
def shop(web_url: str) -> Iterator[Shop]:
    s = Shop(web_url, f"直播小店-{uuid.uuid4().hex[:4]}")
    yield s
    s.http.close()


@pytest.fixture()
def page(browser: Any, web_url: str) -> Iterator[Any]:
    context = browser.new_context(
        base_url=web_url, viewport={"width": 1360, "height": 900}, locale="zh-CN", timezone_id="UTC"
    )
    # Offline: any request that leaves the server under test fails the page.
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(web_url) else route.abort(),
    )
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()


def sign_in(page: Any, key: str) -> None:
    page.goto("/web/signin")
    page.fill("input[name=api_key]", key)
    page.click("button[type=submit]")
    page.wait_for_url("**/web/")


def switch_language(page: Any, lang: str) -> None:
    link = page.locator(f"[data-testid=language-switch] a[data-lang={lang}]")
    if link.count():
        link.click()
        page.wait_for_load_state()


def screenshot(page: Any, name: str, backend: str) -> None:
    """Screenshots of the pages for the README (from the SQLite run only)."""
    if backend != "sqlite":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture()
def backend(database_url: str) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"
