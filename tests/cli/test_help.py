"""Help a merchant can read (issue #14): every command's ``--help``, walked from the
top-level group, shows no ``<bool>`` after a flag and no ``{name}`` for an argument;
``serve`` shows the address it binds; ``plan`` explains its repeatable options."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import typer
from typer import rich_utils
from typer.testing import CliRunner

from tierstock.cli import app, serve
from tierstock.config import Settings

runner = CliRunner()


@pytest.fixture(autouse=True)
def wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    """Help rendered 200 columns wide: each option and its help on one line."""
    monkeypatch.setattr(rich_utils, "MAX_WIDTH", 200)


def command_paths() -> Iterator[tuple[str, ...]]:
    """Every group and command of the CLI, as the words that reach it."""

    def walk(command: object, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        yield path
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            yield from walk(sub, (*path, name))

    yield from walk(typer.main.get_command(app), ())


def help_of(*path: str) -> str:
    result = runner.invoke(app, [*path, "--help"], prog_name="tierstock")
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


PATHS = list(command_paths())


def test_the_walk_reaches_every_noun_and_its_commands() -> None:
    for path in [("serve",), ("verify",), ("plan",), ("shops", "create"), ("count", "import")]:
        assert path in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "tierstock")
def test_no_help_shows_a_bool_type_or_a_braced_argument(path: tuple[str, ...]) -> None:
    shown = help_of(*path)
    assert "<bool>" not in shown
    options = shown.partition("─ Options ─")[2]
    assert "<list[" not in options  # a repeatable option shows the type of one value
    usage = shown.split("Usage:", 1)[1].split("╭", 1)[0]
    assert not re.search(r"\{\w+\}", usage), usage


def test_a_flag_is_listed_with_its_help_and_nothing_in_between() -> None:
    assert re.search(r"--follow\s+keep folding until interrupted", help_of("front", "fold"))
    assert re.search(r"--help\s+Show this message and exit", help_of())


def test_arguments_are_named_in_capitals_in_the_usage_line() -> None:
    assert "Usage: tierstock shops create [OPTIONS] NAME " in help_of("shops", "create")
    assert "Usage: tierstock policy show [OPTIONS] [NAME] " in help_of("policy", "show")
    assert "[OPTIONS] BATCHES... " in help_of("capacity", "propose")


def test_a_sub_app_without_commands_offers_no_command_in_its_usage() -> None:
    assert "Usage: tierstock plan [OPTIONS] " in help_of("plan")
    assert "COMMAND" not in help_of("plan").split("╭", 1)[0]


def test_serve_shows_the_address_it_binds_and_the_variables_that_change_it() -> None:
    shown = help_of("serve")
    assert "[env var: TIERSTOCK_HOST] [default: 127.0.0.1]" in shown
    assert "[env var: TIERSTOCK_PORT] [default: 8000]" in shown


def test_serves_defaults_are_the_settings_defaults() -> None:
    """serve spells its defaults out (its help must not import the settings)."""
    fields = Settings.model_fields
    assert fields["host"].default == serve.DEFAULT_HOST
    assert fields["port"].default == serve.DEFAULT_PORT


def test_plans_repeatable_options_say_what_they_take() -> None:
    shown = help_of("plan")
    assert "--batch QTY@YYYY-MM-DD confirmed capacity" in shown
    assert "--point MINUTE:WEIGHT a point of your own curve" in shown
    assert "--quantity QTY:WEIGHT quantity mix" in shown
