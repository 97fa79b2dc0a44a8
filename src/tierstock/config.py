"""Settings, read once from the environment (prefix ``TIERSTOCK_``)."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from platformdirs import user_data_dir
from pydantic_settings import BaseSettings, SettingsConfigDict


def data_folder() -> Path:
    folder = Path(user_data_dir("tierstock", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def default_database_url() -> str:
    """SQLite in the user's data folder: zero set-up for the embedded default."""
    return f"sqlite:///{data_folder() / 'tierstock.db'}"


def data_folder_secret(name: str) -> bytes:
    """A secret generated once and kept in the data folder (mode 0600), so a restart
    keeps what it protects readable. One machine only: several servers share
    ``TIERSTOCK_SECRET_KEY`` instead."""
    path = data_folder() / name
    if not path.exists():
        key = base64.urlsafe_b64encode(secrets.token_bytes(32))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
    return path.read_bytes().strip()


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
    # The key channel credentials are encrypted with (a Fernet key: 32 url-safe base64
    # bytes). Empty: one is generated once into the data folder (secret.key).
    secret_key: str = ""

    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    def resolved_secret_key(self) -> bytes:
        return self.secret_key.encode() if self.secret_key else data_folder_secret("secret.key")
