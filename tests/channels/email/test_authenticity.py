"""Mail authenticity (issue 20, finding 8): a mailbox that names its receiving host
(`authentication: {authserv_id: …}`) takes a mail as its From address only when that
host's Authentication-Results say DMARC (or aligned SPF/DKIM) passed. A mail that
merely claims to be from a requester is held, or becomes a new ticket flagged
unverified: never a public comment in their name. A real SMTP client (smtplib) talks
to our listener on loopback."""

from __future__ import annotations

import email
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from gongdan.bundle.loader import load_bundle
from gongdan.channels.email.authenticity import aligned, verify_sender
from gongdan.channels.email.intake import MailIntake
from gongdan.channels.email.smtp_server import MailListener
from gongdan.engine.outbox.mail_log import list_mail
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.tickets.attachments import AttachmentStore
from tests.channels.email.conftest import MAILBOX, OUR_ADDRESS, mail_bundle_dir
from tests.channels.email.test_intake import mail, only_ticket, send
from tests.factories import actor
from tests.helpers import free_port

MX = "mx.gongdan.test"
SENDER = "zhang.san@customer.cn"
PASS = f"{MX}; dmarc=pass (p=reject) header.from=customer.cn; spf=pass smtp.mailfrom=customer.cn"
FAIL = f"{MX}; dmarc=fail (p=none) header.from=customer.cn; spf=softfail smtp.mailfrom=evil.test"


def listening(db: Database, tmp_path: Path, unverified: str) -> Iterator[tuple[TicketService, int]]:
    box = MAILBOX + f"authentication: {{authserv_id: {MX}, unverified: {unverified}}}\n"
    bundle = load_bundle(mail_bundle_dir(tmp_path / "config", {"mail/support.yaml": box}))
    service = TicketService(db, bundle, attachments=AttachmentStore(tmp_path / "files"))
    intake = MailIntake(db, lambda: bundle, service=lambda _b: service, our_address=OUR_ADDRESS)
    port = free_port()
    server = MailListener(intake, "127.0.0.1", port)
    server.start()
    try:
        yield service, port
    finally:
        server.stop()


@pytest.fixture
def held(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TicketService, int]]:
    monkeypatch.setenv("GONGDAN_DATA_DIR", str(tmp_path / "data"))
    yield from listening(db, tmp_path, "hold")


@pytest.fixture
def flagged(db: Database, tmp_path: Path) -> Iterator[tuple[TicketService, int]]:
    yield from listening(db, tmp_path, "new_ticket")


def with_results(message: EmailMessage, *fields: str) -> EmailMessage:
    """`message` with Authentication-Results fields, the first one topmost (as the
    last host to receive it would have prepended it)."""
    raw = b"".join(f"Authentication-Results: {f}\r\n".encode() for f in fields)
    return email.message_from_bytes(raw + message.as_bytes(), _class=EmailMessage)


def _ticket_of_the_requester(service: TicketService, port: int) -> str:
    assert send(port, with_results(mail(), PASS)) == {}
    return only_ticket(service, SENDER)


def test_a_reply_claiming_to_be_the_requester_is_held_not_a_comment(
    held: tuple[TicketService, int], db: Database
) -> None:
    service, port = held
    key = _ticket_of_the_requester(service, port)
    forged = mail(subject=f"Re: [{key}] Printer", body="Please send the invoice to my new IBAN.")
    assert send(port, forged) == {}  # accepted for review: no bounce to a forged address
    # A forger's own Authentication-Results below the trusted host's verdict, or from
    # another host, count for nothing.
    assert send(port, with_results(mail(subject=f"Re: [{key}] x", body="A"), FAIL, PASS)) == {}
    other_host = PASS.replace(MX, "mx.evil.test")
    assert send(port, with_results(mail(subject=f"Re: [{key}] x", body="B"), other_host)) == {}
    assert service.list_comments(actor(db, SENDER), key) == []
    held_mail = [m for m in list_mail(db) if m.status == "held"]
    assert len(held_mail) == 3
    assert all("sender not verified" in (m.reason or "") for m in held_mail)
    # Each is kept whole for review, where the log says.
    kept = [Path((m.reason or "").split(" in ", 1)[1].split(":", 1)[0]) for m in held_mail]
    assert any(b"new IBAN" in path.read_bytes() for path in kept)


def test_a_reply_the_receiving_host_authenticated_is_a_comment(
    held: tuple[TicketService, int], db: Database
) -> None:
    service, port = held
    key = _ticket_of_the_requester(service, port)
    reply = with_results(mail(subject=f"Re: [{key}] Printer", body="Works now."), PASS)
    assert send(port, reply) == {}
    comments = service.list_comments(actor(db, SENDER), key)
    assert [(c.author, c.body) for c in comments] == [(SENDER, "Works now.")]


def test_with_new_ticket_an_unverified_mail_is_a_ticket_flagged_unverified(
    flagged: tuple[TicketService, int], db: Database
) -> None:
    service, port = flagged
    key = _ticket_of_the_requester(service, port)
    assert send(port, mail(subject=f"Re: [{key}] Printer", body="Change my IBAN.")) == {}
    requester = actor(db, SENDER)
    assert service.list_comments(requester, key) == []
    tickets = service.list_tickets(requester).items
    [new] = [t for t in tickets if t.key != key]
    assert "unverified-sender" in new.tags
    assert new.description.startswith("[Unverified sender:")


@pytest.mark.parametrize(
    ("fields", "verified"),
    [
        ((PASS,), True),
        ((f"{MX.upper()}; dkim=pass header.d=customer.cn header.i=@customer.cn",), True),
        ((f"{MX}; dkim=pass header.d=mail.customer.cn",), False),  # a child signs: no
        ((f"{MX}; spf=pass smtp.mailfrom=bounce@mail.customer.cn",), True),
        ((f"{MX}; spf=pass smtp.mailfrom=evil.test; dkim=pass header.d=evil.test",), False),
        ((f"{MX}; dkim=pass header.d=cn",), False),  # a bare top-level domain
        ((f"{MX}; dmarc=pass header.from=other.cn",), False),
        ((f"{MX} 1; none",), False),
        (("garbage ;; = =", PASS), True),  # an unreadable field is skipped
        ((FAIL, PASS), False),  # only the topmost field of the trusted host counts
        ((), False),
    ],
)
def test_the_verdict_table(fields: tuple[str, ...], verified: bool) -> None:
    assert verify_sender(with_results(mail(), *fields), MX).verified is verified


def test_alignment_is_parent_or_same_domain() -> None:
    assert aligned("customer.cn", "customer.cn", child_ok=False)
    assert aligned("customer.cn", "mail.customer.cn", child_ok=False)
    assert not aligned("mail.customer.cn", "customer.cn", child_ok=False)
    assert aligned("mail.customer.cn", "customer.cn", child_ok=True)
    assert not aligned("notcustomer.cn", "customer.cn", child_ok=True)
