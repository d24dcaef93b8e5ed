"""Outbox delivery bookkeeping (status, leases, retries) and the delivery log.

`outbox.delivered_at` becomes `done_at` (set when a row is delivered, dead or skipped);
rows already delivered keep their time. The pending index becomes a partial index on
the rows still to do, so finding due rows stays one short index scan however long the
outbox grows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STILL_TO_DO = "done_at IS NULL"


def upgrade() -> None:
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "delivered_at", new_column_name="done_at", existing_type=sa.DateTime(timezone=True)
        )
        batch.add_column(
            sa.Column("status", sa.String(length=16), server_default="pending", nullable=False)
        )
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
    op.execute("UPDATE outbox SET next_attempt_at = created_at")
    op.execute("UPDATE outbox SET status = 'delivered' WHERE done_at IS NOT NULL")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at", "id"],
        unique=False,
        postgresql_where=sa.text(STILL_TO_DO),
        sqlite_where=sa.text(STILL_TO_DO),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_key", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
    )
    op.create_index("ix_deliveries_ticket", "deliveries", ["ticket_key", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_deliveries_ticket", table_name="deliveries")
    op.drop_table("deliveries")
    op.drop_index("ix_outbox_due", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("last_error")
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_at")
        batch.drop_column("next_attempt_at")
        batch.drop_column("status")
        batch.alter_column(
            "done_at", new_column_name="delivered_at", existing_type=sa.DateTime(timezone=True)
        )
    op.create_index("ix_outbox_pending", "outbox", ["delivered_at", "id"], unique=False)
