"""Flat at a million tickets (issue 24): what lists, queues, counts, routing and the
periodic jobs read costs the same however many old tickets exist.

- `agent_open_tickets`: each agent's open tickets (assigned, in a category of
  `OPEN_CATEGORIES`), kept by row triggers on `tickets` in the transaction of every
  insert, delete, reassignment or change of category, on both databases, whichever
  process or tool writes. Routing reads one row per member instead of counting their
  open tickets on each create, and an agent's own queue ("mine") is counted exactly
  from it. On PostgreSQL the two rows a reassignment moves are updated in user-id
  order (one INSERT … ORDER BY), so two reassignments crossing each other queue
  instead of deadlocking. Filled from the tickets here; `store.counters.recount`
  rebuilds it (for rows loaded with triggers off, e.g. COPY under
  `session_replication_role = replica`).
- `job_leases`: one row per periodic job; a process runs a job only after moving its
  lease forward (one conditional UPDATE), so each job runs in one process per period
  however many web workers or schedulers start it (`store.leases`).
- Indexes (PostgreSQL; SQLite keeps its per-column ones): the priority sort's
  expression (`paging.sort_expression` writes it with constants, as here), the key
  sort (number, id), open tickets by creation (the "my teams" queue), by last change and
  by priority (views of open tickets in those sorts), unassigned open
  tickets by creation (the "unassigned" queue: a small index whose size is the
  planner's estimate), an agent's open tickets by earliest SLA deadline ("my
  tickets"), open tickets by each single SLA deadline (queues sorted by one of them),
  the `after:` transitions' due scan (type, state, time in state; both databases) and
  the scheduled automations' last run (`scheduler._claim_run`).
- Extended statistics on (state_category, assignee_id, team_id): these columns are
  strongly dependent (a new ticket has no assignee), and the per-column estimates of
  the built-in queues' predicates were off by 50x; and on (state, state_category): a
  state decides its category, and a view of states gets its categories added
  (`queues`), which per-column estimates counted twice (off by 35x).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

OPEN = "('new', 'open', 'pending')"
NEVER = "'9999-12-31 00:00:00+00'::timestamptz"
DUES = ("first_response_due", "next_response_due", "resolution_due")
EARLIEST_DUE = "LEAST(" + ", ".join(f"COALESCE({c}, {NEVER})" for c in DUES) + ")"
PRIORITY_RANK = (
    "CASE WHEN (priority = 'low') THEN 0 WHEN (priority = 'normal') THEN 1 "
    "WHEN (priority = 'high') THEN 2 WHEN (priority = 'urgent') THEN 3 ELSE -1 END"
)
PG_INDEXES = {
    "ix_tickets_priority_rank": f"tickets (({PRIORITY_RANK}), id)",
    "ix_tickets_number": "tickets (number, id)",
    "ix_tickets_open_created": f"tickets (created_at, id) WHERE state_category IN {OPEN}",
    "ix_tickets_open_updated": f"tickets (updated_at, id) WHERE state_category IN {OPEN}",
    "ix_tickets_open_priority_rank": (
        f"tickets (({PRIORITY_RANK}), id) WHERE state_category IN {OPEN}"
    ),
    "ix_tickets_unassigned_created": (
        f"tickets (created_at, id) WHERE assignee_id IS NULL AND state_category IN {OPEN}"
    ),
    "ix_tickets_open_assignee_sla": (
        f"tickets (assignee_id, ({EARLIEST_DUE}), id) WHERE state_category IN {OPEN}"
    ),
    **{
        f"ix_tickets_open_{column}": (
            f"tickets ((COALESCE({column}, {NEVER})), id) WHERE state_category IN {OPEN}"
        )
        for column in DUES
    },
    "ix_events_scheduled_runs": (
        "events ((detail ->> 'automation'), at) "
        "WHERE kind = 'automation.scheduled' AND ticket_id IS NULL"
    ),
}
STATISTICS = "st_tickets_category_assignee_team"
STATE_STATISTICS = "st_tickets_state_category"

PG_COUNT = f"""
CREATE FUNCTION gongdan_open_tickets_count() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  was bigint := NULL;
  now_ bigint := NULL;
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.assignee_id IS NOT NULL
     AND OLD.state_category IN {OPEN} THEN
    was := OLD.assignee_id;
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.assignee_id IS NOT NULL
     AND NEW.state_category IN {OPEN} THEN
    now_ := NEW.assignee_id;
  END IF;
  IF was IS NOT DISTINCT FROM now_ THEN
    RETURN NULL;
  END IF;
  INSERT INTO agent_open_tickets AS a (user_id, open_tickets)
    SELECT v.u, v.d FROM (VALUES (was, -1), (now_, 1)) AS v (u, d)
    WHERE v.u IS NOT NULL ORDER BY v.u
    ON CONFLICT (user_id) DO UPDATE SET open_tickets = a.open_tickets + excluded.open_tickets;
  RETURN NULL;
END $$;
"""  # noqa: S608 - our own constants
PG_TRIGGERS = {
    "tickets_open_count_insert": "AFTER INSERT ON tickets FOR EACH ROW",
    "tickets_open_count_update": (
        "AFTER UPDATE OF assignee_id, state_category ON tickets FOR EACH ROW "
        "WHEN (OLD.assignee_id IS DISTINCT FROM NEW.assignee_id "
        "OR OLD.state_category IS DISTINCT FROM NEW.state_category)"
    ),
    "tickets_open_count_delete": "AFTER DELETE ON tickets FOR EACH ROW",
}


def _sqlite_add(who: str) -> str:
    return (
        f"INSERT INTO agent_open_tickets (user_id, open_tickets) "
        f"SELECT {who}.assignee_id, 1 WHERE {who}.assignee_id IS NOT NULL "
        f"AND {who}.state_category IN {OPEN} "
        "ON CONFLICT (user_id) DO UPDATE SET open_tickets = open_tickets + 1;"
    )


def _sqlite_remove(who: str) -> str:
    return (
        "UPDATE agent_open_tickets SET open_tickets = open_tickets - 1 "  # noqa: S608
        f"WHERE user_id = {who}.assignee_id AND {who}.state_category IN {OPEN};"
    )


SQLITE_TRIGGERS = {
    "tickets_open_count_insert": f"AFTER INSERT ON tickets BEGIN {_sqlite_add('NEW')} END",
    "tickets_open_count_update": (
        "AFTER UPDATE OF assignee_id, state_category ON tickets "
        "WHEN OLD.assignee_id IS NOT NEW.assignee_id "
        "OR OLD.state_category IS NOT NEW.state_category "
        f"BEGIN {_sqlite_remove('OLD')} {_sqlite_add('NEW')} END"
    ),
    "tickets_open_count_delete": f"AFTER DELETE ON tickets BEGIN {_sqlite_remove('OLD')} END",
}
RECOUNT = (
    "INSERT INTO agent_open_tickets (user_id, open_tickets) "  # noqa: S608
    "SELECT assignee_id, count(*) FROM tickets "
    f"WHERE assignee_id IS NOT NULL AND state_category IN {OPEN} GROUP BY assignee_id"
)


def upgrade() -> None:
    op.create_table(
        "agent_open_tickets",
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("open_tickets", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_agent_open_tickets")),
    )
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )
    op.create_index("ix_tickets_after_due", "tickets", ["ticket_type", "state", "state_since"])
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(PG_COUNT)
        for name, when in PG_TRIGGERS.items():
            op.execute(
                f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION gongdan_open_tickets_count()"
            )
    else:
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
    op.execute(RECOUNT)
    if not postgresql:
        return
    for name, definition in PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")
    op.execute(
        f"CREATE STATISTICS {STATISTICS} (dependencies, mcv) "
        "ON state_category, assignee_id, team_id FROM tickets"
    )
    op.execute(
        f"CREATE STATISTICS {STATE_STATISTICS} (dependencies) ON state, state_category FROM tickets"
    )
    op.execute("ANALYZE tickets")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        op.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
        op.execute(f"DROP STATISTICS IF EXISTS {STATE_STATISTICS}")
        for name in PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
        for name in PG_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON tickets")
        op.execute("DROP FUNCTION IF EXISTS gongdan_open_tickets_count()")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_tickets_after_due", table_name="tickets")
    op.drop_table("job_leases")
    op.drop_table("agent_open_tickets")
