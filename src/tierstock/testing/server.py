"""A real `tierstock serve` in a subprocess, for end-to-end tests and benchmarks.

Tests, the browser tests and the HTTP benchmark all need the same thing: the real
console script on a free port against a given database, ready before the first request,
and stopped afterwards whatever happened. It lives in the package so that `tests/` and
`bench/` share one copy.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

TIERSTOCK = Path(sys.executable).with_name("tierstock")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerFailedError(RuntimeError):
    """The server exited or did not answer in time; the message ends with its log."""


def _tail(log: Path) -> str:
    try:
        return log.read_text(errors="replace")[-4000:]
    except OSError:
        return "(no server log)"


@contextmanager
def served(
    database_url: str,
    log: Path,
    *,
    ready_path: str = "/health",
    timeout_s: float = 60.0,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Start the server, wait until ``ready_path`` answers 200, yield (base URL, process).

    The log is appended to, so a restarted server (crash tests) keeps one log.
    """
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    full_env = {
        **os.environ,
        "TIERSTOCK_DATABASE_URL": database_url,
        "NO_COLOR": "1",
        **(env or {}),
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(TIERSTOCK), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise ServerFailedError(
                    f"tierstock serve exited with {proc.returncode}:\n{_tail(log)}"
                )
            with suppress(httpx.TransportError):
                if httpx.get(f"{base}{ready_path}", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise ServerFailedError(
                    f"tierstock serve did not answer {ready_path}:\n{_tail(log)}"
                )
            time.sleep(0.1)
        yield base, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
