"""Evidence for stock (库存依据) — docs/rules.md §3.5, on SQLite and PostgreSQL.

The seeds' first cautionary case is a merchant who sets fake stock and keeps selling.
Raising spot stock rests on a receipt (supplier + delivery note) or an approved count;
a plain raise is refused for the operator, allowed for the owner only as a flagged
override (always marked when a live session's lock holds the SKU), and every unit made
sellable without evidence is reported per SKU with who and when. The ledger still
equals stock throughout.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from typer.testing import CliRunner, Result

from tests.integration.test_burst import listed_sku, open_shop
from tierstock.cli import app, support
from tierstock.domain.counts import CountEntry
from tierstock.domain.errors import InvalidValueError, NotFoundError
from tierstock.domain.evidence import (
    DeliveryNoteAlreadyReceivedError,
    EvidenceBasis,
    StockNeedsEvidenceError,
    StockOverrideOwnerOnlyError,
    TierNotSoldError,
)
from tierstock.domain.ledger import LedgerKind
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier
from tierstock.services import audit, count_approval, counts, stock
from tierstock.services.channels import setup
from tierstock.services.runtime import Runtime
from tierstock.services.verify import verify_ledger

KEY = b"x" * 43 + b"="  # a Fernet key, to seal the test store's credentials
SPOT_ONLY = SalesFormSpec(SalesForm.SPOT, spot_window_hours=48)
PRESALE_ONLY = SalesFormSpec(SalesForm.PRESALE, presale_days=10)
OWNER, OPERATOR, WAREHOUSE = "owner", "operator", "warehouse"


def _spot(runtime: Runtime, shop: int, sku: int) -> tuple[int, int]:
    t = stock.read_stock(shop, sku, runtime.uow(readonly=True))[Tier.SPOT]
    return t.quantity, t.available


def _ledger_equals_stock(runtime: Runtime, shop: int) -> None:
    assert [m.describe() for m in verify_ledger(runtime.uow(readonly=True), shop)[1]] == []


def _go_live(runtime: Runtime, shop: int, sku: int) -> None:
    """A Kuaishou store takes the live lock (直播锁库) for the SKU: a live session."""
    channel = setup.add_channel(
        setup.AddChannel(
            shop,
            "kuaishou",
            "快手直播间",
            {"app_key": "a", "sign_secret": "s", "access_token": "t"},
            server_url="http://127.0.0.1:9",
        ),
        runtime.uow(),
        KEY,
    )
    setup.live_lock(setup.LiveLock(shop, channel.id, (sku,), "主播"), runtime.uow())


def _set(
    shop: int, sku: int, available: int, role: str, reason: str = "", override: bool = False
) -> stock.SetStock:
    actor = f"shop{shop}:{role}"
    why = reason or stock.SET_STOCK_REASON
    return stock.SetStock(shop, sku, Tier.SPOT, available, actor, why, role=role, override=override)


# --- the seed case: fake stock raised mid-live -----------------------------------------


def test_seed_case_stock_raised_mid_live_without_evidence(runtime: Runtime, clock) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "LIVE-HOT", spot=10, presale=0, form=SPOT_ONLY)
    _go_live(runtime, shop, sku)
    clock.now += timedelta(minutes=30)

    # the operator types a bigger number mid-live: refused, naming the field, nothing moves
    with pytest.raises(StockNeedsEvidenceError) as refused:
        stock.set_stock(_set(shop, sku, 500, OPERATOR, reason="还有货"), runtime.uow())
    assert refused.value.code == "stock_needs_evidence"
    assert refused.value.kind == "conflict"
    assert refused.value.field == "available"
    assert "during a live session" in refused.value.message
    assert "only the shop's owner" in refused.value.message
    # … and cannot override the rule
    with pytest.raises(StockOverrideOwnerOnlyError) as forbidden:
        stock.set_stock(
            _set(shop, sku, 500, OPERATOR, reason="还有货", override=True), runtime.uow()
        )
    assert (forbidden.value.kind, forbidden.value.field) == ("forbidden", "override")
    # nor can the warehouse: only the owner answers for stock without evidence
    with pytest.raises(StockNeedsEvidenceError):
        stock.set_stock(_set(shop, sku, 500, WAREHOUSE), runtime.uow())
    assert _spot(runtime, shop, sku) == (10, 10)

    # the owner too is refused without the explicit override, and an override needs a reason
    with pytest.raises(StockNeedsEvidenceError) as owner_refused:
        stock.set_stock(_set(shop, sku, 500, OWNER), runtime.uow())
    assert "override" in owner_refused.value.message
    with pytest.raises(InvalidValueError) as no_reason:
        stock.set_stock(_set(shop, sku, 500, OWNER, override=True), runtime.uow())
    assert no_reason.value.field == "reason"
    assert _spot(runtime, shop, sku) == (10, 10)

    # the owner's override goes through — flagged, during the live session
    clock.now += timedelta(minutes=1)
    after = stock.set_stock(
        _set(shop, sku, 500, OWNER, reason="样品间还有货，未开单", override=True), runtime.uow()
    )
    assert (after.quantity, after.available) == (500, 500)
    _ledger_equals_stock(runtime, shop)

    # the ledger says what the entry rests on
    last = stock.read_ledger_evidence(shop, sku, runtime.uow(readonly=True))[-1]
    assert (last.entry.kind, last.entry.quantity_delta) == (LedgerKind.SET_STOCK, 490)
    assert last.basis is EvidenceBasis.OVERRIDE and last.flagged
    assert last.recorded is not None and last.recorded.during_live

    # the audit trail flags it, with who, why and the live session
    trail = audit.audit_trail(shop, runtime.uow(readonly=True))
    (flag,) = [e for e in trail if e.action == stock.RAISED_WITHOUT_EVIDENCE]
    assert (flag.actor, flag.object_id, flag.reason) == (
        f"shop{shop}:owner",
        sku,
        "样品间还有货，未开单",
    )
    assert flag.detail["units"] == 490 and flag.detail["during_live"] is True

    # the report lists the units made sellable without evidence, with who and when
    report = stock.unevidenced(shop, runtime.uow(readonly=True))
    (entry,) = report.skus
    assert (entry.sku_id, entry.sku_code) == (sku, "LIVE-HOT")
    assert (entry.flagged_units, entry.live_units) == (490, 490)
    override = next(r for r in entry.raises if r.flagged)
    assert (override.actor, override.at, override.units) == (f"shop{shop}:owner", clock.now, 490)
    assert override.during_live and override.kind is LedgerKind.SET_STOCK
    assert report.flagged == ((entry, override),)
    # the opening stock of the SKU has no evidence either, and says so (not flagged)
    opening = next(r for r in entry.raises if not r.flagged)
    assert opening.opening and (opening.units, opening.basis) == (10, EvidenceBasis.NONE)
    assert report.units == 500 and report.flagged_units == 490


def test_a_receipt_with_supplier_and_delivery_note_raises_stock_and_is_not_flagged(
    runtime: Runtime,
) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "RECEIVED", spot=0, presale=0, form=SPOT_ONLY)
    _go_live(runtime, shop, sku)  # a genuine delivery mid-live is fine
    receipt = stock.ReceiveStock(
        shop,
        sku,
        Tier.SPOT,
        120,
        "仓管小王",
        "到货",
        supplier="义乌服装厂",
        delivery_note="SH-20261126-01",
        role=OPERATOR,
    )
    after = stock.receive_stock(receipt, runtime.uow())
    assert (after.quantity, after.available) == (120, 120)
    (entry,) = stock.read_ledger_evidence(shop, sku, runtime.uow(readonly=True))
    assert entry.basis is EvidenceBasis.RECEIPT and not entry.flagged
    assert entry.recorded is not None
    assert (entry.recorded.supplier, entry.recorded.delivery_note) == (
        "义乌服装厂",
        "SH-20261126-01",
    )
    assert stock.unevidenced(shop, runtime.uow(readonly=True)).skus == ()
    trail = audit.audit_trail(shop, runtime.uow(readonly=True))
    assert all(e.action != stock.RAISED_WITHOUT_EVIDENCE for e in trail)

    # one delivery note backs its goods once per SKU; another SKU may share the note
    with pytest.raises(DeliveryNoteAlreadyReceivedError) as twice:
        stock.receive_stock(receipt, runtime.uow())
    assert twice.value.field == "delivery_note"
    other = listed_sku(runtime, shop, "RECEIVED-2", spot=0, presale=0, form=SPOT_ONLY)
    stock.receive_stock(
        stock.ReceiveStock(
            shop, other, Tier.SPOT, 30, supplier="义乌服装厂", delivery_note="SH-20261126-01"
        ),
        runtime.uow(),
    )
    assert _spot(runtime, shop, sku) == (120, 120)
    _ledger_equals_stock(runtime, shop)


@pytest.mark.parametrize(
    ("supplier", "note", "field"),
    [("", "", "supplier"), ("义乌服装厂", "", "delivery_note"), ("", "SH-1", "supplier")],
)
def test_a_spot_receipt_without_its_paperwork_is_not_evidence(
    runtime: Runtime, supplier: str, note: str, field: str
) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "NO-PAPER", spot=5, presale=0, form=SPOT_ONLY)
    bare = stock.ReceiveStock(
        shop, sku, Tier.SPOT, 50, supplier=supplier, delivery_note=note, role=OPERATOR
    )
    with pytest.raises(StockNeedsEvidenceError) as refused:
        stock.receive_stock(bare, runtime.uow())
    assert refused.value.field == field
    assert "during a live session" not in refused.value.message
    assert _spot(runtime, shop, sku) == (5, 5)


def test_the_owner_may_receive_without_paperwork_only_as_a_flagged_override(
    runtime: Runtime,
) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "OWNER-RECEIPT", spot=0, presale=0, form=SPOT_ONLY)
    receipt = stock.ReceiveStock(
        shop, sku, Tier.SPOT, 8, "店主", "自己从档口拿的货", role=OWNER, override=True
    )
    stock.receive_stock(receipt, runtime.uow())
    (entry,) = stock.unevidenced(shop, runtime.uow(readonly=True)).skus
    (raised,) = entry.raises
    assert raised.flagged and not raised.during_live  # no live session: flagged all the same
    assert (raised.kind, raised.units, raised.reason) == (LedgerKind.RECEIPT, 8, "自己从档口拿的货")
    _ledger_equals_stock(runtime, shop)


def test_lowering_stock_needs_no_evidence_even_mid_live(runtime: Runtime) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "LOWER", spot=20, presale=0, form=SPOT_ONLY)
    _go_live(runtime, shop, sku)
    after = stock.set_stock(_set(shop, sku, 3, OPERATOR, reason="破损"), runtime.uow())
    assert (after.quantity, after.available) == (3, 3)
    unchanged = stock.set_stock(_set(shop, sku, 3, OPERATOR), runtime.uow())
    assert unchanged.available == 3
    report = stock.unevidenced(shop, runtime.uow(readonly=True))
    assert [r.units for s in report.skus for r in s.raises] == [20]  # the opening stock only
    _ledger_equals_stock(runtime, shop)


def test_an_approved_count_is_evidence(runtime: Runtime, clock) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "COUNTED", spot=4, presale=0, form=SPOT_ONLY)
    count = counts.open_count(counts.OpenCount(shop, sku_ids=(sku,)), runtime.uow())
    clock.now += timedelta(minutes=5)
    counts.record_counts(
        counts.RecordCounts(shop, count.id, (CountEntry("COUNTED", 40),)), runtime.uow()
    )
    count_approval.approve_count(
        count_approval.ApproveCount(shop, count.id, OWNER, "店主"), runtime.uow()
    )
    assert _spot(runtime, shop, sku) == (40, 40)
    last = stock.read_ledger_evidence(shop, sku, runtime.uow(readonly=True))[-1]
    assert (last.entry.kind, last.basis, last.flagged) == (
        LedgerKind.ADJUSTMENT,
        EvidenceBasis.COUNT,
        False,
    )
    report = stock.unevidenced(shop, runtime.uow(readonly=True))
    assert [(r.units, r.opening) for s in report.skus for r in s.raises] == [(4, True)]
    _ledger_equals_stock(runtime, shop)


def test_units_in_a_tier_the_form_does_not_sell_are_refused_not_hidden(runtime: Runtime) -> None:
    shop = open_shop(runtime)
    spot_only = listed_sku(runtime, shop, "SPOT-ONLY", spot=5, presale=0, form=SPOT_ONLY)
    presale_only = listed_sku(runtime, shop, "PRESALE-ONLY", spot=0, presale=5, form=PRESALE_ONLY)
    with pytest.raises(TierNotSoldError) as refused:
        stock.receive_stock(
            stock.ReceiveStock(
                shop, spot_only, Tier.PRESALE, 50, supplier="工厂", delivery_note="P-1"
            ),
            runtime.uow(),
        )
    assert (refused.value.code, refused.value.field) == ("tier_not_sold", "tier")
    assert "spot SKU sells no presale units" in refused.value.message
    with pytest.raises(TierNotSoldError):
        stock.set_stock(
            stock.SetStock(shop, spot_only, Tier.PRESALE, 50, role=OWNER), runtime.uow()
        )
    with pytest.raises(TierNotSoldError):
        stock.receive_stock(
            stock.ReceiveStock(
                shop, presale_only, Tier.SPOT, 5, supplier="工厂", delivery_note="S-1"
            ),
            runtime.uow(),
        )
    tiers = stock.read_stock(shop, spot_only, runtime.uow(readonly=True))
    assert tiers[Tier.PRESALE].quantity == 0
    # a tiered SKU's presale units take no receipt evidence: their basis is capacity (§5)
    tiered = listed_sku(runtime, shop, "TIERED", spot=0, presale=0)
    got = stock.receive_stock(
        stock.ReceiveStock(shop, tiered, Tier.PRESALE, 6, role=OPERATOR), runtime.uow()
    )
    assert got.available == 6
    _ledger_equals_stock(runtime, shop)


def test_the_report_of_an_unknown_shop_is_refused(runtime: Runtime) -> None:
    with pytest.raises(NotFoundError) as refused:
        stock.unevidenced(987_654_321, runtime.uow(readonly=True))
    assert refused.value.field == "shop_id"


# --- the CLI: `tierstock stock …` acts as the owner ------------------------------------


@pytest.fixture()
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setattr(support, "runtime_factory", lambda: runtime)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_the_cli_needs_evidence_or_the_flagged_override_and_reports_it(
    runtime: Runtime, cli
) -> None:
    shop = open_shop(runtime)
    sku = listed_sku(runtime, shop, "CLI-SKU", spot=2, presale=0, form=SPOT_ONLY)
    base = ["--shop", str(shop), "--sku", str(sku), "--tier", "spot"]

    refused = cli("stock", "set", *base, "--available", "50")
    assert refused.exit_code == 1
    assert refused.output.startswith("error: --available: raising spot stock needs evidence")
    no_reason = cli("stock", "set", *base, "--available", "50", "--override")
    assert no_reason.exit_code == 1 and "error: --reason:" in no_reason.output
    bare = cli("stock", "receive", *base, "--quantity", "5", "--supplier", "工厂")
    assert bare.exit_code == 1 and "error: --delivery-note:" in bare.output

    received = cli(
        "stock", "receive", *base, "--quantity", "5", "--supplier", "工厂", "--delivery-note", "D1"
    )
    assert received.exit_code == 0, received.output
    assert f"SKU {sku} spot: 7 units, 0 sold, 7 available" in received.output
    clean = cli("stock", "unevidenced", "--shop", str(shop))
    assert clean.exit_code == 0, clean.output
    assert "2 units on 1 SKU(s) without evidence; 0 raised by the owner's override" in clean.output

    forced = cli("stock", "set", *base, "--available", "50", "--override", "--reason", "档口拿货")
    assert forced.exit_code == 0, forced.output
    report = cli("stock", "unevidenced", "--shop", str(shop))
    assert report.exit_code == 0, report.output
    assert "45 units on 1 SKU(s) without evidence; 43 raised by the owner's override" in (
        report.output
    )
    assert "CLI-SKU" in report.output
    unknown = cli("stock", "unevidenced", "--shop", "987654321")
    assert unknown.exit_code == 1 and "--shop" in unknown.output
    _ledger_equals_stock(runtime, shop)
