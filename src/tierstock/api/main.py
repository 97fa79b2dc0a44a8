"""The FastAPI application: routers, error handlers, the runtime on app.state."""

from __future__ import annotations

import gc
from typing import Any

from fastapi import FastAPI

from tierstock import __version__
from tierstock.api import errors, middleware
from tierstock.api.middleware import MAX_BODY_BYTES
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
from tierstock.api.schemas.fields import DEFAULT_ZONE, YEARS
from tierstock.services.runtime import Runtime
from tierstock.web.app import mount as mount_workbench

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorPublic} for code in (401, 403, 404, 409, 413, 422)
}
ERROR_RESPONSES[413]["description"] = f"the request body is over {MAX_BODY_BYTES} bytes"

# Refusals of a request body as such (api/middleware.py, api/errors.py), documented on
# the operations that can give them: 415 on every write (a body, if any, must be JSON),
# 400 where a body is read (JSON text must be UTF-8).
BODY_REFUSALS = {
    "415": ("the request body is not declared JSON (Content-Type: application/json)", True),
    "400": ("the request body cannot be read (JSON text must be UTF-8)", False),
}
WRITE_METHODS = ("post", "put", "patch")

DESCRIPTION = f"""Stock and shipping promises for live-stream merchants.

Every shop-scoped operation needs the shop's API key in the `X-API-Key` header (the
`ApiKey` security scheme). Writes take an optional `Idempotency-Key` (1 to 200
characters) — `POST /orders` requires one: a retry with the same key and body returns
the first answer. Request bodies are JSON (`Content-Type: application/json`), at most
{MAX_BODY_BYTES} bytes.

Dates and times in requests lie in the years {YEARS}. A date is `YYYY-MM-DD`; a time
is ISO 8601 with an offset (`2026-12-01T20:00:00+08:00`), or without one — then it is
the shop's local time ({DEFAULT_ZONE.key}) — or a plain date, the start of that day
there. Times in answers are in the shop's zone, with their offset. Every refusal is
`{{"error", "field", "message"}}`."""


class TierstockAPI(FastAPI):
    """FastAPI, with the refusals of a request body documented where they can happen."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            schema = super().openapi()  # built once, then kept
            document_body_refusals(schema)
            return schema
        return self.openapi_schema


def document_body_refusals(schema: dict[str, Any]) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}}
    for operations in schema.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in WRITE_METHODS:
                continue
            for status, (description, every_write) in BODY_REFUSALS.items():
                if every_write or "requestBody" in operation:
                    operation["responses"].setdefault(
                        status, {"description": description, "content": error}
                    )


def create_app(runtime: Runtime) -> FastAPI:
    app = TierstockAPI(
        title="tierstock",
        version=__version__,
        description=DESCRIPTION,
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
