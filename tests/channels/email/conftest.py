"""Fixtures for the mail channel: a config bundle with templates and a mailbox, a real
SMTP server on loopback that keeps what it receives (aiosmtpd), and our own SMTP
listener (`MailListener`) on a free port."""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.loader import load_bundle
from gongdan.channels import channels_for
from gongdan.channels.email.intake import MailIntake
from gongdan.channels.email.notifier import SmtpNotifier
from gongdan.channels.email.settings import SmtpSettings
from gongdan.channels.email.smtp_server import MailListener
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from tests.bundles import MINIMAL, make_bundle
from tests.helpers import free_port

OUR_ADDRESS = "desk@gongdan.test"
SUPPORT = "support@example.com"

TICKET_TYPE = """\
kind: TicketType
id: incident
name: {en: Incident, zh-CN: 故障}
key_prefix: INC
workflow: basic
portal: true
fields:
  - id: category
    type: select
    label: {en: Category, zh-CN: 类别}
    options: [hardware, software]
    required: true
  - id: approver
    type: user
  - id: amount
    type: number
  - id: root_cause
    type: textarea
    label: {en: Root cause, zh-CN: 根本原因}
    internal: true
  - id: files
    type: attachment
    multiple: true
    max_size_mb: 1
forms:
  create: [title, description, category, files]
  agent: [priority, category, root_cause]
"""

# Each template shows every field and the comment it is given: if anything internal
# reached a requester's context, it would be in their mail.
EVERYTHING = (
    "{{ ticket.key }} {{ ticket.title }} ({{ ticket.state_label }})\\n"
    "{% for name, value in ticket.fields.items() %}{{ name }}={{ value }}\\n{% endfor %}"
    "{% if comment %}{{ comment.author }}: {{ comment.body }}\\n{% endif %}"
)


def _template(subject_en: str, subject_zh: str, lead_en: str, lead_zh: str) -> str:
    return (
        "kind: Template\n"
        f'subject: {{en: "{subject_en}", zh-CN: "{subject_zh}"}}\n'
        f'body: {{en: "{lead_en}\\n{EVERYTHING}", zh-CN: "{lead_zh}\\n{EVERYTHING}"}}\n'
    )


TEMPLATES = {
    "created": _template(
        "We got it: {{ ticket.title }}",
        "已收到：{{ ticket.title }}",
        "Thank you.",
        "感谢您的联系。",
    ),
    "replied": _template(
        "New reply: {{ ticket.title }}",
        "新回复：{{ ticket.title }}",
        "An agent replied.",
        "客服已回复。",
    ),
    "requester_replied": _template(
        "Customer reply", "用户回复", "The customer wrote.", "用户来信。"
    ),
    "resolved": _template(
        "Resolved: {{ ticket.title }}",
        "已解决：{{ ticket.title }}",
        "It is resolved.",
        "问题已解决。",
    ),
    "reminder": _template("Reminder", "提醒", "Please answer.", "请回复。"),
    "survey": _template(
        "How did we do?", "请评价", "Rate us: {{ survey_url }}", "评分：{{ survey_url }}"
    ),
}

MAILBOX = f"""\
kind: Mailbox
address: {SUPPORT}
ticket_type: incident
fields: {{category: software}}
attachment_field: files
max_size_mb: 2
"""


def mail_bundle_dir(root: Path, extra: dict[str, str | None] | None = None) -> Path:
    files: dict[str, str | None] = {
        "ticket_types/incident.yaml": TICKET_TYPE,
        "routing/default.yaml": None,
        "mail/support.yaml": MAILBOX,
        **{f"templates/{name}.yaml": text for name, text in TEMPLATES.items()},
        **(extra or {}),
    }
    # A None for a file the minimal bundle lacks just leaves it out.
    return make_bundle(
        root, {k: v for k, v in files.items() if v is not None or (MINIMAL / k).exists()}
    )


@pytest.fixture(scope="session")
def mail_bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    return load_bundle(mail_bundle_dir(tmp_path_factory.mktemp("mail")))


@pytest.fixture
def mail_service(db: Database, mail_bundle: Bundle, tmp_path: Path) -> TicketService:
    from gongdan.engine.tickets.attachments import AttachmentStore

    return TicketService(db, mail_bundle, attachments=AttachmentStore(tmp_path / "files"))


@dataclass
class Inbox:
    """What the test SMTP server received."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        raw = envelope.original_content  # type: ignore[attr-defined]
        message = email.message_from_bytes(raw, policy=default_policy)
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))  # type: ignore[attr-defined]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if address in str(m["To"])]

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.envelopes.clear()


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it gets."""
    received = Inbox()
    port = free_port()
    controller = Controller(received, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield received, port
    finally:
        controller.stop()


@pytest.fixture
def deliver_mail(
    db: Database, mail_bundle: Bundle, inbox: tuple[Inbox, int]
) -> Iterator[InProcessRunner]:
    """The in-process outbox runner with an `SmtpNotifier` sending to `inbox`: call
    `run_pending()` to deliver what is due, on the test's thread."""
    _, port = inbox
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(
        db, lambda: mail_bundle, settings, environ={"GONGDAN_BASE_URL": "https://desk.test"}
    )
    runner = InProcessRunner(db, lambda: mail_bundle, channels=channels_for(notifier), jobs=[])
    yield runner


def drain(runner: InProcessRunner, rounds: int = 5) -> None:
    """Deliver the outbox until nothing more is due."""
    for _ in range(rounds):
        if runner.run_pending() == 0:
            return
        time.sleep(0.01)


@pytest.fixture
def listener(
    db: Database, mail_bundle: Bundle, mail_service: TicketService
) -> Iterator[tuple[MailListener, int]]:
    """Our SMTP listener on a free loopback port, taking mail into `db`."""
    port = free_port()
    intake = MailIntake(
        db, lambda: mail_bundle, service=lambda b: mail_service, our_address=OUR_ADDRESS
    )
    server = MailListener(intake, "127.0.0.1", port)
    server.start()
    try:
        yield server, port
    finally:
        server.stop()
