"""Self sign-up takes effect only when the link mailed to the address is followed
(issue 20, finding 11): until then nobody can sign in as that address and mail
intake finds no account of it, so signing up first as someone else owns nothing.
End to end: the portal's form, the outbox delivered by SMTP (aiosmtpd on loopback),
the link in the mail, the confirm page."""

from __future__ import annotations

import re
from email.message import EmailMessage
from urllib.parse import urlsplit

from sqlalchemy import select

from gongdan.channels.email.intake import MailIntake
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.store.models import EmailVerification, Outbox, User
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, drain, inbox  # noqa: F401 - fixture
from tests.ui.conftest import Client, Web, page_token
from tests.ui.test_password_reset import _signs_in, mailer  # noqa: F401 - fixture

PASSWORD = "a long enough password"  # noqa: S105 - a test account
LINK = re.compile(r"https://help\.test/portal/signup/verify\?token=[A-Za-z0-9_%-]+")


def _sign_up(web: Web, email: str, name: str = "Chen Jing") -> Client:
    client = web.client()
    client.refresh_csrf("/portal/signup")
    answer = client.send_form(
        "/portal/signup", {"email": email, "name": name, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    assert "Check your mail" in answer.text and email.lower() in answer.text
    return client


def _link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}"


def test_a_sign_up_is_an_account_only_after_the_mailed_link_is_followed(
    web: Web,
    mailer: InProcessRunner,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    client = _sign_up(web, "Chen.Jing@Example.com")
    assert client.get("/portal").status_code in (302, 303)  # not signed in
    assert not _signs_in(web, "chen.jing@example.com", PASSWORD)
    with web.db.reading() as session:
        assert session.scalar(select(User).where(User.email == "chen.jing@example.com")) is None
        pending = session.scalars(select(EmailVerification)).one()
        assert PASSWORD not in (pending.password_hash or "")  # only its argon2 hash
    drain(mailer)
    [message] = received.to("chen.jing@example.com")
    assert "Confirm your email address" in str(message["Subject"])
    link = _link(message)
    with web.db.reading() as session:  # the token left the outbox with the mail
        row = session.scalars(select(Outbox).where(Outbox.topic == "account.verify")).one()
        assert row.status == "delivered" and "token" not in row.payload

    page = client.get(link)  # a GET spends nothing (mail scanners follow links)
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert client.get(link).status_code == 200
    client.csrf = page_token(page.text)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    done = client.send_form("/portal/signup/verify", {"token": token.group(1)})
    assert done.status_code == 303 and done.headers["location"] == "/portal?welcome=1"
    assert "Chen Jing" in client.get("/portal?welcome=1").text
    assert _signs_in(web, "chen.jing@example.com", PASSWORD)
    client.refresh_csrf("/portal")
    again = client.send_form("/portal/signup/verify", {"token": token.group(1)})
    assert again.status_code == 400  # once only


def test_signing_up_first_as_someone_else_owns_nothing_they_file_by_mail(
    web: Web,
    mailer: InProcessRunner,  # noqa: F811
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    """The attack of the finding: sign up as victim@… before the victim ever writes in,
    then wait for their mail to become "your" ticket."""
    received, _ = inbox
    _sign_up(web, "victim@example.com", name="Not the victim")  # never verified
    intake = MailIntake(
        web.db, lambda: web.service.bundle, service=lambda _b: web.service,
        our_address=OUR_ADDRESS,
    )  # fmt: skip
    raw = (
        b"From: Victim <victim@example.com>\r\nTo: it-support@example.com\r\n"
        b"Subject: My salary slip is wrong\r\nMessage-ID: <v1@example.com>\r\n\r\nPlease fix.\r\n"
    )
    result = intake.receive(raw, ["it-support@example.com"], "victim@example.com")
    assert result.status == "accepted", result
    # The mail made a passwordless requester: the would-be owner cannot sign in as it.
    assert not _signs_in(web, "victim@example.com", PASSWORD)
    with web.db.reading() as session:
        victim = session.scalar(select(User).where(User.email == "victim@example.com"))
        assert victim is not None and victim.password_hash is None
        assert victim.name != "Not the victim"
    # Only the owner of the mailbox gets the link; following it makes the account theirs.
    drain(mailer)
    assert len(received.to("victim@example.com")) >= 1
