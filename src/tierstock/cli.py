"""`tierstock` command line (Typer + Rich).

Every refusal prints one readable line on stderr and exits non-zero; no traceback
reaches the user.
"""

from __future__ import annotations

import sys
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from tierstock.cli_capacity import capacity_app
from tierstock.cli_counts import count_app, events_app
from tierstock.cli_front import front_app
from tierstock.cli_plan import plan_app
from tierstock.cli_promises import eligibility_app, promises_app, shipments_app
from tierstock.cli_support import display_zone, err, fail, open_runtime, out
from tierstock.config import Settings
from tierstock.domain.access import Role
from tierstock.domain.errors import DomainError
from tierstock.domain.sales_forms import Tier
from tierstock.policies import available_packs, load_pack, pack_text
from tierstock.services import front_admin, keys, shops
from tierstock.services.demo import BurstPlan, BurstReport, run_burst
from tierstock.services.verify import verify_ledger

app = typer.Typer(
    help="tierstock: stock and shipping promises that never oversell.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
policy_app = typer.Typer(help="Policy packs (every rule number lives there).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys per shop and role (stored hashed).", no_args_is_help=True)
shops_app = typer.Typer(help="Shops.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(policy_app, name="policy")
app.add_typer(keys_app, name="keys")
app.add_typer(shops_app, name="shops")
app.add_typer(promises_app, name="promises")
app.add_typer(eligibility_app, name="eligibility")
app.add_typer(shipments_app, name="ship")
app.add_typer(count_app, name="count")
app.add_typer(events_app, name="events")
app.add_typer(capacity_app, name="capacity")
app.add_typer(plan_app, name="plan")
app.add_typer(front_app, name="front")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="server processes; more than 1 is for PostgreSQL (SQLite has one writer)",
        ),
    ] = 1,
) -> None:
    """Run the REST API (OpenAPI at /docs) and the workbench (/web/)."""
    import uvicorn

    settings = Settings()
    open_runtime().engine.dispose()  # migrate once, before any worker starts
    host, port = host or settings.host, port or settings.port
    out.print(f"tierstock API on http://{host}:{port}/docs, workbench on http://{host}:{port}/web/")
    uvicorn.run(
        "tierstock.api.main:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@app.command()
def demo(
    buyers: Annotated[int, typer.Option(min=1, max=100_000)] = 1000,
    workers: Annotated[int, typer.Option(min=1, max=256, help="concurrent buyers")] = 32,
    spot: Annotated[int, typer.Option(min=0)] = 100,
    presale: Annotated[int, typer.Option(min=0)] = 400,
    max_quantity: Annotated[
        int, typer.Option(min=1, max=10, help="each buyer wants 1..N units")
    ] = 1,
) -> None:
    """Seed a shop with a tiered SKU and let a live-stream burst of buyers pay at once."""
    runtime = open_runtime()
    plan = BurstPlan(
        buyers=buyers, workers=workers, spot=spot, presale=presale, max_quantity=max_quantity
    )
    with Progress(console=out, transient=True) as progress:
        task = progress.add_task("buyers paying", total=buyers)
        report = run_burst(runtime, plan, on_paid=lambda: progress.advance(task))
    _print_report(report, display_zone())
    if report.oversold_units or report.units_held_twice or not report.ledger_ok:
        raise fail("the burst broke an invariant (see the summary above)")


def _print_report(r: BurstReport, zone: ZoneInfo) -> None:
    table = Table(title=f"Live-stream burst: {r.plan.buyers} buyers, {r.plan.workers} at once")
    table.add_column("tier")
    table.add_column("stock", justify="right")
    table.add_column("units sold", justify="right")
    table.add_column("orders", justify="right")
    table.add_column("ship-by promised (Asia/Shanghai)")
    stock = {Tier.SPOT: r.plan.spot, Tier.PRESALE: r.plan.presale}
    for tier in Tier:
        span = r.promises.get(tier)
        text = "—"
        if span:
            fmt = "%m-%d %H:%M"
            text = f"{span[0].astimezone(zone):{fmt}} … {span[1].astimezone(zone):{fmt}}"
        table.add_row(
            tier.value,
            str(stock[tier]),
            str(r.units_sold[tier]),
            str(r.lines_by_tier.get(tier, 0)),
            text,
        )
    out.print(table)
    ok = "[green]passed[/]" if r.ledger_ok else "[red]FAILED[/]"
    out.print(
        Panel.fit(
            f"buyers refused (sold out): {r.buyers_refused}\n"
            f"oversold units: {r.oversold_units}   units sold twice: {r.units_held_twice}\n"
            f"ledger check: {ok}\n"
            f"{r.plan.buyers / r.seconds:,.0f} orders/s over {r.seconds:.2f} s "
            f"(shop {r.shop_id}, SKU {r.sku_id})",
            title="summary",
        )
    )


@app.command()
def verify(
    shop: Annotated[int | None, typer.Option(help="only this shop")] = None,
) -> None:
    """Recompute every stock figure from the ledger; exit 1 naming each SKU that disagrees."""
    runtime = open_runtime()
    checked, mismatches = verify_ledger(runtime.uow(readonly=True), shop)
    for m in mismatches:
        err.print(f"[red]mismatch:[/] {escape(m.describe())}", highlight=False)
    if mismatches:
        raise fail(f"{len(mismatches)} of {checked} stock tiers disagree with the ledger")
    out.print(f"ledger check passed: {checked} stock tiers equal their ledger")
    if runtime.front is not None:
        leases = front_admin.reconcile(runtime.front)
        for x in leases:
            err.print(
                f"[red]mismatch:[/] front lease {x.lease_id} (SKU id {x.sku_id} "
                f"{x.tier}): the database says {x.outstanding} unit(s) are with the "
                f"front, Redis holds {x.in_redis}",
                highlight=False,
            )
        if leases:
            raise fail(
                f"{len(leases)} front lease(s) disagree with Redis; "
                "`tierstock front drain` gives back what Redis no longer holds"
            )
        out.print("front check passed: every open lease equals what Redis holds")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema (the other commands do this on start too)."""
    open_runtime()
    out.print("database schema is up to date")


@policy_app.command("show")
def policy_show(
    name: Annotated[str, typer.Argument(help="pack name")] = "kuaishou",
) -> None:
    """Print a policy pack with the comments that say where each number comes from."""
    out.print(pack_text(name), highlight=False, markup=False)


@policy_app.command("list")
def policy_list() -> None:
    """Names of the shipped policy packs."""
    for name in available_packs():
        out.print(f"{name}  (version {load_pack(name).version})")


ShopOpt = Annotated[int, typer.Option("--shop", help="shop id")]


@shops_app.command("create")
def shops_create(
    name: Annotated[str, typer.Argument(help="shop name")],
    policy: Annotated[str, typer.Option(help="policy pack")] = "kuaishou",
) -> None:
    """Create a shop and print its owner key (shown once)."""
    created = shops.create_shop(shops.CreateShop(name, policy), open_runtime().uow())
    out.print(
        f"shop {created.shop.id} created; owner key (shown once): {created.api_key}",
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("create")
def keys_create(
    shop: ShopOpt,
    role: Annotated[str, typer.Option(help=f"one of: {', '.join(r.value for r in Role)}")],
    label: Annotated[str, typer.Option(help="who or what the key is for")] = "",
    supplier_id: Annotated[int | None, typer.Option(help="role supplier: its supplier")] = None,
) -> None:
    """Create a key; it is printed once and only its digest is stored."""
    created = keys.create_key(
        keys.CreateKey(shop, role, label, "cli", supplier_id), open_runtime().uow()
    )
    out.print(
        f"key {created.info.id} ({role}) for shop {shop}: {created.api_key}",
        highlight=False,
        soft_wrap=True,
    )


@keys_app.command("list")
def keys_list(shop: ShopOpt) -> None:
    """The shop's keys (never the keys themselves)."""
    table = Table(title=f"API keys of shop {shop}")
    for col in ("id", "role", "label", "created", "revoked"):
        table.add_column(col)
    zone = display_zone()
    for k in keys.list_keys(shop, open_runtime().uow(readonly=True)):
        revoked = f"{k.revoked_at.astimezone(zone):%Y-%m-%d %H:%M}" if k.revoked_at else ""
        table.add_row(
            str(k.id), k.role, k.label, f"{k.created_at.astimezone(zone):%Y-%m-%d %H:%M}", revoked
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(
    shop: ShopOpt, key_id: Annotated[int, typer.Argument(help="key id from `keys list`")]
) -> None:
    """Revoke a key: it stops working at once."""
    keys.revoke_key(keys.RevokeKey(shop, key_id, "cli"), open_runtime().uow())
    out.print(f"key {key_id} of shop {shop} revoked")


def main() -> None:
    """Entry point: turn every refusal into one line and a non-zero exit code."""
    try:
        code = app(standalone_mode=False)  # returns the code of a typer.Exit
        if isinstance(code, int) and code:
            sys.exit(code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except DomainError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        sys.exit(1)
    except SQLAlchemyError as exc:
        first = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        err.print(f"[bold red]database error:[/] {escape(first)}", highlight=False)
        sys.exit(1)
    except typer.Abort:
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors: Typer's own message and usage line
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(int(getattr(exc, "exit_code", 2)))
    except Exception as exc:  # anything unexpected: one line, never a traceback
        err.print(f"[bold red]error:[/] {type(exc).__name__}: {escape(str(exc))}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
