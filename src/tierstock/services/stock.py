"""Receive stock, set stock, read stock and its ledger — docs/rules.md §1, §3.

Each change writes its ledger entry in the same transaction as the tier row, so the
figures and their history can never drift apart. Raising spot stock must rest on
evidence (§3.5, domain/evidence.py): a receipt's supplier and delivery note, an approved
count, or a received supplier batch; otherwise only the owner may, by an override that
is recorded with the entry, audited and flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierstock.domain.allocation import TierStock
from tierstock.domain.catalogue import Sku
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.evidence import (
    DeliveryNoteAlreadyReceivedError,
    EvidenceBasis,
    EvidencedEntry,
    ReceiptEvidence,
    StockEvidence,
    UnevidencedReport,
    basis_of_entry,
    basis_of_raise,
    ensure_tier_sold,
    receipt_evidence,
    unevidenced_report,
)
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import Tier
from tierstock.services import audit
from tierstock.services.catalogue import require_sku
from tierstock.services.shops import get_shop_in
from tierstock.store.uow import UnitOfWork

RECEIPT_REASON = "goods received"
SET_STOCK_REASON = "stock set by merchant"
RAISED_WITHOUT_EVIDENCE = "stock.raised_without_evidence"  # the audit action of an override


@dataclass(frozen=True)
class ReceiveStock:
    """Goods arrived. A spot receipt is evidence when it names its ``supplier`` and
    ``delivery_note`` (or batch number); without them only the owner (``role``) may
    receive, with ``override`` and a reason (docs/rules.md §3.5)."""

    shop_id: int
    sku_id: int
    tier: Tier
    quantity: int
    actor: str = "system"
    reason: str = RECEIPT_REASON
    supplier: str = ""
    delivery_note: str = ""
    role: str | None = None
    override: bool = False


def receive_stock(cmd: ReceiveStock, uow: UnitOfWork) -> TierStock:
    """Add ``quantity`` sellable units to a tier (a receipt, never negative)."""
    if cmd.quantity <= 0:
        raise InvalidValueError("quantity received must be positive", field="quantity")
    evidence, missing = receipt_evidence(cmd.supplier, cmd.delivery_note)
    with uow:
        sku = require_sku(uow, cmd.shop_id, cmd.sku_id)
        ensure_tier_sold(sku.sales_form.form, sku.sales_form.tiers, cmd.tier)
        live = _live(uow, sku, cmd.tier)
        basis = basis_of_raise(
            tier=cmd.tier,
            units=cmd.quantity,
            evidence=evidence,
            missing=missing,
            role=cmd.role,
            override=cmd.override,
            reason=_given(cmd.reason, RECEIPT_REASON),
            live=live,
        )
        after = uow.stock.add_quantity(cmd.sku_id, cmd.tier, cmd.quantity)
        _record(uow, cmd, LedgerKind.RECEIPT, cmd.quantity, basis, evidence, live)
        uow.commit()
    return after


@dataclass(frozen=True)
class SetStock:
    """Make exactly ``available`` units of a tier sellable from now on (0 allowed).

    Lowering needs nothing more. Raising spot is not evidence of anything: it is refused
    unless the owner (``role``) sends ``override`` with a reason (docs/rules.md §3.5)."""

    shop_id: int
    sku_id: int
    tier: Tier
    available: int
    actor: str = "system"
    reason: str = SET_STOCK_REASON
    role: str | None = None
    override: bool = False


def set_stock(cmd: SetStock, uow: UnitOfWork) -> TierStock:
    """Set the *available* figure; units already promised to buyers stay promised.

    The tier row is locked for the read that gives the ledger its delta, so a burst of
    orders in between cannot make the entry wrong.
    """
    if cmd.available < 0:
        raise InvalidValueError("available stock must not be negative", field="available")
    with uow:
        sku = require_sku(uow, cmd.shop_id, cmd.sku_id)
        before = uow.stock.lock_tier(cmd.sku_id, cmd.tier)
        quantity = before.sold + cmd.available
        delta = quantity - before.quantity
        if delta > 0:
            ensure_tier_sold(sku.sales_form.form, sku.sales_form.tiers, cmd.tier)
            live = _live(uow, sku, cmd.tier)
            basis = basis_of_raise(
                tier=cmd.tier,
                units=delta,
                evidence=None,
                missing="available",
                role=cmd.role,
                override=cmd.override,
                reason=_given(cmd.reason, SET_STOCK_REASON),
                live=live,
            )
        else:
            live, basis = False, None
        if delta:
            uow.stock.set_quantity(cmd.sku_id, cmd.tier, quantity)
            _record(uow, cmd, LedgerKind.SET_STOCK, delta, basis, None, live)
        uow.commit()
    return TierStock(cmd.tier, quantity, before.sold)


def _given(reason: str, default: str) -> str:
    """The reason a person gave ('' when the command carries its default)."""
    text = reason.strip()
    return "" if text == default else text


def _live(uow: UnitOfWork, sku: Sku, tier: Tier) -> bool:
    """Whether a live session holds the SKU: a channel's live lock names it (§3.5). The
    workbench's live view is a read-only screen that leaves no trace, so the lock — which
    also puts the SKU first in the stock pushes to the platforms — is the one signal."""
    if tier is not Tier.SPOT:
        return False
    held = uow.channels.live_skus([sku.shop_id]).get(sku.shop_id)
    return held is not None and sku.id in held[1]


def _record(
    uow: UnitOfWork,
    cmd: ReceiveStock | SetStock,
    kind: LedgerKind,
    delta: int,
    basis: EvidenceBasis | None,
    evidence: ReceiptEvidence | None,
    live: bool,
) -> None:
    """Write the ledger entry and, when it rests on a receipt or an override, what it
    rests on; an override is also audited (flagged: stock raised without evidence)."""
    entry = _entry(cmd, kind, delta, uow)
    if basis is None:
        uow.stock.record([entry])
        return
    ledger_id = uow.stock.record_one(entry)
    recorded = StockEvidence(
        ledger_id,
        basis,
        evidence.supplier if evidence else None,
        evidence.delivery_note if evidence else None,
        live,
    )
    if not uow.stock.add_evidence(cmd.shop_id, cmd.sku_id, recorded, uow.now()):
        assert evidence is not None, "only a receipt's delivery note can collide"
        raise DeliveryNoteAlreadyReceivedError(
            f"delivery note {evidence.delivery_note!r} from {evidence.supplier!r} was already "
            "received for this SKU: the same goods cannot be made sellable twice",
            field="delivery_note",
        )
    if basis is EvidenceBasis.OVERRIDE:
        detail = {
            "tier": cmd.tier.value,
            "units": delta,
            "via": kind.value,
            "ledger_id": ledger_id,
            "during_live": live,
        }
        audit.record(
            uow,
            cmd.shop_id,
            cmd.actor,
            RAISED_WITHOUT_EVIDENCE,
            "sku",
            cmd.sku_id,
            detail,
            entry.reason,
        )


def _entry(
    cmd: ReceiveStock | SetStock, kind: LedgerKind, delta: int, uow: UnitOfWork
) -> LedgerEntry:
    """The ledger entry of a receipt or a set: by the command's actor, for its reason."""
    return LedgerEntry.change(
        kind, cmd.shop_id, cmd.sku_id, cmd.tier, delta, cmd.actor, cmd.reason, uow.now()
    )


def read_stock(shop_id: int, sku_id: int, uow: UnitOfWork) -> dict[Tier, TierStock]:
    with uow:
        require_sku(uow, shop_id, sku_id)
        return uow.stock.tiers([sku_id]).get(sku_id, {})


def read_ledger(
    shop_id: int, sku_id: int, uow: UnitOfWork, *, offset: int = 0, limit: int = 100
) -> list[LedgerEntry]:
    with uow:
        require_sku(uow, shop_id, sku_id)
        return uow.stock.ledger(shop_id, sku_id, offset=offset, limit=limit)


def read_ledger_evidence(
    shop_id: int, sku_id: int, uow: UnitOfWork, *, offset: int = 0, limit: int = 100
) -> list[EvidencedEntry]:
    """The ledger with what each entry that made units sellable rests on (§3.5)."""
    with uow:
        require_sku(uow, shop_id, sku_id)
        entries = uow.stock.ledger(shop_id, sku_id, offset=offset, limit=limit)
        recorded = uow.stock.evidence_of(e.id for e in entries if e.id is not None)
    found = []
    for e in entries:
        mine = recorded.get(e.id) if e.id is not None else None
        found.append(EvidencedEntry(e, basis_of_entry(e, mine), mine))
    return found


def unevidenced(shop_id: int, uow: UnitOfWork) -> UnevidencedReport:
    """Every spot unit made sellable without evidence, per SKU, with who, when and why:
    the owner's overrides (flagged, and marked when made during a live session), opening
    stock, and units made sellable before evidence was recorded (docs/rules.md §3.5)."""
    with uow:
        get_shop_in(uow, shop_id)
        rows = uow.stock.unevidenced_raises(shop_id)
    return unevidenced_report(shop_id, rows)
