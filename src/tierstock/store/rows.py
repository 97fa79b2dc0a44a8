"""What several repositories do alike with a row: insert one that may already exist."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import ReturningInsert


def insert_new(conn: Connection, stmt: ReturningInsert[Any]) -> int | None:
    """Run ``INSERT … RETURNING id`` in a savepoint: the new row's id, or ``None`` when a
    constraint refuses the row (a duplicate name or code). Only the savepoint is rolled
    back, so the caller's transaction goes on and can say what the duplicate is."""
    try:
        with conn.begin_nested():
            new_id: int = conn.execute(stmt).scalar_one()
    except IntegrityError:
        return None
    return new_id
