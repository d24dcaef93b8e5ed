"""Mailed reports (`kind: Report` with `mail:`): each due instant of a report's
schedule is claimed once, by the process whose insert wins (`report_mailings`).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "report_mailings",
        sa.Column("report_id", sa.String(64), nullable=False),
        sa.Column("due_at", STAMP, nullable=False),
        sa.Column("claimed_at", STAMP, nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "due_at", name="pk_report_mailings"),
    )


def downgrade() -> None:
    op.drop_table("report_mailings")
