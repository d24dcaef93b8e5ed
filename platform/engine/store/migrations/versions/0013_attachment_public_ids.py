"""Attachments get a random public id; the sequential id stays inside the server.

Until now an attachment's URL (`/api/v1/attachments/17`) and the value kept in a
ticket's attachment field were its row id, so anyone could walk the ids. From here on
URLs, the API and field values carry `public_id` (`secrets.token_urlsafe`, 144 bits).
Rows already there are given one, and the values of the attachment fields that name
them (each attached row knows its ticket and field) are rewritten to it, so old
tickets keep their files and old links stop naming files by number. Events keep the
values they recorded.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def new_public_id() -> str:
    """As `engine.tickets.attachments.new_public_id` (a migration never imports the app)."""
    return "f" + secrets.token_urlsafe(18)


def _renamed(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, list):
        return [names.get(str(item), item) for item in value]
    return names.get(str(value), value) if value is not None else None


def upgrade() -> None:
    bind = op.get_bind()
    json_type = JSONB() if bind.dialect.name == "postgresql" else sa.JSON()
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("public_id", sa.String(length=40), nullable=True))
    attachments = sa.table(
        "attachments",
        sa.column("id", sa.BigInteger()),
        sa.column("public_id", sa.String()),
        sa.column("ticket_id", sa.BigInteger()),
        sa.column("field_id", sa.String()),
    )
    tickets = sa.table("tickets", sa.column("id", sa.BigInteger()), sa.column("data", json_type))
    renamed: dict[int, dict[str, dict[str, str]]] = {}  # ticket → field → old → new
    rows = bind.execute(
        sa.select(attachments.c.id, attachments.c.ticket_id, attachments.c.field_id)
    ).all()
    for row_id, ticket_id, field_id in rows:
        public_id = new_public_id()
        bind.execute(
            attachments.update().where(attachments.c.id == row_id).values(public_id=public_id)
        )
        if ticket_id is not None and field_id:
            renamed.setdefault(ticket_id, {}).setdefault(field_id, {})[str(row_id)] = public_id
    for ticket_id, fields in renamed.items():
        data = bind.execute(sa.select(tickets.c.data).where(tickets.c.id == ticket_id)).scalar()
        if not isinstance(data, dict):
            continue
        changed = {
            name: _renamed(data[name], names) for name, names in fields.items() if name in data
        }
        if changed:
            bind.execute(
                tickets.update().where(tickets.c.id == ticket_id).values(data={**data, **changed})
            )
    with op.batch_alter_table("attachments") as batch:
        batch.alter_column("public_id", existing_type=sa.String(length=40), nullable=False)
    op.create_index("ix_attachments_public_id", "attachments", ["public_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_attachments_public_id", table_name="attachments")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("public_id")
