"""Shared fixtures: one throwaway database per backend per test run.

Every integration test runs on SQLite and on PostgreSQL through the ``backend``
parameter. PostgreSQL comes from ``TIERSTOCK_TEST_PG`` (default: the local server on
127.0.0.1:5432, trust auth). Each run creates ``tierstock_test_<random>`` and drops it
afterwards. With ``CI=true`` an unreachable server fails the run; elsewhere its tests
are skipped with a message saying how to enable them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from tierstock.services.runtime import Runtime

PG_SERVER = os.environ.get(
    "TIERSTOCK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
BACKENDS = ["sqlite", "postgresql"]
REDIS_URL = os.environ.get("TIERSTOCK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def _admin_engine() -> Engine:
    return create_engine(
        PG_SERVER, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"tierstock_test_{secrets.token_hex(4)}"
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        admin.dispose()
        message = (
            f"PostgreSQL not reachable at {PG_SERVER} ({type(exc).__name__}). Start it "
            "with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main "
            "start` or point TIERSTOCK_TEST_PG at a server to run these tests."
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "tierstock.db"
    return f"sqlite:///{path}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of this run's database on each backend (schema migrated once)."""
    url: str = request.getfixturevalue(f"{request.param}_url")
    Runtime.open(url).engine.dispose()
    return url


class ManualClock:
    """A clock tests move by hand; services read it through the unit of work."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 26, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def _engines(database_url: str) -> Iterator[Runtime]:
    runtime = Runtime.open(database_url, migrate=False)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture()
def runtime(_engines: Runtime, clock: ManualClock) -> Runtime:
    """A runtime on this backend's database whose clock the test controls."""
    return Runtime(_engines.engine, clock)


@pytest.fixture(scope="session")
def redis_url() -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = (
            f"Redis not reachable at {REDIS_URL} ({exc}); start it with "
            "scripts/ensure-services.sh or set TIERSTOCK_TEST_REDIS"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL
