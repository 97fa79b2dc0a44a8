"""POST /orders from wrk (a C load generator), so the client's own CPU does not eat the
server's share of this 2-core machine the way 32 Python threads do.

Each wrk thread numbers its requests, so every request carries its own Idempotency-Key.
wrk reports latency percentiles; status codes are counted by the Lua script.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from bench.common import Measurement

WRK_SCRIPT = r"""
-- globals on purpose: done() reads each thread's counters with thread:get()
counter = 0
thread_id = 0
ok, refused, other = 0, 0, 0
threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = tonumber(tid)
end

function request()
  counter = counter + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-API-Key"] = "__KEY__"
  headers["Idempotency-Key"] = "__TAG__-" .. thread_id .. "-" .. counter
  return wrk.format("POST", "/orders", headers, '__BODY__')
end

function response(status, headers, body)
  if status == 201 then ok = ok + 1
  elseif status == 409 then refused = refused + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local o, r, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other")
  end
  io.write(string.format("STATUS ok=%d refused=%d other=%d\n", o, r, x))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("PCT %d %.3f\n", p, latency:percentile(p) / 1000.0))
  end
  io.write(string.format("MAXMS %.3f\n", latency.max / 1000.0))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    backend: str,
    scenario: str,
    base: str,
    api_key: str,
    sku_id: int,
    tag: str,
    connections: int,
    seconds: float,
) -> Measurement:
    body = json.dumps({"lines": [{"sku_id": sku_id, "quantity": 1}]})
    script = (
        WRK_SCRIPT.replace("__KEY__", api_key).replace("__TAG__", tag).replace("__BODY__", body)
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "-s",
                path,
                "--timeout",
                "10s",
                base,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        ).stdout
    finally:
        Path(path).unlink(missing_ok=True)
    status = re.search(r"STATUS ok=(\d+) refused=(\d+) other=(\d+)", out)
    pct = dict(re.findall(r"PCT (\d+) ([\d.]+)", out))
    duration = re.search(r"requests in ([\d.]+)(m?s)", out)
    max_ms = re.search(r"MAXMS ([\d.]+)", out)
    assert status and duration and max_ms, out
    secs = float(duration.group(1)) / (1000 if duration.group(2) == "ms" else 1)
    m = Measurement(
        backend,
        scenario,
        connections,
        ok=int(status.group(1)),
        refused=int(status.group(2)),
        errors=int(status.group(3)),
        seconds=secs,
        p50_ms=float(pct["50"]),
        p99_ms=float(pct["99"]),
        max_ms=float(max_ms.group(1)),
    )
    m.extra["p90_ms"] = float(pct["90"])
    if m.errors:
        m.first_error = "non-201/409 answers (see wrk output)"
    return m
