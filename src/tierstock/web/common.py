"""What every workbench page shares: the signed-in merchant, its language, rendering."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from tierstock.domain.access import ForbiddenError, Permission, Role
from tierstock.domain.errors import HTTP_STATUS_BY_KIND, DomainError
from tierstock.services.runtime import Runtime
from tierstock.web.i18n import N_, Formatter, normalise, template_globals
from tierstock.web.session import COOKIE, LANG_COOKIE, Merchant, Sessions
from tierstock.web.simulate import Bursts

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.autoescape = True
SIGNED_OUT_ZONE = ZoneInfo("Asia/Shanghai")

#: How a page names a key's role when it explains what the key may not do.
ROLE_NAMES = {
    Role.OWNER.value: N_("owner"),
    Role.OPERATOR.value: N_("operator"),
    Role.WAREHOUSE.value: N_("warehouse"),
    Role.SUPPLIER.value: N_("supplier"),
    Role.VIEWER.value: N_("viewer"),
}


@dataclass
class Workbench:
    runtime: Runtime
    sessions: Sessions
    bursts: Bursts


def workbench(request: Request) -> Workbench:
    found: Workbench = request.app.state.workbench
    return found


def url(request: Request, path: str) -> str:
    """A workbench path under wherever the workbench is mounted ('/web' by default)."""
    return str(request.scope.get("root_path", "")).rstrip("/") + path


def formatter(request: Request, zone: ZoneInfo = SIGNED_OUT_ZONE) -> Formatter:
    return Formatter(normalise(request.cookies.get(LANG_COOKIE)), zone)


def render(
    request: Request,
    fmt: Formatter,
    name: str,
    *,
    status: int = 200,
    merchant: Merchant | None = None,
    **context: Any,
) -> HTMLResponse:
    def u(path: str) -> str:
        return url(request, path)

    values = {
        **template_globals(fmt),
        "u": u,
        "merchant": merchant,
        "path": request.url.path,
        "query": request.url.query,
        **context,
    }
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status)


def error_status(exc: DomainError) -> int:
    return HTTP_STATUS_BY_KIND.get(exc.kind, 422)


@dataclass
class Page:
    """A request from a signed-in merchant: its shop, its language, the runtime."""

    request: Request
    web: Workbench
    merchant: Merchant
    fmt: Formatter

    @property
    def runtime(self) -> Runtime:
        return self.web.runtime

    @property
    def shop_id(self) -> int:
        return self.merchant.shop_id

    @property
    def role_name(self) -> str:
        """The merchant's role as pages name it (untranslated; templates translate it)."""
        return ROLE_NAMES.get(self.merchant.role, self.merchant.role)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    def render(self, name: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render(
            self.request, self.fmt, name, status=status, merchant=self.merchant, **context
        )

    def redirect(self, path: str) -> RedirectResponse:
        return RedirectResponse(url(self.request, path), status_code=303)


def current_page(request: Request) -> Page:
    web = workbench(request)
    merchant = web.sessions.merchant(request.cookies.get(COOKIE))
    merchant.require(Permission.READ)
    return Page(request, web, merchant, formatter(request, merchant.zone))


PageDep = Annotated[Page, Depends(current_page)]


def changing_page(request: Request) -> Page:
    """A change sent by the workbench's own page. htmx marks its requests with the
    ``HX-Request`` header, which a form on another site cannot set (and a cross-site
    script could only with a CORS pre-flight this app never grants): with the SameSite
    cookie, this keeps other sites from making changes in the merchant's name."""
    if request.headers.get("HX-Request") != "true":
        raise ForbiddenError("changes must come from the workbench page itself", field="HX-Request")
    return current_page(request)


ChangeDep = Annotated[Page, Depends(changing_page)]


#: The workbench's own words for refusals, by error code, shown by every page's error
#: partial (a code not listed here still shows the server's English message).
REFUSALS = {
    "stock_needs_evidence": N_(
        "Raising spot stock needs evidence: receive the goods with their supplier and "
        "delivery note, or approve a stock count. Only the owner may raise it without "
        "evidence, and that is flagged."
    ),
    "stock_override_owner_only": N_("Only the shop's owner may raise stock without evidence."),
    "tier_not_sold": N_(
        "This SKU's sales form does not sell that tier: units put there would never be offered."
    ),
    "delivery_note_already_received": N_(
        "This delivery note was already received for this SKU: the same goods cannot be "
        "made sellable twice."
    ),
}

TEMPLATES.env.globals["refusals"] = REFUSALS
