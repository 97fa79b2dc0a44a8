"""Sign in with the shop's API key, sign out, switch language."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tierstock.domain.errors import DomainError
from tierstock.web.common import error_status, formatter, render, url, workbench
from tierstock.web.i18n import LANGUAGES
from tierstock.web.session import COOKIE, LANG_COOKIE, MAX_AGE_S

router = APIRouter()


def _safe_next(request: Request, target: str) -> str:
    """Only a path inside the workbench; never another site."""
    base = url(request, "/")
    return target if target.startswith(base) and "//" not in target else base


@router.get("/signin", response_class=HTMLResponse)
def signin_form(request: Request) -> HTMLResponse:
    return render(request, formatter(request), "signin.html")


@router.post("/signin", response_model=None)
def signin(request: Request, api_key: Annotated[str, Form()] = "") -> Response:
    web = workbench(request)
    try:
        token, _ = web.sessions.sign_in(api_key)
    except DomainError as exc:
        return render(
            request, formatter(request), "signin.html", status=error_status(exc), error=exc
        )
    response = RedirectResponse(url(request, "/"), status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE_S,
        httponly=True,
        samesite="lax",
        secure=web.sessions.secure,
        path="/",
    )
    return response


@router.post("/signout")
def signout(request: Request) -> RedirectResponse:
    response = RedirectResponse(url(request, "/signin"), status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "") -> RedirectResponse:
    response = RedirectResponse(_safe_next(request, next), status_code=303)
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/")
    return response
