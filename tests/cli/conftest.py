"""The CLI run in-process (Typer's CliRunner) on a real SQLite database.

``support.runtime_factory`` is the one hook every command module opens its runtime
through, so pointing it at this database serves every noun at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tierstock.cli import app, support
from tierstock.services import catalogue
from tierstock.services.demo import BurstPlan, seed_tiered_sku
from tierstock.services.runtime import Runtime


@pytest.fixture(scope="module")
def sqlite_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    path: Path = tmp_path_factory.mktemp("cli") / "cli.db"
    runtime = Runtime.open(f"sqlite:///{path}")
    yield runtime
    runtime.engine.dispose()


@dataclass(frozen=True)
class Cli:
    """``tierstock …`` in-process, on the test database."""

    runner: CliRunner

    def __call__(self, *args: str) -> Result:
        return self.runner.invoke(app, list(args))


@pytest.fixture()
def cli(sqlite_runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Cli:
    monkeypatch.setattr(support, "runtime_factory", lambda: sqlite_runtime)
    return Cli(CliRunner())


@dataclass(frozen=True)
class Shop:
    """A fresh shop with one listed product whose tiered SKU holds 3 spot + 5 presale."""

    id: int
    product_id: int
    sku_id: int


@pytest.fixture()
def shop(sqlite_runtime: Runtime) -> Shop:
    shop_id, sku_id = seed_tiered_sku(sqlite_runtime, BurstPlan(spot=3, presale=5))
    [product] = catalogue.list_products(shop_id, sqlite_runtime.uow(readonly=True))
    return Shop(shop_id, product.id, sku_id)


def one_error_line(result: Result) -> str:
    """The refusal a user reads: exactly one non-empty line, no traceback."""
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    return lines[0]
