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
    # Group commit of single-line orders during a burst (services/batching.py).
    batch_orders: bool = True

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()
