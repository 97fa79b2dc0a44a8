"""The real `tierstock` console script, run as a merchant would run it.

Each test starts the installed entry point in a subprocess with its own database
(``TIERSTOCK_DATABASE_URL``), so what is checked is the exit code and the text a user
reads on stdout and stderr. ``COLUMNS`` is removed so output width is the default a
pipe or a log file gets.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import text

from tierstock.domain.orders import LineRequest
from tierstock.policies import pack_text
from tierstock.services.demo import BurstPlan, seed_tiered_sku
from tierstock.services.placing import PlaceOrder, place_order
from tierstock.services.runtime import Runtime

TIERSTOCK = Path(sys.executable).parent / "tierstock"
DEMO_SKU = "JACKET-BLACK-L"


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    assert TIERSTOCK.exists(), f"console script not installed at {TIERSTOCK}"
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TIERSTOCK_DATABASE_URL"] = database_url
    return subprocess.run(
        [str(TIERSTOCK), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def no_traceback(result: subprocess.CompletedProcess[str]) -> bool:
    return "Traceback" not in result.stdout + result.stderr


# --- demo and verify on a throwaway SQLite file --------------------------------------------


@dataclass(frozen=True)
class DemoRun:
    folder: Path
    result: subprocess.CompletedProcess[str]

    @property
    def db(self) -> Path:
        return self.folder / "demo.db"

    def copy_to(self, folder: Path) -> Path:
        """Copy the database with its WAL files, so a test may damage its own copy."""
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.db}{suffix}")
            if source.exists():
                shutil.copy(source, folder / f"demo.db{suffix}")
        return folder / "demo.db"


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    folder = tmp_path_factory.mktemp("demo")
    result = run_cli(
        "demo",
        "--buyers",
        "200",
        "--workers",
        "8",
        "--spot",
        "20",
        "--presale",
        "80",
        database_url=sqlite_url(folder / "demo.db"),
    )
    return DemoRun(folder, result)


def test_demo_burst_exits_cleanly_with_nothing_oversold_and_the_ledger_passing(demo_run):
    result = demo_run.result
    assert result.returncode == 0, result.stderr
    assert "oversold units: 0" in result.stdout
    assert "units sold twice: 0" in result.stdout
    assert "ledger check: passed" in result.stdout
    assert result.stderr.strip() == ""


def test_demo_burst_sells_exactly_the_stock_and_refuses_the_other_buyers(demo_run, tmp_path):
    assert "buyers refused (sold out): 100" in demo_run.result.stdout
    with closing(sqlite3.connect(demo_run.copy_to(tmp_path))) as db:
        tiers = dict(db.execute("SELECT tier, sold FROM stock_tiers").fetchall())
        lines = dict(
            db.execute(
                "SELECT tier, SUM(quantity) FROM order_lines WHERE status = 'paid' GROUP BY tier"
            ).fetchall()
        )
    assert tiers == {"spot": 20, "presale": 80}
    assert lines == {"spot": 20, "presale": 80}


def test_verify_passes_on_the_database_the_demo_left(demo_run, tmp_path):
    result = run_cli("verify", database_url=sqlite_url(demo_run.copy_to(tmp_path)))
    assert result.returncode == 0, result.stderr
    assert "ledger check passed: 2 stock tiers" in result.stdout


@pytest.fixture(scope="module")
def verify_after_corruption(demo_run, tmp_path_factory) -> subprocess.CompletedProcess[str]:
    """`verify` on a copy of the demo database whose tier row 1 got 5 units behind the
    ledger's back."""
    path = demo_run.copy_to(tmp_path_factory.mktemp("corrupted"))
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE stock_tiers SET quantity = quantity + 5 WHERE id = 1")
    return run_cli("verify", database_url=sqlite_url(path))


def test_verify_fails_naming_the_sku_whose_tier_row_was_edited_behind_the_ledger(
    verify_after_corruption,
):
    result = verify_after_corruption
    assert result.returncode == 1
    assert DEMO_SKU in result.stderr
    assert "1 of 2 stock tiers disagree" in result.stderr
    assert "passed" not in result.stdout
    assert no_traceback(result)


def test_each_verify_mismatch_is_reported_on_one_line(verify_after_corruption):
    mismatch = [line for line in stderr_lines(verify_after_corruption) if DEMO_SKU in line]
    assert len(mismatch) == 1
    assert "stored quantity 25" in mismatch[0]
    assert "ledger says quantity 20" in mismatch[0]


# --- db upgrade ---------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_in_a_new_database(tmp_path):
    path = tmp_path / "fresh.db"
    result = run_cli("db", "upgrade", database_url=sqlite_url(path))
    assert result.returncode == 0, result.stderr
    assert "database schema is up to date" in result.stdout
    with closing(sqlite3.connect(path)) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        revisions = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert {"shops", "skus", "stock_tiers", "stock_ledger", "orders", "order_lines"} <= tables
    assert len(revisions) == 1


# --- policy -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def policy_show_kuaishou(tmp_path_factory) -> subprocess.CompletedProcess[str]:
    folder = tmp_path_factory.mktemp("policy")
    return run_cli("policy", "show", "kuaishou", database_url=sqlite_url(folder / "p.db"))


def test_policy_show_prints_the_kuaishou_numbers_with_their_sources(policy_show_kuaishou):
    result = policy_show_kuaishou
    assert result.returncode == 0, result.stderr
    assert "windows_hours = [24, 48, 72]" in result.stdout
    assert "min_days = 4" in result.stdout
    assert "max_days = 90" in result.stdout
    assert "presale_min_days = 3" in result.stdout
    assert "presale_max_days = 5" in result.stdout
    assert "assumption" in result.stdout


def test_policy_show_prints_the_pack_file_unchanged_so_it_can_be_saved_and_reloaded(
    policy_show_kuaishou,
):
    result = policy_show_kuaishou
    assert result.returncode == 0, result.stderr
    assert tomllib.loads(result.stdout) == tomllib.loads(pack_text("kuaishou"))
    shown = [ln.rstrip() for ln in result.stdout.strip().splitlines()]
    assert shown == [ln.rstrip() for ln in pack_text("kuaishou").strip().splitlines()]


def test_policy_show_of_an_unknown_pack_says_so_in_one_line_without_a_traceback(tmp_path):
    result = run_cli("policy", "show", "nope", database_url=sqlite_url(tmp_path / "p.db"))
    assert result.returncode != 0
    assert len(stderr_lines(result)) == 1
    assert "nope" in result.stderr
    assert "kuaishou" in result.stderr  # the message lists the packs that exist
    assert result.stdout.strip() == ""
    assert no_traceback(result)


def test_an_error_message_longer_than_the_terminal_stays_on_one_line(tmp_path):
    name = "a-pack-name-long-enough-that-the-error-message-passes-eighty-columns"
    result = run_cli("policy", "show", name, database_url=sqlite_url(tmp_path / "p.db"))
    assert result.returncode != 0
    assert len(stderr_lines(result)) == 1
    assert name in result.stderr


def test_a_pack_name_that_looks_like_markup_is_echoed_verbatim_without_a_traceback(tmp_path):
    name = "[bold]nope[/x]"
    result = run_cli("policy", "show", name, database_url=sqlite_url(tmp_path / "p.db"))
    assert result.returncode != 0
    assert no_traceback(result)
    assert len(stderr_lines(result)) == 1
    assert name in result.stderr


def test_a_mistyped_option_gets_the_usage_line_and_exit_code_2(tmp_path):
    result = run_cli(
        "capacity", "propose", "--shop", "1", "--bogus", database_url=sqlite_url(tmp_path / "p.db")
    )
    assert result.returncode == 2
    assert "No such option: --bogus" in result.stderr
    assert "Usage: tierstock capacity propose" in result.stderr
    assert no_traceback(result)


def test_every_command_module_reports_a_refusal_on_one_escaped_line(tmp_path):
    """The sub-commands share the top level's error line (cli/support.py): a refusal quoting
    bracketed input is one line and keeps the brackets (Rich would read them as markup)."""
    url = sqlite_url(tmp_path / "p.db")
    for args, quoted in (
        (
            [
                "capacity",
                "propose",
                "--shop",
                "1",
                "--sku",
                "1",
                "--supplier",
                "1",
                "[bold]9@not-a-day",
            ],
            "[bold]9@not-a-day",
        ),
        (["eligibility", "score", "--shop", "1", "[red]4.8"], "[red]4.8"),
    ):
        result = run_cli(*args, database_url=url)
        assert result.returncode == 1, (args, result.stderr)
        assert len(stderr_lines(result)) == 1, result.stderr
        assert quoted in result.stderr
        assert no_traceback(result)


# --- verify on every backend (SQLite and PostgreSQL via the shared fixture) ----------------


@dataclass(frozen=True)
class SeededShop:
    shop_id: int
    sku_id: int


@pytest.fixture()
def seeded_shop(runtime: Runtime) -> SeededShop:
    """A shop whose tiered SKU has sold 3 spot units and 1 presale unit."""
    shop_id, sku_id = seed_tiered_sku(runtime, BurstPlan(spot=3, presale=5))
    for i, qty in enumerate([2, 1, 1]):
        place_order(PlaceOrder(shop_id, f"cli-{i}", (LineRequest(sku_id, qty),)), runtime.uow())
    return SeededShop(shop_id, sku_id)


@pytest.fixture()
def corrupted_shop(runtime: Runtime, seeded_shop: SeededShop) -> Iterator[SeededShop]:
    """The seeded shop's spot row with 5 units added directly, restored afterwards."""
    bump = text(
        "UPDATE stock_tiers SET quantity = quantity + :n WHERE sku_id = :sku AND tier = 'spot'"
    )
    with runtime.engine.begin() as conn:
        conn.execute(bump, {"n": 5, "sku": seeded_shop.sku_id})
    yield seeded_shop
    with runtime.engine.begin() as conn:
        conn.execute(bump, {"n": -5, "sku": seeded_shop.sku_id})


def test_verify_passes_for_a_shop_whose_stock_equals_its_ledger(database_url, seeded_shop):
    result = run_cli("verify", "--shop", str(seeded_shop.shop_id), database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "ledger check passed: 2 stock tiers" in result.stdout


def test_verify_refuses_a_shop_that_does_not_exist_on_every_backend(database_url, seeded_shop):
    """Checking the tiers of no shop at all is not a passing check (issue #14)."""
    missing = seeded_shop.shop_id + 1_000
    result = run_cli("verify", "--shop", str(missing), database_url=database_url)
    assert result.returncode == 1
    assert stderr_lines(result) == [f"error: --shop: no shop {missing}"]
    assert "passed" not in result.stdout
    assert no_traceback(result)


def test_verify_fails_naming_the_sku_on_every_backend(database_url, corrupted_shop):
    result = run_cli("verify", "--shop", str(corrupted_shop.shop_id), database_url=database_url)
    assert result.returncode == 1
    assert DEMO_SKU in result.stderr
    assert f"(id {corrupted_shop.sku_id})" in result.stderr
    assert "1 of 2 stock tiers disagree" in result.stderr
    assert no_traceback(result)


# --- the nouns of the cli/ package, and failures, through the real console script ---------


def test_stock_show_reads_the_demo_sku_and_a_bad_sku_names_the_option(demo_run, tmp_path):
    url = sqlite_url(demo_run.copy_to(tmp_path))
    shown = run_cli("stock", "show", "--shop", "1", "--sku", "1", database_url=url)
    assert shown.returncode == 0, shown.stderr
    assert "spot" in shown.stdout and "presale" in shown.stdout
    refused = run_cli("stock", "show", "--shop", "1", "--sku", "99", database_url=url)
    assert refused.returncode == 1
    assert stderr_lines(refused) == ["error: --sku: no SKU 99 in this shop"]
    assert no_traceback(refused)


def test_a_database_that_cannot_be_opened_is_one_line_and_exit_code_1(tmp_path):
    result = run_cli("db", "upgrade", database_url=sqlite_url(tmp_path / "missing" / "x.db"))
    assert result.returncode == 1
    assert stderr_lines(result) == ["database error: unable to open database file"]
    assert no_traceback(result)
