"""Alembic environment: migrations run on the connection tierstock hands over."""

from alembic import context

from tierstock.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through tierstock.store.migrate.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite needs table copies for ALTERs
)
with context.begin_transaction():
    context.run_migrations()
