"""`tierstock plan` names its own options when it refuses (issue #14): not the service's
fields (``sku_id``, ``sales_form``), but what a person retypes (``--sku``, ``--form``)."""

from __future__ import annotations

import pytest

from .conftest import Cli, Shop, one_error_line


def test_plan_without_a_sku_names_the_options_to_give(cli: Cli, shop: Shop) -> None:
    shop_id = str(shop.id)
    result = cli("plan", "--shop", shop_id, "--buyers", "10")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: give --sku (the SKU's own form) or --form"
    result = cli("plan", "--shop", shop_id, "--buyers", "10", "--form", "spot")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: give --sku (the SKU's own price) or --price-fen"


def test_a_malformed_batch_names_the_option_and_the_shape(cli: Cli, shop: Shop) -> None:
    shop_id, sku = str(shop.id), str(shop.sku_id)
    result = cli("plan", "--shop", shop_id, "--sku", sku, "--batch", "500")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: --batch: '500' is not QTY@YYYY-MM-DD"


@pytest.mark.parametrize(
    ("given", "option"),
    [
        (["--form", "spot", "--spot-window", "5"], "--spot-window"),
        (["--form", "presale", "--presale-days", "500"], "--presale-days"),
        (["--form", "spot", "--spot-window", "24", "--batch", "5@2099-01-01"], "--batch"),
        (["--form", "spot", "--spot-window", "24", "--point", "500:1"], "--point"),
    ],
)
def test_a_refused_value_names_the_option_it_came_from(
    cli: Cli, shop: Shop, given: list[str], option: str
) -> None:
    result = cli("plan", "--shop", str(shop.id), "--price-fen", "100", "--buyers", "10", *given)
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: {option}: "), result.output
