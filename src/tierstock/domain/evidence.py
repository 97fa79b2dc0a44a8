"""Evidence for stock (库存依据) — docs/rules.md §3.5. Pure: it decides, services apply.

The seeds' first cautionary case is a merchant who sets fake stock and keeps selling:
spot units are promised to ship within hours, so every spot unit made sellable must rest
on something other than the merchant's word. That is

* a **receipt** with its supplier and its delivery note (or batch number), or
* an **approved count** (``adjustment`` ledger entries, services/count_approval.py), or
* a **received supplier batch** (``capacity`` ledger entries, services/capacity_plans.py).

A plain raise without evidence is refused (409 ``stock_needs_evidence``, naming the
missing field). Only the shop's owner may override, with a reason; the override is
flagged in the audit trail, in the ledger and on the overview ("库存无依据上调"), and
marked as made during a live session when a channel live lock holds the SKU. Lowering
stock needs no evidence, and nor do presale units (their basis is supplier capacity, §5).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tierstock.domain.access import Role
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import SalesForm, Tier

SUPPLIER_MAX = 200
DELIVERY_NOTE_MAX = 100
OPENING_STOCK_REASON = "opening stock"  # what services/catalogue.py writes for a new SKU


class EvidenceBasis(StrEnum):
    """What a unit made sellable rests on."""

    RECEIPT = "receipt"  # goods received: supplier + delivery note / batch
    COUNT = "count"  # an approved stock count (adjustment entries)
    CAPACITY = "capacity"  # a supplier batch confirmed or received
    OVERRIDE = "override"  # the owner's word, with a reason: flagged
    NONE = "none"  # nothing recorded: opening stock, or made before evidence was required


# the bases recorded in stock_evidence (the others follow from the ledger entry's kind)
RECORDED = (EvidenceBasis.RECEIPT, EvidenceBasis.OVERRIDE)


class StockNeedsEvidenceError(DomainError):
    """Spot stock raised with no receipt, count or batch behind it, and no override."""

    code = "stock_needs_evidence"
    kind = "conflict"


class StockOverrideOwnerOnlyError(DomainError):
    """Someone other than the owner asked to raise spot stock without evidence."""

    code = "stock_override_owner_only"
    kind = "forbidden"


class TierNotSoldError(DomainError):
    """Units put in a tier the SKU's sales form does not sell would never be offered."""

    code = "tier_not_sold"
    kind = "conflict"


class DeliveryNoteAlreadyReceivedError(DomainError):
    """A delivery note backs the units it lists once: receiving it again for the same
    SKU would make the same goods sellable twice."""

    code = "delivery_note_already_received"
    kind = "conflict"


@dataclass(frozen=True)
class ReceiptEvidence:
    """A receipt's paperwork: who delivered and the delivery note or batch number."""

    supplier: str
    delivery_note: str


def receipt_evidence(supplier: str, delivery_note: str) -> tuple[ReceiptEvidence | None, str]:
    """The evidence a receipt carries, or ``None`` and the field that is missing."""
    supplier, delivery_note = supplier.strip(), delivery_note.strip()
    for text, field, limit in (
        (supplier, "supplier", SUPPLIER_MAX),
        (delivery_note, "delivery_note", DELIVERY_NOTE_MAX),
    ):
        if len(text) > limit:
            raise InvalidValueError(f"{field} is at most {limit} characters", field=field)
    if not supplier:
        return None, "supplier"
    if not delivery_note:
        return None, "delivery_note"
    return ReceiptEvidence(supplier, delivery_note), ""


def ensure_tier_sold(form: SalesForm, tiers: tuple[Tier, ...], tier: Tier) -> None:
    """Refuse to add units to a tier the form never sells (they would be hidden)."""
    if tier not in tiers:
        sold = " and ".join(t.value for t in tiers)
        raise TierNotSoldError(
            f"a {form.value} SKU sells no {tier.value} units, so units added there would "
            f"never be offered: put them in its {sold} tier, or change its sales form "
            "(delist first)",
            field="tier",
        )


def basis_of_raise(
    *,
    tier: Tier,
    units: int,
    evidence: ReceiptEvidence | None,
    missing: str,
    role: str | None,
    override: bool,
    reason: str,
    live: bool,
) -> EvidenceBasis | None:
    """What a change of ``units`` (negative: a cut) to ``tier`` rests on, to be recorded
    with it; ``None`` when nothing needs recording. Refuses a spot raise with no evidence
    unless the owner overrides it with a reason.

    ``missing`` names the field a refusal points at; ``live``: a live session holds the
    SKU (it only changes the words: an override is always flagged)."""
    if evidence is not None:
        return EvidenceBasis.RECEIPT
    if units <= 0 or tier is not Tier.SPOT:
        return None
    owner = role == Role.OWNER.value
    if not override:
        during = " during a live session" if live else ""
        also = (
            "; as the owner you may raise it without evidence with override and a reason "
            "(flagged as stock raised without evidence, 库存无依据上调)"
            if owner
            else "; only the shop's owner may raise it without evidence"
        )
        raise StockNeedsEvidenceError(
            f"raising spot stock{during} needs evidence: record a receipt with its "
            f"supplier and delivery note, or approve a stock count{also}",
            field=missing,
        )
    if not owner:
        raise StockOverrideOwnerOnlyError(
            "only the shop's owner may raise spot stock without evidence: record a receipt "
            "with its supplier and delivery note, or approve a stock count",
            field="override",
        )
    if not reason.strip():
        raise InvalidValueError(
            "raising stock without evidence needs a reason: say where the units are",
            field="reason",
        )
    return EvidenceBasis.OVERRIDE


@dataclass(frozen=True)
class StockEvidence:
    """What one ledger entry rests on, as recorded with it (receipts and overrides)."""

    ledger_id: int
    basis: EvidenceBasis
    supplier: str | None = None
    delivery_note: str | None = None
    during_live: bool = False

    @property
    def flagged(self) -> bool:
        return self.basis is EvidenceBasis.OVERRIDE


def basis_of_entry(entry: LedgerEntry, recorded: StockEvidence | None) -> EvidenceBasis | None:
    """What a ledger entry that made units sellable rests on (``None``: it made none)."""
    if entry.quantity_delta <= 0:
        return None
    if recorded is not None:
        return recorded.basis
    if entry.kind is LedgerKind.ADJUSTMENT:
        return EvidenceBasis.COUNT
    if entry.kind is LedgerKind.CAPACITY:
        return EvidenceBasis.CAPACITY
    if entry.kind in (LedgerKind.RECEIPT, LedgerKind.SET_STOCK):
        return EvidenceBasis.NONE
    return None


@dataclass(frozen=True)
class EvidencedEntry:
    """A ledger entry with what the units it made sellable rest on (``basis`` None: it
    made none sellable)."""

    entry: LedgerEntry
    basis: EvidenceBasis | None
    recorded: StockEvidence | None = None

    @property
    def flagged(self) -> bool:
        return self.basis is EvidenceBasis.OVERRIDE


# --- the report: every spot unit made sellable without evidence -----------------------


@dataclass(frozen=True)
class UnevidencedRaise:
    """One ledger entry that made spot units sellable with no evidence behind it."""

    ledger_id: int
    sku_id: int
    kind: LedgerKind
    units: int
    actor: str
    reason: str
    at: datetime
    basis: EvidenceBasis  # OVERRIDE (flagged) or NONE
    opening: bool = False  # the SKU's opening stock, given when it was created
    during_live: bool = False

    @property
    def flagged(self) -> bool:
        """Stock raised without evidence by the owner's override (库存无依据上调)."""
        return self.basis is EvidenceBasis.OVERRIDE


FLAG_EN = "Stock raised without evidence"
FLAG_ZH = "库存无依据上调"


def describe_raise(r: UnevidencedRaise) -> tuple[str, str]:
    """What an unevidenced raise was, in English and Chinese (for the API and the CLI;
    the workbench translates its own words)."""
    if r.flagged:
        en, zh = f"{FLAG_EN} (owner override)", f"{FLAG_ZH}（店主强制）"
    elif r.opening:
        en, zh = "Opening stock, no evidence", "新建规格时的期初库存，无依据"
    else:
        en, zh = "No evidence recorded", "无依据记录"
    if r.during_live:
        en, zh = f"{en}, during a live session", f"{zh}，直播中"
    return en, zh


@dataclass(frozen=True)
class UnevidencedSku:
    sku_id: int
    sku_code: str
    product_name: str
    raises: tuple[UnevidencedRaise, ...]  # oldest first

    @property
    def units(self) -> int:
        return sum(r.units for r in self.raises)

    @property
    def flagged_units(self) -> int:
        return sum(r.units for r in self.raises if r.flagged)

    @property
    def live_units(self) -> int:
        return sum(r.units for r in self.raises if r.during_live)

    @property
    def opening_units(self) -> int:
        return sum(r.units for r in self.raises if r.opening)

    @property
    def last_at(self) -> datetime:
        return max(r.at for r in self.raises)


@dataclass(frozen=True)
class UnevidencedReport:
    shop_id: int
    skus: tuple[UnevidencedSku, ...]  # flagged units first, then most units

    @property
    def units(self) -> int:
        return sum(s.units for s in self.skus)

    @property
    def flagged_units(self) -> int:
        return sum(s.flagged_units for s in self.skus)

    @property
    def flagged(self) -> tuple[tuple[UnevidencedSku, UnevidencedRaise], ...]:
        """Every override, newest first (those made during a live session first)."""
        found = [(s, r) for s in self.skus for r in s.raises if r.flagged]
        return tuple(sorted(found, key=lambda p: (not p[1].during_live, -p[1].ledger_id)))


def unevidenced_report(
    shop_id: int, raises: Iterable[tuple[str, str, UnevidencedRaise]]
) -> UnevidencedReport:
    """Group (SKU code, product name, raise) rows per SKU."""
    grouped: dict[int, tuple[str, str, list[UnevidencedRaise]]] = {}
    for code, product, r in raises:
        grouped.setdefault(r.sku_id, (code, product, []))[2].append(r)
    skus = [
        UnevidencedSku(sku_id, code, product, tuple(sorted(rs, key=lambda r: r.ledger_id)))
        for sku_id, (code, product, rs) in grouped.items()
    ]
    skus.sort(key=lambda s: (-s.flagged_units, -s.units, s.sku_id))
    return UnevidencedReport(shop_id, tuple(skus))
