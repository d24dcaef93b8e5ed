"""Reports at a million tickets: the backlog and satisfaction read small index ranges.

PostgreSQL only (SQLite, the small embedded default, keeps its plain indexes):

- `ix_tickets_open_created` (migration 0018: open tickets by creation, for queues) now
  also carries what backlog reports group and scope by (type, team, assignee,
  priority, state category), so a backlog report reads the open tickets' index alone
  (an index-only scan) instead of the report index over every ticket: at 1,000,000
  tickets (143,000 open) 2,500 buffers instead of 38,500 for the backlog over all time
  (bench/reports.py --explain). Same key and predicate, so the queues it serves keep
  it; no index is added to a ticket's write, only a wider entry in one.
- `ix_surveys_report_requested`: surveys by request time, with the ticket and the
  rating: over a period of creation the satisfaction reports join only the surveys
  requested since its start (`engine.reads.report_sql`), a range of this index.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

OPEN = "('new', 'open', 'pending')"
OPEN_CREATED = "ON tickets (created_at, id) {} WHERE state_category IN " + OPEN
CARRIED = "INCLUDE (ticket_type, team_id, assignee_id, priority, state_category)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_tickets_open_created")
    op.execute(f"CREATE INDEX ix_tickets_open_created {OPEN_CREATED.format(CARRIED)}")
    op.execute(
        "CREATE INDEX ix_surveys_report_requested ON surveys (requested_at) "
        "INCLUDE (ticket_id, rating)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_surveys_report_requested")
    op.execute("DROP INDEX ix_tickets_open_created")
    op.execute(f"CREATE INDEX ix_tickets_open_created {OPEN_CREATED.format('')}")
