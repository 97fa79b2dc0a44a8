"""Turn what a merchant typed into the values the services take.

Refusals are the domain's own :class:`InvalidValueError`, naming the form field, so a
typo is reported in the same place and words as a rule the server enforces.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from tierstock.domain.errors import InvalidValueError
from tierstock.domain.sales_forms import SalesForm, SalesFormSpec, Tier


def whole(text: str, field: str, *, minimum: int = 0) -> int:
    """A whole number typed in a form ('1,000' and ' 12 ' are fine)."""
    cleaned = text.replace(",", "").replace("，", "").strip()
    try:
        value = int(cleaned)
    except ValueError as exc:
        raise InvalidValueError(
            f"{field} must be a whole number, got {text!r}", field=field
        ) from exc
    if value < minimum:
        raise InvalidValueError(f"{field} must be at least {minimum}", field=field)
    return value


def optional_whole(text: str, field: str) -> int | None:
    return whole(text, field, minimum=1) if text.strip() else None


def yuan_to_fen(text: str, field: str = "price") -> int:
    """'199', '199.9' and '¥1,199.90' are yuan; money goes on as integer fen."""
    cleaned = text.replace("¥", "").replace("￥", "").replace(",", "").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:
        raise InvalidValueError(
            f"{field} must be an amount in yuan, got {text!r}", field=field
        ) from exc
    fen = amount * 100
    if not amount.is_finite() or fen != fen.to_integral_value():
        raise InvalidValueError(f"{field} must be in whole fen (at most 2 decimals)", field=field)
    if fen <= 0:
        raise InvalidValueError(f"{field} must be more than ¥0", field=field)
    return int(fen)


def specs(text: str) -> dict[str, str]:
    """'颜色=黑, 尺码=L' → {'颜色': '黑', '尺码': 'L'}."""
    found: dict[str, str] = {}
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InvalidValueError(
                f"write specs as name=value, got {part.strip()!r}", field="specs"
            )
        found[name.strip()] = value.strip()
    return found


def sales_form(
    form: str, spot_window_hours: str, presale_days: str, presale_ship_by: str
) -> SalesFormSpec:
    """The sales form fields; the pack's ranges are checked by the service."""
    try:
        chosen = SalesForm(form)
    except ValueError as exc:
        raise InvalidValueError(f"unknown sales form {form!r}", field="form") from exc
    ship_by: date | None = None
    if chosen is SalesForm.PRESALE and presale_ship_by.strip():
        try:
            ship_by = date.fromisoformat(presale_ship_by.strip())
        except ValueError as exc:
            raise InvalidValueError(
                "presale ship-by must be a date (YYYY-MM-DD)", field="presale_ship_by"
            ) from exc
    days = None if ship_by else optional_whole(presale_days, "presale_days")
    hours = optional_whole(spot_window_hours, "spot_window_hours")
    return SalesFormSpec(
        chosen,
        spot_window_hours=hours if chosen is not SalesForm.PRESALE else None,
        presale_days=days if chosen is not SalesForm.SPOT else None,
        presale_ship_by=ship_by,
    )


def tier(text: str) -> Tier:
    try:
        return Tier(text)
    except ValueError as exc:
        raise InvalidValueError(f"unknown tier {text!r}", field="tier") from exc
