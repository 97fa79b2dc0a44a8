"""One place that turns every refusal into ``{"error", "field", "message"}``.

Domain errors carry a ``kind``; validation errors name the first offending field; any
other exception becomes a 500 with the same shape and no traceback for the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from tierstock.domain.errors import HTTP_STATUS_BY_KIND, DomainError
from tierstock.domain.idempotency import Replay

log = logging.getLogger("tierstock.api")


def error_response(status: int, code: str, field: str | None, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "field": field, "message": message}, status_code=status)


def _field(loc: tuple[int | str, ...]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    # drop the discriminator tag pydantic inserts for tagged unions
    parts = [p for p in parts if p not in ("spot", "presale", "tiered")]
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


# Refusals Starlette and FastAPI raise themselves: the error code and the field concerned.
# A 400 is a body FastAPI could not read at all (not UTF-8: JSON text is UTF-8); a
# streamed body over the limit is a 413 (middleware.BodySizeLimit).
_HTTP_ERRORS: dict[int, tuple[str, str | None]] = {
    400: ("unreadable_body", "body"),
    404: ("not_found", None),
    405: ("method_not_allowed", None),
    413: ("body_too_large", "body"),
}


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> str:
    """Every method the path answers (Starlette's own 405 names one route's alone): the
    methods some route fully matches the request with."""
    routes = request.app.router.routes
    allowed = [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes
        )
    ]
    return ", ".join(allowed)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return error_response(HTTP_STATUS_BY_KIND[exc.kind], exc.code, exc.field, exc.message)

    @app.exception_handler(Replay)
    async def _replay(request: Request, exc: Replay) -> Response:
        request.state.idempotency_claim = None  # already stored
        return Response(
            exc.body,
            status_code=exc.status_code,
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        loc = tuple(first.get("loc", ()))
        if first.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = (*loc, "form")  # name the discriminator, not the whole object
        field = _field(loc)
        message = f"{field}: {first.get('msg', 'invalid value')}"
        return error_response(422, "validation_error", field, message)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        code, field = _HTTP_ERRORS.get(exc.status_code, ("http_error", None))
        response = error_response(exc.status_code, code, field, str(exc.detail))
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: every method of the resource, in Allow
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return error_response(
            500, "internal_error", None, "an unexpected error occurred; nothing was changed"
        )
