"""Issue 20, finding 2: the owner of an account locked by wrong passwords gets a mail
(through the outbox, delivered by the in-process runner and `SmtpNotifier` to a real
SMTP server on loopback), in their language, saying for how long and from where; an
address nobody has gets no mail and the same answers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import update

from gongdan.channels import channels_for
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.store.models import User
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, drain, inbox  # noqa: F401 - fixture
from tests.ui.conftest import Web


@pytest.fixture
def mailer(web: Web, inbox: tuple[Inbox, int]) -> Iterator[InProcessRunner]:  # noqa: F811
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


def test_the_owner_of_a_locked_account_is_told_by_mail_in_their_language(
    web: Web,
    mailer: InProcessRunner,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    received, _ = inbox
    web.user("wang.fang@example.com")
    with web.db.transaction() as session:
        session.execute(
            update(User).where(User.email == "wang.fang@example.com").values(language="zh-CN")
        )
    client = web.client()
    answers = []
    for email in ("wang.fang@example.com", "nobody@example.com"):
        for n in range(6):
            client.refresh_csrf("/login")
            answer = client.send_form("/login", {"email": email, "password": f"guess {n}"})
            answers.append(answer.status_code)
    assert answers == ([401] * 5 + [429]) * 2
    drain(mailer)
    assert [m["To"].addresses[0].addr_spec for m in received.messages] == ["wang.fang@example.com"]
    mail = received.messages[0]
    assert mail["Subject"] == "您的账户已暂停登录"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "15 分钟" in text and "testclient" in text
    assert "https://help.test/password/forgot?email=wang.fang@example.com" in text
