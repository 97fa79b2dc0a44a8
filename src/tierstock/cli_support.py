"""What every `tierstock` command module shares: the consoles, the one-line error, the
runtime, and how times are shown.

The consoles never wrap lines at the terminal width (pipes and logs read whole lines),
and every text a user or the database supplied is escaped before Rich reads markup in
it — the two bugs the first CLI tests found, fixed once here for every command.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape

from tierstock.config import Settings
from tierstock.domain.errors import DomainError
from tierstock.policies import load_pack
from tierstock.services.runtime import Runtime
from tierstock.services.shops import get_shop

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one readable line on stderr; raise the returned Exit to stop."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def guard(fn: Callable[[], None]) -> None:
    """Run ``fn``; a refusal becomes one line and exit 1 (also under CliRunner, where
    :func:`tierstock.cli.main`'s own handler is not in the way)."""
    try:
        fn()
    except DomainError as exc:
        raise fail(exc.message) from None


def open_runtime() -> Runtime:
    """The configured runtime; a CLI command never runs the front's folder thread
    (``tierstock front fold`` does, in the foreground)."""
    return Runtime.from_settings(Settings(), fold=False)


def display_zone() -> ZoneInfo:
    """Times not tied to a shop are shown in the packs' display zone (Asia/Shanghai)."""
    return ZoneInfo(load_pack("kuaishou").display_timezone)


def shop_zone(runtime: Runtime, shop_id: int) -> ZoneInfo:
    """The display zone of the shop's own policy pack."""
    return ZoneInfo(
        load_pack(get_shop(shop_id, runtime.uow(readonly=True)).policy).display_timezone
    )


def local_time(dt: datetime | None, zone: ZoneInfo) -> str:
    return "—" if dt is None else f"{dt.astimezone(zone):%m-%d %H:%M}"
