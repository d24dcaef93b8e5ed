"""API tokens (stored hashed), the mail log that threads replies and stops loops, and
satisfaction surveys.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

STAMP = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "user_id",
            ID,
            sa.ForeignKey("users.id", name="fk_api_tokens_user_id_users"),
            nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("created_at", STAMP, nullable=False),
        sa.Column("last_used_at", STAMP, nullable=True),
        sa.Column("revoked_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "mail_messages",
        sa.Column("id", ID, primary_key=True),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column(
            "ticket_id",
            ID,
            sa.ForeignKey("tickets.id", name="fk_mail_messages_ticket_id_tickets"),
            nullable=True,
        ),
        sa.Column(
            "comment_id",
            ID,
            sa.ForeignKey("comments.id", name="fk_mail_messages_comment_id_comments"),
            nullable=True,
        ),
        sa.Column("sender", sa.String(254), nullable=False),
        sa.Column("recipients", JSON_DOC, nullable=False),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", STAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mail_messages"),
    )
    op.create_index("ix_mail_messages_message_id", "mail_messages", ["message_id"])
    op.create_index("ix_mail_messages_ticket", "mail_messages", ["ticket_id", "id"])
    op.create_table(
        "surveys",
        sa.Column("id", ID, primary_key=True),
        sa.Column(
            "ticket_id",
            ID,
            sa.ForeignKey("tickets.id", name="fk_surveys_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column(
            "requester_id",
            ID,
            sa.ForeignKey("users.id", name="fk_surveys_requester_id_users"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("requested_at", STAMP, nullable=False),
        sa.Column("answered_at", STAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
    )
    op.create_index("ix_surveys_ticket", "surveys", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_table("surveys")
    op.drop_table("mail_messages")
    op.drop_table("api_tokens")
