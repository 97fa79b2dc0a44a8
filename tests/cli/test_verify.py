"""`tierstock verify --shop N` for a shop that does not exist is a refusal (issue #14)."""

from __future__ import annotations

from .conftest import Cli, Shop, one_error_line


def test_verify_of_an_unknown_shop_exits_1_naming_the_option(cli: Cli, shop: Shop) -> None:
    result = cli("verify", "--shop", str(shop.id + 1_000))
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: --shop: no shop {shop.id + 1_000}"


def test_verify_of_a_shop_that_exists_checks_its_tiers(cli: Cli, shop: Shop) -> None:
    result = cli("verify", "--shop", str(shop.id))
    assert result.exit_code == 0, result.output
    assert "ledger check passed: 2 stock tiers equal their ledger" in result.output
