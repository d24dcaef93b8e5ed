"""Flat at a million (issue 24): each index of migration 0018 is what the query it was
made for runs on (EXPLAIN on PostgreSQL, over enough rows that the planner must
choose: 30,000 tickets loaded in one statement), and queue counts stay bounded."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, func, select

from gongdan.bundle.compiled import Bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.automation.scheduler import run_after_transitions, run_scheduled_automations
from gongdan.engine.reads.queries import TicketQuery
from gongdan.engine.reads.queues import COUNT_CAP, QueueService
from gongdan.engine.service import TicketService
from gongdan.engine.store.counters import recount
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket
from gongdan.rules.workflow import Actor
from tests.factories import NOW, actor, make_user

OPEN = ("new", "open", "pending")

# --------------------------------------------------------------------------------------
# Indexes: EXPLAIN over 30,000 tickets (a year of a small desk; loaded in one statement)

ROWS = 30_000
FILL = f"""
INSERT INTO tickets (key, ticket_type, number, state, state_category, priority, title,
  description, requester_id, assignee_id, team_id, tags, data, config_version, version,
  created_at, updated_at, state_since, resolution_due)
SELECT 'INC-' || g, 'it_incident', g,
  CASE WHEN g > {ROWS} - 12000 THEN (ARRAY['new', 'in_progress', 'waiting_customer'])[1 + g % 3]
       WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
  CASE WHEN g > {ROWS} - 12000 THEN (ARRAY['new', 'open', 'pending'])[1 + g % 3]
       WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
  (ARRAY['low', 'normal', 'high', 'urgent'])[1 + g % 4], 'Printer jam ' || g, '',
  :requester, CASE WHEN g % 3 = 0 THEN NULL ELSE :agent END,
  CASE WHEN g % 7 = 0 THEN NULL ELSE 'service_desk' END,
  '[]', jsonb_build_object('category', 'software', 'impact', 'me'), 'v', 1,
  :start + g * interval '15 minutes', :start + g * interval '15 minutes',
  :start + g * interval '15 minutes',
  CASE WHEN g > {ROWS} - 12000 THEN :start + g * interval '20 minutes' END
FROM generate_series(1, {ROWS}) AS g
"""  # noqa: S608 - our own constants
# Resolved complaints (closed `after: 7d`) and closed ones, resolved over the year.
COMPLAINTS = """
INSERT INTO tickets (key, ticket_type, number, state, state_category, priority, title,
  description, requester_id, team_id, tags, data, config_version, version,
  created_at, updated_at, state_since)
SELECT 'CMP-' || g, 'complaint', g, CASE WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END,
  CASE WHEN g % 10 = 0 THEN 'resolved' ELSE 'closed' END, 'normal', 'Late delivery', '',
  :requester, 'customer_care', '[]', '{}', 'v', 1,
  :start + g * interval '1 hour', :start + g * interval '1 hour', :start + g * interval '1 hour'
FROM generate_series(1, 8000) AS g
"""


@pytest.fixture(scope="module")
def big(postgres_url: str, routed_bundle: Bundle) -> Iterator[tuple[Database, Actor, Actor]]:
    """A PostgreSQL database with ROWS tickets, analysed; (db, admin, service desk agent)."""
    db = Database(postgres_url)
    _empty(db)
    admin = make_user(db, "boss@example.com", "admin")
    agent_email = routed_bundle.teams["service_desk"].members[0].user
    for team in routed_bundle.teams.values():
        for member in team.members:
            make_user(db, member.user)
    AccountService(db, routed_bundle).sync_teams()
    agent = actor(db, agent_email)
    requester = make_user(db, "r@example.com", "requester")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(FILL),
            {
                "requester": requester.user_id,
                "agent": agent.user_id,
                "start": NOW - timedelta(minutes=15 * ROWS),
            },
        )
        connection.execute(
            sa.text(COMPLAINTS),
            {"requester": requester.user_id, "start": NOW - timedelta(hours=8000)},
        )
        connection.execute(sa.text("ANALYZE tickets"))
    yield db, admin, agent
    _empty(db)
    db.dispose()


def _empty(db: Database) -> None:
    from tests.conftest import _truncate

    _truncate(db)


def _plans(db: Database, run: Callable[[], Any], *settings: str) -> list[str]:
    """EXPLAIN of every statement on `tickets` or `events` that `run` runs, with its
    parameters (as the first executions get it) and as a generic plan (as a statement
    prepared server-side may get it later), joined in one text each."""
    seen: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        on_tickets = "FROM tickets" in statement or "FROM events" in statement
        # (with the read's own settings, replayed before the EXPLAINs)
        if (on_tickets and not statement.startswith("EXPLAIN")) or statement.startswith(
            "SET LOCAL"
        ):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    plans = []
    with db.engine.connect() as connection:
        for setting in settings:
            connection.exec_driver_sql(f"SET LOCAL {setting}")
        for statement, parameters in seen:
            if statement.startswith("SET LOCAL"):
                connection.exec_driver_sql(statement, parameters)
                continue
            custom = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
            plans.append("\n".join(custom))
    return plans


def _uses(plans: list[str], index: str) -> bool:
    return any(f"using {index} " in plan or f"on {index}" in plan for plan in plans)


@pytest.mark.parametrize(
    ("sort", "index"),
    [
        ("created_at", "ix_tickets_created"),
        ("updated_at", "ix_tickets_updated"),
        ("priority", "ix_tickets_priority_rank"),
        ("key", "ix_tickets_number"),
    ],
)
def test_every_list_sort_and_its_next_page_read_one_index_range(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle, sort: str, index: str
) -> None:
    db, admin, agent = big
    service = TicketService(db, routed_bundle)
    for who in (admin, agent):
        for descending in (True, False):
            query = TicketQuery(sort=sort, descending=descending, limit=25)
            first = service.list_tickets(who, query)
            assert first.next_cursor is not None
            plans = _plans(
                db,
                lambda q=query, c=first.next_cursor, w=who: service.list_tickets(
                    w, TicketQuery(sort=q.sort, descending=q.descending, cursor=c, limit=25)
                ),
            )
            assert _uses(plans, index), plans
            assert not any("Sort Key" in plan for plan in plans), plans


@pytest.mark.parametrize(
    ("queue", "index"),
    [
        ("mine", "ix_tickets_open_assignee_sla"),
        ("my_teams", "ix_tickets_open_created"),
        ("unassigned", "ix_tickets_unassigned_created"),
        ("breaching", "ix_tickets_open_sla"),
    ],
)
def test_each_built_in_queue_is_one_range_of_its_own_index(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle, queue: str, index: str
) -> None:
    db, _admin, agent = big
    queues = QueueService(db, routed_bundle, clock=lambda: NOW)
    assert _uses(_plans(db, lambda: queues.list_queue(agent, queue)), index)


def test_a_view_of_open_states_may_read_the_open_tickets_index(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle
) -> None:
    """`waiting_on_customer` names states, not categories: the categories they imply
    are added to its SQL, so the partial index on open tickets by last change serves
    it; a queue's own page is read in its index's order (at a million tickets the
    planner, misled by its estimate, took a bitmap of all 15,362 rows and a sort:
    306 ms), a filtered one as the planner sees fit."""
    from gongdan.engine.reads.queues import QueueQuery

    db, _admin, agent = big
    queues = QueueService(db, routed_bundle, clock=lambda: NOW)
    plans = _plans(db, lambda: queues.list_queue(agent, "waiting_on_customer"))
    assert _uses(plans, "ix_tickets_open_updated"), plans
    assert not any("Sort Key" in plan or "Bitmap" in plan for plan in plans), plans
    settings: list[str] = []

    def before(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        settings.extend([statement] if statement.startswith("SET LOCAL") else [])

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        filtered = QueueQuery(filters=TicketQuery(priorities=["urgent"]))
        queues.list_queue(agent, "waiting_on_customer", filtered)
        assert settings == []
        queues.list_queue(agent, "waiting_on_customer")
        assert "SET LOCAL enable_bitmapscan = off" in settings
    finally:
        event.remove(db.engine, "before_cursor_execute", before)


@pytest.mark.parametrize("sort", ["first_response_due", "resolution_due", "priority", "sla"])
def test_queue_sorts_of_open_tickets_are_indexed_too(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle, sort: str
) -> None:
    from gongdan.engine.reads.queues import QueueQuery

    db, admin, _agent = big
    queues = QueueService(db, routed_bundle, clock=lambda: NOW)
    plans = _plans(db, lambda: queues.list_queue(admin, "my_teams", QueueQuery(sort=sort)))
    assert not any("Sort Key" in plan for plan in plans), plans


def test_queue_counts_stop_at_the_cap_and_count_the_agents_own_queue_exactly(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle
) -> None:
    db, admin, agent = big
    with db.transaction() as session:  # the rows were loaded around the triggers' backs
        recount(session)
    queues = QueueService(db, routed_bundle, clock=lambda: NOW)
    counts = queues.counts(agent)
    with db.reading() as session:
        mine = session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.assignee_id == agent.user_id, Ticket.state_category.in_(OPEN))
        )
    assert counts["mine"] == mine > COUNT_CAP  # exact, not capped
    assert counts["my_teams"] == COUNT_CAP + 1  # "99+"
    plans = _plans(db, lambda: queues.counts(admin))
    assert not any("Seq Scan on tickets" in plan for plan in plans), plans


def test_the_after_transitions_scan_reads_its_index(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle
) -> None:
    db, _admin, _agent = big
    # Nothing is due a year ago: one probe of the index for each `after:` transition.
    plans = _plans(db, lambda: run_after_transitions(db, routed_bundle, NOW - timedelta(days=365)))
    complaints = [plan for plan in plans if "'complaint'" in plan]
    assert complaints and all("ix_tickets_after_due" in plan for plan in complaints), plans
    assert not any("Seq Scan" in plan for plan in plans), plans


def test_the_planner_knows_how_many_open_tickets_nobody_has(
    big: tuple[Database, Actor, Actor],
) -> None:
    db, _admin, _agent = big
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN SELECT id FROM tickets WHERE assignee_id IS NULL "
            "AND state_category IN ('new', 'open', 'pending')"
        ).first()[0]
        actual = connection.exec_driver_sql(
            "SELECT count(*) FROM tickets WHERE assignee_id IS NULL "
            "AND state_category IN ('new', 'open', 'pending')"
        ).scalar_one()
    estimate = int(plan.split("rows=")[1].split()[0])
    assert actual / 3 <= estimate <= actual * 3, (plan, actual)


def test_a_scheduled_automation_reads_only_the_tickets_its_when_selects(
    big: tuple[Database, Actor, Actor], routed_bundle: Bundle
) -> None:
    """`remind_stale_pending` (pending, last changed 3 days to 3 days 1 hour ago) is
    SQL: its run reads that window through an index, not every ticket not closed; and
    its claim is one probe of the index on run markers."""
    db, _admin, _agent = big
    plans = _plans(db, lambda: run_scheduled_automations(db, routed_bundle, NOW))
    reads = [plan for plan in plans if "updated_at" in plan]
    assert reads and not any("Seq Scan" in plan for plan in plans), plans
    assert _uses(plans, "ix_events_scheduled_runs"), plans
