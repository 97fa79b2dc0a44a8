"""Channels (渠道): the shop's stores on Kuaishou, Douyin and Taobao — docs/rules.md §10.

The page runs the channel services (:mod:`tierstock.services.channels`): adding a store
(its open-API credentials sealed at once; the page only ever says which fields are set),
linking a SKU to a platform item/SKU, each link's quota rule, each SKU's safety stock and
the live lock (直播锁库). Changing any of them is catalogue work (owner, operator); the
other roles read, and are told why.

A refusal is shown next to the form that was refused, as a sentence in the page's
language (:func:`refusal`): the answer replaces only the form's message slot, so the
form keeps what was typed — credentials included, which the server never sends back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form
from fastapi.responses import HTMLResponse

from tierstock.domain.access import ForbiddenError, Permission, Role
from tierstock.domain.channels import Channel, Link, OversellIncident, Platform, QuotaRule
from tierstock.domain.errors import DomainError, InvalidValueError
from tierstock.services.channels import credentials, setup
from tierstock.services.channels.status import (
    ChannelStatus,
    channel_setup,
    channel_status,
    incidents_of,
)
from tierstock.web import forms
from tierstock.web.common import ChangeDep, Page, PageDep, error_status
from tierstock.web.i18n import N_, Formatter
from tierstock.web.queries import TIER_NAMES, SkuChoice, all_cards, sku_choices

router = APIRouter()
FormField = Annotated[str, Form()]
FormList = Annotated[list[str] | None, Form()]

#: Platform store times (the order cursor, incidents) are shown in Beijing time, the
#: platforms' own clock, whatever the shop's display zone.
BEIJING = ZoneInfo("Asia/Shanghai")
BODY = "channels-body"

PLATFORM_NAMES = {
    Platform.KUAISHOU.value: N_("Kuaishou (快手)"),
    Platform.DOUYIN.value: N_("Douyin (抖音)"),
    Platform.TAOBAO.value: N_("Taobao (淘宝)"),
    Platform.OWN.value: N_("Own storefront"),
}
#: The order the add-a-store form offers them in (the platform stores first).
PLATFORM_CHOICES = (Platform.KUAISHOU, Platform.DOUYIN, Platform.TAOBAO, Platform.OWN)
CREDENTIAL_NAMES = {
    "app_key": N_("App key (AppKey)"),
    "sign_secret": N_("Signing secret (signSecret)"),
    "app_secret": N_("App secret (AppSecret)"),
    "access_token": N_("Access token (access_token)"),
    "session": N_("Session key (SessionKey)"),
}
#: Fields typed in clear (an app key names the app); every other one is a secret.
PLAIN_CREDENTIALS = frozenset({"app_key"})
RULE_CHOICES = {
    "share": N_("Share of the pool (%)"),
    "fixed": N_("Fixed units"),
    "none": N_("No rule (the whole pool)"),
}


@dataclass(frozen=True)
class Refusal:
    """How a refusal of the channel services reads to the merchant: the error's code,
    its field (a trailing '.' matches a prefix), optionally a pattern its English message
    must match (named groups feed the sentence), and the sentence (translated)."""

    code: str
    field: str
    sentence: str
    pattern: str = ""

    def matches(self, exc: DomainError) -> re.Match[str] | None:
        found = exc.field or ""
        if self.field.endswith("."):
            if not found.startswith(self.field):
                return None
        elif self.field and found != self.field:
            return None
        if exc.code != self.code:
            return None
        return re.search(self.pattern, exc.message)


REFUSALS = (
    Refusal(
        "forbidden",
        "owner",
        N_("Only the shop's owner may add a store, because a store holds its credentials."),
    ),
    Refusal(
        "forbidden",
        "",
        N_(
            "Your key's role (%(role)s) can read the stores but not change them: that needs "
            "the owner or operator role."
        ),
    ),
    Refusal("invalid_value", "platform", N_("Choose the store's platform.")),
    Refusal("invalid_value", "name", N_("A store name is 1 to 200 characters.")),
    Refusal("duplicate", "name", N_("The shop already has a store named “%(name)s”.")),
    Refusal(
        "invalid_value",
        "server_url",
        N_(
            "The gateway URL must start with http:// or https:// (leave it empty for the "
            "platform's own)."
        ),
    ),
    Refusal(
        "invalid_value",
        "credentials.",
        N_("A %(platform)s store needs its %(credential)s (1 to 500 characters)."),
    ),
    Refusal(
        "invalid_value",
        "TIERSTOCK_SECRET_KEY",
        N_(
            "The server cannot encrypt store credentials: its TIERSTOCK_SECRET_KEY is missing "
            "or not a valid key. Nothing was saved."
        ),
    ),
    Refusal("not_found", "channel_id", N_("This store is not one of this shop's stores.")),
    Refusal(
        "invalid_value",
        "channel_id",
        N_("The own storefront sells every SKU from the pool: it needs no link."),
        "own storefront",
    ),
    Refusal(
        "invalid_value",
        "channel_id",
        N_("The live lock goes to a platform store, not to the own storefront."),
        "live lock",
    ),
    Refusal("invalid_value", "channel_id", N_("Choose a store.")),
    Refusal("not_found", "sku_id", N_("This SKU is not one of this shop's SKUs.")),
    Refusal("invalid_value", "sku_id", N_("Choose a SKU.")),
    Refusal(
        "invalid_value", "platform_item_id", N_("The platform item ID is 1 to 100 characters.")
    ),
    Refusal("invalid_value", "platform_sku_id", N_("The platform SKU ID is 1 to 100 characters.")),
    Refusal(
        "duplicate",
        "platform_sku_id",
        N_("This SKU, or this platform SKU, is already linked in this store."),
    ),
    Refusal("invalid_value", "kind", N_("Choose a share, a fixed number of units or no rule.")),
    Refusal(
        "invalid_value",
        "value",
        N_("A share is a percentage from 0 to 100, not %(value)s."),
        "share is a percentage",
    ),
    Refusal(
        "invalid_value",
        "value",
        N_(
            "The shares of this SKU in all its stores would add up to %(total)s %%, more than "
            "100 %%: lower another store's share first."
        ),
        r"add up to (?P<total>\d+) %",
    ),
    Refusal("invalid_value", "value", N_("Type the rule's value as a whole number, 0 or more.")),
    Refusal("invalid_value", "units", N_("Safety stock is a whole number of units, 0 or more.")),
    Refusal("invalid_value", "sku_ids", N_("Tick the live session's SKUs.")),
)
GENERIC = {
    "not_found": N_("Not found in this shop."),
    "duplicate": N_("This already exists."),
    "forbidden": REFUSALS[0].sentence,
}


def refusal(exc: DomainError, fmt: Formatter, role: str, typed: dict[str, str]) -> str:
    """The refusal as one sentence in the page's language; unknown refusals keep the
    server's own words after a translated lead-in."""
    values = {"role": fmt.gettext(role), "total": "", "credential": "", **typed}
    platform = typed.get("platform", "")
    values["platform"] = fmt.gettext(PLATFORM_NAMES.get(platform, platform))
    field = exc.field or ""
    if field.startswith("credentials."):
        name = field.removeprefix("credentials.")
        values["credential"] = fmt.gettext(CREDENTIAL_NAMES.get(name, name))
    for known in REFUSALS:
        found = known.matches(exc)
        if found is not None:
            return fmt.gettext(known.sentence, **{**values, **found.groupdict()})
    if exc.code in GENERIC:
        return fmt.gettext(GENERIC[exc.code], **values)
    return fmt.gettext("The server refused this: %(detail)s", detail=exc.message)


# --- what the page shows ------------------------------------------------------------------
@dataclass(frozen=True)
class StoreRow:
    status: ChannelStatus
    credentials_set: tuple[str, ...]  # the names of the fields stored (never the values)

    @property
    def channel(self) -> Channel:
        return self.status.channel


@dataclass(frozen=True)
class LinkRow:
    link: Link
    store: Channel
    sku: str  # the SKU's label
    rule: QuotaRule | None
    figure: int  # what the store should show now (its quota over the SKU's tiers)
    live: bool  # the store holds the live lock for this SKU


@dataclass(frozen=True)
class SkuRow:
    sku_id: int
    label: str
    pool: tuple[tuple[str, int], ...]  # (tier, available units)
    safety: int
    live: bool


@dataclass(frozen=True)
class IncidentRow:
    incident: OversellIncident
    store: str
    sku: str


def _reads(page: Page) -> dict[str, Any]:
    found = channel_setup(page.shop_id, page.runtime.uow(readonly=True))
    return {
        "links": found.links,
        "sealed": found.sealed,
        "rules": found.rules,
        "safety": found.safety,
        "live_store": found.live_store,
        "live_skus": found.live_skus,
        "wanted": found.wanted,
    }


def _context(page: Page, **extra: Any) -> dict[str, Any]:
    ro = page.runtime.uow
    statuses = channel_status(page.shop_id, ro(readonly=True))
    reads = _reads(page)
    choices = sku_choices(all_cards(page.runtime, page.shop_id))
    by_sku: dict[int, SkuChoice] = {c.sku.id: c for c in choices}
    stores = {s.channel.id: s.channel for s in statuses}

    def label(sku_id: int) -> str:
        found = by_sku.get(sku_id)
        return found.label if found else f"#{sku_id}"

    rows = [
        StoreRow(
            s,
            credentials.FIELDS[s.channel.platform] if reads["sealed"].get(s.channel.id) else (),
        )
        for s in statuses
    ]
    links = [
        LinkRow(
            ln,
            stores[ln.channel_id],
            label(ln.sku_id),
            reads["rules"].get(ln.sku_id, {}).get(ln.channel_id),
            reads["wanted"].get(ln.id, 0),
            ln.channel_id == reads["live_store"] and ln.sku_id in reads["live_skus"],
        )
        for ln in reads["links"]
        if ln.channel_id in stores
    ]
    linked = sorted({ln.link.sku_id for ln in links})
    skus = [
        SkuRow(
            s,
            label(s),
            tuple((t.tier.value, t.available) for t in by_sku[s].card.tiers) if s in by_sku else (),
            reads["safety"].get(s, 0),
            s in reads["live_skus"],
        )
        for s in linked
    ]
    incidents = [
        IncidentRow(
            i,
            stores[i.channel_id].name if i.channel_id in stores else f"#{i.channel_id}",
            label(i.sku_id),
        )
        for i in incidents_of(page.shop_id, ro(readonly=True), open_only=True)
    ]
    live_store = stores.get(reads["live_store"]) if reads["live_store"] else None
    return {
        "stores": rows,
        "platform_stores": [s.channel for s in rows if s.channel.platform.is_store_platform],
        "links": links,
        "skus": skus,
        "sku_choices": choices,
        "live_store": live_store,
        "live_labels": [label(s) for s in sorted(reads["live_skus"])],
        "incidents": incidents,
        "exposure_fen": sum(i.incident.exposure_fen for i in incidents),
        "platform_names": PLATFORM_NAMES,
        "platform_choices": [p.value for p in PLATFORM_CHOICES],
        "credential_names": CREDENTIAL_NAMES,
        "plain_credentials": PLAIN_CREDENTIALS,
        "rule_choices": RULE_CHOICES,
        "tier_names": TIER_NAMES,
        "beijing": Formatter(page.fmt.lang, BEIJING),
        "may_act": page.merchant.may(Permission.CATALOGUE),
        "may_add": _may_add(page),
        "role_name": page.role_name,
        "notice": None,
        **_credential_fields(Platform.KUAISHOU.value),
        **extra,
    }


def _may_add(page: Page) -> bool:
    """Adding a store hands over its credentials: the owner only, as the API asks."""
    return page.merchant.role == Role.OWNER.value


def _credential_fields(platform: str) -> dict[str, Any]:
    try:
        chosen = Platform(platform)
    except ValueError:
        chosen = Platform.KUAISHOU
    return {"chosen_platform": chosen.value, "credential_fields": credentials.FIELDS[chosen]}


def _body(page: Page, *, status: int = 200, **extra: Any) -> HTMLResponse:
    """The page below its title, as every change on it answers (htmx swaps it whole)."""
    return page.render("partials/channels_body.html", status=status, **_context(page, **extra))


def _refused(page: Page, exc: DomainError, slot: str, typed: dict[str, str]) -> HTMLResponse:
    """The refusal, in the refused form's message slot only: the form is not swapped, so
    what was typed stays in it (and no credential travels back from the server)."""
    response = page.render(
        "partials/channels_refusal.html",
        status=error_status(exc),
        error=exc,
        sentence=refusal(exc, page.fmt, page.role_name, typed),
    )
    response.headers["HX-Retarget"] = f"#{slot}"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


def _id(text: str, field: str) -> int:
    return forms.whole(text, field, minimum=1)


# --- reads ----------------------------------------------------------------------------------
@router.get("/channels", response_class=HTMLResponse)
def channels_page(page: PageDep) -> HTMLResponse:
    context = _context(page)
    if page.is_htmx and page.request.headers.get("HX-Target") == BODY:
        return page.render("partials/channels_body.html", **context)
    return page.render("channels.html", **context)


@router.get("/channels/credential-fields", response_class=HTMLResponse)
def credential_fields(page: PageDep, platform: str = "") -> HTMLResponse:
    """The credential inputs of the platform chosen in the add-a-store form."""
    return page.render(
        "partials/channels_credentials.html",
        credential_names=CREDENTIAL_NAMES,
        plain_credentials=PLAIN_CREDENTIALS,
        **_credential_fields(platform),
    )


# --- changes ----------------------------------------------------------------------------------
@router.post("/channels/stores", response_class=HTMLResponse)
def add_store(
    page: ChangeDep,
    platform: FormField = "",
    name: FormField = "",
    server_url: FormField = "",
    app_key: FormField = "",
    sign_secret: FormField = "",
    app_secret: FormField = "",
    access_token: FormField = "",
    session: FormField = "",
) -> HTMLResponse:
    typed = {"platform": platform, "name": name.strip()}
    given = {
        "app_key": app_key,
        "sign_secret": sign_secret,
        "app_secret": app_secret,
        "access_token": access_token,
        "session": session,
    }
    try:
        page.merchant.require(Permission.CATALOGUE)
        if not _may_add(page):
            raise ForbiddenError("only the owner may add a store", field="owner")
        try:
            wanted = credentials.FIELDS[Platform(platform)]
        except ValueError:
            wanted = ()
        made = setup.add_channel(
            setup.AddChannel(
                page.shop_id,
                platform,
                name,
                {k: v for k, v in given.items() if k in wanted and v.strip()},
                server_url.strip() or None,
                actor=page.merchant.actor,
            ),
            page.runtime.uow(),
            page.runtime.secret_key(),
        )
    except DomainError as exc:
        return _refused(page, exc, "add-store-error", typed)
    return _body(
        page,
        status=201,
        notice=page.fmt.gettext(
            "Store %(name)s added. Its credentials are stored encrypted and never shown again.",
            name=made.name,
        ),
    )


@router.post("/channels/links", response_class=HTMLResponse)
def link_sku(
    page: ChangeDep,
    channel_id: FormField = "",
    sku_id: FormField = "",
    platform_item_id: FormField = "",
    platform_sku_id: FormField = "",
) -> HTMLResponse:
    try:
        page.merchant.require(Permission.CATALOGUE)
        setup.link_sku(
            setup.LinkSku(
                page.shop_id,
                _id(channel_id, "channel_id"),
                _id(sku_id, "sku_id"),
                platform_item_id,
                platform_sku_id,
                page.merchant.actor,
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _refused(page, exc, "link-error", {})
    return _body(
        page,
        status=201,
        notice=page.fmt.gettext(
            "SKU linked to %(item)s / %(sku)s. Its figure is queued for the store.",
            item=platform_item_id.strip(),
            sku=platform_sku_id.strip(),
        ),
    )


@router.post("/channels/{channel_id}/skus/{sku_id}/rule", response_class=HTMLResponse)
def set_rule(
    page: ChangeDep, channel_id: int, sku_id: int, kind: FormField = "", value: FormField = ""
) -> HTMLResponse:
    typed = {"value": value.strip()}
    try:
        page.merchant.require(Permission.CATALOGUE)
        if kind not in RULE_CHOICES:
            raise InvalidValueError("kind must be share, fixed or none", field="kind")
        chosen = None if kind == "none" else kind
        units = 0 if chosen is None else forms.whole(value, "value")
        setup.set_rule(
            setup.SetRule(page.shop_id, sku_id, channel_id, chosen, units, page.merchant.actor),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _refused(page, exc, f"rule-error-{channel_id}-{sku_id}", typed)
    return _body(page, notice=page.fmt.gettext("Rule saved. The store's figure is queued."))


@router.post("/channels/skus/{sku_id}/safety", response_class=HTMLResponse)
def set_safety(page: ChangeDep, sku_id: int, units: FormField = "") -> HTMLResponse:
    try:
        page.merchant.require(Permission.CATALOGUE)
        setup.set_safety(
            setup.SetSafety(page.shop_id, sku_id, forms.whole(units, "units"), page.merchant.actor),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _refused(page, exc, f"safety-error-{sku_id}", {"units": units.strip()})
    return _body(
        page, notice=page.fmt.gettext("Safety stock saved. The stores' figures are queued.")
    )


@router.post("/channels/live", response_class=HTMLResponse)
def live_lock(page: ChangeDep, channel_id: FormField = "", sku_id: FormList = None) -> HTMLResponse:
    try:
        page.merchant.require(Permission.CATALOGUE)
        chosen = tuple(dict.fromkeys(_id(s, "sku_ids") for s in sku_id or ()))
        setup.live_lock(
            setup.LiveLock(
                page.shop_id, _id(channel_id, "channel_id"), chosen, page.merchant.actor
            ),
            page.runtime.uow(),
        )
    except DomainError as exc:
        return _refused(page, exc, "live-error", {})
    return _body(
        page,
        notice=page.fmt.gettext(
            "Live lock on: the live store now gets the whole spot stock of %(n)s SKU(s); the "
            "other stores show only presale for them.",
            n=page.fmt.number(len(chosen)),
        ),
    )


@router.post("/channels/live/release", response_class=HTMLResponse)
def release_live_lock(page: ChangeDep) -> HTMLResponse:
    try:
        page.merchant.require(Permission.CATALOGUE)
        setup.live_lock(
            setup.LiveLock(page.shop_id, None, (), page.merchant.actor), page.runtime.uow()
        )
    except DomainError as exc:
        return _refused(page, exc, "live-error", {})
    return _body(
        page, notice=page.fmt.gettext("Live lock released: every store is back on its rules.")
    )
