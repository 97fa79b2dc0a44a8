"""Shared machinery of the benchmarks: a bounded multi-client runner, throwaway
databases, the `tierstock serve` subprocess, seeding, oversell audits and output.

Every measurement is bounded twice — by a number of operations and by wall time —
and runs its clients as threads that start together on a barrier. Latency is taken
per operation with ``time.perf_counter``; throughput is successful operations divided
by the time from the barrier to the last client's last operation.
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tierstock.testing import served

PG_ADMIN_DSN = os.environ.get(
    "TIERSTOCK_BENCH_PG", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)
ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"

# An operation returns True (an order placed / a read served), False (refused: sold
# out) or raises (an error, counted and reported).
Op = Callable[[int], bool]


@dataclass
class Measurement:
    backend: str
    scenario: str
    clients: int
    ok: int = 0
    refused: int = 0
    errors: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    oversold: int = 0
    first_error: str | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    ratio_limit: float | None = None
    ratio_baseline: float | None = None

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds > 0 else 0.0

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["rate_per_s"] = round(self.rate, 1)
        return d


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[k]


def run_clients(
    backend: str,
    scenario: str,
    clients: int,
    make_worker: Callable[[int], tuple[Op, Callable[[], None] | None]],
    *,
    max_ops: int,
    max_seconds: float,
) -> Measurement:
    """Run ``clients`` threads, each with its own worker (connection, HTTP client ...),
    until ``max_ops`` operations were started or ``max_seconds`` passed."""
    workers = [make_worker(k) for k in range(clients)]
    counter = itertools.count()
    barrier = threading.Barrier(clients + 1)
    lats: list[list[float]] = [[] for _ in range(clients)]
    ok = [0] * clients
    refused = [0] * clients
    errors = [0] * clients
    ends = [0.0] * clients
    first_error: list[str] = []
    start_box = [0.0]

    def body(k: int) -> None:
        op = workers[k][0]
        lat = lats[k]
        pc = time.perf_counter
        barrier.wait()
        deadline = start_box[0] + max_seconds
        while True:
            i = next(counter)
            if i >= max_ops:
                break
            t0 = pc()
            if t0 >= deadline:
                break
            try:
                placed = op(i)
            except Exception as exc:
                errors[k] += 1
                if not first_error:
                    first_error.append(f"{type(exc).__name__}: {str(exc)[:300]}")
                ends[k] = pc()
                continue
            t1 = pc()
            lat.append(t1 - t0)
            ends[k] = t1
            if placed:
                ok[k] += 1
            else:
                refused[k] += 1

    threads = [threading.Thread(target=body, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    start_box[0] = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    for _, close in workers:
        if close is not None:
            with suppress(Exception):
                close()
    seconds = max(max(ends) - start_box[0], 1e-9)
    all_lat = sorted(itertools.chain.from_iterable(lats))
    return Measurement(
        backend=backend,
        scenario=scenario,
        clients=clients,
        ok=sum(ok),
        refused=sum(refused),
        errors=sum(errors),
        seconds=seconds,
        p50_ms=percentile(all_lat, 0.50) * 1000,
        p99_ms=percentile(all_lat, 0.99) * 1000,
        max_ms=(all_lat[-1] * 1000 if all_lat else 0.0),
        first_error=first_error[0] if first_error else None,
    )


def shared(op: Op) -> Callable[[int], tuple[Op, None]]:
    """A worker factory for an operation with no per-client state."""
    return lambda _k: (op, None)


class Tally:
    """A thread-safe event counter (``next`` on ``itertools.count`` is atomic in CPython)."""

    def __init__(self) -> None:
        self._count = itertools.count()
        self._reads = 0

    def hit(self, *_args: Any, **_kw: Any) -> None:
        next(self._count)

    def value(self) -> int:  # one reader thread only
        v = next(self._count) - self._reads
        self._reads += 1
        return v


class EngineTally:
    """Connections opened and statements sent by a SQLAlchemy engine: shows pool churn
    and round trips per order without touching tierstock's code."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.connects, self.statements = Tally(), Tally()
        event.listen(engine, "connect", self.connects.hit)
        event.listen(engine, "before_cursor_execute", self.statements.hit)

    def snapshot(self) -> tuple[int, int]:
        return self.connects.value(), self.statements.value()


# --- databases -------------------------------------------------------------------------


@dataclass
class Backend:
    name: str  # "sqlite" | "postgresql"
    url: str  # SQLAlchemy URL tierstock uses
    sqlite_path: str | None = None
    pg_dsn: str | None = None
    # SQLite admits one writer: raw-driver writers of this process queue on this lock,
    # exactly as tierstock's unit of work does (store/engine.py sqlite_write_lock).
    write_lock: threading.Lock = field(default_factory=threading.Lock)

    def raw(self) -> Any:
        """A raw DB-API connection: sqlite3 in autocommit mode, or psycopg (autocommit
        off; callers pick)."""
        if self.name == "sqlite":
            assert self.sqlite_path is not None
            conn = sqlite3.connect(
                self.sqlite_path, isolation_level=None, check_same_thread=False, timeout=60
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn
        import psycopg

        assert self.pg_dsn is not None
        return psycopg.connect(self.pg_dsn)


@contextmanager
def sqlite_backend() -> Iterator[Backend]:
    folder = tempfile.mkdtemp(prefix="tierstock-bench-")
    path = os.path.join(folder, "bench.db")
    try:
        yield Backend("sqlite", f"sqlite:///{path}", sqlite_path=path)
    finally:
        for suffix in ("", "-wal", "-shm"):
            with suppress(FileNotFoundError):
                os.remove(path + suffix)
        with suppress(OSError):
            os.rmdir(folder)


def pg_available() -> str | None:
    """None if the PostgreSQL server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return None
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


@contextmanager
def pg_backend() -> Iterator[Backend]:
    """A throwaway database `tierstock_bench_<random>`, dropped afterwards."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = f"tierstock_bench_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    params = conninfo_to_dict(PG_ADMIN_DSN)
    params["dbname"] = name
    dsn = make_conninfo("", **params)
    user = params.get("user", "postgres")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    url = f"postgresql+psycopg://{user}@{host}:{port}/{name}"
    try:
        yield Backend("postgresql", url, pg_dsn=dsn)
    finally:
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')


# --- the HTTP server ---------------------------------------------------------------------


@contextmanager
def tierstock_server(
    database_url: str,
    startup_timeout: float = 60,
    workers: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`tierstock serve --workers N` on a free loopback port against ``database_url``
    (``env``: more ``TIERSTOCK_*`` settings, e.g. the Redis front)."""
    fd, log_name = tempfile.mkstemp(prefix="tierstock-bench-serve-", suffix=".log")
    os.close(fd)
    try:
        with served(
            database_url,
            Path(log_name),
            timeout_s=startup_timeout,
            args=("--workers", str(workers)),
            env=env,
        ) as (base, _):
            yield base
    finally:
        with suppress(OSError):
            os.remove(log_name)


# --- seeding and audits through tierstock itself ---------------------------------------------


@dataclass(frozen=True)
class Seeded:
    shop_id: int
    api_key: str
    product_ids: list[int]
    sku_ids: list[int]
    spot: int
    presale: int


def seed_shop(runtime: Any, *, skus: int, spot: int, presale: int, label: str) -> Seeded:
    """A shop (with its owner API key) and one listed product with ``skus`` tiered SKUs
    (48 h spot window, 5-day presale), all through the service layer."""
    from tierstock.domain.catalogue import ServicePromise
    from tierstock.domain.sales_forms import SalesForm, SalesFormSpec
    from tierstock.services import catalogue, shops

    created = shops.create_shop(shops.CreateShop(f"bench {label}"), runtime.uow())
    shop_id = created.shop.id
    form = SalesFormSpec(SalesForm.TIERED, 48, 5)
    product = catalogue.create_product(
        catalogue.CreateProduct(shop_id, f"加厚羽绒服 {label}", (ServicePromise.SEVEN_DAY_RETURN,)),
        runtime.uow(),
    )
    sku_ids = [
        catalogue.add_sku(
            catalogue.AddSku(
                shop_id,
                product.id,
                f"JACKET-{label}-{n}",
                29_900,
                form,
                {"颜色": "黑", "尺码": str(n)},
                spot,
                presale,
                "bench",
            ),
            runtime.uow(),
        ).id
        for n in range(skus)
    ]
    catalogue.set_listed(catalogue.SetListed(shop_id, product.id, True), runtime.uow())
    return Seeded(shop_id, created.api_key, [product.id], sku_ids, spot, presale)


@dataclass
class Audit:
    """What the database says after a run, per tier: never trust the clients."""

    sold: dict[str, int]
    lines: dict[str, int]
    oversold_units: int  # sum of max(0, sold - quantity) over tiers
    units_held_twice: int  # from order lines' (tier_sold_after, quantity)
    unheld_units: int  # |sold - units held by paid lines|
    skus_crossed: int  # SKUs whose spot tier sold out and whose presale tier sold
    first_presale_line: int | None  # position of the first presale line of SKU 0

    @property
    def bad(self) -> int:
        return self.oversold_units + self.units_held_twice + self.unheld_units


def audit_tierstock(runtime: Any, sku_ids: list[int]) -> Audit:
    from tierstock.domain.allocation import units_held_twice
    from tierstock.domain.sales_forms import Tier

    with runtime.uow(readonly=True) as uow:
        tiers = uow.stock.tiers(sku_ids)
        lines = {sid: uow.orders.lines_of_sku(sid) for sid in sku_ids}
    sold = {t.value: 0 for t in Tier}
    nlines = {t.value: 0 for t in Tier}
    oversold = twice = unheld = crossed = 0
    first_presale: int | None = None
    for sid in sku_ids:
        held = tiers.get(sid, {})
        for t in Tier:
            stock = held.get(t)
            if stock is None:
                continue
            sold[t.value] += stock.sold
            oversold += max(0, stock.sold - stock.quantity)
            mine = [ln for ln in lines[sid] if ln.tier == t.value and ln.status == "paid"]
            nlines[t.value] += len(mine)
            twice += units_held_twice((ln.tier_sold_after, ln.quantity) for ln in mine)
            unheld += abs(stock.sold - sum(ln.quantity for ln in mine))
        spot, presale = held.get(Tier.SPOT), held.get(Tier.PRESALE)
        if spot and presale and spot.available == 0 and presale.sold > 0:
            crossed += 1
    if sku_ids:
        for pos, ln in enumerate(lines[sku_ids[0]], start=1):
            if ln.tier == Tier.PRESALE.value:
                first_presale = pos
                break
    return Audit(sold, nlines, oversold, twice, unheld, crossed, first_presale)


# --- output --------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    import sqlalchemy

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    with suppress(OSError):
        info["loadavg_at_start"] = os.getloadavg()
    with suppress(Exception):
        import psycopg

        info["psycopg"] = psycopg.__version__
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3) as c:
            row = c.execute("SHOW server_version").fetchone()
            info["postgresql"] = row[0] if row else None
    return info


def write_json(payload: dict[str, Any], stamp: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"hot_sku-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str))
    latest = RESULTS / "hot_sku-latest.json"
    latest.write_text(path.read_text())
    return path
