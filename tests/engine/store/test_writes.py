"""How writes reach the database (`engine/store/writes.py`), on SQLite and PostgreSQL: a new
ticket is routed in memory and stored with one INSERT, its events and outbox rows go
in one batch, a failed write leaves nothing behind, and big batches still get written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.engine.accounts.service import AccountService
from gongdan.engine.reads.queries import FieldFilter, TicketQuery
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Event, Outbox
from gongdan.engine.unit_of_work import begin_write
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor
from tests.bundles import make_bundle
from tests.factories import NOW, incident, make_user
from tests.sql import StatementRecorder, classify


def staff(db: Database, bundle: Bundle) -> None:
    for team in bundle.teams.values():
        for member in team.members:
            make_user(db, member.user)
    AccountService(db, bundle).sync_teams()


def test_a_routed_ticket_goes_in_with_one_insert_and_no_update(
    db: Database, routed_bundle: Bundle, statements: StatementRecorder
) -> None:
    staff(db, routed_bundle)
    service = TicketService(db, routed_bundle)
    requester = make_user(db, "r@example.com", "requester")
    incident(service, requester)  # the first create of a process compiles its statements
    with statements.recording(db) as seen:
        created = incident(service, requester, fields={"category": "software", "impact": "me"})
    assert created.ticket.team == "service_desk" and created.ticket.assignee is not None
    assert created.ticket.version == 1
    # One event: the created ticket as routed (`detail.routing` says how).
    assert [e.kind for e in created.events] == ["ticket.created"]
    assert created.events[0].after["assignee"] == created.ticket.assignee
    assert "routing" not in created.events[0].detail  # the requester's view: not how
    (staff_view,) = service.list_events(Actor.system(), created.ticket.key)
    assert staff_view.detail["routing"]["strategy"] == "round_robin"
    assert seen.count("insert", table="tickets") == 1 and not seen.only("update"), seen
    if db.dialect == "postgresql":
        # The requester; the team's members with the new number and the round-robin
        # turn drawn from sequences (no row locked until commit); one batch.
        assert seen.kinds() == {"insert": 1, "select": 2}, seen
        (members,) = seen.only("select", table="memberships")
        # How the number is drawn is the point here, and only the SQL text shows it.
        assert members.sql.count("nextval") == 3 and "FOR UPDATE" not in members.sql
        (batch,) = seen.only("insert")
        assert batch.writes == {"tickets", "events", "outbox"}, seen
    else:
        # In-process, so no round trips to save: the requester, the team's members,
        # the number, the ticket, each event row, the outbox row, the team's turn.
        assert len(seen) <= 7 and seen.count("select") == 2, seen


def test_round_robin_moves_on_from_the_stored_turns(db: Database, routed_bundle: Bundle) -> None:
    staff(db, routed_bundle)
    service = TicketService(db, routed_bundle)
    requester = make_user(db, "r@example.com", "requester")
    software = {"category": "software", "impact": "me"}
    assignees = [incident(service, requester, fields=software).ticket.assignee for _ in range(6)]
    members = sorted(m.user for m in routed_bundle.teams["service_desk"].members)
    assert len(set(assignees[:5])) == 5 and set(assignees) <= set(members)
    assert assignees[5] == assignees[0]  # the turn came round again


def test_a_rule_may_read_the_new_key(db: Database, tmp_path: Path) -> None:
    rules = """kind: RoutingRules
id: default
rules:
  - name: The second ticket is urgent
    when: {key: INC-2}
    set: {priority: urgent}
"""
    bundle = load_bundle(make_bundle(tmp_path, {"routing/default.yaml": rules}))
    service = TicketService(db, bundle)
    requester = make_user(db, "r@example.com", "requester")
    made = [
        service.create_ticket(requester, "incident", title="Help", fields={"category": "software"})
        for _ in range(3)
    ]
    assert [(t.ticket.key, t.ticket.priority) for t in made] == [
        ("INC-1", "normal"),
        ("INC-2", "urgent"),
        ("INC-3", "normal"),
    ]


def count(db: Database, model: type[Any]) -> int:
    with db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_write_that_fails_leaves_no_events_or_outbox_rows(
    db: Database, example_bundle: Bundle
) -> None:
    before = (count(db, Event), count(db, Outbox))
    with pytest.raises(RuntimeError), begin_write(db, example_bundle, Actor.system(), NOW) as ctx:
        ctx.event(None, "test.failed", detail={"n": 1})
        ctx.outbox("test.failed", {"n": 1})
        raise RuntimeError("the write fails after its events were asked for")
    # The next transaction must not carry them either.
    with begin_write(db, example_bundle, Actor.system(), NOW) as ctx:
        ctx.event(None, "test.ok")
    assert (count(db, Event), count(db, Outbox)) == (before[0] + 1, before[1])


def test_a_big_batch_is_written_whole_with_ids_in_order(
    db: Database, example_bundle: Bundle
) -> None:
    with begin_write(db, example_bundle, Actor.system(), NOW) as ctx:
        for n in range(40):
            ctx.event(None, "test.many", detail={"n": n})
            ctx.outbox("test.many", {"n": n})
        records = ctx.event_records()
    assert [r.detail["n"] for r in records] == list(range(40))
    assert [r.id for r in records] == sorted(r.id for r in records)
    with db.reading() as session:
        stored = session.execute(select(Event.id, Event.detail).order_by(Event.id)).all()
    assert [(row.id, row.detail["n"]) for row in stored] == [
        (r.id, n) for n, r in enumerate(records)
    ]
    assert count(db, Outbox) == 40


def test_events_of_a_create_and_of_later_writes_keep_their_order(
    db: Database, routed_bundle: Bundle
) -> None:
    staff(db, routed_bundle)
    service = TicketService(db, routed_bundle)
    requester = make_user(db, "r@example.com", "requester")
    agent = make_user(db, "boss@example.com", "admin")
    created = incident(service, requester)
    started = service.take_transition(agent, created.ticket.key, "start")
    trail = service.list_events(agent, created.ticket.key)
    assert [e.id for e in trail] == [e.id for e in (*created.events, *started.events)]
    assert [e.kind for e in trail][:2] == ["ticket.created", "ticket.transitioned"]


def test_a_team_without_accounts_still_numbers_its_tickets(
    db: Database, routed_bundle: Bundle
) -> None:
    service = TicketService(db, routed_bundle)  # nobody of the teams has an account
    requester = make_user(db, "r@example.com", "requester")
    made = [incident(service, requester) for _ in range(2)]
    assert [t.ticket.key for t in made] == ["INC-1", "INC-2"]
    assert {(t.ticket.team, t.ticket.assignee) for t in made} == {("service_desk", None)}
    (created,) = service.list_events(Actor.system(), made[1].ticket.key)
    assert created.detail["routing"]["reason"] == "the team has no members with an account"


def test_on_postgresql_a_create_s_hot_statements_are_prepared_and_lists_are_not(
    db: Database, routed_bundle: Bundle
) -> None:
    if db.dialect != "postgresql":
        pytest.skip("server-side prepared statements are PostgreSQL's")
    staff(db, routed_bundle)
    service = TicketService(db, routed_bundle)
    requester = make_user(db, "r@example.com", "requester")
    admin = make_user(db, "boss@example.com", "admin")
    db.engine.dispose()  # from here on one pooled connection serves every call
    made = [incident(service, requester) for _ in range(2)]
    with pytest.raises(ValidationFailed):  # fails after its first read: rolled back,
        # and psycopg deallocates what the connection had prepared (prepared again below)
        incident(service, requester, fields={"category": "nonsense", "impact": "me"})
    made += [incident(service, requester) for _ in range(2)]
    filtered = TicketQuery(fields=(FieldFilter("category", "eq", "software"),))
    for _ in range(6):  # psycopg would prepare an unmarked query from its 5th run
        listed = service.list_tickets(admin, filtered)
    assert [t.ticket.key for t in made] == ["INC-1", "INC-2", "INC-3", "INC-4"]
    assert {t.key for t in listed.items} == {t.ticket.key for t in made}
    with db.reading() as session:  # on that connection
        prepared = session.execute(
            text("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        ).all()
    runs: dict[tuple[str, str], int] = {}
    for sql, n in prepared:  # which statement each is, by its kind and tables
        statement = classify(sql)
        runs[statement.kind, ",".join(sorted(statement.tables))] = n
    assert runs == {  # run by each create since the rollback, and nothing else
        ("select", "users"): 2,  # the requester
        # its number with the team's members (and their open tickets: the counters)
        ("select", "agent_open_tickets,directory_generation,memberships"): 2,
        ("insert", "events,outbox,tickets"): 2,  # the ticket, its events and outbox rows
    }
