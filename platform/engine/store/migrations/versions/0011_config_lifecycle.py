"""The config lifecycle: versions with their files, activations, declared team members.

`config_versions` keeps the files of each version (`content`, [relative path, text]
pairs);
`config_activations` records every promotion (the newest row is the active version
every process follows; `previous_id` is unique, so two processes promoting from the
same active version cannot both commit); `declared_members` keeps the members each
`kind: Team` of the active version names, so a user made later, by any process, joins
their teams at once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
STAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("config_versions") as batch:
        batch.add_column(sa.Column("content", JSON, nullable=True))
    op.create_table(
        "config_activations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("previous_id", sa.BigInteger(), nullable=False),
        sa.Column("activated_at", STAMP, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("activated_by", sa.String(length=254), nullable=False),
        sa.ForeignKeyConstraint(
            ["version"],
            ["config_versions.version"],
            name=op.f("fk_config_activations_version_config_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_activations")),
        sa.UniqueConstraint("previous_id", name=op.f("uq_config_activations_previous_id")),
    )
    op.create_table(
        "declared_members",
        sa.Column("team_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("skills", JSON, nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("team_id", "email", name=op.f("pk_declared_members")),
    )
    op.create_index("ix_declared_members_email", "declared_members", ["email"])


def downgrade() -> None:
    op.drop_index("ix_declared_members_email", table_name="declared_members")
    op.drop_table("declared_members")
    op.drop_table("config_activations")
    with op.batch_alter_table("config_versions") as batch:
        batch.drop_column("content")
