"""Policy packs: every rule number of docs/rules.md §2 comes from the Kuaishou pack file."""

from __future__ import annotations

import dataclasses
import tomllib
from typing import Any

import pytest
from pydantic import ValidationError

from tierstock.domain.errors import NotFoundError
from tierstock.domain.policy import PolicyPack
from tierstock.policies import available_packs, load_pack, pack_text, parse_pack


@pytest.fixture()
def kuaishou() -> PolicyPack:
    return load_pack("kuaishou")


def raw_kuaishou() -> dict[str, Any]:
    return tomllib.loads(pack_text("kuaishou"))


def test_kuaishou_pack_loads_with_its_name_version_and_china_time(kuaishou):
    assert kuaishou.name == "kuaishou"
    assert kuaishou.version
    assert kuaishou.display_timezone == "Asia/Shanghai"


def test_kuaishou_spot_windows_are_24_48_and_72_hours(kuaishou):
    assert kuaishou.spot.windows_hours == (24, 48, 72)


def test_kuaishou_presale_runs_4_to_90_days(kuaishou):
    assert (kuaishou.presale.min_days, kuaishou.presale.max_days) == (4, 90)


def test_kuaishou_tiered_uses_the_spot_windows_and_a_3_to_5_day_presale_tier(kuaishou):
    assert kuaishou.tiered.spot_windows_hours == (24, 48, 72)
    assert (kuaishou.tiered.presale_min_days, kuaishou.tiered.presale_max_days) == (3, 5)


def test_the_pack_cannot_be_changed_while_running(kuaishou):
    with pytest.raises(dataclasses.FrozenInstanceError):
        kuaishou.presale.max_days = 365


def test_available_packs_lists_kuaishou_in_name_order():
    packs = available_packs()
    assert "kuaishou" in packs
    assert packs == sorted(packs)


def test_every_available_pack_loads():
    for name in available_packs():
        assert load_pack(name).name == name


def test_an_unknown_pack_is_not_found_and_the_message_lists_the_known_ones():
    with pytest.raises(NotFoundError) as info:
        load_pack("nope")
    assert "nope" in info.value.message
    assert "kuaishou" in info.value.message
    assert info.value.field == "policy"


def test_pack_text_keeps_the_comments_that_cite_sources():
    text = pack_text("kuaishou")
    assert "assumption" in text
    assert "docs/rules.md §2" in text


def test_parsing_the_pack_file_gives_the_loaded_pack(kuaishou):
    assert parse_pack(raw_kuaishou()) == kuaishou


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("presale", "max_days"),
        ("spot", "windows_hours"),
        ("tiered", "presale_min_days"),
        ("orders", "max_line_quantity"),
    ],
)
def test_a_pack_missing_a_key_is_refused_naming_the_key(section, key):
    raw = raw_kuaishou()
    del raw[section][key]
    with pytest.raises(ValidationError) as info:
        parse_pack(raw)
    assert key in str(info.value)
    assert any(err["loc"][-2:] == (section, key) for err in info.value.errors())


def test_a_pack_missing_its_timezone_is_refused_naming_it():
    raw = raw_kuaishou()
    del raw["pack"]["display_timezone"]
    with pytest.raises(ValidationError, match="display_timezone"):
        parse_pack(raw)


def test_a_pack_with_a_word_where_a_number_belongs_is_refused():
    raw = raw_kuaishou()
    raw["presale"]["min_days"] = "four"
    with pytest.raises(ValidationError, match="min_days"):
        parse_pack(raw)
