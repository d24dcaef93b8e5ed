"""Satisfaction surveys: the `survey: csat` action's delivery creates one survey for
the requester (retries do not add another), and the requester answers it once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from gongdan.channels import channels_for
from gongdan.engine.outbox.delivery import Notification
from gongdan.engine.outbox.relay import deliver, relay_once
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox, Survey
from gongdan.engine.tickets.surveys import check_rating
from gongdan.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor
from tests.factories import incident, make_user


def later() -> datetime:
    """The service runs on the real clock: deliver a little after its rows were written."""
    return datetime.now(UTC) + timedelta(minutes=5)


class Recorder:
    """A notifier that keeps what it was sent; fails the first `failures` surveys."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Notification] = []
        self.failures = failures

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)
        if self.failures and notification.topic == "survey":
            self.failures -= 1
            raise ConnectionError("mail server down")


def closed_incident(service: TicketService, requester: Actor, agent: Actor) -> str:
    """An incident resolved by `agent` and closed by its requester (fires `survey: csat`)."""
    key = incident(service, requester).ticket.key
    service.assign(agent, key, team="service_desk", assignee=agent.email)
    service.take_transition(
        agent, key, "resolve", fields={"resolution_code": "fixed"}, comment="Reinstalled."
    )
    service.take_transition(requester, key, "close")
    return key


def deliver_all(db: Database, notifier: Recorder, now: datetime | None = None) -> int:
    now = now or later()
    channels = channels_for(notifier)
    return relay_once(db, lambda i: deliver(db, i, now, channels=channels), now)


def surveys(db: Database) -> list[Survey]:
    with db.reading() as session:
        return list(session.scalars(select(Survey).order_by(Survey.id)))


def test_delivery_creates_one_survey_for_the_requester(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = closed_incident(service, requester, agent)
    assert surveys(db) == []  # nothing until the outbox row is delivered
    notifier = Recorder()
    deliver_all(db, notifier)
    [survey] = surveys(db)
    assert survey.requester_id == requester.user_id and survey.kind == "csat"
    assert survey.rating is None and survey.answered_at is None
    [sent] = [n for n in notifier.sent if n.topic == "survey"]
    assert sent.recipients == ("zhang.san@example.com",)
    assert sent.payload["survey"] == survey.id
    assert sent.payload["answer_path"] == f"/portal/tickets/{key}#survey"
    [record] = service.list_surveys(requester, key)
    assert record.pending and record.ticket_key == key


def test_a_retried_delivery_does_not_duplicate_the_survey(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    closed_incident(service, requester, agent)
    notifier = Recorder(failures=1)
    deliver_all(db, notifier)
    with db.reading() as session:
        row = session.scalar(select(Outbox).where(Outbox.topic == "survey"))
        assert row is not None and row.status == "pending" and row.attempts == 1
        retry_at = row.next_attempt_at
    deliver_all(db, notifier, retry_at)
    with db.reading() as session:
        row = session.scalar(select(Outbox).where(Outbox.topic == "survey"))
        assert row is not None and row.status == "delivered" and row.attempts == 2
    [survey] = surveys(db)
    tries = [n for n in notifier.sent if n.topic == "survey"]
    assert len(tries) == 2 and {n.payload["survey"] for n in tries} == {survey.id}
    # Delivering the same row again (a second worker, a replay) changes nothing either.
    with db.reading() as session:
        survey_row = session.scalar(select(Outbox.id).where(Outbox.topic == "survey"))
    deliver(db, survey_row, retry_at + timedelta(hours=1), channels=channels_for(notifier))
    assert len(surveys(db)) == 1


def test_each_firing_asks_again(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = closed_incident(service, requester, agent)
    deliver_all(db, Recorder())
    second = incident(service, requester).ticket.key
    closed_incident(service, requester, agent)
    deliver_all(db, Recorder(), later() + timedelta(hours=1))
    with db.reading() as session:
        per_ticket = dict(
            session.execute(select(Survey.ticket_id, func.count()).group_by(Survey.ticket_id)).all()
        )
    assert sorted(per_ticket.values()) == [1, 1]
    assert len(service.list_surveys(requester, key)) == 1
    assert service.list_surveys(requester, second) == []


def test_the_requester_answers_once(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = closed_incident(service, requester, agent)
    deliver_all(db, Recorder())
    answered = service.answer_survey(requester, key, "5", "  Quick and friendly.  ")
    assert answered.rating == 5 and answered.comment == "Quick and friendly."
    assert answered.answered_at is not None and not answered.pending
    [event] = [e for e in service.list_events(requester, key) if e.kind == "survey.answered"]
    assert event.actor == requester.email
    assert dict(event.after) == {"rating": 5, "comment": "Quick and friendly."}
    with pytest.raises(Conflict, match="already answered"):
        service.answer_survey(requester, key, 1)
    [stored] = surveys(db)
    assert stored.rating == 5  # the first answer stands


@pytest.mark.parametrize("rating", [0, 6, "", None, "3.5", "five", True, -1, "٣"])
def test_an_invalid_rating_is_refused_and_nothing_is_written(
    db: Database, service: TicketService, requester: Actor, agent: Actor, rating: object
) -> None:
    key = closed_incident(service, requester, agent)
    deliver_all(db, Recorder())
    with pytest.raises(ValidationFailed) as caught:
        service.answer_survey(requester, key, rating, "ok")
    assert caught.value.fields == {"rating": "choose a rating from 1 to 5"}
    [survey] = surveys(db)
    assert survey.answered_at is None
    assert not [e for e in service.list_events(requester, key) if e.kind == "survey.answered"]


def test_a_too_long_comment_is_refused(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = closed_incident(service, requester, agent)
    deliver_all(db, Recorder())
    with pytest.raises(ValidationFailed) as caught:
        service.answer_survey(requester, key, 4, "x" * 5001)
    assert set(caught.value.fields) == {"comment"}


def test_only_the_requester_answers(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = closed_incident(service, requester, agent)
    deliver_all(db, Recorder())
    stranger = make_user(db, "wang.wu@example.com", "requester")
    with pytest.raises(NotFound):  # they may not even know the ticket exists
        service.answer_survey(stranger, key, 5)
    with pytest.raises(PermissionDenied):
        service.answer_survey(agent, key, 5)
    assert surveys(db)[0].answered_at is None


def test_no_survey_yet(
    db: Database, service: TicketService, requester: Actor, agent: Actor
) -> None:
    key = incident(service, requester).ticket.key
    with pytest.raises(NotFound, match="no survey"):
        service.answer_survey(requester, key, 5)


@pytest.mark.parametrize(("value", "rating"), [(1, 1), ("5", 5), (" 3 ", 3)])
def test_ratings_from_forms_and_json(value: object, rating: int) -> None:
    assert check_rating(value) == rating
