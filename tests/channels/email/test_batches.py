"""Mail in batches (issue 23), to a real SMTP server (aiosmtpd) on loopback: a batch of
notifications goes over one SMTP connection, and a worker killed in the middle of a
batch sends, once restarted, only the mails it had not sent, with the Message-IDs they
would have had (made from the outbox row's id: the same on every attempt)."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event, select

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier, message_id_for
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.outbox.relay import DEFAULT_LEASE, deliver_due
from gongdan.engine.service import TicketService, utc_now
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import Outbox, User
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, mail_bundle_dir
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


class Statements:
    """Counts the SELECTs and the mail log INSERTs sent to the database."""

    def __init__(self, db: Database) -> None:
        self.selects = self.logged = 0
        event.listen(db.engine, "before_cursor_execute", self._count)
        self.db = db

    def _count(self, _c: object, _cu: object, statement: str, *_: object) -> None:
        text = statement.lstrip().upper()
        self.selects += text.startswith("SELECT")
        self.logged += text.startswith("INSERT INTO MAIL_MESSAGES")

    def close(self) -> None:
        event.remove(self.db.engine, "before_cursor_execute", self._count)


def test_a_batch_of_mail_reads_the_same_few_statements_whatever_its_size(
    db: Database, mail_service: TicketService, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    counts = []
    for size in (2, 6):
        for n in range(size):
            who = make_user(db, f"size{size}.{n}@customer.cn", "requester")
            mail_service.create_ticket(
                who, "incident", title="Jam", fields={"category": "hardware"}
            )
        counter = Statements(db)
        try:
            outcomes = deliver_due(
                db, utc_now(), channels=channels_for(CountingNotifier(db, mail_bundle, port))
            )
        finally:
            counter.close()
        assert set(outcomes.values()) == {"delivered"} and len(outcomes) == size
        assert counter.logged == size  # each mail logged as soon as it is sent
        counts.append(counter.selects)
    assert len(received.messages) == 8
    # Three times the mails, not one statement more: before, ~25 a mail.
    assert counts[0] == counts[1] <= 14


def test_a_mail_that_cannot_be_composed_fails_only_its_own_row(
    db: Database, tmp_path: Path, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    failing = (
        'kind: Template\nsubject: {en: "Got it"}\n'
        "body: {en: \"{{ 1 // (0 if ticket.title == 'boom' else 1) }}\"}\n"
    )
    bundle = load_bundle(mail_bundle_dir(tmp_path, {"templates/created.yaml": failing}))
    service = TicketService(db, bundle)
    for n, title in enumerate(("fine", "boom", "also fine")):
        who = make_user(db, f"r{n}@customer.cn", "requester")
        service.create_ticket(who, "incident", title=title, fields={"category": "hardware"})

    outcomes = deliver_due(db, utc_now(), channels=channels_for(CountingNotifier(db, bundle, port)))

    with db.reading() as session:
        rows = {r.id: r for r in session.scalars(select(Outbox))}
    failed = [i for i, outcome in outcomes.items() if outcome != "delivered"]
    assert len(failed) == 1 and outcomes[failed[0]] == "pending"
    assert "ZeroDivisionError" in (rows[failed[0]].last_error or "")
    assert sorted(str(m["To"]) for m in received.messages) == [
        "r0 <r0@customer.cn>",
        "r2 <r2@customer.cn>",
    ]


def test_one_batch_mails_each_recipient_in_their_own_language(
    db: Database, mail_service: TicketService, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> None:
    received, port = inbox
    for address, language in (("wang@customer.cn", "zh-CN"), ("smith@customer.cn", "en")):
        who = make_user(db, address, "requester")
        with db.transaction() as session:
            user = session.scalar(select(User).where(User.email == address))
            assert user is not None
            user.language = language
        mail_service.create_ticket(
            who, "incident", title="打印机卡纸", fields={"category": "hardware"}
        )

    deliver_due(db, utc_now(), channels=channels_for(CountingNotifier(db, mail_bundle, port)))

    subjects = {
        str(m["To"]).split("<")[-1].rstrip(">"): str(m["Subject"]) for m in received.messages
    }
    assert subjects["wang@customer.cn"].endswith("已收到：打印机卡纸")
    assert subjects["smith@customer.cn"].endswith("We got it: 打印机卡纸")
    assert {m["Content-Language"] for m in received.messages} == {"zh-CN", "en"}
