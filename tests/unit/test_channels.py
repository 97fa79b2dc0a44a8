"""Channel quotas (domain/channels.py): derived from the pool and the SKU's rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierstock.domain.channels import (
    Channel,
    Platform,
    QuotaRule,
    RuleKind,
    check_rule,
    check_shares,
    figure,
    quotas,
)
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.sales_forms import Tier

TIERED = (Tier.SPOT, Tier.PRESALE)
KS = Channel(1, 1, Platform.KUAISHOU, "快手店", live=False)
DY = Channel(2, 1, Platform.DOUYIN, "抖店", live=False)
OWN = Channel(3, 1, Platform.OWN, "官网", live=False)


def test_without_rules_every_store_shows_the_pool_less_the_safety_stock() -> None:
    got = quotas({Tier.SPOT: 100, Tier.PRESALE: 400}, TIERED, [KS, DY, OWN], {}, safety=10)
    assert got[KS.id] == {Tier.SPOT: 90, Tier.PRESALE: 390}
    assert got[DY.id] == {Tier.SPOT: 90, Tier.PRESALE: 390}
    assert got[OWN.id] == {Tier.SPOT: 100, Tier.PRESALE: 400}  # no lag: no safety stock


def test_shares_and_fixed_quotas_split_what_is_left() -> None:
    rules = {
        KS.id: QuotaRule(KS.id, RuleKind.SHARE, 70),
        DY.id: QuotaRule(DY.id, RuleKind.FIXED, 25),
    }
    got = quotas({Tier.SPOT: 45, Tier.PRESALE: 10}, TIERED, [KS, DY], rules, safety=5)
    assert got[KS.id] == {Tier.SPOT: 28, Tier.PRESALE: 3}  # 70 % of 40 and of 5, rounded down
    assert got[DY.id] == {Tier.SPOT: 25, Tier.PRESALE: 5}  # at most what is left


def test_a_live_lock_gives_the_live_store_the_whole_spot_tier_and_the_others_none() -> None:
    live_ks = Channel(1, 1, Platform.KUAISHOU, "快手店", live=True)
    rules = {live_ks.id: QuotaRule(live_ks.id, RuleKind.SHARE, 50)}
    pool = {Tier.SPOT: 100, Tier.PRESALE: 40}
    got = quotas(pool, TIERED, [live_ks, DY, OWN], rules, safety=0, live=live_ks.id)
    assert got[live_ks.id] == {Tier.SPOT: 100, Tier.PRESALE: 20}  # presale keeps its rule
    assert got[DY.id] == {Tier.SPOT: 0, Tier.PRESALE: 40}
    assert got[OWN.id][Tier.SPOT] == 100
    assert figure(got[live_ks.id]) == 120


def test_rules_are_checked_before_they_are_stored() -> None:
    with pytest.raises(InvalidValueError):
        check_rule(RuleKind.SHARE, 101)
    with pytest.raises(InvalidValueError):
        check_rule(RuleKind.FIXED, -1)
    with pytest.raises(InvalidValueError, match="130 %"):
        check_shares([QuotaRule(1, RuleKind.SHARE, 70), QuotaRule(2, RuleKind.SHARE, 60)])


rule_st = st.one_of(
    st.none(),
    st.builds(QuotaRule, st.just(0), st.just(RuleKind.SHARE), st.integers(0, 100)),
    st.builds(QuotaRule, st.just(0), st.just(RuleKind.FIXED), st.integers(0, 1000)),
)


@given(
    spot=st.integers(-5, 500),
    presale=st.integers(0, 500),
    safety=st.integers(0, 50),
    rule=rule_st,
    live=st.booleans(),
)
def test_no_store_is_ever_offered_more_than_the_pool_holds(
    spot: int, presale: int, safety: int, rule: QuotaRule | None, live: bool
) -> None:
    ks = Channel(1, 1, Platform.KUAISHOU, "ks", live=live)
    rules = {} if rule is None else {1: QuotaRule(1, rule.kind, rule.value)}
    pool = {Tier.SPOT: spot, Tier.PRESALE: presale}
    got = quotas(pool, TIERED, [ks, DY], rules, safety, live=ks.id if live else None)
    for channel in (ks.id, DY.id):
        assert 0 <= got[channel][Tier.SPOT] <= max(spot - safety, 0)
        assert 0 <= got[channel][Tier.PRESALE] <= max(presale - safety, 0)
    if live:
        assert got[DY.id][Tier.SPOT] == 0
