"""ASGI middleware: checks of the request body (its size and its media type), and storing
the answers of idempotent writes.

Both are plain ASGI so they see every byte without buffering whole responses twice.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tierstock.domain.idempotency import IdempotencyClaim
from tierstock.services.runtime import Runtime

MAX_BODY_BYTES = 1 << 20  # 1 MiB: the largest legitimate API body is a 200-line order
MAX_UPLOAD_BYTES = 20 << 20  # the workbench's count-sheet uploads (its own limit is 20 MB)


def _json_error(status: int, code: str, field: str | None, message: str) -> list[Message]:
    body = json.dumps({"error": code, "field": field, "message": message}).encode()
    return [
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        },
        {"type": "http.response.body", "body": body},
    ]


_WRITES = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: bytes) -> bool:
    media_type = content_type.split(b";", 1)[0].strip().lower()
    return media_type == b"application/json" or (
        media_type.startswith(b"application/") and media_type.endswith(b"+json")
    )


class BodySizeLimit:
    """413 for a body over the limit: 1 MiB for the API, 20 MiB for the workbench's
    count-sheet uploads (before this, a sheet over 1 MiB was refused as JSON); and 415
    for an API body that is not declared JSON (``application/json`` or ``…+json``) —
    every request body of the API is JSON. One layer for both: it runs on every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        workbench = scope["path"].startswith("/web/")
        limit = MAX_UPLOAD_BYTES if workbench else MAX_BODY_BYTES
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            for message in _json_error(
                413, "body_too_large", "body", f"request bodies are limited to {limit} bytes"
            ):
                await send(message)
            return
        if (
            not workbench
            and scope["method"] in _WRITES
            and ((length is not None and length != b"0") or b"transfer-encoding" in headers)
            and not _is_json(headers.get(b"content-type", b""))
        ):
            for message in _json_error(
                415,
                "unsupported_media_type",
                "Content-Type",
                "send the request body as JSON (Content-Type: application/json)",
            ):
                await send(message)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge(limit)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:  # raised where no exception handler turned it into the answer
            for message in _json_error(
                413, "body_too_large", "body", f"request bodies are limited to {limit} bytes"
            ):
                await send(message)


class _TooLarge(HTTPException):
    """A streamed body passed the limit. An HTTPException, so the API's routes let it
    through to the error handlers (413) instead of calling it a body they cannot parse."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request bodies are limited to {limit} bytes")


class StoreIdempotentAnswers:
    """After a successful write that claimed an Idempotency-Key, keep its answer so a
    retry gets the same status and body.

    The answer is stored *before* it is sent: a client that received an answer can
    always get it again. Only responses of requests that claimed a key are held back.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_if_claimed(message: Message) -> None:
            claim: IdempotencyClaim | None = scope.get("state", {}).get("idempotency_claim")
            if claim is None:
                await send(message)
                return
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                await self._store_then_send(scope, claim, held, send)

        await self.app(scope, receive, hold_if_claimed)

    @staticmethod
    async def _store_then_send(
        scope: Scope, claim: IdempotencyClaim, held: list[Message], send: Send
    ) -> None:
        status = next(m["status"] for m in held if m["type"] == "http.response.start")
        if 200 <= status < 300:
            body = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
            runtime: Runtime = scope["app"].state.runtime
            await anyio.to_thread.run_sync(_store, runtime, claim, status, body)
        for message in held:
            await send(message)


def _store(runtime: Runtime, claim: IdempotencyClaim, status: int, body: bytes) -> None:
    with runtime.uow() as uow:
        uow.idempotency.store_answer(claim.shop_id, claim.key, status, body.decode())
        uow.commit()


def install(app: Any) -> None:
    app.add_middleware(StoreIdempotentAnswers)
    app.add_middleware(BodySizeLimit)
