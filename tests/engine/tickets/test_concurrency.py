"""Concurrent writers on both databases: ticket keys stay gapless and unique under
parallel creation, and of two concurrent changes of one ticket exactly one wins while
the other gets `Conflict` and nothing is overwritten (optimistic locking).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from gongdan.bundle.compiled import Bundle
from gongdan.engine.records import WriteResult
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Ticket, TicketCounter
from gongdan.engine.tickets.tickets import create_ticket
from gongdan.engine.unit_of_work import begin_write
from gongdan.errors import Conflict, TransitionNotAllowed
from gongdan.rules.workflow import Actor
from tests.conftest import _truncate
from tests.factories import NOW, incident, maintenance, make_user
from tests.sql import Statement, watching

THREADS = 8
TICKETS = 200


@pytest.fixture
def colleague(db: Database) -> Actor:
    return make_user(db, "wang.fang@example.com", teams=("service_desk",))


def race(*calls: Callable[[], WriteResult]) -> list[WriteResult | Exception]:
    """Run `calls` in threads released together; each one's result or error."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], WriteResult]) -> WriteResult | Exception:
        barrier.wait(timeout=30)
        try:
            return call()
        except Exception as error:  # the outcome is what the test compares
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_parallel_creation_numbers_tickets_without_gaps_or_repeats(
    db: Database, service: TicketService, requester: Actor
) -> None:
    barrier = threading.Barrier(THREADS)

    def create(n: int) -> str:
        if n < THREADS:
            barrier.wait(timeout=30)  # every thread starts writing at once
        return incident(service, requester, title=f"Crash {n}").ticket.key

    with ThreadPoolExecutor(THREADS) as pool:
        returned = list(pool.map(create, range(TICKETS)))
    expected = [f"INC-{n}" for n in range(1, TICKETS + 1)]
    assert sorted(returned, key=lambda key: int(key.split("-")[1])) == expected
    with db.reading() as session:
        stored = session.execute(sa.select(Ticket.key, Ticket.number)).all()
    assert sorted(number for _, number in stored) == list(range(1, TICKETS + 1))
    assert {key for key, _ in stored} == set(expected)
    assert all(key == f"INC-{number}" for key, number in stored)


def test_parallel_creation_of_two_types_numbers_each_type_on_its_own(
    service: TicketService, requester: Actor
) -> None:
    def create(n: int) -> str:
        if n % 2:
            return maintenance(service, requester).ticket.key
        return incident(service, requester).ticket.key

    with ThreadPoolExecutor(THREADS) as pool:
        returned = set(pool.map(create, range(60)))
    assert returned == {f"INC-{n}" for n in range(1, 31)} | {f"MNT-{n}" for n in range(1, 31)}


def test_numbering_carries_on_from_the_stored_counter(
    db: Database, example_bundle: Bundle, requester: Actor
) -> None:
    """A database numbered so far by its counter rows (one upgraded from a version
    without sequences, or an import) goes on after the last number given, on
    PostgreSQL's sequences as on SQLite's rows."""
    with db.transaction() as session:
        if db.dialect == "postgresql":  # as before the upgrade: no sequence yet
            session.execute(sa.text("DROP SEQUENCE IF EXISTS gd_no_it_incident"))
        session.execute(sa.insert(TicketCounter).values(ticket_type="it_incident", last_number=41))
    fresh = Database(db.url)  # a process started after the upgrade
    try:
        service = TicketService(fresh, example_bundle)
        assert [incident(service, requester).ticket.key for _ in range(2)] == ["INC-42", "INC-43"]
    finally:
        fresh.dispose()


def test_on_postgresql_an_unfinished_create_holds_up_no_other(
    db: Database, service: TicketService, requester: Actor
) -> None:
    """A create still open (between its number and its commit) does not make the next
    create of the same type wait: numbers come from a sequence, not a locked row."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite lets one writer in at a time by design")
    incident(service, requester)  # the type's sequence exists
    done: list[str] = []
    with begin_write(db, service.bundle, requester, NOW) as ctx:
        open_key = create_ticket(
            ctx, "it_incident", title="Open", fields={"category": "software", "impact": "me"}
        ).key
        other = threading.Thread(
            target=lambda: done.append(incident(service, requester).ticket.key)
        )
        other.start()
        other.join(timeout=20)
        assert done == ["INC-3"], "the second create waited for the first to commit"
    assert open_key == "INC-2"


def test_two_transitions_from_the_same_version_one_wins(
    service: TicketService, requester: Actor, agent: Actor, colleague: Actor
) -> None:
    """Two agents looking at the same new ticket press different buttons at once."""
    for _ in range(3):
        seen = incident(service, requester).ticket
        key, version = seen.key, seen.version
        outcomes = race(
            lambda key=key, version=version: service.take_transition(
                agent, key, "start", expected_version=version
            ),
            lambda key=key, version=version: service.take_transition(
                colleague, key, "ask_requester", comment="Which version?", expected_version=version
            ),
        )
        wins = [o for o in outcomes if isinstance(o, WriteResult)]
        losses = [o for o in outcomes if not isinstance(o, WriteResult)]
        assert len(wins) == 1 and len(losses) == 1, outcomes
        assert isinstance(losses[0], Conflict), losses[0]
        now = service.get_ticket(agent, seen.key)
        assert now.state == wins[0].ticket.state
        assert now.version == seen.version + 1
        moves = [e for e in service.list_events(agent, seen.key) if e.kind != "ticket.created"]
        assert len(moves) == 1 and moves[0].after["state"] == now.state
        comments = service.list_comments(agent, seen.key)
        assert len(comments) == (1 if now.state == "waiting_customer" else 0)


def test_two_edits_from_the_same_version_one_wins(
    service: TicketService, requester: Actor, agent: Actor, colleague: Actor
) -> None:
    seen = incident(service, requester).ticket
    outcomes = race(
        lambda: service.update_ticket(
            agent, seen.key, {"title": "Outlook 2021 crashes"}, expected_version=seen.version
        ),
        lambda: service.update_ticket(
            colleague, seen.key, {"impact": "company"}, expected_version=seen.version
        ),
    )
    (win,) = [o for o in outcomes if isinstance(o, WriteResult)]
    (loss,) = [o for o in outcomes if not isinstance(o, WriteResult)]
    assert isinstance(loss, Conflict)
    now = service.get_ticket(agent, seen.key)
    assert (now.title, dict(now.data), now.priority) == (
        win.ticket.title,
        dict(win.ticket.data),
        win.ticket.priority,
    )


def test_racing_writers_without_versions_never_both_win(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    """Without versions the writes may queue (SQLite) or overlap (PostgreSQL): either
    way the second sees or collides with the first, never overwrites it."""
    for _ in range(3):
        key = incident(service, requester).ticket.key
        outcomes = race(
            lambda key=key: service.take_transition(agent, key, "start"),
            lambda key=key: service.take_transition(requester, key, "withdraw"),
        )
        wins = [o for o in outcomes if isinstance(o, WriteResult)]
        losses = [o for o in outcomes if not isinstance(o, WriteResult)]
        assert len(wins) == 1, outcomes
        assert isinstance(losses[0], (Conflict, TransitionNotAllowed)), losses[0]
        moves = [e for e in service.list_events(agent, key) if e.kind == "ticket.transitioned"]
        assert [e.after["state"] for e in moves] == [wins[0].ticket.state]


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    _truncate(database)
    yield database
    database.dispose()


def test_overlapping_transactions_on_postgresql_conflict(
    postgres: Database, example_bundle: Bundle
) -> None:
    """Force the overlap: both transactions read the ticket before either writes it.
    The row version makes the second UPDATE match nothing: Conflict, not a lost update.
    (SQLite never overlaps writers: each write transaction begins IMMEDIATE.)"""
    service = TicketService(postgres, example_bundle)
    agent = make_user(postgres, "li.wei@example.com", teams=("service_desk",))
    colleague = make_user(postgres, "wang.fang@example.com", teams=("service_desk",))
    key = incident(service, agent, requester="zhang.san@example.com").ticket.key
    both_read = threading.Barrier(2)
    waited = threading.local()

    def hold_update(statement: Statement) -> None:
        # Hold each thread's first UPDATE of the ticket until both have read it.
        ticket_update = statement.kind == "update" and "tickets" in statement.writes
        if ticket_update and not getattr(waited, "done", False):
            waited.done = True
            both_read.wait(timeout=30)

    with watching(postgres, hold_update):
        outcomes = race(
            lambda: service.update_ticket(agent, key, {"title": "Outlook 2021 crashes"}),
            lambda: service.take_transition(colleague, key, "start"),
        )
    (win,) = [o for o in outcomes if isinstance(o, WriteResult)]
    (loss,) = [o for o in outcomes if not isinstance(o, WriteResult)]
    assert isinstance(loss, Conflict), loss
    now = service.get_ticket(agent, key)
    assert (now.title, now.state, now.version) == (win.ticket.title, win.ticket.state, 2)


# Optimistic locking ----------------------------------------------------------------


def test_stale_version_is_a_conflict_for_every_write(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    old = incident(service, requester).ticket
    fresh = service.update_ticket(agent, old.key, {"impact": "team"}).ticket
    assert fresh.version == old.version + 1
    for call in (
        lambda: service.update_ticket(agent, old.key, {"impact": "me"}, expected_version=1),
        lambda: service.take_transition(agent, old.key, "start", expected_version=1),
        lambda: service.assign(agent, old.key, team="service_desk", expected_version=1),
    ):
        with pytest.raises(Conflict) as caught:
            call()
        assert "reload" in str(caught.value)
    now = service.get_ticket(agent, old.key)
    assert (now.version, now.state, now.team, now.data["impact"]) == (2, "new", None, "team")
    moved = service.take_transition(agent, old.key, "start", expected_version=fresh.version)
    assert moved.ticket.version == fresh.version + 1


def test_a_comment_does_not_make_a_concurrent_edit_fail(
    service: TicketService, requester: Actor, agent: Actor
) -> None:
    seen = incident(service, requester).ticket
    service.add_comment(requester, seen.key, "It also crashes on startup.")
    edited = service.update_ticket(
        agent, seen.key, {"impact": "team"}, expected_version=seen.version
    )
    assert edited.ticket.data["impact"] == "team"
