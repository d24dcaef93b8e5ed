"""Desk queues: open tickets by their earliest SLA deadline (PostgreSQL).

The "breaching soon" queue, and every queue sorted by SLA ("my tickets", the urgent
incidents view), order open tickets by the earliest of their three deadlines and the
breaching queue keeps those before a moment. A partial index on exactly that
expression (as `engine.reads.queues` writes it, a missing deadline counting as 9999-12-31)
turns a scan of every open ticket plus a sort into one ordered index range, so the
page costs the same however many tickets are open (bench/queues.py). SQLite, the small
embedded default, keeps its plain per-column indexes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NEVER = "'9999-12-31 00:00:00+00'::timestamptz"
EARLIEST_DUE = ", ".join(
    f"COALESCE({column}, {NEVER})"
    for column in ("first_response_due", "next_response_due", "resolution_due")
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX ix_tickets_open_sla ON tickets (LEAST({EARLIEST_DUE}), id) "
        "WHERE state_category IN ('new', 'open', 'pending')"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_tickets_open_sla")
