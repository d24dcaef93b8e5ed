"""Mail in batches (issue 23), to a real SMTP server (aiosmtpd) on loopback: a batch of
notifications goes over one SMTP connection, and a worker killed in the middle of a
batch sends, once restarted, only the mails it had not sent, with the Message-IDs they
would have had (made from the outbox row's id: the same on every attempt)."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from sqlalchemy import select

from gongdan.bundle.compiled import Bundle
from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier, message_id_for
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.outbox.relay import DEFAULT_LEASE, deliver_due
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox
from tests.channels.email.conftest import OUR_ADDRESS, Inbox
from tests.factories import make_user

REQUESTERS = [f"requester{n}@customer.cn" for n in range(5)]


class Killed(BaseException):
    """Stands for the worker process dying (SIGKILL) between two mails."""


class CountingNotifier(SmtpNotifier):
    """An `SmtpNotifier` that counts its SMTP connections and can die after the
    `die_after`-th mail it sent."""

    def __init__(self, db: Database, bundle: Bundle, port: int, die_after: int = 0) -> None:
        settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
        super().__init__(db, lambda: bundle, settings, environ={})
        self.connections, self.mails, self.die_after = 0, 0, die_after

    def _connect(self) -> smtplib.SMTP:
        self.connections += 1
        return super()._connect()

    def _send_over(self, client: smtplib.SMTP, key: str | None, messages: list) -> None:  # type: ignore[type-arg]
        for message in messages:
            if self.die_after and self.mails == self.die_after:
                raise Killed
            super()._send_over(client, key, [message])
            self.mails += 1


def created(db: Database, mail_service: TicketService) -> list[int]:
    """One ticket per requester; the ids of their `ticket.created` rows."""
    for address in REQUESTERS:
        who = make_user(db, address, "requester")
        mail_service.create_ticket(
            who, "incident", title=f"Printer of {address} jams", fields={"category": "hardware"}
        )
    with db.reading() as session:
        return list(
            session.scalars(
                select(Outbox.id).where(Outbox.topic == "ticket.created").order_by(Outbox.id)
            )
        )


def test_a_batch_of_mail_goes_over_one_smtp_connection(
    db: Database, mail_service: TicketService, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    ids = created(db, mail_service)
    notifier = CountingNotifier(db, mail_bundle, port)

    outcomes = deliver_due(db, utc_now(), channels=channels_for(notifier))

    assert {outcomes[i] for i in ids} == {"delivered"}
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in received.messages) == REQUESTERS
    assert notifier.connections == 1


def test_a_worker_killed_mid_batch_sends_only_the_mails_not_sent_with_the_same_ids(
    db: Database, mail_service: TicketService, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    ids = created(db, mail_service)
    now = utc_now()
    dying = CountingNotifier(db, mail_bundle, port, die_after=2)
    try:
        deliver_due(db, now, channels=channels_for(dying))
    except Killed:
        pass
    else:
        raise AssertionError("the notifier should have died")
    first = [str(m["Message-ID"]) for m in received.messages]
    assert len(first) == 2

    restarted = CountingNotifier(db, mail_bundle, port)
    deliver_due(db, now + DEFAULT_LEASE, channels=channels_for(restarted))

    with db.reading() as session:
        statuses = session.scalars(select(Outbox.status).where(Outbox.id.in_(ids)))
        assert set(statuses) == {"delivered"}
    sent = [str(m["Message-ID"]) for m in received.messages]
    assert len(sent) == len(REQUESTERS) == len(set(sent))  # none sent twice
    assert sent[:2] == first
    # Each mail's id is the one its outbox row gives it, whichever attempt sent it.
    expected = {
        message_id_for(i, address, OUR_ADDRESS) for i, address in zip(ids, REQUESTERS, strict=True)
    }
    assert set(sent) == expected
    assert restarted.mails == len(REQUESTERS) - 2


def test_a_batch_reconnects_after_the_server_drops_it(
    db: Database, mail_service: TicketService, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    ids = created(db, mail_service)
    notifier = CountingNotifier(db, mail_bundle, port)
    drops = {"left": 1}
    original = notifier._send_over

    def flaky(client: smtplib.SMTP, key: str | None, messages: list) -> None:  # type: ignore[type-arg]
        if notifier.mails == 2 and drops["left"]:
            drops["left"] -= 1
            client.close()  # the server hung up between two mails
        original(client, key, messages)

    notifier._send_over = flaky  # type: ignore[method-assign]
    now = utc_now()
    first = deliver_due(db, now, channels=channels_for(notifier))
    assert sorted(first.values()).count("pending") == 1  # that one mail, retried later
    retry = next(i for i, outcome in first.items() if outcome == "pending")
    later = deliver_due(db, now + timedelta(minutes=1), channels=channels_for(notifier))
    assert later == {retry: "delivered"}
    assert len(received.messages) == len(ids)
    assert notifier.connections == 3  # the batch's, its reconnection, the retry's
