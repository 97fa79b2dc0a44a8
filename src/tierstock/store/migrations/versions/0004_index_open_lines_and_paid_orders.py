"""index open lines by deadline and orders by payment time

The promise scan, the urgency list and the spot-order share read a shop's lines by
status and deadline and its orders by payment time; without these they read every row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_order_lines_shop_status_ship_by", "order_lines", ["shop_id", "status", "ship_by"]
    )
    op.create_index("ix_orders_shop_paid_at", "orders", ["shop_id", "paid_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_shop_paid_at", table_name="orders")
    op.drop_index("ix_order_lines_shop_status_ship_by", table_name="order_lines")
