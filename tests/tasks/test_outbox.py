"""The outbox relay and delivery on SQLite and PostgreSQL: claims, leases, retries with
backoff, dead rows, idempotency and the delivery log, against a loopback receiver."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.engine.outbox.delivery import Notification
from gongdan.engine.outbox.relay import (
    DEFAULT_LEASE,
    MAX_ATTEMPTS,
    deliver,
    list_deliveries,
    relay_once,
    retry_delay,
)
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Delivery, Outbox
from gongdan.rules.workflow import Actor
from tests.factories import NOW, StepClock, make_user
from tests.tasks.conftest import SECRET, SECRET_ENV, Receiver, webhook_bundle

ENV = {SECRET_ENV: SECRET.decode()}
LATER = NOW + timedelta(minutes=5)  # after every write of StepClock in these tests


class RecordingNotifier:
    """A notifier that keeps what it was asked to send (and can be told to fail)."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Notification] = []
        self.failures = failures

    def send(self, notification: Notification) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("SMTP server said 421")
        self.sent.append(notification)


class Crash(BaseException):
    """Stands for the process dying in the middle of a side effect."""


class CrashingNotifier:
    def send(self, notification: Notification) -> None:
        raise Crash


@pytest.fixture
def agent(db: Database) -> Actor:
    return make_user(db, "li.wei@example.com", "agent", teams=("desk",))


@pytest.fixture
def hooks(db: Database, tmp_path: Path, receiver: Receiver) -> TicketService:
    bundle = load_bundle(webhook_bundle(tmp_path, receiver.url))
    return TicketService(db, bundle, clock=StepClock())


def new_ticket(service: TicketService, who: Actor, **values: object) -> str:
    result = service.create_ticket(who, "incident", title="Printer on fire", **values)
    return result.ticket.key


def rows(db: Database, topic: str | None = None) -> list[Outbox]:
    with db.reading() as session:
        query = select(Outbox).order_by(Outbox.id)
        if topic is not None:
            query = query.where(Outbox.topic == topic)
        return list(session.scalars(query))


def deliver_now(db: Database, now: datetime, **kwargs: object) -> object:
    """A direct dispatch, as the in-process runner does it."""
    channels = kwargs.pop("channels", channels_for(environ=ENV))
    return lambda outbox_id: deliver(db, outbox_id, now, channels=channels, **kwargs)


def test_due_rows_are_claimed_with_a_lease_and_claimed_again_when_it_ends(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    for _ in range(3):
        new_ticket(hooks, agent)
    all_ids = [row.id for row in rows(db)]
    assert len(all_ids) == 6  # ticket.created + the on_enter webhook, per ticket
    claimed: list[int] = []
    assert relay_once(db, claimed.append, LATER) == 6
    assert claimed == all_ids
    assert relay_once(db, claimed.append, LATER + DEFAULT_LEASE - timedelta(seconds=1)) == 0
    # Nobody delivered them (the worker died): due again once the lease has ended.
    again: list[int] = []
    assert relay_once(db, again.append, LATER + DEFAULT_LEASE, batch=4) == 4
    assert relay_once(db, again.append, LATER + DEFAULT_LEASE, batch=4) == 2
    assert again == all_ids
    assert {row.claimed_by for row in rows(db)} != {None}


def test_two_relays_racing_claim_every_row_exactly_once(db: Database) -> None:
    with db.transaction() as session:
        session.add_all(
            Outbox(topic="notify", payload={"ticket": f"INC-{n}"}, created_at=NOW)
            for n in range(300)
        )
    start = threading.Barrier(2)
    claims: dict[str, list[int]] = {"a": [], "b": []}
    errors: list[BaseException] = []

    def relay(name: str) -> None:
        def dispatch(outbox_id: int) -> None:
            claims[name].append(outbox_id)
            time.sleep(0.001)  # publishing to a broker takes a moment

        try:
            start.wait(10)
            while relay_once(db, dispatch, LATER, batch=7):
                pass
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=relay, args=(name,)) for name in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    together = claims["a"] + claims["b"]
    assert sorted(together) == [row.id for row in rows(db)]
    assert len(set(together)) == 300
    if db.dialect == "postgresql":  # SQLite runs one writer at a time: no real race there
        assert claims["a"] and claims["b"]


def test_webhook_is_retried_with_backoff_after_a_500_then_delivered(
    db: Database, hooks: TicketService, agent: Actor, receiver: Receiver
) -> None:
    receiver.answer = lambda n: (500 if n == 0 else 200, 0.0)
    key = new_ticket(hooks, agent)
    (hook,) = rows(db, "webhook")
    assert relay_once(db, deliver_now(db, LATER), LATER) == 2

    (hook,) = rows(db, "webhook")
    assert (hook.status, hook.attempts, hook.done_at) == ("pending", 1, None)
    assert "HTTP 500" in (hook.last_error or "")
    assert hook.next_attempt_at == LATER + retry_delay(1) == LATER + timedelta(seconds=30)
    assert relay_once(db, deliver_now(db, LATER), LATER + timedelta(seconds=29)) == 0

    retry_at = LATER + timedelta(seconds=30)
    assert relay_once(db, deliver_now(db, retry_at), retry_at) == 1
    (hook,) = rows(db, "webhook")
    assert (hook.status, hook.attempts, hook.done_at, hook.last_error) == (
        "delivered",
        2,
        retry_at,
        None,
    )
    requests = receiver.wait_for(2, timeout=5)
    assert [r.path for r in requests] == ["/created", "/created"]
    assert {r.delivery for r in requests} == {str(hook.id)}
    assert all(r.signed() for r in requests)

    webhooks = [d for d in list_deliveries(db, key) if d.kind == "webhook"]
    assert [(d.attempt, d.outcome, d.status_code) for d in webhooks] == [
        (1, "failed", 500),
        (2, "delivered", 200),
    ]
    assert webhooks[0].target == f"{receiver.url}/created"
    assert "HTTP 500" in (webhooks[0].error or "")
    assert webhooks[1].at == retry_at


def test_a_row_is_dead_after_the_last_attempt(
    db: Database, hooks: TicketService, agent: Actor, receiver: Receiver
) -> None:
    receiver.answer = lambda _n: (503, 0.0)
    key = new_ticket(hooks, agent)
    now = LATER
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert relay_once(db, deliver_now(db, now), now) >= 1
        (hook,) = rows(db, "webhook")
        assert hook.attempts == attempt
        now += retry_delay(attempt)
    (hook,) = rows(db, "webhook")
    assert hook.status == "dead"
    assert hook.done_at is not None
    assert "HTTP 503" in (hook.last_error or "")
    assert relay_once(db, deliver_now(db, now), now + timedelta(days=30)) == 0
    assert len(receiver.requests) == MAX_ATTEMPTS
    assert [d.attempt for d in list_deliveries(db, key) if d.kind == "webhook"] == list(
        range(1, MAX_ATTEMPTS + 1)
    )
    # The delays double: 30 s, 1 min, 2 min … and never exceed an hour.
    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 20)] == [
        30,
        60,
        120,
        3600,
        3600,
    ]


def test_delivering_a_row_again_is_a_no_op(
    db: Database, hooks: TicketService, agent: Actor, receiver: Receiver
) -> None:
    key = new_ticket(hooks, agent)
    (hook,) = rows(db, "webhook")
    assert deliver(db, hook.id, LATER, channels=channels_for(environ=ENV)) == "delivered"
    logged = len(list_deliveries(db, key))
    for later in (LATER, LATER + timedelta(hours=1)):
        assert deliver(db, hook.id, later, channels=channels_for(environ=ENV)) == "delivered"
    assert len(receiver.wait_for(1, timeout=5)) == 1
    assert len(list_deliveries(db, key)) == logged
    assert deliver(db, 10**9, LATER) == "missing"


def test_a_delivery_cut_short_is_left_alone_until_its_lease_ends(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    key = new_ticket(hooks, agent, team="desk")
    hooks.take_transition(agent, key, "start")
    hooks.take_transition(agent, key, "finish")
    notify = rows(db, "notify")[0]
    with pytest.raises(Crash):
        deliver(db, notify.id, LATER, channels=channels_for(CrashingNotifier()))
    (notify,) = [r for r in rows(db, "notify") if r.id == notify.id]
    assert (notify.status, notify.attempts) == ("pending", 1)
    assert (notify.claimed_by or "").startswith("deliver@")
    # A second message for the same row (a redelivered task) does nothing meanwhile.
    notifier = RecordingNotifier()
    assert deliver(db, notify.id, LATER, channels=channels_for(notifier)) == "not_due"
    assert notify.id not in _claimable(db, LATER + DEFAULT_LEASE - timedelta(seconds=1))
    after = LATER + DEFAULT_LEASE
    dispatched: list[int] = []
    relay_once(db, dispatched.append, after)
    assert notify.id in dispatched
    assert deliver(db, notify.id, after, channels=channels_for(notifier)) == "delivered"
    assert [n.delivery_id for n in notifier.sent] == [notify.id]


def _claimable(db: Database, now: datetime) -> list[int]:
    with db.reading() as session:
        return list(
            session.scalars(
                select(Outbox.id).where(Outbox.done_at.is_(None), Outbox.next_attempt_at <= now)
            )
        )


def test_notifications_go_to_the_resolved_recipients_and_are_logged(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    make_user(db, "wang.fang@example.com", "agent", teams=("desk",))
    requester = make_user(db, "zhang.min@example.com", "requester")
    key = new_ticket(hooks, requester)
    hooks.assign(agent, key, team="desk")
    hooks.take_transition(agent, key, "start")
    hooks.take_transition(agent, key, "finish")
    notifier = RecordingNotifier()
    channels = channels_for(notifier, environ=ENV)
    while relay_once(db, lambda i: deliver(db, i, LATER, channels=channels), LATER):
        pass
    assert {row.status for row in rows(db)} == {"delivered"}

    told = {(n.topic, n.target): n for n in notifier.sent}
    assert told["notify", "requester"].recipients == ("zhang.min@example.com",)
    assert told["notify", "requester"].template == "resolved"
    assert told["notify", "team"].recipients == ("li.wei@example.com", "wang.fang@example.com")
    assert told["notify", "team"].ticket is not None
    assert told["notify", "team"].ticket["state"] == "done"
    # Ticket events reach the notifier too (it decides who hears of them).
    assert {"ticket.created", "ticket.assigned", "ticket.transitioned"} <= {
        n.topic for n in notifier.sent
    }
    log = list_deliveries(db, key)
    assert {(d.kind, d.target) for d in log} >= {
        ("notification", "zhang.min@example.com"),
        ("notification", "li.wei@example.com"),
        ("notification", "wang.fang@example.com"),
        ("notification", "subscribers"),
        ("webhook", f"{hooks.bundle.workflows['basic'].on_enter['new'][0].value['url']}"),
    }
    assert all(d.ticket_key == key and d.outcome == "delivered" for d in log)
    assert list_deliveries(db, "INC-999") == []


def test_a_failing_notifier_is_retried(db: Database, hooks: TicketService, agent: Actor) -> None:
    key = new_ticket(hooks, agent)
    created = rows(db, "ticket.created")[0]
    channels = channels_for(RecordingNotifier(failures=1))
    assert deliver(db, created.id, LATER, channels=channels) == "pending"
    retry = LATER + retry_delay(1)
    assert deliver(db, created.id, retry, channels=channels) == "delivered"
    assert [
        (d.outcome, d.error) for d in list_deliveries(db, key) if d.outbox_id == created.id
    ] == [
        ("failed", "ConnectionError: SMTP server said 421"),
        ("delivered", None),
    ]


def test_an_unknown_topic_is_skipped_with_a_note(db: Database) -> None:
    with db.transaction() as session:
        session.add(Outbox(topic="galaxy.exploded", payload={"ticket": "INC-1"}, created_at=NOW))
    (row,) = rows(db)
    assert deliver(db, row.id, LATER) == "skipped"
    (row,) = rows(db)
    assert row.status == "skipped" and row.done_at == LATER
    assert "no handler for topic 'galaxy.exploded'" in (row.last_error or "")
    assert relay_once(db, lambda _id: None, LATER) == 0


def test_a_webhook_without_a_secret_is_a_failed_attempt(
    db: Database, hooks: TicketService, agent: Actor, receiver: Receiver
) -> None:
    key = new_ticket(hooks, agent)
    (hook,) = rows(db, "webhook")
    assert deliver(db, hook.id, LATER, channels=channels_for(environ={})) == "pending"
    (logged,) = [d for d in list_deliveries(db, key) if d.kind == "webhook"]
    assert logged.outcome == "failed"
    assert logged.error == f"no webhook secret: set ${SECRET_ENV}"
    assert receiver.requests == []


def test_a_failed_dispatch_releases_the_rows_it_did_not_hand_over(
    db: Database, hooks: TicketService, agent: Actor
) -> None:
    new_ticket(hooks, agent)
    handed: list[int] = []

    def broker_down(outbox_id: int) -> None:
        if handed:
            raise ConnectionError("redis is down")
        handed.append(outbox_id)

    with pytest.raises(ConnectionError):
        relay_once(db, broker_down, LATER)
    # The row handed over stays leased; the other one is due again at once.
    assert _claimable(db, LATER) == [r.id for r in rows(db) if r.id not in handed]


def test_migrated_rows_count_in_the_pending_index(db: Database) -> None:
    with db.transaction() as session:
        session.add(Outbox(topic="notify", payload={}, created_at=NOW))
    with db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 0
        row = session.scalars(select(Outbox)).one()
        assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, NOW)
