"""Compensation the merchant owes a buyer for a broken shipping promise — docs/rules.md §7.

Two kinds: **late** (shipped after the effective deadline, within the grace period) and
**unshipped** (cancelled because it cannot ship, or still unshipped — or shipped only —
after the grace period). A line owes at most one of them. The figures are the pack's:
Kuaishou pays 10 % (min ¥5, max ¥30) for late and 30 % (min ¥5, max ¥200) for unshipped.

Rounding rule: the percentage of the paid value is rounded to the whole fen, halves
up (``(paid_fen × rate_bp + 5 000) // 10 000``), *then* clamped to ``[min, max]``. The
floor applies even when it exceeds the paid value — it is the platform's minimum. The
SQL of the promise scan uses the same formula (``store/promise_repo.py``), and the
scenario test checks the two agree.
"""

from __future__ import annotations

from enum import StrEnum

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
