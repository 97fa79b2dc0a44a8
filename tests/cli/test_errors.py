"""Every failure a merchant can meet is one readable line on stderr and a non-zero exit
code — from the console script's entry point (``main``) down to each noun's commands."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tierstock import cli
from tierstock.cli import support
from tierstock.services.runtime import Runtime

from .conftest import Cli, Shop, one_error_line


def _main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["tierstock", *args])
    with pytest.raises(SystemExit) as done:
        cli.main()
    return int(done.value.code or 0)


def test_a_database_that_cannot_be_opened_is_one_line_and_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"
    monkeypatch.setenv("TIERSTOCK_DATABASE_URL", url)
    assert _main(monkeypatch, "db", "upgrade") == 1
    err = capsys.readouterr().err
    assert err.startswith("database error: ") and "unable to open database file" in err
    assert len(err.strip().splitlines()) == 1


def test_an_unexpected_failure_is_one_line_naming_its_type(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken() -> Runtime:
        raise RuntimeError("disk on fire\n  more detail nobody asked for")

    monkeypatch.setattr(support, "runtime_factory", broken)
    assert _main(monkeypatch, "db", "upgrade") == 1
    assert capsys.readouterr().err == "error: RuntimeError: disk on fire\n"


def test_main_reports_a_refusal_naming_the_option_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], cli: Cli, shop: Shop
) -> None:
    assert _main(monkeypatch, "orders", "show", "999999", "--shop", str(shop.id)) == 1
    assert capsys.readouterr().err == "error: order_id: no order 999999 in this shop\n"


def test_usage_errors_keep_typers_message_and_exit_code_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _main(monkeypatch, "orders", "show", "--bogus") == 2
    err = capsys.readouterr().err
    assert "No such option: --bogus" in err and "Traceback" not in err


def test_a_sub_apps_own_callback_names_the_option_too(cli: Cli) -> None:
    """`promises` and `eligibility` run a report from their callback, not a command."""
    for noun in ("promises", "eligibility", "events"):
        result = cli(noun, "--shop", "999999")
        assert result.exit_code == 1, (noun, result.output)
        assert one_error_line(result) == "error: --shop: no shop 999999", noun


def test_a_refusal_in_an_argument_named_field_names_the_argument(cli: Cli, shop: Shop) -> None:
    """`tierstock ship line ORDER LINE …`: the service's ``line_no`` is the argument."""
    result = cli("ship", "line", "999999", "1", "SF", "X1", "--shop", str(shop.id))
    assert result.exit_code == 1
    assert one_error_line(result) == "error: line: no line 1 of order 999999 in this shop"
