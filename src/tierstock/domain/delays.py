"""The three delay tools — the only way a ship-by deadline moves (docs/rules.md §7).

* delayed shipping (延迟发货): for a platform-accepted reason (big promotion, holiday,
  force majeure …), within the pack's limit;
* appointment shipping (预约发货): the buyer chose a later date;
* negotiated shipping (协商发货): buyer and merchant agreed; the buyer's consent is
  recorded, and a line shipped by the agreed deadline owes nothing.

Each accepted delay is recorded with reason, who and when; a line's effective deadline
is the latest accepted delay's new deadline (each must be later than the one before).
A delay must be asked for before the current deadline passes — a missed promise cannot
be repaired afterwards to escape compensation (assumption, stricter than needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from tierstock.domain.errors import DomainError
from tierstock.domain.policy import DelayRules, HolidayPause, PolicyPack

HOLIDAY_REASON = "holiday"


class DelayKind(StrEnum):
    DELAYED = "delayed"
    APPOINTMENT = "appointment"
    NEGOTIATED = "negotiated"


class DelayNotAllowedError(DomainError):
    """A delay request that the pack's delay tools do not allow."""

    code = "delay_not_allowed"
    kind = "invalid"


class DelayTooLateError(DomainError):
    """The deadline has passed: the promise is already broken."""

    code = "delay_too_late"
    kind = "conflict"


@dataclass(frozen=True)
class DelayRequest:
    kind: DelayKind
    reason: str
    new_ship_by: datetime
    buyer_consent: bool
    actor: str


@dataclass(frozen=True)
class Delay:
    """An accepted delay, as recorded."""

    kind: DelayKind
    reason: str
    actor: str
    buyer_consent: bool
    previous_ship_by: datetime
    new_ship_by: datetime
    created_at: datetime


def parse_kind(value: str) -> DelayKind:
    try:
        return DelayKind(value)
    except ValueError:
        allowed = ", ".join(k.value for k in DelayKind)
        raise DelayNotAllowedError(
            f"a deadline moves only through the delay tools ({allowed}); got {value!r}",
            field="kind",
        ) from None


def _tool_rules(kind: DelayKind, rules: DelayRules) -> tuple[int, bool]:
    """The pack's rules for one delay tool: how many days past the original ship-by it
    may move a deadline, and whether the buyer must consent."""
    return {
        DelayKind.DELAYED: (rules.delayed_max_days, rules.delayed_needs_consent),
        DelayKind.APPOINTMENT: (rules.appointment_max_days, rules.appointment_needs_consent),
        DelayKind.NEGOTIATED: (rules.negotiated_max_days, rules.negotiated_needs_consent),
    }[kind]


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)


def holiday_extended(
    paid_at: datetime, deadline: datetime, pauses: tuple[HolidayPause, ...], zone: ZoneInfo
) -> datetime:
    """The deadline if the promise clock stops during logistics pauses (whole local
    days): the time left when a pause starts runs on from the pause's end."""
    windows = sorted(
        (_local_midnight(p.start, zone), _local_midnight(p.end + timedelta(days=1), zone))
        for p in pauses
    )
    clock, remaining = paid_at, deadline - paid_at
    for start, end in windows:
        if end <= clock:
            continue
        if start >= clock + remaining:
            break
        remaining -= max(start - clock, timedelta(0))
        clock = end
    return clock + remaining


def latest_allowed(
    req: DelayRequest, original: datetime, paid_at: datetime, pack: PolicyPack
) -> datetime:
    """The latest new deadline this tool may set for a line first due at ``original``."""
    max_days, _ = _tool_rules(req.kind, pack.delays)
    limit = original + timedelta(days=max_days)
    if req.kind is DelayKind.DELAYED and req.reason == HOLIDAY_REASON:
        zone = ZoneInfo(pack.display_timezone)
        limit = max(limit, holiday_extended(paid_at, original, pack.holidays.pauses, zone))
    return limit


def check_delay(
    req: DelayRequest,
    *,
    original: datetime,
    current: datetime,
    paid_at: datetime,
    now: datetime,
    pack: PolicyPack,
) -> Delay:
    """Accept ``req`` for a line first due at ``original`` and now due at ``current``,
    or raise naming the rule it breaks."""
    rules = pack.delays
    if not req.reason.strip():
        raise DelayNotAllowedError("say why the deadline moves", field="reason")
    if req.kind is DelayKind.DELAYED and req.reason not in rules.delayed_reasons:
        raise DelayNotAllowedError(
            f"delayed shipping is accepted only for: {', '.join(rules.delayed_reasons)}",
            field="reason",
        )
    if (
        req.kind is DelayKind.DELAYED
        and req.reason == HOLIDAY_REASON
        and not pack.holidays.suspends_deadlines
    ):
        raise DelayNotAllowedError(
            "this pack does not let holidays suspend deadlines", field="reason"
        )
    _, needs_consent = _tool_rules(req.kind, rules)
    if needs_consent and not req.buyer_consent:
        raise DelayNotAllowedError(
            f"{req.kind.value} shipping needs the buyer's consent", field="buyer_consent"
        )
    if now > current:
        raise DelayTooLateError(
            f"the deadline {current.isoformat()} has passed; it can no longer be moved",
            field="new_ship_by",
        )
    if req.new_ship_by <= current:
        raise DelayNotAllowedError(
            f"the new deadline must be later than the current one ({current.isoformat()})",
            field="new_ship_by",
        )
    limit = latest_allowed(req, original, paid_at, pack)
    if req.new_ship_by > limit:
        raise DelayNotAllowedError(
            f"{req.kind.value} shipping may move this deadline to {limit.isoformat()} "
            "at the latest",
            field="new_ship_by",
        )
    return Delay(
        req.kind,
        req.reason.strip(),
        req.actor,
        req.buyer_consent,
        current,
        req.new_ship_by.astimezone(UTC),
        now,
    )
