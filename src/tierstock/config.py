"""Settings, read once from the environment (prefix ``TIERSTOCK_``)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """SQLite in the user's data folder: zero set-up for the embedded default."""
    folder = Path(user_data_dir("tierstock", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'tierstock.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERSTOCK_")

    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Group commit of single-line orders during a burst (services/placing/group_commit.py).
    batch_orders: bool = True
    # Seconds a product card may be served from memory (services/card.py); 0 = never.
    card_cache_seconds: float = 0.5
    # The optional Redis reservation front (services/placing/redis_front/), PostgreSQL
    # only; empty = off, as on the embedded default. Example: redis://127.0.0.1:6379/0
    redis_url: str = ""
    # Units the front leases from a tier row at a time (services/placing/redis_front/front.py).
    front_lease_units: int = 500
    # Each server process folds the front's stream with a thread of its own; false: the
    # stream is folded by `tierstock front fold --follow`, a process of its own.
    front_fold_in_process: bool = True

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()
