"""Idempotent writes: a retry with the same key and body gets the first answer back.

The key is claimed in the same transaction as the write, so either both the change and
the claim are committed or neither is: a crash can never leave a change without its key
(which would let a retry apply it twice).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tierstock.domain.errors import DomainError


@dataclass(frozen=True)
class IdempotencyClaim:
    shop_id: int
    key: str
    request_hash: str


def request_hash(method: str, path: str, body: bytes) -> str:
    """What must be identical for a retry: the operation and its exact body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


class Replay(Exception):
    """The key was used before with the same request: here is the first answer."""

    def __init__(self, status_code: int, body: str) -> None:
        super().__init__(status_code)
        self.status_code = status_code
        self.body = body


class AnswerPendingError(DomainError):
    """The first request with this key committed its change but its answer is not
    stored yet (it is still being sent, or the server died in between). Nothing will
    be applied twice; retry in a moment, or read the object."""

    code = "idempotency_answer_pending"
    kind = "conflict"
