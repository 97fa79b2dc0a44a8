"""ASGI middleware: a body-size limit, and storing the answers of idempotent writes.

Both are plain ASGI so they see every byte without buffering whole responses twice.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
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


class BodySizeLimit:
    """413 for a body over the limit: 1 MiB for the API, 20 MiB for the workbench's
    count-sheet uploads (before this, a sheet over 1 MiB was refused as JSON)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = MAX_UPLOAD_BYTES if scope["path"].startswith("/web/") else MAX_BODY_BYTES
        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            for message in _json_error(
                413, "body_too_large", "body", f"request bodies are limited to {limit} bytes"
            ):
                await send(message)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            for message in _json_error(
                413, "body_too_large", "body", f"request bodies are limited to {limit} bytes"
            ):
                await send(message)


class _TooLarge(Exception):
    pass


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
