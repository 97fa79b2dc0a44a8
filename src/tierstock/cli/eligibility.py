"""`tierstock eligibility …`: eligibility is a shop's right to sell tiered SKUs (§6)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tierstock.cli.support import ACTOR, NounApp, ShopOpt, fail, new_table, open_runtime, out
from tierstock.domain.eligibility import ScorePoint, percent, score

if TYPE_CHECKING:
    from tierstock.services import eligibility

app = NounApp(help="Tiered-shipping eligibility (docs/rules.md §6).", invoke_without_command=True)

MaybeShop = Annotated[int | None, typer.Option("--shop", help="shop id")]


@app.callback()
def show(ctx: typer.Context, shop: MaybeShop = None) -> None:
    """Store score and spot-order share against the thresholds, trend and culprits."""
    if ctx.invoked_subcommand is not None:
        return
    if shop is None:
        raise fail("say which shop: --shop ID")
    from tierstock.services import eligibility

    r = eligibility.eligibility_report(shop, open_runtime().uow(readonly=True))
    v = r.verdict
    verdict = "[green]eligible[/]" if v.eligible else "[bold red]not eligible[/]"
    out.print(f"tiered shipping for shop {shop}: {verdict}")
    for reason in v.reasons:
        out.print(f"  - {reason}")
    _print_figures(r)
    _print_trends(r)


def _print_figures(r: eligibility.EligibilityReport) -> None:
    v, rules = r.verdict, r.rules
    table = new_table("figure", "value", "threshold", title="figures")
    table.add_row(
        "store score (店铺分)", score(v.score_centi), f"≥ {score(rules.min_store_score_centi)}"
    )
    table.add_row(
        f"spot-order share, {rules.window_days} days",
        f"{percent(v.share_bp)} ({r.share.spot_lines}/{r.share.paid_lines})",
        f"≥ {percent(rules.min_spot_share_bp)} from {rules.min_paid_lines} lines",
    )
    out.print(table)


def _print_trends(r: eligibility.EligibilityReport) -> None:
    """The score and share over time, and which products and SKUs pull them down."""
    out.print(
        "score trend: " + ", ".join(f"{p.scored_on} {score(p.score_centi)}" for p in r.scores)
        or "score trend: none"
    )
    out.print(
        "share trend: " + ", ".join(f"{p.until} {percent(p.share.share_bp)}" for p in r.share_trend)
    )
    for p in r.pulling:
        out.print(
            f"pulls the share down: {p.name} (product {p.product_id}): "
            f"{p.presale_lines} of {p.paid_lines} lines presale"
        )
    for sku in r.non_compliant:
        out.print(
            f"[yellow]non-compliant tiered SKU[/] {sku.code} ({sku.product_name}): "
            "keeps selling; " + "; ".join(r.verdict.reasons)
        )


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"--day: not a YYYY-MM-DD date: {text!r}") from None


def _centi(text: str) -> int:
    try:
        return int(Decimal(text.strip()) * 100)
    except InvalidOperation:
        raise fail(f"not a score: {text!r}") from None


@app.command("score")
def add_score(
    value: str,
    shop: ShopOpt,
    day: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today)")] = None,
) -> None:
    """Enter the store score of one day."""
    from tierstock.services import eligibility

    when = _day(day) if day else date.today()
    eligibility.record_scores(
        eligibility.RecordScores(shop, (ScorePoint(when, _centi(value)),), ACTOR),
        open_runtime().uow(),
    )
    out.print(f"store score {value} recorded for {when}")


@app.command("import")
def import_scores(path: Path, shop: ShopOpt) -> None:
    """Import a CSV of `date,score` rows (a header row is skipped)."""
    from tierstock.services import eligibility

    points = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for row in csv.reader(fh):
            if not row or not row[0][:1].isdigit():
                continue
            points.append(ScorePoint(date.fromisoformat(row[0].strip()), _centi(row[1])))
    n = eligibility.record_scores(
        eligibility.RecordScores(shop, tuple(points), ACTOR), open_runtime().uow()
    )
    out.print(f"{n} store scores imported")
