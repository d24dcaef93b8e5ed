"""Followers, CCs and notification preferences in real mail (issue 21): through the
outbox and the task runner to a real SMTP server on loopback. A follower hears of an
internal note; a CC hears of public replies only; a muted kind of news sends nothing;
mail intake copies in the Cc'd people of a new mail when its mailbox says so."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.email.intake import MailIntake
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.channels.email.conftest import (
    MAILBOX,
    OUR_ADDRESS,
    SUPPORT,
    Inbox,
    drain,
    mail_bundle_dir,
)
from tests.factories import actor, make_user

REQUESTER = "chen.jing@customer.cn"
COLLEAGUE = "zhou.min@customer.cn"
AGENT = "li.wei@example.com"
FOLLOWER = "chen.jie@example.com"
FOLLOWER_UPDATE = """\
kind: Template
subject: {en: "Followed: {{ ticket.title }}", zh-CN: "关注：{{ ticket.title }}"}
body:
  en: "{% if comment %}{{ comment.author }}{% if not comment.public %} (internal){% endif %}: {{ comment.body }}{% endif %}"
  zh-CN: "{% if comment %}{{ comment.body }}{% endif %}"
"""


@pytest.fixture
def bundle(tmp_path: Path) -> Bundle:
    return load_bundle(
        mail_bundle_dir(
            tmp_path,
            {
                "templates/follower_update.yaml": FOLLOWER_UPDATE,
                "mail/support.yaml": MAILBOX + "add_cc: true\n",
            },
        )
    )


@pytest.fixture
def runner(db: Database, bundle: Bundle, inbox: tuple[Inbox, int]) -> Iterator[InProcessRunner]:
    _, port = inbox
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(
        db, lambda: bundle, settings, environ={"GONGDAN_BASE_URL": "https://d.test"}
    )
    yield InProcessRunner(db, lambda: bundle, channels=channels_for(notifier), jobs=[])


def _body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def test_followers_ccs_and_muted_news(
    db: Database, bundle: Bundle, runner: InProcessRunner, inbox: tuple[Inbox, int]
) -> None:
    received, _ = inbox
    service = TicketService(db, bundle)
    requester = make_user(db, REQUESTER, "requester")
    agent = make_user(db, AGENT, "agent", teams=("desk",))
    follower = make_user(db, FOLLOWER, "agent", teams=("desk",))
    key = service.create_ticket(
        requester, "incident", title="VPN drops", description="Every hour.",
        fields={"category": "software"},
    ).ticket.key  # fmt: skip
    service.assign(agent, key, assignee=AGENT)
    assert service.follow(follower, key)
    assert service.copy_in(requester, key, COLLEAGUE)
    drain(runner)
    received.clear()

    service.add_comment(agent, key, "Known issue KB-12, do not tell yet.", public=False)
    drain(runner)
    (note,) = received.to(FOLLOWER)
    assert "(internal): Known issue KB-12" in _body(note)
    assert received.to(COLLEAGUE) == [] and received.to(REQUESTER) == []
    received.clear()

    service.add_comment(agent, key, "Please reinstall the client.")
    drain(runner)
    assert "Please reinstall the client." in _body(received.to(COLLEAGUE)[0])
    assert received.to(REQUESTER) and received.to(FOLLOWER)
    assert received.to(AGENT) == []  # nobody hears of their own comment
    received.clear()

    colleague = actor(db, COLLEAGUE)
    service.accounts.set_notification_preferences(colleague, mail=True, muted=["reply"])
    service.accounts.set_notification_preferences(follower, mail=False, muted=[])
    service.add_comment(agent, key, "Any better?")
    drain(runner)
    assert received.to(COLLEAGUE) == [] and received.to(FOLLOWER) == []
    assert received.to(REQUESTER)


def _mail(cc: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Chen Jing <{REQUESTER}>"
    message["To"] = SUPPORT
    message["Cc"] = cc
    message["Subject"] = "Printer jammed"
    message.set_content("Error E-42.")
    return bytes(message)


def test_mail_intake_copies_in_the_cc_of_a_new_mail(db: Database, bundle: Bundle) -> None:
    service = TicketService(db, bundle)
    intake = MailIntake(db, lambda: bundle, service=lambda b: service, our_address=OUR_ADDRESS)
    result = intake.receive(_mail(f"Zhou Min <{COLLEAGUE}>, {SUPPORT}"), [SUPPORT], REQUESTER)
    assert result.status == "accepted", result
    key = result.ticket_key
    assert key is not None
    colleague = actor(db, COLLEAGUE)
    assert service.get_ticket(colleague, key).title == "Printer jammed"
    assert [e for e, _ in service.list_followers(colleague, key)["cc"]] == [COLLEAGUE]


def test_a_mailbox_without_add_cc_copies_nobody_in(
    db: Database, mail_bundle: Bundle, mail_service: TicketService
) -> None:
    intake = MailIntake(
        db, lambda: mail_bundle, service=lambda b: mail_service, our_address=OUR_ADDRESS
    )
    result = intake.receive(_mail(COLLEAGUE), [SUPPORT], REQUESTER)
    assert result.status == "accepted"
    requester = actor(db, REQUESTER)
    assert mail_service.list_followers(requester, str(result.ticket_key))["cc"] == []
