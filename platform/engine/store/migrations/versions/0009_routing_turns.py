"""Round robin counts turns instead of remembering the user assigned last.

A team's rotation is a counter of turns taken: turn N goes to the N-th of the members
who qualify then (sorted by id), so several processes share one fair rotation. On
SQLite (one writer at a time) the counter is `routing_pointers.turns`; on PostgreSQL
it is a sequence per team (`gd_rr_<team>`, created on first use and owned by this
column), so choosing an agent locks nothing until commit.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("routing_pointers") as batch:
        batch.add_column(
            sa.Column("turns", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
        batch.drop_column("last_user_id")


def downgrade() -> None:
    with op.batch_alter_table("routing_pointers") as batch:
        batch.add_column(sa.Column("last_user_id", sa.BigInteger(), nullable=True))
        batch.drop_column("turns")
