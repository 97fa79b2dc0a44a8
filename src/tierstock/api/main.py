"""The FastAPI application: routers, error handlers, the runtime on app.state."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from tierstock import __version__
from tierstock.api import errors, middleware
from tierstock.api.routers import (
    audit,
    capacity,
    channels,
    counts,
    eligibility,
    events,
    keys,
    orders,
    plans,
    products,
    promises,
    shipments,
    shops,
    skus,
)
from tierstock.api.schemas.errors import ErrorPublic
from tierstock.services.runtime import Runtime
from tierstock.web.app import mount as mount_workbench

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 413, 422)
}


def create_app(runtime: Runtime) -> FastAPI:
    app = FastAPI(
        title="tierstock",
        version=__version__,
        description="Stock and shipping promises for live-stream merchants.",
        responses=ERROR_RESPONSES,
    )
    app.state.runtime = runtime
    errors.install(app)
    middleware.install(app)
    for module in (
        shops,
        products,
        skus,
        orders,
        shipments,
        promises,
        eligibility,
        counts,
        events,
        capacity,
        plans,
        channels,
        keys,
        audit,
    ):
        app.include_router(module.router)

    mount_workbench(app, runtime)  # /web/: the merchant workbench (Jinja2 + htmx)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """The app as configured by ``TIERSTOCK_*`` variables: the factory each uvicorn
    worker process calls when `tierstock serve --workers N` runs several."""
    from tierstock.config import Settings

    settings = Settings()
    runtime = Runtime.from_settings(settings)
    app = create_app(runtime)
    # Everything built so far (the app, its routes, pydantic models) lives as long as
    # the process: keep it out of the cyclic collector, whose full passes over it put
    # pauses of tens of milliseconds on requests under a burst.
    gc.collect()
    gc.freeze()
    return app
