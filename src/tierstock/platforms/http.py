"""What every platform client does the same way over HTTP: the call that turns a
timeout or a cut connection into :class:`UnavailableError` without the request (whose
URL may carry a token), the first read of an answer, and one filter that masks tokens
and signatures in httpx's request log lines."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from tierstock.platforms.base import UnavailableError

SECRET_QUERY = ("access_token", "session", "sign")


class RedactSecrets(logging.Filter):
    """httpx logs every request's full URL at INFO; a GET to Kuaishou or Douyin carries
    the access token (and Kuaishou the signature) in it: those values are masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_masked(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _masked(url: httpx.URL) -> httpx.URL:
    for name in SECRET_QUERY:
        if name in url.params:
            url = url.copy_set_param(name, "***")
    return url


def redact_request_logs() -> None:
    """Install :class:`RedactSecrets` on httpx's logger once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


def send(platform: str, method: str, call: Callable[[], httpx.Response]) -> httpx.Response:
    """Run one request; a timeout or a transport failure is UnavailableError (the call
    may or may not have taken effect), raised ``from None`` so no URL leaks with it."""
    try:
        return call()
    except httpx.TimeoutException:
        raise UnavailableError(f"{platform} {method}: timed out") from None
    except httpx.TransportError as exc:
        raise UnavailableError(f"{platform} {method}: {type(exc).__name__}") from None


def json_or_none(platform: str, method: str, response: httpx.Response) -> Any:
    """The answer's JSON (None if it is not JSON); a 5xx is UnavailableError."""
    if response.status_code >= 500:
        raise UnavailableError(f"{platform} {method}: HTTP {response.status_code}")
    try:
        return response.json()
    except ValueError:
        return None
