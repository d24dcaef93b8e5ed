"""Round-robin pointers per team, shared by every web and worker process.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "routing_pointers",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("last_user_id", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_routing_pointers")),
    )


def downgrade() -> None:
    op.drop_table("routing_pointers")
