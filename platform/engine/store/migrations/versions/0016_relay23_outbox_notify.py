"""On PostgreSQL, wake the outbox relay as soon as rows are written.

A statement-level trigger sends `NOTIFY gongdan_outbox` with every statement that
inserts outbox rows (one per write, however many rows it adds), delivered when the
write commits; the relay of every process that LISTENs on it (`engine.outbox.wakeup`)
starts at once instead of on its next poll. SQLite has no notifications: its relay
polls.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE FUNCTION gongdan_outbox_written() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('gongdan_outbox', '');
  RETURN NULL;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    op.execute(
        "CREATE TRIGGER outbox_written AFTER INSERT ON outbox FOR EACH STATEMENT "
        "EXECUTE FUNCTION gongdan_outbox_written()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_written ON outbox")
    op.execute("DROP FUNCTION IF EXISTS gongdan_outbox_written()")
