"""docs/rules.md §2 sales forms, as the Kuaishou pack allows them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tierstock.domain.errors import InvalidSalesFormError
from tierstock.domain.sales_forms import (
    TIERS_BY_FORM,
    SalesForm,
    SalesFormSpec,
    Tier,
    validate_sales_form,
)
from tierstock.policies import load_pack

PACK = load_pack("kuaishou")
TODAY = date(2025, 11, 20)


def validate(spec: SalesFormSpec) -> SalesFormSpec:
    return validate_sales_form(spec, PACK, today=TODAY)


def refusal(spec: SalesFormSpec) -> InvalidSalesFormError:
    with pytest.raises(InvalidSalesFormError) as info:
        validate(spec)
    return info.value


# --- spot 现货 -------------------------------------------------------------------------


@pytest.mark.parametrize("hours", [24, 48, 72])
def test_spot_accepts_each_window_the_pack_allows(hours):
    assert validate(SalesFormSpec(SalesForm.SPOT, spot_window_hours=hours)) == SalesFormSpec(
        SalesForm.SPOT, spot_window_hours=hours
    )


@pytest.mark.parametrize("hours", [0, 12, 36, 96, None])
def test_spot_refuses_a_window_outside_the_list_and_names_the_allowed_ones(hours):
    error = refusal(SalesFormSpec(SalesForm.SPOT, spot_window_hours=hours))
    assert error.field == "spot_window_hours"
    assert error.code == "invalid_sales_form"
    for allowed in ("24", "48", "72"):
        assert allowed in error.message


def test_spot_drops_presale_fields_it_does_not_use():
    spec = SalesFormSpec(
        SalesForm.SPOT,
        spot_window_hours=48,
        presale_days=10,
        presale_ship_by=TODAY + timedelta(days=10),
    )
    assert validate(spec) == SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)


# --- presale 预售, days after payment ----------------------------------------------------


@pytest.mark.parametrize("days", [4, 30, 90])
def test_presale_accepts_days_from_4_to_90(days):
    assert validate(SalesFormSpec(SalesForm.PRESALE, presale_days=days)) == SalesFormSpec(
        SalesForm.PRESALE, presale_days=days
    )


@pytest.mark.parametrize("days", [0, 3, 91, -5])
def test_presale_refuses_days_outside_4_to_90(days):
    error = refusal(SalesFormSpec(SalesForm.PRESALE, presale_days=days))
    assert error.field == "presale_days"
    assert "4" in error.message and "90" in error.message


def test_presale_drops_a_spot_window_it_does_not_use():
    spec = SalesFormSpec(SalesForm.PRESALE, spot_window_hours=48, presale_days=10)
    assert validate(spec) == SalesFormSpec(SalesForm.PRESALE, presale_days=10)


# --- presale 预售, fixed ship-by date -----------------------------------------------------


@pytest.mark.parametrize("ahead", [4, 45, 90])
def test_presale_accepts_a_fixed_date_4_to_90_days_ahead(ahead):
    ship_by = TODAY + timedelta(days=ahead)
    assert validate(SalesFormSpec(SalesForm.PRESALE, presale_ship_by=ship_by)) == (
        SalesFormSpec(SalesForm.PRESALE, presale_ship_by=ship_by)
    )


@pytest.mark.parametrize("ahead", [-1, 0, 3, 91, 365])
def test_presale_refuses_a_fixed_date_outside_the_window(ahead):
    ship_by = TODAY + timedelta(days=ahead)
    error = refusal(SalesFormSpec(SalesForm.PRESALE, presale_ship_by=ship_by))
    assert error.field == "presale_ship_by"
    assert ship_by.isoformat() in error.message


def test_presale_fixed_date_window_is_counted_from_the_day_given_as_today():
    ship_by = date(2025, 12, 25)
    spec = SalesFormSpec(SalesForm.PRESALE, presale_ship_by=ship_by)
    validate_sales_form(spec, PACK, today=ship_by - timedelta(days=4))
    with pytest.raises(InvalidSalesFormError):
        validate_sales_form(spec, PACK, today=ship_by - timedelta(days=3))


def test_presale_refuses_both_days_and_a_fixed_date():
    spec = SalesFormSpec(
        SalesForm.PRESALE, presale_days=10, presale_ship_by=TODAY + timedelta(days=10)
    )
    assert "exactly one" in refusal(spec).message


def test_presale_refuses_neither_days_nor_a_fixed_date():
    error = refusal(SalesFormSpec(SalesForm.PRESALE))
    assert "exactly one" in error.message
    assert error.field == "presale_days"


# --- tiered 现货+预售阶梯发货 ---------------------------------------------------------------


@pytest.mark.parametrize("hours", [24, 48, 72])
@pytest.mark.parametrize("days", [3, 4, 5])
def test_tiered_accepts_a_spot_window_and_a_presale_tier_of_3_to_5_days(hours, days):
    spec = SalesFormSpec(SalesForm.TIERED, spot_window_hours=hours, presale_days=days)
    assert validate(spec) == spec


@pytest.mark.parametrize("days", [2, 6, 30, None])
def test_tiered_refuses_a_presale_tier_outside_3_to_5_days(days):
    error = refusal(SalesFormSpec(SalesForm.TIERED, spot_window_hours=48, presale_days=days))
    assert error.field == "presale_days"
    assert "3" in error.message and "5" in error.message


@pytest.mark.parametrize("hours", [0, 12, 36, 96, None])
def test_tiered_refuses_a_spot_window_outside_the_list(hours):
    error = refusal(SalesFormSpec(SalesForm.TIERED, spot_window_hours=hours, presale_days=5))
    assert error.field == "spot_window_hours"
    assert "24" in error.message and "72" in error.message


def test_tiered_drops_a_fixed_presale_date_it_does_not_use():
    spec = SalesFormSpec(SalesForm.TIERED, 48, 5, presale_ship_by=TODAY + timedelta(days=5))
    assert validate(spec) == SalesFormSpec(SalesForm.TIERED, 48, 5)


# --- tiers per form ----------------------------------------------------------------------


def test_tiered_sells_spot_first_then_presale():
    assert TIERS_BY_FORM[SalesForm.TIERED] == (Tier.SPOT, Tier.PRESALE)
    assert SalesFormSpec(SalesForm.TIERED, 48, 5).tiers == (Tier.SPOT, Tier.PRESALE)


def test_spot_and_presale_forms_each_sell_only_their_own_tier():
    assert TIERS_BY_FORM[SalesForm.SPOT] == (Tier.SPOT,)
    assert TIERS_BY_FORM[SalesForm.PRESALE] == (Tier.PRESALE,)


def test_every_sales_form_has_its_tiers():
    assert set(TIERS_BY_FORM) == set(SalesForm)
