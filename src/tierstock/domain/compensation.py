"""Compensation the merchant owes a buyer for a broken shipping promise — docs/rules.md §7.

Two kinds: **late** (shipped after the effective deadline, within the grace period) and
**unshipped** (cancelled because it cannot ship, or still unshipped — or shipped only —
after the grace period). A line owes at most one of them. The figures are the pack's:
Kuaishou pays 10 % (min ¥5, max ¥30) for late and 30 % (min ¥5, max ¥200) for unshipped.

A recorded compensation is a claim the buyer *may* make, not money paid by itself: it
starts ``owed`` (detected), and moves to ``claimed``, ``paid``, ``waived`` or ``agreed``
(another amount the parties agreed, at most the rule's) through :func:`change_state`.

Rounding rule: the percentage of the paid value is rounded to the whole fen, halves
up (``(paid_fen × rate_bp + 5 000) // 10 000``), *then* clamped to ``[min, max]``. The
floor applies even when it exceeds the paid value — it is the platform's minimum. The
SQL of the promise scan uses the same formula (``store/promise_repo.py``), and the
scenario test checks the two agree.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.domain.policy import CompensationRule, CompensationRules

BASIS_POINTS = 10_000  # 100 % in basis points: a unit conversion, not a rule number


class CompensationKind(StrEnum):
    LATE = "late"
    UNSHIPPED = "unshipped"


def percentage_fen(paid_fen: int, rate_bp: int) -> int:
    """``rate_bp`` basis points of ``paid_fen``, rounded to the fen, halves up."""
    if paid_fen < 0 or rate_bp < 0:
        raise ValueError("paid value and rate must not be negative")
    return (paid_fen * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


def clamp_fen(amount_fen: int, rule: CompensationRule) -> int:
    """``amount_fen`` held inside the rule's floor and (if any) cap."""
    amount = max(amount_fen, rule.min_fen)
    return amount if rule.max_fen is None else min(amount, rule.max_fen)


def compensation_fen(paid_fen: int, rule: CompensationRule) -> int:
    """What one line owes under ``rule``: the rounded percentage, then the clamp."""
    return clamp_fen(percentage_fen(paid_fen, rule.rate_bp), rule)


def rule_for(kind: CompensationKind, rules: CompensationRules) -> CompensationRule:
    return rules.late if kind is CompensationKind.LATE else rules.unshipped


def owed_fen(kind: CompensationKind, paid_fen: int, rules: CompensationRules) -> int:
    return compensation_fen(paid_fen, rule_for(kind, rules))


def yuan(fen: int) -> str:
    """Fen as a yuan string for people: 3000 → "¥30.00"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


# --- a record's life: the buyer may claim, the merchant pays, or the parties agree ---------


class CompensationBase(StrEnum):
    """What the percentage is taken of (pack key ``compensation.base``): the broken line's
    paid value, or the whole order's (one record per order and kind)."""

    LINE = "line"
    ORDER = "order"


class CompensationState(StrEnum):
    """docs/rules.md §7.2: detected by the scan (``owed``), the buyer ``claimed`` it, the
    merchant ``paid`` it, the buyer ``waived`` it, or the parties ``agreed`` on an amount
    (at most the rule's) that is then paid. ``paid`` and ``waived`` are final."""

    OWED = "owed"
    CLAIMED = "claimed"
    PAID = "paid"
    WAIVED = "waived"
    AGREED = "agreed"


class CompensationAction(StrEnum):
    CLAIM = "claim"
    PAY = "pay"
    WAIVE = "waive"
    AGREE = "agree"


_S, _A = CompensationState, CompensationAction
TRANSITIONS: dict[tuple[CompensationState, CompensationAction], CompensationState] = {
    (_S.OWED, _A.CLAIM): _S.CLAIMED,
    (_S.OWED, _A.PAY): _S.PAID,  # the merchant may pay before being asked
    (_S.OWED, _A.WAIVE): _S.WAIVED,
    (_S.OWED, _A.AGREE): _S.AGREED,
    (_S.CLAIMED, _A.PAY): _S.PAID,
    (_S.CLAIMED, _A.WAIVE): _S.WAIVED,
    (_S.CLAIMED, _A.AGREE): _S.AGREED,
    (_S.AGREED, _A.PAY): _S.PAID,  # pays the agreed amount
}
FINAL = frozenset({_S.PAID, _S.WAIVED})
UNSETTLED = frozenset({_S.OWED, _S.CLAIMED, _S.AGREED})
NEEDS_NOTE = frozenset({_A.WAIVE, _A.AGREE})  # what the buyer said must be on record
MAX_NOTE = 500


class CompensationSettledError(DomainError):
    """A paid or waived compensation is final."""

    code = "compensation_settled"
    kind = "conflict"


class CompensationTransitionError(DomainError):
    code = "compensation_transition"
    kind = "conflict"


@dataclass(frozen=True)
class CompensationRecord:
    """One compensation the promise scan (or a cancel as unshippable) recorded.

    ``paid_fen`` is the value the percentage was taken of (the line's, or the order's
    under ``base = order``), ``amount_fen`` what the rule makes it. ``agreed_fen`` and
    ``agreed_by`` are set once the parties agree; ``settled_fen`` once it is paid."""

    id: int
    line_id: int
    order_id: int
    line_no: int
    kind: CompensationKind
    paid_fen: int
    amount_fen: int
    deadline: datetime
    created_at: datetime
    base: CompensationBase = CompensationBase.LINE
    policy: str = ""
    state: CompensationState = CompensationState.OWED
    agreed_fen: int | None = None
    agreed_by: str | None = None
    settled_fen: int | None = None
    state_by: str | None = None
    state_note: str | None = None
    state_at: datetime | None = None

    @property
    def outstanding_fen(self) -> int:
        """What is still to pay: the rule's amount while owed or claimed, the agreed
        amount once agreed, nothing once paid or waived."""
        if self.state is CompensationState.AGREED:
            return self.agreed_fen or 0
        return self.amount_fen if self.state in UNSETTLED else 0


@dataclass(frozen=True)
class CompensationChange:
    action: CompensationAction
    actor: str
    note: str = ""
    amount_fen: int | None = None  # ``agree`` only: the agreed amount


def change_state(
    record: CompensationRecord, change: CompensationChange, at: datetime
) -> CompensationRecord:
    """The record after ``change``, or a refusal: paid and waived are final; agreeing
    needs an amount between 0 and the rule's amount and who agreed; waiving and
    agreeing need a note of what the buyer said."""
    actor, note = change.actor.strip(), change.note.strip()
    if not actor:
        raise InvalidValueError("say who is acting", field="actor")
    if len(note) > MAX_NOTE:
        raise InvalidValueError(f"the note may have at most {MAX_NOTE} characters", field="note")
    if change.action in NEEDS_NOTE and not note:
        raise InvalidValueError(
            f"to {change.action.value}, note what the buyer agreed to", field="note"
        )
    if record.state in FINAL:
        raise CompensationSettledError(
            f"this compensation is already {record.state.value}; it cannot change",
            field="state",
        )
    target = TRANSITIONS.get((record.state, change.action))
    if target is None:
        raise CompensationTransitionError(
            f"a compensation that is {record.state.value} cannot be {_PAST[change.action]}",
            field="state",
        )
    if change.action is not _A.AGREE and change.amount_fen is not None:
        raise InvalidValueError("only an agreement takes an amount", field="amount_fen")
    agreed, agreed_by, settled = record.agreed_fen, record.agreed_by, record.settled_fen
    if change.action is _A.AGREE:
        agreed = _agreed_amount(change.amount_fen, record.amount_fen)
        agreed_by = actor
    if target is _S.PAID:
        settled = record.outstanding_fen
    return replace(
        record,
        state=target,
        agreed_fen=agreed,
        agreed_by=agreed_by,
        settled_fen=settled,
        state_by=actor,
        state_note=note or None,
        state_at=at,
    )


_PAST = {_A.CLAIM: "claimed", _A.PAY: "paid", _A.WAIVE: "waived", _A.AGREE: "agreed on"}


def _agreed_amount(amount: int | None, rule_amount: int) -> int:
    if amount is None:
        raise InvalidValueError("an agreement needs the agreed amount", field="amount_fen")
    if not 0 <= amount <= rule_amount:
        raise InvalidValueError(
            f"the agreed amount must be between {yuan(0)} and the rule's {yuan(rule_amount)}",
            field="amount_fen",
        )
    return amount
