"""The merchant workbench (商家工作台) as a FastAPI sub-application.

Mounted at ``/web`` on the API app, it shares the API's runtime (same database, same
services) but has its own error pages: a refusal is shown to the merchant as HTML in
the page that asked, never as the API's JSON.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tierstock.domain.errors import DomainError
from tierstock.services.runtime import Runtime
from tierstock.web.common import Workbench, error_status, formatter, render, url
from tierstock.web.pages import (
    auth,
    capacity,
    channels,
    counts,
    live,
    overview,
    planner,
    products,
    stock,
)
from tierstock.web.session import Sessions, SignInRequiredError, WebSettings
from tierstock.web.simulate import Bursts

log = logging.getLogger("tierstock.web")
STATIC = Path(__file__).parent / "static"
MOUNT_PATH = "/web"


def create_workbench(runtime: Runtime, settings: WebSettings | None = None) -> FastAPI:
    app = FastAPI(title="tierstock workbench", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.workbench = Workbench(
        runtime, Sessions(runtime, settings or WebSettings()), Bursts(runtime)
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (auth, overview, products, stock, counts, capacity, planner, live, channels):
        app.include_router(module.router)
    _install_errors(app)
    return app


def mount(app: FastAPI, runtime: Runtime) -> None:
    """What ``api/main.py`` calls: the workbench under /web, and / leads to it."""
    app.mount(MOUNT_PATH, create_workbench(runtime))

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse(MOUNT_PATH + "/", status_code=307)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequiredError)
    async def _sign_in(request: Request, _: SignInRequiredError) -> Response:
        target = url(request, "/signin")
        if request.headers.get("HX-Request") == "true":
            return Response(status_code=200, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(DomainError)
    async def _refused(request: Request, exc: DomainError) -> HTMLResponse:
        """A refusal no page handled itself: shown in the page's message area."""
        response = render(
            request, formatter(request), "partials/flash.html", status=error_status(exc), error=exc
        )
        response.headers["HX-Retarget"] = "#flash"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
