"""What every `tierstock` command module shares: the consoles, the one-line error, the
runtime, and how times are shown.

The consoles never wrap lines at the terminal width (pipes and logs read whole lines),
and every text a user or the database supplied is escaped before Rich reads markup in
it — the two bugs the first CLI tests found, fixed once here for every command.

A refusal (:class:`DomainError`) names the field in the services' words (``sku_id``);
:class:`NounApp` turns it into one line naming the command's own option (``--sku``),
so a merchant sees what to retype. The CLI never imports SQLAlchemy or the store:
database failures are recognised by their class's module (:func:`database_failure`).

Every call starts by importing every command module (Typer needs the command objects),
so this module and the command modules stay light at import: the services, the store,
the settings and the policy packs (SQLAlchemy, pydantic, …) are imported inside the
functions that use them, and ``tierstock --help`` never loads them.

Help reads like a man page: a flag shows no ``<bool>`` type after it (it takes no
value), a repeatable option the type of one value, and the usage line names an argument
``NAME`` (``[NAME]`` when optional).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.markup import escape
from typer._click.core import Context, Parameter
from typer.core import TyperCommand, TyperGroup, TyperOption
from typer.models import CommandFunctionType

from tierstock.domain.errors import DomainError

if TYPE_CHECKING:
    from rich.table import Table

    from tierstock.services.runtime import Runtime

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

ACTOR = "cli"  # who the audit trail says acted: whoever holds the database
ShopOpt = Annotated[int, typer.Option("--shop", help="shop id")]


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one readable line on stderr; raise the returned Exit to stop."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def _configured_runtime() -> Runtime:
    """The runtime of the environment's settings; a CLI command never runs the front's
    folder thread (``tierstock front fold`` does, in the foreground)."""
    from tierstock.config import Settings
    from tierstock.services.runtime import Runtime

    return Runtime.from_settings(Settings(), fold=False)


#: How commands get a runtime; tests replace it with one on their own database.
runtime_factory: Callable[[], Runtime] = _configured_runtime


def open_runtime() -> Runtime:
    """The runtime every command uses, looked up at call time so one test hook
    (:data:`runtime_factory`) serves every command module."""
    return runtime_factory()


def display_zone() -> ZoneInfo:
    """Times not tied to a shop are shown in the packs' display zone (Asia/Shanghai)."""
    from tierstock.policies import load_pack

    return ZoneInfo(load_pack("kuaishou").display_timezone)


def shop_zone(runtime: Runtime, shop_id: int) -> ZoneInfo:
    """The display zone of the shop's own policy pack."""
    from tierstock.policies import load_pack
    from tierstock.services.shops import get_shop

    return ZoneInfo(
        load_pack(get_shop(shop_id, runtime.uow(readonly=True)).policy).display_timezone
    )


def open_shop(shop_id: int) -> tuple[Runtime, ZoneInfo]:
    """The runtime and the shop's display zone, for a command that shows the shop's
    times; an unknown shop is refused here, before anything is read (naming ``--shop``)."""
    runtime = open_runtime()
    return runtime, shop_zone(runtime, shop_id)


def local_time(dt: datetime | None, zone: ZoneInfo) -> str:
    return "—" if dt is None else f"{dt.astimezone(zone):%m-%d %H:%M}"


def print_items(label: str, items: Sequence[object]) -> None:
    """``label: a, b, c`` on stdout; nothing at all when there are no items."""
    if items:
        out.print(f"{label}: {', '.join(map(str, items))}")


def new_table(*columns: str, right: Collection[str] = (), **settings: Any) -> Table:
    """A Rich table with these column headers; the ``right`` ones (figures, money) are
    right-aligned, the others left. ``settings`` go to :class:`Table` (title, …)."""
    from rich.table import Table

    table = Table(**settings)
    for col in columns:
        table.add_column(col, justify="right" if col in right else "left")
    return table


# --- refusals name the command's own option -----------------------------------------


#: Service field names whose CLI option is spelled differently (plural, or shorter).
FIELD_OPTIONS = {
    "batches": "batch",
    "quantities": "quantity",
    "sku_ids": "sku",
    "sku_codes": "sku",
    "spot_quantity": "spot",
    "duration_minutes": "minutes",
    "spot_window_hours": "spot_window",
    "buyer_consent": "consent",
    "points": "point",
}


def option_named(field: str | None, command: TyperCommand | TyperGroup) -> str | None:
    """The command's option or argument a service field stands for: ``sku_id`` is
    ``--sku``, ``line_no`` is ``--line``, ``order_id`` the argument ``order_id``. A
    nested field is named by its innermost part the command has an option for:
    ``sales_form.spot_window_hours`` is ``--spot-window``, ``batches[0].ready_on``
    ``--batch``."""
    parts = [p for p in re.split(r"[.\[\]]", field or "") if p and not p.isdigit()]
    for part in reversed(parts):
        names = {part, part.removesuffix("_id"), part.removesuffix("_no"), FIELD_OPTIONS.get(part)}
        for param in command.params:
            if param.name in names:
                if param.param_type_name != "option":  # an argument, as `--help` names it
                    return param.metavar or param.name
                return next((o for o in param.opts if o.startswith("--")), param.opts[0])
    return None


def refusal(exc: DomainError, command: TyperCommand | TyperGroup) -> str:
    """The refusal's message, led by the option to correct when the command has one."""
    option = option_named(exc.field, command)
    return exc.message if option is None else f"{option}: {exc.message}"


def _refusing(
    callback: Callable[..., Any] | None, command: TyperCommand | TyperGroup
) -> Callable[..., Any] | None:
    """Wrap the callback Typer built, so the command's own parameters are at hand when a
    service refuses (the context is gone by the time ``run_app`` sees the error)."""
    if callback is None:
        return None

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except DomainError as exc:
            raise fail(refusal(exc, command)) from None

    return run


# --- help a person can read ----------------------------------------------------------


_LIST_TYPE = re.compile(r"<list\[(?P<item>.+)\]>")


def _plain_types(params: list[Parameter], ctx: Context) -> list[Parameter]:
    """The type help shows after an option is what one occurrence takes. Typer's Rich
    help prints each option's type unless it has a metavar: ``<bool>`` after every flag
    (``--help`` and ``--install-completion`` included), though a flag takes no value —
    an empty metavar hides it; ``<list[str]>`` after a repeatable option, which takes
    one ``<str>`` each time."""
    for param in params:
        if not isinstance(param, TyperOption) or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.multiple and (m := _LIST_TYPE.fullmatch(param.display_type(ctx))):
            param.metavar = f"<{m['item']}>"
    return params


_REQUIRED_ARGUMENT = re.compile(r"\{(?P<name>[^{}\s]+)\}(?P<more>\.\.\.)?")
_OPTIONAL_ARGUMENT = re.compile(r"\[(?P<name>[^\[\]\s]+)\](?P<more>\.\.\.)?")


def _usage_piece(piece: str) -> str:
    """An argument as a usage line names it: ``NAME``, ``[NAME]`` when optional,
    ``NAME...`` when repeated — not Typer's ``{name}``."""
    if m := _REQUIRED_ARGUMENT.fullmatch(piece):
        return m["name"].upper() + (m["more"] or "")
    if m := _OPTIONAL_ARGUMENT.fullmatch(piece):
        return f"[{m['name'].upper()}]" + (m["more"] or "")
    return piece


class RefusingCommand(TyperCommand):
    """A command whose refusals are one line naming its option, exit 1 — also under
    ``CliRunner``, where :func:`run_app`'s handler is not in the way."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callback = _refusing(self.callback, self)

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _plain_types(super().get_params(ctx), ctx)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [_usage_piece(p) for p in super().collect_usage_pieces(ctx)]


class RefusingGroup(TyperGroup):
    """A sub-app whose own callback (``tierstock promises --shop 1``) refuses alike.
    One without commands (``tierstock plan``) has no ``COMMAND [ARGS]...`` in its usage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callback = _refusing(self.callback, self)

    def get_params(self, ctx: Context) -> list[Parameter]:
        return _plain_types(super().get_params(ctx), ctx)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = super().collect_usage_pieces(ctx)
        if not self.commands and pieces and pieces[-1] == self.subcommand_metavar:
            pieces.pop()
        return [_usage_piece(p) for p in pieces]


class NounApp(typer.Typer):
    """The Typer of one noun: its commands and callback refuse in one line."""

    def __init__(self, **settings: Any) -> None:
        settings.setdefault("cls", RefusingGroup)
        settings.setdefault("pretty_exceptions_enable", False)
        super().__init__(**settings)

    def command(
        self, name: str | None = None, *, cls: type[TyperCommand] | None = None, **settings: Any
    ) -> Callable[[CommandFunctionType], CommandFunctionType]:
        return super().command(name, cls=cls or RefusingCommand, **settings)


# --- the console script's last line of defence --------------------------------------


def database_failure(exc: Exception) -> str | None:
    """The first line of a database error, or ``None`` for any other exception.

    Recognised by the module of its class, not by an ``except`` of SQLAlchemy's type:
    entry points do not import the store's library (only ``store/`` does)."""
    if not type(exc).__module__.startswith("sqlalchemy"):
        return None
    return _first_line(getattr(exc, "orig", None) or exc)


def _first_line(exc: object) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _exit_code_of(exc: Exception) -> int:
    """Print what the user must read about ``exc``; the exit code it deserves."""
    if isinstance(exc, typer.Exit):
        return exc.exit_code
    if isinstance(exc, typer.Abort):
        return 130
    if isinstance(exc, DomainError):
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        return 1
    if isinstance(exc, typer.TyperException):  # usage: Typer's own message and usage line
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        return int(getattr(exc, "exit_code", 2))
    database = database_failure(exc)
    if database is not None:
        err.print(f"[bold red]database error:[/] {escape(database)}", highlight=False)
    else:  # anything unexpected: one line, never a traceback
        line = f"{type(exc).__name__}: {_first_line(exc)}"
        err.print(f"[bold red]error:[/] {escape(line)}", highlight=False)
    return 1


def run_app(app: typer.Typer) -> NoReturn:
    """Run the console script: every refusal or failure becomes one line on stderr and
    a non-zero exit code (1; usage errors 2; Ctrl-C 130)."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
    except Exception as exc:
        sys.exit(_exit_code_of(exc))
    sys.exit(code if isinstance(code, int) else 0)
