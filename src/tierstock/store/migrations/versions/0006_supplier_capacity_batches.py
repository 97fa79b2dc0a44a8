"""suppliers, capacity batches and their revisions; api_keys.supplier_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str = "id") -> sa.Column[object]:
    return sa.Column(name, ID, nullable=False)


def _at(name: str) -> sa.Column[object]:
    return sa.Column(name, tierstock.store.types.UTCDateTime(), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "suppliers",
        _id(),
        _id("shop_id"),
        sa.Column("name", sa.String(length=200), nullable=False),
        _at("created_at"),
        _fk("suppliers", "shop_id", "shops"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppliers")),
        sa.UniqueConstraint("shop_id", "name", name="uq_suppliers_shop_name"),
    )
    op.create_table(
        "capacity_batches",
        _id(),
        _id("shop_id"),
        _id("sku_id"),
        _id("supplier_id"),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("ready_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("in_tier", sa.BigInteger(), nullable=False),
        _at("created_at"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_capacity_batches_quantity_positive")),
        sa.CheckConstraint("in_tier >= 0", name=op.f("ck_capacity_batches_in_tier_not_negative")),
        _fk("capacity_batches", "shop_id", "shops"),
        _fk("capacity_batches", "sku_id", "skus"),
        _fk("capacity_batches", "supplier_id", "suppliers"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_batches")),
    )
    op.create_index("ix_capacity_batches_sku_id", "capacity_batches", ["sku_id", "ready_on"])
    op.create_index(
        "ix_capacity_batches_shop_supplier", "capacity_batches", ["shop_id", "supplier_id"]
    )
    op.create_table(
        "capacity_revisions",
        _id(),
        _id("shop_id"),
        _id("batch_id"),
        sa.Column("action", sa.String(length=12), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("ready_on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        _at("at"),
        _fk("capacity_revisions", "shop_id", "shops"),
        _fk("capacity_revisions", "batch_id", "capacity_batches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capacity_revisions")),
    )
    op.create_index("ix_capacity_revisions_batch_id", "capacity_revisions", ["batch_id", "id"])
    op.create_index(op.f("ix_capacity_revisions_shop_id"), "capacity_revisions", ["shop_id"])
    op.add_column("api_keys", sa.Column("supplier_id", ID, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("supplier_id")
    op.drop_index(op.f("ix_capacity_revisions_shop_id"), table_name="capacity_revisions")
    op.drop_index("ix_capacity_revisions_batch_id", table_name="capacity_revisions")
    op.drop_table("capacity_revisions")
    op.drop_index("ix_capacity_batches_shop_supplier", table_name="capacity_batches")
    op.drop_index("ix_capacity_batches_sku_id", table_name="capacity_batches")
    op.drop_table("capacity_batches")
    op.drop_table("suppliers")
