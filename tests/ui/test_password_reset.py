"""Setting a password by e-mail link, end to end: the forgot page, the outbox delivered
by the in-process runner through `SmtpNotifier` to a real SMTP server (aiosmtpd on
loopback), the link in the mail, the new password, signing in with it. Plus: unknown
addresses get the same answer and no mail; used, replaced and tampered links are
refused; CSRF; sign-up with an address that has an account without a password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update

from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.store.models import Outbox, PasswordReset
from gongdan.ui.app import ACCOUNT_REQUESTS
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, drain, inbox  # noqa: F401 - fixture
from tests.ui.conftest import Client, Web, page_token

NEW = "my brand new password"
LINK = re.compile(r"https://help\.test/password/reset\?token=[A-Za-z0-9_%-]+")


@pytest.fixture
def mailer(web: Web, inbox: tuple[Inbox, int]) -> Iterator[InProcessRunner]:  # noqa: F811
    """The in-process outbox runner of the web app's database, mailing to `inbox`."""
    _, port = inbox
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(
        web.db,
        lambda: web.service.bundle,
        settings,
        environ={"GONGDAN_BASE_URL": "https://help.test"},
    )
    yield InProcessRunner(
        web.db, lambda: web.service.bundle, channels=channels_for(notifier), jobs=[]
    )


def _ask(client: Client, email: str) -> str:
    client.refresh_csrf("/password/forgot")
    response = client.send_form("/password/forgot", {"email": email})
    assert response.status_code == 200, response.text
    return response.text


def _link(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    found = LINK.search(body.get_content())
    assert found, body.get_content()
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}"


def _set_password(client: Client, link: str, password: str = NEW, confirm: str | None = None):  # type: ignore[no-untyped-def]
    page = client.get(link)
    assert page.status_code == 200, page.text
    # The token is in the URL: never sent on as a Referer, never cached.
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    client.csrf = page_token(page.text)
    data = {"token": token.group(1), "password": password, "confirm": confirm or password}
    return client.send_form("/password/reset", data)


def _signs_in(web: Web, email: str, password: str) -> bool:
    client = Client(web.app, follow_redirects=False)
    client.refresh_csrf("/login")
    return client.send_form("/login", {"email": email, "password": password}).status_code == 303


def test_the_mailed_link_sets_the_password_then_sign_in_works(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("mail.only@example.com", "requester")  # has a password in `web.user`; drop it:
    with web.db.transaction() as session:
        from gongdan.engine.store.models import User

        session.execute(update(User).values(password_hash=None, language="zh-CN"))
    client = Client(web.app, follow_redirects=False)
    login = client.get("/login")
    assert 'href="/password/forgot"' in login.text
    answer = _ask(client, "Mail.Only@example.com")
    assert "mail.only@example.com" in answer.lower()
    drain(mailer)
    [message] = received.to("mail.only@example.com")
    assert message["Content-Language"] == "zh-CN"
    assert "设置您的密码" in str(message["Subject"])
    assert message["Auto-Submitted"] == "auto-generated"
    link = _link(message)
    with web.db.reading() as session:  # the token left the outbox with the mail
        row = session.scalars(select(Outbox).where(Outbox.topic == "password.reset")).one()
        assert row.status == "delivered" and "token" not in row.payload

    done = _set_password(client, link)
    assert done.status_code == 303 and done.headers["location"] == "/portal"
    assert client.get("/portal").status_code == 200  # signed in
    assert _signs_in(web, "mail.only@example.com", NEW)

    again = client.get(link)  # used: refused, with a way to ask again
    assert again.status_code == 400 and 'href="/password/forgot"' in again.text


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("ann@example.com", "requester")
    client = Client(web.app, follow_redirects=False)
    known = _ask(client, "ann@example.com").replace("ann@example.com", "X")
    unknown = _ask(client, "nobody@example.com").replace("nobody@example.com", "X")
    strip = re.compile(r'(csrf_token" value="|"X-CSRF-Token": ")[^"]+')
    assert strip.sub("", known) == strip.sub("", unknown)
    drain(mailer)
    assert [str(m["To"]) for m in received.messages] == ["ann <ann@example.com>"]


def test_english_mail_for_an_english_account(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("ann@example.com", "requester")
    _ask(Client(web.app, follow_redirects=False), "ann@example.com")
    drain(mailer)
    [message] = received.to("ann@example.com")
    assert message["Subject"] == "Reset your password"
    assert "works once and for 60 minutes" in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def test_replaced_expired_and_tampered_links_are_refused(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("ann@example.com", "requester")
    client = Client(web.app, follow_redirects=False)
    _ask(client, "ann@example.com")
    drain(mailer)
    first = _link(received.to("ann@example.com")[0])
    with web.db.transaction() as session:  # as if the first was sent two minutes ago
        for row in session.scalars(select(PasswordReset)):
            row.created_at -= timedelta(minutes=2)
    _ask(client, "ann@example.com")
    drain(mailer)
    second = _link(received.to("ann@example.com")[1])
    assert first != second
    assert client.get(first).status_code == 400  # replaced by the newer link
    assert client.get(second[:-2]).status_code == 400  # tampered
    assert client.get("/password/reset").status_code == 400  # no token at all

    client.csrf = page_token(client.get(second).text)
    forged = client.send_form(
        "/password/reset", {"token": "forged", "password": NEW, "confirm": NEW}
    )
    assert forged.status_code == 400 and "password/forgot" in forged.text

    with web.db.transaction() as session:  # expired
        for row in session.scalars(select(PasswordReset)):
            row.expires_at = row.created_at
    assert client.get(second).status_code == 400
    assert not _signs_in(web, "ann@example.com", NEW)


def test_a_short_or_mistyped_password_is_shown_next_to_the_field(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("ann@example.com", "requester")
    client = Client(web.app, follow_redirects=False)
    _ask(client, "ann@example.com")
    drain(mailer)
    link = _link(received.to("ann@example.com")[0])
    short = _set_password(client, link, "short")
    assert short.status_code == 422 and 'id="reset-password-error"' in short.text
    assert "at least 10 characters" in short.text
    mistyped = _set_password(client, link, NEW, NEW + "!")
    assert mistyped.status_code == 422 and "are not the same" in mistyped.text
    assert _set_password(client, link).status_code == 303  # the link still works


def test_posts_without_the_csrf_token_are_refused(web: Web, mailer: InProcessRunner) -> None:
    web.user("ann@example.com", "requester")
    client = Client(web.app, follow_redirects=False)
    client.get("/password/forgot")
    refused = client.post("/password/forgot", data={"email": "ann@example.com"})
    assert refused.status_code == 403
    assert client.post("/password/reset", data={"token": "x", "password": NEW}).status_code == 403
    assert mailer.run_pending() == 0  # nothing was queued


def test_the_pages_are_bilingual(web: Web) -> None:
    client = Client(web.app, follow_redirects=False, headers={"Accept-Language": "zh-CN"})
    assert "忘记密码" in client.get("/password/forgot").text
    assert "此链接无效" in client.get("/password/reset?token=nothing").text
    assert "忘记密码？" in client.get("/login").text


def test_an_empty_address_is_asked_for_again(web: Web) -> None:
    client = Client(web.app, follow_redirects=False)
    client.refresh_csrf("/password/forgot")
    response = client.send_form("/password/forgot", {"email": "  "})
    assert response.status_code == 422 and "Enter your email address." in response.text


def test_sign_up_with_a_registered_address_answers_alike_and_mails_its_owner(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("intake@example.com", "requester")
    web.user("has.password@example.com", "requester")
    with web.db.transaction() as session:
        from gongdan.engine.store.models import User

        session.execute(
            update(User).where(User.email == "intake@example.com").values(password_hash=None)
        )
    client = Client(web.app, follow_redirects=False)
    client.refresh_csrf("/portal/signup")
    form = {"name": "In Take", "email": "intake@example.com", "password": NEW}
    offered = client.send_form("/portal/signup", form)
    taken = client.send_form("/portal/signup", {**form, "email": "has.password@example.com"})
    fresh = client.send_form("/portal/signup", {**form, "email": "new.one@example.com"})
    # The same answer whether or not an account has the address (issue 20): only the
    # owner's mailbox learns of it.
    for answer, address in ((offered, "intake"), (taken, "has.password"), (fresh, "new.one")):
        assert answer.status_code == 200, answer.text
        assert "already registered" not in answer.text
        page = answer.text.replace(f"{address}@example.com", "ADDRESS")
        assert page == fresh.text.replace("new.one@example.com", "ADDRESS")
    drain(mailer)
    assert sorted(parseaddr(str(m["To"]))[1] for m in received.messages) == [
        "has.password@example.com",  # a set-password link: nothing anyone else can use
        "intake@example.com",
        "new.one@example.com",  # the link that makes the account
    ]
    received.messages[:] = [m for m in received.messages if "intake@" in str(m["To"])]
    assert _set_password(client, _link(received.messages[0])).status_code == 303
    assert _signs_in(web, "intake@example.com", NEW)


def test_password_mails_asked_from_one_address_are_limited(web: Web) -> None:
    client = web.client()
    for n in range(ACCOUNT_REQUESTS):
        _ask(client, f"someone{n}@example.com")
    client.refresh_csrf("/password/forgot")
    refused = client.send_form("/password/forgot", {"email": "one.more@example.com"})
    assert refused.status_code == 429 and "Too many requests" in refused.text
    assert 0 < int(refused.headers["Retry-After"]) <= 600
    assert "one.more@example.com" not in refused.text  # not the "mail sent" page
