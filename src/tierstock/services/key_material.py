"""Making and storing API keys.

A key is 32 random bytes, so it cannot be guessed; a plain SHA-256 digest is therefore
enough to store it (a slow password hash protects guessable secrets, not random ones),
and it keeps authentication to one indexed lookup per request.
"""

from __future__ import annotations

import hashlib
import secrets

KEY_PREFIX = "ts_"


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
