"""Followers and CCs of tickets, notification preferences and agents' saved views.

- `ticket_followers`: staff who follow a ticket (internal and public updates) and the
  colleagues a requester copies in (`kind = 'cc'`: public updates, portal view);
- `notification_preferences`: mail on/off and the kinds of news a user turned off;
- `saved_views`: an agent's own queue views (filters and columns, personal only).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ticket_followers",
        sa.Column(
            "ticket_id",
            ID,
            sa.ForeignKey("tickets.id", name="fk_ticket_followers_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", name="fk_ticket_followers_user_id_users"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "user_id", name="pk_ticket_followers"),
    )
    op.create_index("ix_ticket_followers_user", "ticket_followers", ["user_id", "ticket_id"])
    op.create_table(
        "notification_preferences",
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", name="fk_notification_preferences_user_id_users"),
            nullable=False,
        ),
        sa.Column("mail", sa.Boolean(), nullable=False),
        sa.Column("muted", DOC, nullable=False),
        sa.Column("updated_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_notification_preferences"),
    )
    op.create_table(
        "saved_views",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", name="fk_saved_views_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("queue", sa.String(64), nullable=False),
        sa.Column("filters", DOC, nullable=False),
        sa.Column("columns", DOC, nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_saved_views"),
    )
    op.create_index("ix_saved_views_user", "saved_views", ["user_id", "id"])


def downgrade() -> None:
    op.drop_table("saved_views")
    op.drop_table("notification_preferences")
    op.drop_table("ticket_followers")
