"""Languages of the workbench: Babel catalogues, and numbers, money and times per locale.

zh-CN is the default (docs/rules.md: merchants in mainland China); English is the switch. Times
are shown in the shop's display zone (Asia/Shanghai in the Kuaishou pack).
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES: dict[str, str] = {"zh_CN": "中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
HTML_LANG = {"zh_CN": "zh-CN", "en": "en"}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


def normalise(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(lang: str) -> gettext_module.NullTranslations:
    """The compiled catalogue (.mo); if it was not compiled, the .po compiled in memory."""
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    mo, po = folder / "messages.mo", folder / "messages.po"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as f:
            return gettext_module.GNUTranslations(f)
    if po.exists():
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext_module.GNUTranslations(buffer)
    return gettext_module.NullTranslations()


@dataclass(frozen=True)
class Formatter:
    """Everything a page needs to speak one language in one time zone."""

    lang: str
    zone: ZoneInfo

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    @property
    def html_lang(self) -> str:
        return HTML_LANG[self.lang]

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.lang).gettext(message)
        return text % values if values else text

    def number(self, value: int | float | Decimal) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale, format="#,##0.0%")

    def money(self, fen: int) -> str:
        """Integer fen as yuan with the locale's currency pattern (¥1,234.50)."""
        return format_currency(Decimal(fen) / 100, "CNY", locale=self.locale)

    def datetime(self, value: dt.datetime) -> str:
        return format_datetime(value, "medium", tzinfo=self.zone, locale=self.locale)

    def time(self, value: dt.datetime) -> str:
        return format_time(value, "short", tzinfo=self.zone, locale=self.locale)

    def date(self, value: dt.date) -> str:
        return format_date(value, "medium", locale=self.locale)

    def local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.zone)


def template_globals(fmt: Formatter) -> dict[str, Callable[..., str] | Formatter | str]:
    return {"_": fmt.gettext, "fmt": fmt, "lang": fmt.lang}
