"""One hot SKU in a live-stream burst: tierstock side by side with the database's limit.

    .venv/bin/python -m bench.hot_sku            # default run, < 6 min on 2 cores
    .venv/bin/python -m bench.hot_sku --quick    # smoke run, < 1 min

On SQLite (a temp file) and PostgreSQL (a throwaway database) in one run:

1. limit     — the bare conditional UPDATE, one statement = one transaction, raw driver;
   raw txn   — the same UPDATE plus INSERT order + INSERT line in one transaction, raw
               driver (what one-transaction-per-order can reach at best);
   raw batch — the same work batched by a group-commit writer thread: what batching
               could reach (a reference for issue #6's batching goal, not tierstock);
2. baseline  — lock-the-aggregate: SELECT … FOR UPDATE (SQLite: BEGIN IMMEDIATE), read
               stock into Python, check, UPDATE, INSERT order + line;
3. tierstock — ``place_order`` through the service layer, one tiered SKU whose spot tier
               sells out mid-run (the run crosses from spot to presale);
4. tierstock over HTTP — ``tierstock serve`` as a subprocess, 32 httpx clients;
5. product card reads/s — service ``product_card`` and GET /products/{id}/card;
6. order placement with 1, 10 and 100 hot SKUs on sale at once.

Every figure of stock is audited from the database afterwards; the run exits 1, loudly,
if any unit was oversold or held twice, and 2 if an operation failed.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from bench import front, wrk_orders
from bench.common import (
    Backend,
    EngineTally,
    Measurement,
    Op,
    audit_tierstock,
    machine_info,
    pg_available,
    pg_backend,
    run_clients,
    seed_shop,
    shared,
    sqlite_backend,
    tierstock_server,
    write_json,
)

LIMIT = "limit: bare UPDATE"
RAW_TXN = "raw txn: UPDATE+2 INSERT"
BASELINE = "baseline: lock aggregate"
GROUP = "raw batch: group commit"
SERVICE = "tierstock service"  # group commit (services/placing/group_commit.py), the default
SERVICE_SINGLE = "tierstock service, 1 txn/order"  # TIERSTOCK_BATCH_ORDERS=false
HTTP = "tierstock HTTP"
HTTP_WRK = "tierstock HTTP (wrk)"
CARD_SERVICE = "card reads: service"
CARD_SERVICE_CACHED = "card reads: service, 0.5 s cache"
CARD_HTTP = "card reads: HTTP, 0.5 s cache"  # the server's default
MULTI = "tierstock service, {n} hot SKU{s}"
HUGE = 10**12  # stock of the raw rows: never sells out within a run


@dataclass(frozen=True)
class Config:
    clients: tuple[int, ...]
    http_clients: int
    multi_clients: int
    hot_skus: tuple[int, ...]
    seconds: float  # time bound of each measurement
    max_ops: int  # count bound of each measurement
    pilot_seconds: float  # warm-up before each tierstock measurement
    quick: bool


DEFAULT = Config(
    clients=(1, 8, 32, 64),
    http_clients=32,
    multi_clients=32,
    hot_skus=(1, 10, 100),
    seconds=3.0,
    max_ops=60_000,
    pilot_seconds=0.6,
    quick=False,
)
QUICK = Config(
    clients=(1, 8, 32, 64),
    http_clients=32,
    multi_clients=32,
    hot_skus=(1, 10, 100),
    seconds=0.3,
    max_ops=400,
    pilot_seconds=0.1,
    quick=True,
)


class Log:
    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, m: Measurement) -> None:
        flag = "" if not (m.errors or m.oversold) else "  [red]<-- check[/]"
        self.console.log(
            f"{m.backend:10} {m.scenario:34} c={m.clients:<3} {m.rate:9,.0f}/s  "
            f"p50 {m.p50_ms:6.2f} ms  p99 {m.p99_ms:7.2f} ms  ok {m.ok} refused {m.refused} "
            f"errors {m.errors}{flag}",
            highlight=False,
        )


# --- raw-driver scenarios ------------------------------------------------------------------

SCHEMA = {
    "sqlite": [
        "CREATE TABLE bench_stock (id INTEGER PRIMARY KEY, quantity INTEGER NOT NULL, "
        "sold INTEGER NOT NULL DEFAULT 0, "
        "CONSTRAINT never_oversold CHECK (sold >= 0 AND sold <= quantity))",
        "CREATE TABLE bench_orders (id INTEGER PRIMARY KEY, buyer TEXT NOT NULL, "
        "paid_at TEXT NOT NULL)",
        "CREATE TABLE bench_lines (id INTEGER PRIMARY KEY, "
        "order_id INTEGER NOT NULL REFERENCES bench_orders(id), sku_id INTEGER NOT NULL, "
        "quantity INTEGER NOT NULL, sold_after INTEGER NOT NULL)",
        "CREATE INDEX ix_bench_lines_sku ON bench_lines (sku_id)",
    ],
    "postgresql": [
        "CREATE TABLE bench_stock (id BIGSERIAL PRIMARY KEY, quantity BIGINT NOT NULL, "
        "sold BIGINT NOT NULL DEFAULT 0, "
        "CONSTRAINT never_oversold CHECK (sold >= 0 AND sold <= quantity))",
        "CREATE TABLE bench_orders (id BIGSERIAL PRIMARY KEY, buyer TEXT NOT NULL, "
        "paid_at TIMESTAMPTZ NOT NULL)",
        "CREATE TABLE bench_lines (id BIGSERIAL PRIMARY KEY, "
        "order_id BIGINT NOT NULL REFERENCES bench_orders(id), sku_id BIGINT NOT NULL, "
        "quantity INTEGER NOT NULL, sold_after BIGINT NOT NULL)",
        "CREATE INDEX ix_bench_lines_sku ON bench_lines (sku_id)",
    ],
}


def _sql(backend: Backend, text: str) -> str:
    return text if backend.name == "sqlite" else text.replace("?", "%s")


def raw_setup(backend: Backend) -> None:
    conn = backend.raw()
    try:
        for stmt in SCHEMA[backend.name]:
            conn.execute(stmt)
        if backend.name != "sqlite":
            conn.commit()
    finally:
        conn.close()


def raw_new_row(backend: Backend) -> int:
    conn = backend.raw()
    try:
        row = conn.execute(
            _sql(backend, "INSERT INTO bench_stock (quantity, sold) VALUES (?, 0) RETURNING id"),
            (HUGE,),
        ).fetchone()
        if backend.name != "sqlite":
            conn.commit()
        return int(row[0])
    finally:
        conn.close()


def raw_audit(backend: Backend, row_id: int) -> tuple[int, int, int]:
    """(quantity, sold, order lines) of a raw stock row."""
    conn = backend.raw()
    try:
        q, s = conn.execute(
            _sql(backend, "SELECT quantity, sold FROM bench_stock WHERE id = ?"), (row_id,)
        ).fetchone()
        (n,) = conn.execute(
            _sql(backend, "SELECT count(*) FROM bench_lines WHERE sku_id = ?"), (row_id,)
        ).fetchone()
        return int(q), int(s), int(n)
    finally:
        conn.close()


TAKE = "UPDATE bench_stock SET sold = sold + 1 WHERE id = ? AND sold + 1 <= quantity RETURNING sold"
INSERT_ORDER = "INSERT INTO bench_orders (buyer, paid_at) VALUES (?, ?) RETURNING id"
INSERT_LINE = "INSERT INTO bench_lines (order_id, sku_id, quantity, sold_after) VALUES (?, ?, 1, ?)"
LOCK_ROW = "SELECT quantity, sold FROM bench_stock WHERE id = ? FOR UPDATE"
SET_SOLD = "UPDATE bench_stock SET sold = ? WHERE id = ?"


def _paid_at(backend: Backend) -> Any:
    now = datetime.now(UTC)
    return now.isoformat() if backend.name == "sqlite" else now


Worker = Callable[[int], tuple[Op, Any]]


def limit_worker(backend: Backend, row_id: int, conns: list[Any]) -> Worker:
    def make(k: int) -> tuple[Op, Any]:
        conn = conns[k]
        if backend.name == "sqlite":
            lock = backend.write_lock

            def op(_i: int) -> bool:
                with lock:  # autocommit: the statement is its own transaction
                    return bool(conn.execute(TAKE, (row_id,)).fetchall())
        else:
            conn.autocommit = True  # one statement = one transaction, as in pgbench
            sql = _sql(backend, TAKE)

            def op(_i: int) -> bool:
                return conn.execute(sql, (row_id,), prepare=True).fetchone() is not None

        return op, None

    return make


def raw_txn_worker(backend: Backend, row_id: int, conns: list[Any]) -> Worker:
    """The tierstock design with no framework: conditional UPDATE + 2 INSERTs, one txn."""

    def make(k: int) -> tuple[Op, Any]:
        conn = conns[k]
        buyer = f"raw-{k}"
        if backend.name == "sqlite":
            lock = backend.write_lock

            def op(_i: int) -> bool:
                with lock:
                    conn.execute("BEGIN IMMEDIATE")
                    try:
                        row = conn.execute(TAKE, (row_id,)).fetchall()
                        if not row:
                            conn.execute("ROLLBACK")
                            return False
                        oid = conn.execute(INSERT_ORDER, (buyer, _paid_at(backend))).fetchall()
                        conn.execute(INSERT_LINE, (oid[0][0], row_id, row[0][0]))
                        conn.execute("COMMIT")
                        return True
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
        else:
            take, ins_o, ins_l = (_sql(backend, s) for s in (TAKE, INSERT_ORDER, INSERT_LINE))
            conn.autocommit = False

            def op(_i: int) -> bool:
                try:
                    row = conn.execute(take, (row_id,), prepare=True).fetchone()
                    if row is None:
                        conn.rollback()
                        return False
                    oid = conn.execute(ins_o, (buyer, _paid_at(backend)), prepare=True).fetchone()
                    conn.execute(ins_l, (oid[0], row_id, row[0]), prepare=True)
                    conn.commit()
                    return True
                except BaseException:
                    conn.rollback()
                    raise

        return op, None

    return make


def baseline_worker(backend: Backend, row_id: int, conns: list[Any]) -> Worker:
    """Lock the aggregate, read-check-write in Python (Saleor / cosmic-python style)."""

    def make(k: int) -> tuple[Op, Any]:
        conn = conns[k]
        buyer = f"base-{k}"
        if backend.name == "sqlite":
            lock = backend.write_lock
            read = "SELECT quantity, sold FROM bench_stock WHERE id = ?"

            def op(_i: int) -> bool:
                with lock:
                    conn.execute("BEGIN IMMEDIATE")  # SQLite's lock of the aggregate
                    try:
                        quantity, sold = conn.execute(read, (row_id,)).fetchone()
                        if sold + 1 > quantity:
                            conn.execute("ROLLBACK")
                            return False
                        conn.execute(SET_SOLD, (sold + 1, row_id))
                        oid = conn.execute(INSERT_ORDER, (buyer, _paid_at(backend))).fetchall()
                        conn.execute(INSERT_LINE, (oid[0][0], row_id, sold + 1))
                        conn.execute("COMMIT")
                        return True
                    except BaseException:
                        conn.execute("ROLLBACK")
                        raise
        else:
            lock_row, set_sold, ins_o, ins_l = (
                _sql(backend, s) for s in (LOCK_ROW, SET_SOLD, INSERT_ORDER, INSERT_LINE)
            )
            conn.autocommit = False

            def op(_i: int) -> bool:
                try:
                    quantity, sold = conn.execute(lock_row, (row_id,), prepare=True).fetchone()
                    if sold + 1 > quantity:
                        conn.rollback()
                        return False
                    conn.execute(set_sold, (sold + 1, row_id), prepare=True)
                    oid = conn.execute(ins_o, (buyer, _paid_at(backend)), prepare=True).fetchone()
                    conn.execute(ins_l, (oid[0], row_id, sold + 1), prepare=True)
                    conn.commit()
                    return True
                except BaseException:
                    conn.rollback()
                    raise

        return op, None

    return make


class GroupCommit:
    """Reference for batching, raw driver: buyers hand their payment to one writer thread,
    which takes everything waiting (up to ``max_batch``) and allocates it in ONE
    transaction — one conditional UPDATE by the batch's total, the order and line
    INSERTs — then answers each buyer, in payment order, only after COMMIT (a crash
    mid-batch loses no acknowledged order). If the tier cannot hold the whole batch it
    falls back to one conditional UPDATE per order inside the same transaction."""

    def __init__(self, backend: Backend, row_id: int, max_batch: int = 256) -> None:
        self.backend, self.row_id, self.max_batch = backend, row_id, max_batch
        self.conn = backend.raw()
        self.queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.batches = 0
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def __call__(self, k: int) -> tuple[Op, Any]:
        buyer = f"batch-{k}"

        def op(_i: int) -> bool:
            slot: list[Any] = [threading.Event(), None]
            self.queue.put((buyer, slot))
            slot[0].wait()
            if isinstance(slot[1], BaseException):
                raise slot[1]
            return bool(slot[1])

        return op, (self.close if k == 0 else None)

    def close(self) -> None:
        self.queue.put(None)
        self.thread.join(timeout=10)
        self.conn.close()

    def _loop(self) -> None:
        while True:
            first = self.queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self.queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self.queue.put(None)
                    break
                batch.append(nxt)
            try:
                answers = self._allocate([buyer for buyer, _ in batch])
            except BaseException as exc:
                answers = [exc] * len(batch)
            self.batches += 1
            for (_, slot), answer in zip(batch, answers, strict=True):
                slot[1] = answer
                slot[0].set()

    def _allocate(self, buyers: list[str]) -> list[Any]:
        b, conn, n = self.backend, self.conn, len(buyers)
        take_n = _sql(
            b,
            "UPDATE bench_stock SET sold = sold + ? WHERE id = ? "
            "AND sold + ? <= quantity RETURNING sold",
        )
        ins_o, ins_l = _sql(b, INSERT_ORDER), _sql(b, INSERT_LINE)
        lock = b.write_lock if b.name == "sqlite" else contextlib.nullcontext()
        with lock:
            if b.name == "sqlite":
                conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(take_n, (n, self.row_id, n)).fetchall()
                if row:
                    after = [row[0][0] - n + j + 1 for j in range(n)]
                else:  # not enough for all: one by one, in payment order
                    after = []
                    for _ in buyers:
                        one = conn.execute(_sql(b, TAKE), (self.row_id,)).fetchall()
                        after.append(one[0][0] if one else None)
                paid_at = _paid_at(b)
                for buyer, sold_after in zip(buyers, after, strict=True):
                    if sold_after is None:
                        continue
                    oid = conn.execute(ins_o, (buyer, paid_at)).fetchall()[0][0]
                    conn.execute(ins_l, (oid, self.row_id, sold_after))
                conn.execute("COMMIT") if b.name == "sqlite" else conn.commit()
            except BaseException:
                conn.execute("ROLLBACK") if b.name == "sqlite" else conn.rollback()
                raise
        return [a is not None for a in after]


def group_commit_worker(backend: Backend, row_id: int, conns: list[Any]) -> Worker:
    return GroupCommit(backend, row_id)


def run_raw(
    backend: Backend,
    cfg: Config,
    scenario: str,
    conns: list[Any],
    worker: Callable[[Backend, int, list[Any]], Worker],
) -> Measurement:
    row_id = raw_new_row(backend)
    m = run_clients(
        backend.name,
        scenario,
        len(conns),
        worker(backend, row_id, conns),
        max_ops=cfg.max_ops,
        max_seconds=cfg.seconds,
    )
    quantity, sold, lines = raw_audit(backend, row_id)
    m.oversold = max(0, sold - quantity) + (max(0, lines - sold) if scenario != LIMIT else 0)
    if sold != m.ok:
        m.note = f"sold {sold} != {m.ok} ok answers"
        m.oversold += max(0, m.ok - sold)  # a buyer told "paid" without a unit
    if scenario != LIMIT and lines != sold:
        m.note += f" lines {lines} != sold {sold}"
    if backend.name == "sqlite" and scenario == LIMIT:
        m.note = (m.note + " writers queue on one lock").strip()
    m.extra.update(sold=sold, lines=lines)
    return m


# --- tierstock scenarios ----------------------------------------------------------------------


def spot_for(pilot_rate: float, cfg: Config) -> int:
    """Spot stock sized to sell out about a quarter into the run (from the rate the
    warm-up reached), so every run crosses from spot into presale."""
    return max(5, min(cfg.max_ops // 4, int(pilot_rate * cfg.seconds * 0.25)))


def place_op(runtime: Any, shop_id: int, sku_ids: list[int], tag: str, batched: bool = True) -> Op:
    """One buyer's payment: through the group-commit batcher (what the API does by
    default) or in a transaction of its own."""
    from tierstock.domain.errors import InsufficientStockError
    from tierstock.domain.orders import LineRequest
    from tierstock.services.placing import PlaceOrder, place_order

    n = len(sku_ids)

    def op(i: int) -> bool:
        cmd = PlaceOrder(
            shop_id, f"{tag}-{i}", (LineRequest(sku_ids[i % n], 1),), f"buyer-{i}", "bench"
        )
        try:
            if batched:
                runtime.place_order(cmd)
            else:
                place_order(cmd, runtime.uow())
            return True
        except InsufficientStockError:
            return False

    return op


def warm_up(runtime: Any, warm: Any, clients: int, tag: str, cfg: Config) -> float:
    """Open the pool's connections and warm caches on a SKU the measurement ignores;
    returns the rate reached, which sizes the spot tier of the measured SKU."""
    op = place_op(runtime, warm.shop_id, warm.sku_ids, f"warm-{tag}")
    m = run_clients(
        "warm", "warm", clients, shared(op), max_ops=cfg.max_ops, max_seconds=cfg.pilot_seconds
    )
    return m.rate


def finish_tierstock(
    m: Measurement,
    runtime: Any,
    seeded: Any,
    tally: EngineTally | None = None,
    before: tuple[int, int] = (0, 0),
) -> Measurement:
    if tally is not None:  # before the audit's own queries
        connects, statements = tally.snapshot()
        ops = max(1, m.ok + m.refused + m.errors)
        m.extra["db_connections_opened"] = connects - before[0]
        m.extra["statements_per_order"] = round((statements - before[1]) / ops, 2)
    audit = audit_tierstock(runtime, seeded.sku_ids)
    placed = audit.lines["spot"] + audit.lines["presale"]
    m.oversold = audit.bad + max(0, m.ok - placed)
    n = len(seeded.sku_ids)
    if n == 1:
        m.note = (
            f"presale from #{audit.first_presale_line}"
            if audit.skus_crossed
            else "did NOT cross into presale"
        )
    else:
        m.note = f"{audit.skus_crossed}/{n} SKUs in presale"
    if placed != m.ok:
        m.note += f"; {placed} lines != {m.ok} ok answers"
    if tally is not None:
        m.note += (
            f"; {m.extra['statements_per_order']:.1f} stmts/order; "
            f"+{m.extra['db_connections_opened']} conns"
        )
    m.extra.update(
        spot_stock=seeded.spot,
        sold=audit.sold,
        lines=audit.lines,
        units_held_twice=audit.units_held_twice,
        skus_crossed=audit.skus_crossed,
        first_presale_line=audit.first_presale_line,
    )
    return m


def run_service(
    backend: Backend,
    runtime: Any,
    tally: EngineTally,
    cfg: Config,
    warm: Any,
    clients: int,
    batched: bool = True,
) -> Measurement:
    tag = f"svc{clients}{'b' if batched else 's'}"
    pilot = warm_up(runtime, warm, clients, tag, cfg)
    seeded = seed_shop(
        runtime, skus=1, spot=spot_for(pilot, cfg), presale=cfg.max_ops * 2, label=tag
    )
    op = place_op(runtime, seeded.shop_id, seeded.sku_ids, tag, batched)
    before = tally.snapshot()
    m = run_clients(
        backend.name,
        SERVICE if batched else SERVICE_SINGLE,
        clients,
        shared(op),
        max_ops=cfg.max_ops,
        max_seconds=cfg.seconds,
    )
    return finish_tierstock(m, runtime, seeded, tally, before)


def run_multi(
    backend: Backend, runtime: Any, tally: EngineTally, cfg: Config, warm: Any, n: int
) -> Measurement:
    clients = cfg.multi_clients
    pilot = warm_up(runtime, warm, clients, f"multi{n}", cfg)
    seeded = seed_shop(
        runtime,
        skus=n,
        spot=max(1, spot_for(pilot, cfg) // n),
        presale=cfg.max_ops * 2,
        label=f"multi{n}",
    )
    op = place_op(runtime, seeded.shop_id, seeded.sku_ids, f"multi{n}")
    before = tally.snapshot()
    m = run_clients(
        backend.name,
        MULTI.format(n=n, s="" if n == 1 else "s"),
        clients,
        shared(op),
        max_ops=cfg.max_ops,
        max_seconds=cfg.seconds,
    )
    m.extra["hot_skus"] = n
    return finish_tierstock(m, runtime, seeded, tally, before)


def run_card_service(backend: Backend, runtime: Any, cfg: Config, seeded: Any) -> Measurement:
    from tierstock.services.card import product_card

    shop_id, product_id = seeded.shop_id, seeded.product_ids[0]

    def op(_i: int) -> bool:
        card = product_card(shop_id, product_id, runtime.uow(readonly=True))
        return bool(card.skus)

    clients = cfg.http_clients
    run_clients("warm", "warm", clients, shared(op), max_ops=clients * 2, max_seconds=5)
    return run_clients(
        backend.name,
        CARD_SERVICE,
        clients,
        shared(op),
        max_ops=cfg.max_ops,
        max_seconds=cfg.seconds,
    )


def run_card_cached(backend: Backend, runtime: Any, cfg: Config, seeded: Any) -> Measurement:
    """The card as the API serves it: from the card cache (services/card_cache.py)."""
    from tierstock.services.card_cache import cached_product_card

    cached = dataclasses.replace(runtime, card_cache_seconds=0.5)
    shop_id, product_id = seeded.shop_id, seeded.product_ids[0]

    def op(_i: int) -> bool:
        return bool(cached_product_card(cached, shop_id, product_id).skus)

    return run_clients(
        backend.name,
        CARD_SERVICE_CACHED,
        cfg.http_clients,
        shared(op),
        max_ops=cfg.max_ops * 10,
        max_seconds=cfg.seconds,
    )


def http_worker(clients: list[httpx.Client], make_op: Callable[[httpx.Client], Op]) -> Worker:
    """Client ``k`` of the run uses keep-alive connection ``k`` (opened before timing)."""
    return lambda k: (make_op(clients[k]), None)


def order_over_http(api_key: str, sku_ids: list[int], tag: str) -> Callable[[httpx.Client], Op]:
    n = len(sku_ids)

    def make_op(client: httpx.Client) -> Op:
        def op(i: int) -> bool:
            r = client.post(
                "/orders",
                json={"lines": [{"sku_id": sku_ids[i % n], "quantity": 1}], "buyer": f"buyer-{i}"},
                headers={"X-API-Key": api_key, "Idempotency-Key": f"{tag}-{i}"},
            )
            if r.status_code == 201:
                return True
            if r.status_code == 409 and r.json().get("error") == "insufficient_stock":
                return False
            raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")

        return op

    return make_op


def card_over_http(api_key: str, product_id: int) -> Callable[[httpx.Client], Op]:
    def make_op(client: httpx.Client) -> Op:
        def op(_i: int) -> bool:
            r = client.get(f"/products/{product_id}/card", headers={"X-API-Key": api_key})
            if r.status_code != 200:
                raise RuntimeError(f"HTTP {r.status_code}: {r.text[:200]}")
            return True

        return op

    return make_op


def run_http(backend: Backend, runtime: Any, cfg: Config, log: Log) -> list[Measurement]:
    """Orders and card reads over HTTP. Orders are audited only after the server has
    stopped: wrk leaves requests in flight that the server still places, and a count
    read while it writes would mismatch (PostgreSQL reads each statement afresh)."""
    n = cfg.http_clients
    warm = seed_shop(runtime, skus=1, spot=10, presale=10**7, label="httpwarm")
    results: list[Measurement] = []
    to_audit: list[tuple[Measurement, Any]] = []
    # PostgreSQL takes writers from several processes: one per core. SQLite has one writer.
    workers = 2 if backend.name == "postgresql" else 1
    with tierstock_server(backend.url, workers=workers) as base:
        clients = [httpx.Client(base_url=base, timeout=30) for _ in range(n)]
        try:
            for client in clients:
                client.get("/health")  # open each keep-alive connection before timing
            # warm the server (its pool, caches) on a SKU the measurement ignores
            pilot = run_clients(
                "warm",
                "warm",
                n,
                http_worker(clients, order_over_http(warm.api_key, warm.sku_ids, "hwarm")),
                max_ops=cfg.max_ops,
                max_seconds=cfg.pilot_seconds,
            ).rate
            seeded = seed_shop(
                runtime, skus=1, spot=spot_for(pilot, cfg), presale=cfg.max_ops * 2, label="http"
            )
            m = run_clients(
                backend.name,
                HTTP,
                n,
                http_worker(clients, order_over_http(seeded.api_key, seeded.sku_ids, "h")),
                max_ops=cfg.max_ops,
                max_seconds=cfg.seconds,
            )
            to_audit.append((m, seeded))
            if wrk_orders.available():
                hot = seed_shop(
                    runtime,
                    skus=1,
                    spot=spot_for(pilot, cfg),
                    presale=cfg.max_ops * 20,
                    label="wrk",
                )
                w = wrk_orders.run_wrk(
                    backend.name, HTTP_WRK, base, hot.api_key, hot.sku_ids[0], "wrk", n, cfg.seconds
                )
                to_audit.append((w, hot))
            card = http_worker(clients, card_over_http(seeded.api_key, seeded.product_ids[0]))
            run_clients("warm", "warm", n, card, max_ops=n * 2, max_seconds=5)
            reads = run_clients(
                backend.name, CARD_HTTP, n, card, max_ops=cfg.max_ops, max_seconds=cfg.seconds
            )
        finally:
            for client in clients:
                client.close()
    for m, seeded in to_audit:
        results.append(finish_tierstock(m, runtime, seeded))
        m.note += f"; {workers} server process{'es' if workers > 1 else ''}"
        log(m)
    results.append(reads)
    log(reads)
    return results


def failed(backend: Backend, scenario: str, clients: int, exc: BaseException) -> Measurement:
    return Measurement(
        backend.name,
        scenario,
        clients,
        errors=1,
        first_error=f"{type(exc).__name__}: {str(exc)[:300]}",
        note="scenario failed to run",
    )


# --- one backend ------------------------------------------------------------------------------


def bench_backend(backend: Backend, cfg: Config, log: Log) -> list[Measurement]:
    from tierstock.services.runtime import Runtime
    from tierstock.services.verify import verify_ledger

    out: list[Measurement] = []

    def keep(m: Measurement) -> Measurement:
        out.append(m)
        log(m)
        return m

    raw_setup(backend)
    for clients in cfg.clients:
        conns = [backend.raw() for _ in range(clients)]  # one per client, opened untimed
        try:
            for scenario, worker in (
                (LIMIT, limit_worker),
                (RAW_TXN, raw_txn_worker),
                (BASELINE, baseline_worker),
                (GROUP, group_commit_worker),
            ):
                try:
                    keep(run_raw(backend, cfg, scenario, conns, worker))
                except Exception as exc:
                    keep(failed(backend, scenario, clients, exc))
        finally:
            for conn in conns:
                with suppress(Exception):
                    conn.close()

    runtime = Runtime.open(backend.url)
    tally = EngineTally(runtime.engine)
    try:
        warm = seed_shop(runtime, skus=1, spot=10, presale=10**7, label="warm")
        for clients in cfg.clients:
            for batched in (False, True):
                try:
                    keep(run_service(backend, runtime, tally, cfg, warm, clients, batched))
                except Exception as exc:
                    keep(failed(backend, SERVICE if batched else SERVICE_SINGLE, clients, exc))
        for n in cfg.hot_skus:
            try:
                keep(run_multi(backend, runtime, tally, cfg, warm, n))
            except Exception as exc:
                keep(
                    failed(
                        backend, MULTI.format(n=n, s="" if n == 1 else "s"), cfg.multi_clients, exc
                    )
                )
        try:
            hot = seed_shop(runtime, skus=1, spot=100, presale=1000, label="card")
            keep(run_card_service(backend, runtime, cfg, hot))
            keep(run_card_cached(backend, runtime, cfg, hot))
        except Exception as exc:
            keep(failed(backend, CARD_SERVICE, cfg.http_clients, exc))
        if backend.name == "postgresql":
            front_rows(backend, cfg, warm, keep)
        # the server opens its own pool: give PostgreSQL its connections back first
        runtime.engine.dispose()
        try:
            out.extend(run_http(backend, runtime, cfg, log))
        except Exception as exc:
            keep(failed(backend, HTTP, cfg.http_clients, exc))
        if (
            backend.name == "postgresql"
            and front.redis_available() is None
            and wrk_orders.available()
        ):
            try:
                spot = spot_for(next((m.rate for m in out if m.scenario == HTTP_WRK), 500), cfg)
                keep(front.run_front_wrk(backend, runtime, cfg, spot, finish_tierstock))
            except Exception as exc:
                keep(failed(backend, front.FRONT_WRK, cfg.http_clients, exc))
        checked, mismatches = verify_ledger(runtime.uow(readonly=True))
        for m in out:
            m.extra["ledger_tiers_checked"] = checked
        if mismatches:
            bad = Measurement(
                backend.name,
                "tierstock verify (ledger)",
                0,
                oversold=len(mismatches),
                note="; ".join(x.describe() for x in mismatches[:3]),
            )
            keep(bad)
    finally:
        runtime.engine.dispose()
    return out


def front_rows(
    backend: Backend, cfg: Config, warm: Any, keep: Callable[[Measurement], Measurement]
) -> None:
    """The Redis front (bench/front.py), in process, on a runtime of its own."""
    from tierstock.services.runtime import Runtime

    if (why := front.redis_available()) is not None:
        print(f"Redis front not measured: {why}")
        return
    for scenario in (front.FRONT, front.FRONT_EXT):
        in_process = scenario == front.FRONT
        runtime = Runtime.open(backend.url, migrate=False)
        try:
            front.attach(runtime, fold_in_process=in_process)
            runs = [(c, 1) for c in cfg.clients]
            if not in_process:
                runs += [(cfg.multi_clients, n) for n in cfg.hot_skus if n > 1]
            with contextlib.nullcontext() if in_process else front.folder_process(backend.url):
                for clients, skus in runs:
                    try:
                        keep(
                            front.run_front(
                                backend,
                                runtime,
                                cfg,
                                warm,
                                clients,
                                skus,
                                place_op,
                                spot_for,
                                finish_tierstock,
                                scenario,
                            )
                        )
                    except Exception as exc:
                        keep(failed(backend, scenario, clients, exc))
        finally:
            if runtime.front is not None:
                runtime.front.forget_everything()  # leave no keys behind in Redis
            runtime.close()


# --- output -------------------------------------------------------------------------------

TIERSTOCK_ORDERS = (
    SERVICE,
    SERVICE_SINGLE,
    HTTP,
    HTTP_WRK,
    front.FRONT,
    front.FRONT_EXT,
    front.FRONT_WRK,
)


def add_ratios(results: list[Measurement]) -> None:
    for backend in {m.backend for m in results}:
        mine = [m for m in results if m.backend == backend]
        limit = {m.clients: m.rate for m in mine if m.scenario == LIMIT}
        base = {m.clients: m.rate for m in mine if m.scenario == BASELINE}
        for m in mine:
            if (
                m.scenario in TIERSTOCK_ORDERS
                or m.scenario == GROUP
                or m.scenario.startswith(SERVICE + ",")
            ):
                if limit.get(m.clients):
                    m.ratio_limit = m.rate / limit[m.clients]
                if base.get(m.clients):
                    m.ratio_baseline = m.rate / base[m.clients]


def goals(results: list[Measurement]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for backend in sorted({m.backend for m in results}, reverse=True):
        svc = max(
            (
                m
                for m in results
                if m.backend == backend
                and m.scenario in (SERVICE, front.FRONT, front.FRONT_EXT)
                and m.clients == 32
            ),
            key=lambda m: m.rate,
            default=None,
        )
        http = min(
            (
                m
                for m in results
                if m.backend == backend and m.ok and m.scenario in (HTTP_WRK, front.FRONT_WRK)
            ),
            key=lambda m: m.p99_ms,
            default=None,
        ) or next((m for m in results if m.backend == backend and m.scenario == HTTP), None)
        if svc and svc.ratio_limit is not None:
            rows.append(
                {
                    "backend": backend,
                    "goal": f"{svc.scenario} ≥ 0.8× limit (32)",
                    "value": f"{svc.ratio_limit:.2f}×",
                    "met": svc.ratio_limit >= 0.8,
                }
            )
        if svc and svc.ratio_baseline is not None:
            rows.append(
                {
                    "backend": backend,
                    "goal": f"{svc.scenario} ≥ 10× baseline (32)",
                    "value": f"{svc.ratio_baseline:.2f}×",
                    "met": svc.ratio_baseline >= 10,
                }
            )
        if http and http.ok:
            rows.append(
                {
                    "backend": backend,
                    "goal": f"{http.scenario} p99 < 50 ms ({http.clients})",
                    "value": f"{http.p99_ms:.1f} ms",
                    "met": http.p99_ms < 50,
                }
            )
    return rows


def render(console: Console, results: list[Measurement], cfg: Config, elapsed: float) -> None:
    table = Table(
        title=f"Hot SKU benchmark ({'quick' if cfg.quick else 'default'} run, "
        f"{elapsed:.0f} s; bounds per measurement: {cfg.max_ops} ops or "
        f"{cfg.seconds:g} s)",
        show_lines=False,
    )
    numeric = {
        "clients",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "ok",
        "refused",
        "errors",
        "oversold",
        "×limit",
        "×baseline",
    }
    for name in (
        "backend",
        "scenario",
        "clients",
        "ops/s",
        "p50 ms",
        "p99 ms",
        "ok",
        "refused",
        "errors",
        "oversold",
        "×limit",
        "×baseline",
        "note",
    ):
        table.add_column(name, justify="right" if name in numeric else "left")
    order = [LIMIT, RAW_TXN, BASELINE, GROUP, SERVICE]
    backends = list(dict.fromkeys(m.backend for m in results))

    def rank(m: Measurement) -> tuple[int, int, int]:
        scenario = order.index(m.scenario) if m.scenario in order else len(order)
        return backends.index(m.backend), scenario, results.index(m)

    last_backend = None
    for m in sorted(results, key=rank):
        if last_backend and m.backend != last_backend:
            table.add_section()
        last_backend = m.backend
        bad = "[bold red]" if m.oversold else ""
        table.add_row(
            m.backend,
            m.scenario,
            str(m.clients),
            f"{m.rate:,.0f}",
            f"{m.p50_ms:.2f}",
            f"{m.p99_ms:.2f}",
            str(m.ok),
            str(m.refused),
            f"[red]{m.errors}[/]" if m.errors else "0",
            f"{bad}{m.oversold}",
            f"{m.ratio_limit:.2f}" if m.ratio_limit is not None else "",
            f"{m.ratio_baseline:.2f}" if m.ratio_baseline is not None else "",
            (m.note + (f" [red]{m.first_error}[/]" if m.first_error else "")).strip(),
        )
    console.print(table)
    with suppress(OSError):
        load = os.getloadavg()
        console.print(
            f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
            f"on {os.cpu_count()} CPUs — compare ratios within one run, not absolute "
            "figures across runs"
        )
    g = Table(title="Issue #6 goals")
    for col in ("backend", "goal", "value", "met"):
        g.add_column(col)
    for row in goals(results):
        g.add_row(
            row["backend"],
            row["goal"],
            row["value"],
            "[green]yes[/]" if row["met"] else "[red]no[/]",
        )
    console.print(g)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.hot_sku",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts (< 1 min): checks the benchmark works"
    )
    parser.add_argument(
        "--backends",
        default="sqlite,postgresql",
        help="comma-separated subset of sqlite,postgresql",
    )
    parser.add_argument("--seconds", type=float, help="time bound of each measurement")
    parser.add_argument("--max-ops", type=int, help="count bound of each measurement")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else DEFAULT
    if args.seconds or args.max_ops:
        cfg = dataclasses.replace(
            cfg, seconds=args.seconds or cfg.seconds, max_ops=args.max_ops or cfg.max_ops
        )
    console = Console(width=None if sys.stdout.isatty() else 190)
    log = Log(console)
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(wanted) - {"sqlite", "postgresql"}
    if unknown or not wanted:
        console.print(f"[bold red]unknown backend(s): {', '.join(sorted(unknown))}[/]")
        return 2
    if "postgresql" in wanted and (why := pg_available()):
        console.print(
            f"[bold red]PostgreSQL is not reachable ({why}).[/] Start it with "
            "scripts/ensure-services.sh, or run --backends sqlite."
        )
        return 2

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    results: list[Measurement] = []
    contexts: dict[str, Callable[[], AbstractContextManager[Backend]]] = {
        "sqlite": sqlite_backend,
        "postgresql": pg_backend,
    }
    for name in wanted:
        with contexts[name]() as backend:
            console.rule(f"{name}: {backend.url}")
            results.extend(bench_backend(backend, cfg, log))
    elapsed = time.perf_counter() - t0

    add_ratios(results)
    render(console, results, cfg, elapsed)
    oversold = [m for m in results if m.oversold]
    errored = [m for m in results if m.errors]
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    path = write_json(
        {
            "benchmark": "hot_sku",
            "started_at": started.isoformat(),
            "seconds": round(elapsed, 1),
            "mode": "quick" if cfg.quick else "default",
            "config": cfg.__dict__,
            "machine": machine_info(),
            "measurements": [m.as_json() for m in results],
            "goals": goals(results),
            "oversold_runs": len(oversold),
            "errored_runs": len(errored),
        },
        stamp,
    )
    console.print(f"results: {path.relative_to(path.parents[2])}")
    if oversold:
        console.print(
            f"[bold white on red] OVERSOLD: {len(oversold)} run(s) sold units they "
            "did not have or gave one unit to two buyers — see the oversold column [/]"
        )
        return 1
    if errored:
        console.print(
            f"[bold red]{len(errored)} run(s) had failed operations "
            "(see the errors column and the JSON)[/]"
        )
        return 2
    console.print("[green]no unit oversold or held twice in any run[/]")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
