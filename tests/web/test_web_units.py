"""Fast checks of the workbench's pure parts: form parsing and live-view folding."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tierstock.domain.allocation import TierStock
from tierstock.domain.errors import InvalidValueError
from tierstock.domain.ledger import LedgerEntry, LedgerKind
from tierstock.domain.sales_forms import SalesForm, Tier
from tierstock.web import forms
from tierstock.web.i18n import Formatter
from tierstock.web.live import SkuLive

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "fen"), [("199", 19_900), ("199.9", 19_990), ("¥1,199.90", 119_990), ("0.01", 1)]
)
def test_prices_typed_in_yuan_become_whole_fen(typed: str, fen: int) -> None:
    assert forms.yuan_to_fen(typed) == fen


@pytest.mark.parametrize("typed", ["", "abc", "1.005", "0", "-3", "NaN", "Infinity"])
def test_a_price_that_is_not_whole_positive_fen_is_refused(typed: str) -> None:
    with pytest.raises(InvalidValueError):
        forms.yuan_to_fen(typed)


def test_specs_read_as_name_value_pairs_with_chinese_commas() -> None:
    assert forms.specs("颜色=黑，尺码=L") == {"颜色": "黑", "尺码": "L"}
    with pytest.raises(InvalidValueError):
        forms.specs("颜色")


def test_a_tiered_form_keeps_its_spot_window_and_presale_days() -> None:
    spec = forms.sales_form("tiered", "48", "5", "")
    assert (spec.form, spec.spot_window_hours, spec.presale_days) == (SalesForm.TIERED, 48, 5)
    assert forms.sales_form("spot", "24", "5", "").presale_days is None


def _sale(at: datetime, tier: Tier, qty: int, order_id: int) -> LedgerEntry:
    return LedgerEntry(1, 7, tier, LedgerKind.SALE, 0, qty, "t", "order paid", at, order_id, 1)


def test_live_figures_fold_each_ledger_entry_once_and_project_spot_run_out() -> None:
    live = SkuLive(7, "SKU", (Tier.SPOT, Tier.PRESALE))
    receipt = LedgerEntry(1, 7, Tier.SPOT, LedgerKind.RECEIPT, 100, 0, "t", "opening", T0)
    sales = [_sale(T0 + timedelta(seconds=i), Tier.SPOT, 1, i + 1) for i in range(30)]
    orders: dict[datetime, set[int]] = {}
    live.fold(live.unseen([receipt, *sales[:20]]), orders)
    live.fold(live.unseen(sales[10:]), orders)  # an overlapping re-read
    assert live.sold[Tier.SPOT] == 30 and live.lines == 30
    live.current = {
        Tier.SPOT: TierStock(Tier.SPOT, 100, 30),
        Tier.PRESALE: TierStock(Tier.PRESALE, 0, 0),
    }
    now = T0 + timedelta(seconds=30)
    assert live.spot_pace_per_minute(now) == 30
    assert live.spot_runs_out(now) == now + timedelta(minutes=70 / 30)


def test_money_numbers_and_times_follow_the_language_in_shanghai_time() -> None:
    zh = Formatter("zh_CN", ZoneInfo("Asia/Shanghai"))
    en = Formatter("en", ZoneInfo("Asia/Shanghai"))
    assert zh.money(119_990) == "¥1,199.90"
    assert "1,199.90" in en.money(119_990)
    assert zh.time(T0) == "20:00"
    assert zh.gettext("Products") == "商品" and en.gettext("Products") == "Products"


def test_every_page_shows_a_known_refusal_in_the_merchants_language() -> None:
    """The shared error partial words a refusal by its code (the products page's
    set-stock form once showed the server's English sentence for a stock raise)."""
    from tierstock.domain.errors import DomainError
    from tierstock.web.common import TEMPLATES
    from tierstock.web.i18n import template_globals

    class NeedsEvidence(DomainError):
        code = "stock_needs_evidence"

    error = NeedsEvidence("raising spot stock needs evidence", field="available")
    template = TEMPLATES.env.get_template("partials/flash.html")
    fmt = Formatter("zh_CN", ZoneInfo("Asia/Shanghai"))
    shown = template.render(error=error, **template_globals(fmt))
    assert "raising spot stock needs evidence" not in shown
    assert "证据" in shown or "依据" in shown
