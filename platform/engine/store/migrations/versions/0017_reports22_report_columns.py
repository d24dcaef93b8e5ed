"""Reports (`kind: Report`, the /reports dashboard) read columns, not SLA documents.

What reports read of a ticket's SLA clocks becomes columns, kept by the SLA engine in
the same write as the clocks (`automation.sla.report_columns`): `sla_policy`, the
business seconds a met first-response / resolution clock ran
(`first_response_seconds`, `resolution_seconds`), and whether a clock with an outcome
was met in time (`first_response_in_time`, `resolution_in_time`: true, false for a
breach, null without an outcome). They are filled here from the stored clocks.

On PostgreSQL, covering indexes on the two instants a report's period filters on,
carrying every column reports group, scope and measure by, so a report over a period
reads the index alone (an index-only scan) instead of the tickets and their JSON
(bench/reports.py; tests/engine/reads/test_report_indexes.py checks each is used):

- `ix_tickets_report_created`: `created_at`, with the id (what a join to the surveys
  needs), type, team, assignee, priority, state category and the SLA columns above;
- `ix_tickets_report_resolved`: `resolved_at` of resolved tickets, with type, team,
  assignee, priority and the resolution columns;
- `ix_surveys_report_ticket`: a ticket's surveys with their rating (satisfaction,
  surveys answered, the distribution of ratings);
- `ix_surveys_report_lowest`: answered surveys, lowest rating first, latest first
  (the lowest-rated tickets, read until the limit).

SQLite, the small embedded default, keeps its plain per-column indexes (no INCLUDE).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS: dict[str, Any] = {
    "sla_policy": sa.String(64),
    "first_response_seconds": sa.Integer(),
    "resolution_seconds": sa.Integer(),
    "first_response_in_time": sa.Boolean(),
    "resolution_in_time": sa.Boolean(),
}
SLA = "ticket_type, team_id, assignee_id, priority"
INDEXES = {
    "ix_tickets_report_created": (
        f"ON tickets (created_at) INCLUDE (id, {SLA}, state_category, sla_policy, "
        "first_response_seconds, resolution_seconds, first_response_in_time, "
        "resolution_in_time)"
    ),
    "ix_tickets_report_resolved": (
        f"ON tickets (resolved_at) INCLUDE ({SLA}, sla_policy, resolution_seconds, "
        "resolution_in_time) WHERE resolved_at IS NOT NULL"
    ),
    "ix_surveys_report_ticket": "ON surveys (ticket_id) INCLUDE (rating)",
    "ix_surveys_report_lowest": (
        "ON surveys (rating, answered_at DESC, id DESC) WHERE rating IS NOT NULL"
    ),
}


def _fill_postgresql() -> None:
    def clock(target: str, name: str) -> str:
        return f"(sla #>> '{{clocks,{target},{name}}}')"

    sets = ["sla_policy = sla ->> 'policy'"]
    for target in ("first_response", "resolution"):
        met, breached = clock(target, "met_at"), clock(target, "breached_at")
        consumed = clock(target, "consumed")
        sets += [
            f"{target}_seconds = CASE WHEN {met} IS NOT NULL THEN {consumed}::numeric::int END",
            f"{target}_in_time = CASE WHEN {breached} IS NOT NULL THEN false "
            f"WHEN {met} IS NOT NULL THEN true END",
        ]
    op.execute(f"UPDATE tickets SET {', '.join(sets)} WHERE sla IS NOT NULL")  # noqa: S608 - constants


def _fill_sqlite() -> None:
    def clock(target: str, name: str) -> str:
        return f"json_extract(sla, '$.clocks.{target}.{name}')"

    sets = ["sla_policy = json_extract(sla, '$.policy')"]
    for target in ("first_response", "resolution"):
        met, breached = clock(target, "met_at"), clock(target, "breached_at")
        consumed = clock(target, "consumed")
        sets += [
            f"{target}_seconds = CASE WHEN {met} IS NOT NULL THEN CAST({consumed} AS INTEGER) END",
            f"{target}_in_time = CASE WHEN {breached} IS NOT NULL THEN 0 "
            f"WHEN {met} IS NOT NULL THEN 1 END",
        ]
    op.execute(f"UPDATE tickets SET {', '.join(sets)} WHERE sla IS NOT NULL")  # noqa: S608 - constants


def upgrade() -> None:
    for name, kind in COLUMNS.items():
        op.add_column("tickets", sa.Column(name, kind, nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        _fill_sqlite()
        return
    _fill_postgresql()
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} {definition}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    for name in COLUMNS:  # SQLite 3.35+ drops a column in place (tickets is referenced)
        op.drop_column("tickets", name)
