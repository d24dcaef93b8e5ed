"""Outbox rows delivered in batches (issue 23), on SQLite and PostgreSQL: each row of a
batch is recorded as it went (one failing does not hold back the others), a batch cut
short by a crash redelivers only the rows not done with the same ids, a ticket's rows
go out in the order they were written, rows that only get logged cost the same few
statements however many there are, and a write wakes the in-process relay at once."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.engine.outbox.delivery import LogNotifier, Notification
from gongdan.engine.outbox.relay import (
    DEFAULT_LEASE,
    deliver_batch,
    deliver_due,
    list_deliveries,
    relay_batch,
    retry_delay,
)
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox
from gongdan.rules.workflow import Actor
from tests.factories import NOW, StepClock, make_user
from tests.helpers import wait_until
from tests.sql import StatementRecorder
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle

ENV = {SECRET_ENV: SECRET.decode()}
LATER = NOW + timedelta(minutes=5)  # after every write of StepClock in these tests


class Crash(BaseException):
    """Stands for the process dying in the middle of a batch."""


class Notifier:
    """Keeps what it was asked to send; fails for the tickets in `failing`, and dies
    (`Crash`) at the `crash_at`-th notification."""

    def __init__(self, failing: tuple[str, ...] = (), crash_at: int | None = None) -> None:
        self.sent: list[Notification] = []
        self.failing, self.crash_at = failing, crash_at

    def send(self, notification: Notification) -> None:
        key = (notification.ticket or {}).get("key")
        if key in self.failing:
            raise ConnectionError(f"SMTP server said 451 for {key}")
        if self.crash_at is not None and len(self.sent) + 1 == self.crash_at:
            raise Crash
        self.sent.append(notification)


@pytest.fixture
def agent(db: Database) -> Actor:
    return make_user(db, "li.wei@example.com", "agent", teams=("desk",))


@pytest.fixture
def hooks(db: Database, tmp_path: Path, receiver: Receiver) -> TicketService:
    bundle = load_bundle(webhook_bundle(tmp_path, receiver.url))
    return TicketService(db, bundle, clock=StepClock())


def rows(db: Database) -> dict[int, Outbox]:
    with db.reading() as session:
        return {row.id: row for row in session.scalars(select(Outbox).order_by(Outbox.id))}


def test_a_batch_where_one_row_fails_records_each_row_as_it_went(
    db: Database, hooks: TicketService, agent: Actor, receiver: Receiver
) -> None:
    keys = [hooks.create_ticket(agent, "incident", title=f"T{n}").ticket.key for n in range(3)]
    before = rows(db)
    assert len(before) == 6  # per ticket: ticket.created and the on_enter webhook
    notifier = Notifier(failing=(keys[1],))

    outcomes = deliver_batch(db, list(before), LATER, channels=channels_for(notifier, environ=ENV))

    after = rows(db)
    failed = next(
        i
        for i, r in after.items()
        if r.topic == "ticket.created" and r.payload["ticket"] == keys[1]
    )
    assert outcomes == {i: ("pending" if i == failed else "delivered") for i in before}
    assert {r.status for i, r in after.items() if i != failed} == {"delivered"}
    row = after[failed]
    assert (row.status, row.attempts, row.done_at) == ("pending", 1, None)
    assert row.next_attempt_at == LATER + retry_delay(1)
    assert row.last_error == f"ConnectionError: SMTP server said 451 for {keys[1]}"
    assert {n.ticket["key"] for n in notifier.sent if n.ticket} == {keys[0], keys[2]}
    assert len(receiver.deliveries()) == 3  # every webhook went out, in parallel
    logged = list_deliveries(db, keys[1])
    assert sorted((d.kind, d.outcome) for d in logged) == [
        ("notification", "failed"),
        ("webhook", "delivered"),
    ]
    assert {d.outcome for d in list_deliveries(db, keys[0])} == {"delivered"}

    # The failed row alone comes back, after its backoff, and goes out.
    later = deliver_due(db, LATER + retry_delay(1), channels=channels_for(Notifier(), environ=ENV))
    assert later == {failed: "delivered"}


def test_a_batch_killed_midway_redelivers_only_the_rows_not_done_with_the_same_ids(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    for n in range(5):
        hooks.create_ticket(agent, "incident", title=f"T{n}")
    ids = [i for i, r in rows(db).items() if r.topic == "ticket.created"]
    with db.transaction() as session:  # only the notifications: one after the other
        for row in session.scalars(select(Outbox).where(Outbox.topic == "webhook")):
            row.status, row.done_at = "skipped", NOW
    dying = Notifier(crash_at=3)

    with pytest.raises(Crash):
        # checkpoint=0: a batch records what it has done as it goes when a row takes
        # long (here: always), so the rows done before the crash stay done.
        deliver_due(db, LATER, channels=channels_for(dying), checkpoint=0)

    assert [n.delivery_id for n in dying.sent] == ids[:2]
    state = rows(db)
    assert [state[i].status for i in ids] == ["delivered"] * 2 + ["pending"] * 3
    # Nothing is due before the lease of the dead process's claim runs out...
    assert deliver_due(db, LATER + DEFAULT_LEASE - timedelta(seconds=1)) == {}
    # ...then only the rows it did not finish go out, each with its own id again.
    again = Notifier()
    outcomes = deliver_due(db, LATER + DEFAULT_LEASE, channels=channels_for(again))
    assert outcomes == dict.fromkeys(ids[2:], "delivered")
    assert [n.delivery_id for n in again.sent] == ids[2:]
    assert [rows(db)[i].attempts for i in ids] == [1, 1, 2, 2, 2]


def test_a_tickets_rows_go_out_in_the_order_they_were_written(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    first = hooks.create_ticket(agent, "incident", title="First").ticket.key
    second = hooks.create_ticket(agent, "incident", title="Second").ticket.key
    for n in range(3):  # interleaved: first, second, first, second...
        hooks.add_comment(agent, first, f"first {n}")
        hooks.add_comment(agent, second, f"second {n}")
    hooks.take_transition(agent, first, "start")
    notifier = Notifier()

    claimed: list[list[int]] = []
    assert relay_batch(db, claimed.append, LATER, batch=100) == len(rows(db))
    deliver_batch(db, claimed[0], LATER, channels=channels_for(notifier, environ=ENV))

    for key in (first, second):
        mine = [n for n in notifier.sent if n.ticket and n.ticket["key"] == key]
        written = [i for i, r in rows(db).items() if r.payload.get("ticket") == key]
        assert [n.delivery_id for n in mine] == [
            i for i in written if rows(db)[i].topic != "webhook"
        ]
        assert [n.topic for n in mine][:1] == ["ticket.created"]
    assert {r.status for r in rows(db).values()} == {"delivered"}


def test_logged_notifications_cost_the_same_statements_however_many(
    db: Database, hooks: TicketService, agent: Actor, statements: StatementRecorder
) -> None:
    def deliver_logged(count: int, at: timedelta) -> int:
        for n in range(count):
            hooks.create_ticket(agent, "incident", title=f"T{n}")
        with db.transaction() as session:
            for row in session.scalars(select(Outbox).where(Outbox.topic == "webhook")):
                row.status, row.done_at = "skipped", NOW
        with statements.recording(db) as seen:
            outcomes = deliver_due(db, LATER + at, channels=channels_for(LogNotifier()))
        assert set(outcomes.values()) == {"delivered"} and len(outcomes) == count
        return seen.count()

    few = deliver_logged(2, timedelta(0))
    many = deliver_logged(20, timedelta(minutes=1))
    assert few == many <= 6  # claim+read, then the log rows and the rows settled
    # The desk still shows each one as "logged, not sent".
    assert {d.outcome for d in list_deliveries(db, "INC-20")} == {"logged"}


def test_a_write_wakes_the_in_process_relay_at_once(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    runner = InProcessRunner(db, lambda: hooks.bundle, channels=channels_for(environ=ENV), jobs=[])
    runner.start()
    try:
        time.sleep(1.2)  # idle: the poll has backed off to its longest wait
        service = TicketService(db, hooks.bundle)  # the real clock: due now
        started = time.monotonic()
        service.create_ticket(agent, "incident", title="Wake up")
        assert wait_until(lambda: {r.status for r in rows(db).values()} == {"delivered"}, 10)
        assert time.monotonic() - started < 0.45  # sooner than the idle poll
    finally:
        runner.stop()
