"""SLA clocks and deadlines on tickets, when a ticket entered its state, and the
indexes measured by bench/engine.py (newest-first lists, open tickets per agent).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("state_since", STAMP, nullable=True))
        batch.add_column(
            sa.Column(
                "sla",
                sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
                nullable=True,
            )
        )
        for name in ("first_response_due", "next_response_due", "resolution_due", "sla_wakeup_at"):
            batch.add_column(sa.Column(name, STAMP, nullable=True))
    op.execute("UPDATE tickets SET state_since = updated_at WHERE state_since IS NULL")
    op.create_index(
        "ix_tickets_sla_wakeup",
        "tickets",
        ["sla_wakeup_at"],
        postgresql_where=sa.text("sla_wakeup_at IS NOT NULL"),
        sqlite_where=sa.text("sla_wakeup_at IS NOT NULL"),
    )
    op.create_index("ix_tickets_resolution_due", "tickets", ["resolution_due"])
    op.create_index("ix_tickets_first_response_due", "tickets", ["first_response_due"])
    op.create_index("ix_tickets_created", "tickets", ["created_at", "id"])
    open_only = "state_category IN ('new', 'open', 'pending')"
    op.create_index(
        "ix_tickets_open_by_assignee",
        "tickets",
        ["assignee_id"],
        postgresql_where=sa.text(open_only),
        sqlite_where=sa.text(open_only),
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_open_by_assignee", "tickets")
    op.drop_index("ix_tickets_created", "tickets")
    op.drop_index("ix_tickets_first_response_due", "tickets")
    op.drop_index("ix_tickets_resolution_due", "tickets")
    op.drop_index("ix_tickets_sla_wakeup", "tickets")
    with op.batch_alter_table("tickets") as batch:
        for name in (
            "sla_wakeup_at",
            "resolution_due",
            "next_response_due",
            "first_response_due",
            "sla",
            "state_since",
        ):
            batch.drop_column(name)
