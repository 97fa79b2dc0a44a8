"""stock counts, their lines, and the outbox of published events

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

import tierstock.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _id(name: str = "id") -> sa.Column[object]:
    return sa.Column(name, ID, nullable=False)


def _at(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, tierstock.store.types.UTCDateTime(), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}")
    )


def upgrade() -> None:
    op.create_table(
        "stock_counts",
        _id(),
        _id("shop_id"),
        sa.Column("warehouse", sa.String(length=60), nullable=False),
        sa.Column("open_warehouse", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sku_ids", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        _at("opened_at"),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        _at("approved_at", nullable=True),
        _fk("stock_counts", "shop_id", "shops"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_counts")),
        sa.UniqueConstraint("shop_id", "open_warehouse", name="uq_stock_counts_open_warehouse"),
    )
    op.create_index("ix_stock_counts_shop_id_id", "stock_counts", ["shop_id", "id"])

    op.create_table(
        "stock_count_lines",
        _id(),
        _id("shop_id"),
        _id("count_id"),
        _id("sku_id"),
        sa.Column("location", sa.String(length=60), nullable=False),
        sa.Column("counted", sa.BigInteger(), nullable=False),
        sa.Column("system_on_hand", sa.BigInteger(), nullable=False),
        _at("counted_at"),
        sa.Column("counter", sa.String(length=100), nullable=False),
        sa.Column("unit_cost_fen", sa.BigInteger(), nullable=True),
        sa.Column("entered_by", sa.String(length=100), nullable=False),
        _at("entered_at"),
        sa.CheckConstraint("counted >= 0", name=op.f("ck_stock_count_lines_counted_not_negative")),
        _fk("stock_count_lines", "shop_id", "shops"),
        _fk("stock_count_lines", "count_id", "stock_counts"),
        _fk("stock_count_lines", "sku_id", "skus"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_count_lines")),
        sa.UniqueConstraint("count_id", "sku_id", "location", name="uq_stock_count_lines_key"),
    )
    op.create_index("ix_stock_count_lines_shop_id", "stock_count_lines", ["shop_id"])

    op.create_table(
        "outbox",
        _id(),
        _id("shop_id"),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _at("created_at"),
        _at("published_at", nullable=True),
        _fk("outbox", "shop_id", "shops"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index("ix_outbox_shop_id_id", "outbox", ["shop_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_shop_id_id", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_stock_count_lines_shop_id", table_name="stock_count_lines")
    op.drop_table("stock_count_lines")
    op.drop_index("ix_stock_counts_shop_id_id", table_name="stock_counts")
    op.drop_table("stock_counts")
