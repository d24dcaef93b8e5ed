"""Email out: ticket events and notify actions go through the outbox and the task
runner to a real SMTP server (aiosmtpd) on loopback, to the right people, in their
language, threaded, and never with an internal note or field in a requester's mail."""

from __future__ import annotations

import json
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from gongdan.channels import channels_for
from gongdan.engine.outbox.mail_log import list_mail
from gongdan.engine.outbox.runner import InProcessRunner
from gongdan.engine.service import TicketService
from gongdan.engine.store.database import Database
from gongdan.engine.store.models import User
from gongdan.rules.workflow import Actor
from tests.channels.email.conftest import OUR_ADDRESS, Inbox, drain
from tests.factories import actor, make_user

REQUESTER = "chen.jing@customer.cn"
AGENT = "li.wei@example.com"


def text(message: EmailMessage) -> str:
    """A received mail's plain-text body with the wire's CRLF line ends as newlines."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html(message: EmailMessage) -> str:
    body = message.get_body(("html",))
    assert body is not None
    return str(body.get_content())


def people(db: Database, language: str = "en") -> tuple[Actor, Actor]:
    requester = make_user(db, REQUESTER, "requester")
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == REQUESTER))
        assert user is not None
        user.language = language
    agent = make_user(db, AGENT, "agent", teams=("desk",))
    return requester, agent


def new_ticket(service: TicketService, requester: Actor) -> str:
    result = service.create_ticket(
        requester,
        "incident",
        title="Laptop does not boot",
        description="Black screen after the logo.",
        fields={"category": "hardware"},
    )
    return result.ticket.key


def test_the_requester_is_told_a_ticket_was_created(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, _ = people(db)
    key = new_ticket(mail_service, requester)

    drain(deliver_mail)

    (message,) = received.to(REQUESTER)
    assert message["Subject"] == f"[{key}] We got it: Laptop does not boot"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["From"].addresses[0].addr_spec == OUR_ADDRESS
    assert message["Reply-To"] == "support@example.com"
    assert message["Content-Language"] == "en"
    assert re.fullmatch(r"<gongdan\.\d+\.[0-9a-f]{12}@gongdan\.test>", message["Message-ID"])
    assert message["In-Reply-To"] is None  # the first mail about the ticket starts the thread
    body = text(message)
    assert body.startswith("Thank you.\n")
    assert f"{key} Laptop does not boot (new)" in body
    assert [(m.direction, m.status, m.ticket_key) for m in list_mail(db, key)] == [
        ("out", "sent", key)
    ]


def test_a_notification_has_an_html_part_showing_what_people_typed_as_typed(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, agent = people(db)
    key = new_ticket(mail_service, requester)
    mail_service.assign(agent, key, team="desk", assignee=AGENT)
    mail_service.add_comment(
        agent, key, "Try <script>alert(1)</script> & see https://help.example.com/boot."
    )
    drain(deliver_mail)

    reply = received.to(REQUESTER)[-1]
    assert reply.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in reply.iter_parts()] == ["text/plain", "text/html"]
    assert reply["Content-Language"] == "en" and reply["In-Reply-To"]
    page = html(reply)
    assert "<script>" not in page
    assert "Try &lt;script&gt;alert(1)&lt;/script&gt; &amp; see" in page
    assert '<a href="https://help.example.com/boot">https://help.example.com/boot</a>.' in page
    assert '<html lang="en">' in page
    assert "Try <script>alert(1)</script> & see" in text(reply)  # plain text as typed


def test_a_chinese_speaking_requester_gets_chinese(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, _ = people(db, language="zh-CN")
    key = new_ticket(mail_service, requester)

    drain(deliver_mail)

    (message,) = received.to(REQUESTER)
    assert message["Subject"] == f"[{key}] 已收到：Laptop does not boot"
    assert message["Content-Language"] == "zh-CN"
    assert text(message).startswith("感谢您的联系。\n")


def test_replies_thread_under_the_first_mail(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, agent = people(db)
    key = new_ticket(mail_service, requester)
    mail_service.assign(agent, key, team="desk", assignee=AGENT)
    drain(deliver_mail)
    (first,) = received.to(REQUESTER)

    mail_service.add_comment(agent, key, "Please hold the power button for 30 s.")
    mail_service.add_comment(requester, key, "Did that, still black.")
    drain(deliver_mail)

    to_requester = received.to(REQUESTER)
    assert len(to_requester) == 2
    reply = to_requester[1]
    assert reply["Subject"] == f"[{key}] New reply: Laptop does not boot"
    assert reply["In-Reply-To"] == first["Message-ID"]
    assert reply["References"] == first["Message-ID"]
    assert f"{AGENT}: Please hold the power button for 30 s." not in text(reply)
    assert "li.wei: Please hold the power button for 30 s." in text(reply)
    # The requester's answer goes to the assignee, not back to the requester.
    (to_agent,) = received.to(AGENT)
    assert to_agent["Subject"] == f"[{key}] Customer reply"
    assert "Did that, still black." in text(to_agent)
    assert to_agent["In-Reply-To"] == first["Message-ID"]


def test_no_internal_note_or_field_in_a_requesters_mail(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, agent = people(db)
    key = mail_service.create_ticket(
        requester,
        "incident",
        title="Cannot print",
        description="Paper jam.",
        fields={"category": "software", "approver": AGENT},
    ).ticket.key
    mail_service.update_ticket(agent, key, {"root_cause": "SECRET driver bug"})
    mail_service.add_comment(agent, key, "SECRET: blame the vendor", public=False)
    mail_service.take_transition(agent, key, "start")
    mail_service.take_transition(
        agent, key, "approve", fields={"amount": 1}, comment="SECRET approval note", public=False
    )
    drain(deliver_mail)

    to_requester = received.to(REQUESTER)
    assert [m["Subject"] for m in to_requester] == [
        f"[{key}] We got it: Cannot print",
        f"[{key}] Resolved: Cannot print",
    ]
    for message in to_requester:
        assert "SECRET" not in message.as_string()
        assert "root_cause" not in text(message)
    # Staff reading the same ticket do see the internal field (so the test can fail).
    assert "root_cause=SECRET driver bug" in mail_context_for_staff(db, mail_service, key)


def mail_context_for_staff(db: Database, service: TicketService, key: str) -> str:
    from gongdan.channels.email.context import template_context
    from gongdan.engine.outbox.mail_log import find_people
    from gongdan.engine.outbox.mail_reads import read_mail_batch

    (person,) = find_people(db, [AGENT])
    assert person.actor is not None
    record = service.get_ticket(person.actor, key)
    with read_mail_batch(db, service.bundle, [key]) as reads:
        context = template_context(
            bundle=service.bundle,
            reads=reads,
            person=person,
            actor=person.actor,
            record=record,
            payload={},
            base_url="",
        )
    return "\n".join(f"{k}={v}" for k, v in context["ticket"]["fields"].items())


def test_a_retry_sends_nothing_twice(
    db: Database, mail_service: TicketService, inbox: tuple[Inbox, int], mail_bundle
) -> None:
    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.channels.email.settings import SmtpSettings
    from gongdan.engine.outbox.relay import deliver
    from gongdan.engine.service import utc_now
    from gongdan.engine.store.models import Outbox

    received, port = inbox
    requester, _ = people(db)
    new_ticket(mail_service, requester)
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(db, lambda: mail_bundle, settings)
    with db.reading() as session:
        row_id = session.scalar(select(Outbox.id).where(Outbox.topic == "ticket.created"))
    assert row_id is not None
    from gongdan.engine.outbox.delivery import Notification

    # The same delivery twice (a worker died after sending, before recording success).
    for _ in range(2):
        notifier.send(
            Notification(
                row_id,
                "ticket.created",
                {"key": "INC-1"},
                "subscribers",
                (),
                None,
                None,
                {"ticket": "INC-1"},
            )
        )
    assert len(received.to(REQUESTER)) == 1
    assert deliver(db, row_id, utc_now(), channels=channels_for(notifier)) == "delivered"
    assert len(received.to(REQUESTER)) == 1


def test_a_notify_action_without_recipients_sends_nothing(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, agent = people(db)
    key = new_ticket(mail_service, requester)
    drain(deliver_mail)
    received.clear()
    mail_service.take_transition(agent, key, "start")
    drain(deliver_mail)
    assert received.messages == []


def test_the_answer_to_a_mailed_request_threads_under_the_customers_mail(
    db: Database,
    mail_bundle,  # type: ignore[no-untyped-def]
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    from gongdan.channels.email.intake import MailIntake

    received, _ = inbox
    intake = MailIntake(
        db, lambda: mail_bundle, service=lambda b: mail_service, our_address=OUR_ADDRESS
    )
    raw = (
        b"From: Gao Fei <gao.fei@customer.cn>\r\nTo: support@example.com\r\n"
        b"Subject: =?utf-8?b?5omT5Y2w5py65Z2P5LqG?=\r\nMessage-ID: <first@customer.cn>\r\n"
        b"Content-Type: text/plain; charset=gb18030\r\n\r\n"
        + "打印机坏了".encode("gb18030")
        + b"\r\n"
    )
    result = intake.receive(raw, ["support@example.com"])
    assert result.status == "accepted"

    drain(deliver_mail)

    (message,) = received.to("gao.fei@customer.cn")
    assert message["In-Reply-To"] == "<first@customer.cn>"
    assert message["Subject"] == f"[{result.ticket_key}] 已收到：打印机坏了"  # gb18030: Chinese


def test_an_sla_warning_goes_to_the_assignee(
    tmp_path, db: Database, inbox: tuple[Inbox, int]
) -> None:  # type: ignore[no-untyped-def]
    from gongdan.bundle.loader import load_bundle
    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.channels.email.settings import SmtpSettings
    from gongdan.engine.outbox.delivery import Notification
    from tests.channels.email.conftest import mail_bundle_dir

    received, port = inbox
    warning = 'kind: Template\nsubject: {en: "SLA warning", zh-CN: "SLA 预警"}\nbody: {en: "{{ sla.target_label }} due {{ sla.due }}", zh-CN: "{{ sla.target_label }}"}\n'
    sla = (Path(__file__).parents[2] / "fixtures/bundles/minimal/sla/sla.yaml").read_text()
    sla = sla.replace("actions: [{notify: team}]", "actions: [{add_tags: [late]}]")
    bundle = load_bundle(
        mail_bundle_dir(tmp_path, {"templates/sla_warning.yaml": warning, "sla/sla.yaml": sla})
    )
    requester, agent = people(db)
    service = TicketService(db, bundle)
    key = new_ticket(service, requester)
    service.assign(agent, key, team="desk", assignee=AGENT)
    notifier = SmtpNotifier(
        db, lambda: bundle, SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    )

    notifier.send(
        Notification(
            99,
            "sla.warning",
            {"key": key},
            "subscribers",
            (),
            None,
            None,
            {"ticket": key, "target": "resolution"},
        )
    )

    assert received.to(REQUESTER) == []
    (message,) = received.to(AGENT)
    assert message["Subject"] == f"[{key}] SLA warning"
    assert text(message).startswith("resolution due 20")


def test_a_name_with_a_line_break_adds_no_header(
    db: Database,
    mail_service: TicketService,
    deliver_mail: InProcessRunner,
    inbox: tuple[Inbox, int],
) -> None:
    received, _ = inbox
    requester, _ = people(db)
    with db.transaction() as session:
        user = session.scalar(select(User).where(User.email == REQUESTER))
        assert user is not None
        user.name = "Chen\r\nBcc: victim@example.com"
    new_ticket(mail_service, requester)

    drain(deliver_mail)

    (message,) = received.to(REQUESTER)
    assert message["Bcc"] is None
    assert [r for _, rcpt in received.envelopes for r in rcpt] == [REQUESTER]


def test_a_survey_mail_links_to_its_answer_page(
    db: Database, mail_service: TicketService, inbox: tuple[Inbox, int], mail_bundle
) -> None:  # type: ignore[no-untyped-def]
    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.channels.email.settings import SmtpSettings
    from gongdan.engine.outbox.delivery import Notification

    received, port = inbox
    requester, _ = people(db, language="zh-CN")
    key = new_ticket(mail_service, requester)
    settings = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    notifier = SmtpNotifier(
        db, lambda: mail_bundle, settings, environ={"GONGDAN_BASE_URL": "https://desk.test"}
    )
    payload = {"ticket": key, "target": "csat", "answer_path": f"/portal/tickets/{key}/survey/7"}

    notifier.send(
        Notification(
            50, "survey", {"key": key}, "requester", (REQUESTER,), "survey:csat", None, payload
        )
    )

    (message,) = received.to(REQUESTER)
    assert message["Subject"] == f"[{key}] 请评价"
    assert text(message).startswith(f"评分：https://desk.test/portal/tickets/{key}/survey/7\n")


def test_the_smtp_login_is_used(db: Database, mail_service: TicketService, mail_bundle) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.channels.email.settings import SmtpSettings
    from gongdan.engine.outbox.delivery import Notification
    from tests.helpers import free_port

    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    received = Inbox()
    port = free_port()
    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        requester, _ = people(db)
        key = new_ticket(mail_service, requester)
        url = f"smtp://desk%40gongdan.test:s3cret@127.0.0.1:{port}"
        settings = SmtpSettings.from_env(
            {"GONGDAN_SMTP_URL": url, "GONGDAN_MAIL_FROM": OUR_ADDRESS}
        )
        assert settings is not None
        SmtpNotifier(db, lambda: mail_bundle, settings).send(
            Notification(
                51, "ticket.created", {"key": key}, "subscribers", (), None, None, {"ticket": key}
            )
        )
    finally:
        controller.stop()
    assert logins == [(b"desk@gongdan.test", b"s3cret")]
    assert len(received.to(REQUESTER)) == 1


def _tls_server(received: Inbox, *, require: bool, ca: object) -> tuple[object, int]:
    """An aiosmtpd server on loopback offering STARTTLS with a certificate for
    127.0.0.1 from the throwaway CA `ca` (trustme); `require`: no mail before it."""
    import ssl

    from aiosmtpd.controller import Controller

    from tests.helpers import free_port

    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)  # type: ignore[attr-defined]
    port = free_port()
    controller = Controller(
        received,
        hostname="127.0.0.1",
        port=port,
        tls_context=server_context,
        require_starttls=require,
    )
    controller.start()
    return controller, port


_sent = iter(range(1000, 2000))  # a delivery id per send: retries are deduplicated


def _one_mail(db: Database, mail_service: TicketService, mail_bundle, settings) -> None:  # type: ignore[no-untyped-def]
    """The "we got it" mail of a new ticket, sent with `settings`."""
    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.engine.outbox.delivery import Notification

    with db.reading() as session:
        known = session.scalar(select(User).where(User.email == REQUESTER))
    requester = people(db)[0] if known is None else actor(db, REQUESTER)
    key = new_ticket(mail_service, requester)
    notifier = SmtpNotifier(db, lambda: mail_bundle, settings, environ={})
    notifier.send(
        Notification(
            next(_sent), "ticket.created", {"key": key}, "subscribers", (), None, None,
            {"ticket": key},
        )
    )  # fmt: skip


def test_mail_goes_over_starttls_to_a_server_that_demands_it(
    db: Database, mail_service: TicketService, mail_bundle, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    import smtplib

    import trustme

    from gongdan.channels.email.settings import SmtpSettings

    ca = trustme.CA()
    ca_file = tmp_path / "company-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    received = Inbox()
    controller, port = _tls_server(received, require=True, ca=ca)
    try:
        secure = SmtpSettings(
            "127.0.0.1", port, False, True, None, None, OUR_ADDRESS, ca_file=str(ca_file)
        )
        _one_mail(db, mail_service, mail_bundle, secure)
        assert len(received.to(REQUESTER)) == 1
        # Without STARTTLS the server refuses the mail: nothing goes out in the clear.
        plain = SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
        with pytest.raises(smtplib.SMTPException):
            _one_mail(db, mail_service, mail_bundle, plain)
        # A certificate the client does not trust is refused too (system CAs only).
        untrusted = SmtpSettings("127.0.0.1", port, False, True, None, None, OUR_ADDRESS)
        with pytest.raises(ssl_error()):
            _one_mail(db, mail_service, mail_bundle, untrusted)
        assert len(received.to(REQUESTER)) == 1
    finally:
        controller.stop()  # type: ignore[attr-defined]


def test_starttls_asked_of_a_server_without_it_fails_instead_of_sending_in_the_clear(
    db: Database, mail_service: TicketService, mail_bundle, inbox: tuple[Inbox, int]
) -> None:  # type: ignore[no-untyped-def]
    import smtplib

    from gongdan.channels.email.settings import SmtpSettings

    received, port = inbox
    settings = SmtpSettings("127.0.0.1", port, False, True, None, None, OUR_ADDRESS)
    with pytest.raises(smtplib.SMTPNotSupportedError):
        _one_mail(db, mail_service, mail_bundle, settings)
    assert received.to(REQUESTER) == []


def ssl_error() -> type[Exception]:
    import ssl

    return ssl.SSLError


def test_smtp_settings_name_a_missing_ca_file(tmp_path: Path) -> None:
    from gongdan.channels.email.settings import SettingsError, SmtpSettings

    env = {"GONGDAN_SMTP_URL": "smtp://mail.example.com:587?starttls=1"}
    plain = SmtpSettings.from_env(env)
    assert plain is not None and plain.starttls and plain.ca_file is None
    missing = tmp_path / "nope.pem"
    with pytest.raises(SettingsError, match="GONGDAN_SMTP_CA_FILE: no file"):
        SmtpSettings.from_env({**env, "GONGDAN_SMTP_CA_FILE": str(missing)})
    missing.write_text("-----BEGIN CERTIFICATE-----\n")
    found = SmtpSettings.from_env({**env, "GONGDAN_SMTP_CA_FILE": str(missing)})
    assert found is not None and found.ca_file == str(missing)


@pytest.mark.parametrize(
    ("zone", "named"), [("America/New_York", "UTC-5"), ("Asia/Shanghai", "UTC+8"), ("", "")]
)
def test_a_mailed_deadline_is_in_the_recipients_zone_named(
    tmp_path, db: Database, inbox: tuple[Inbox, int], zone: str, named: str
) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    from gongdan.bundle.loader import load_bundle
    from gongdan.bundle.zones import default_zone, format_when
    from gongdan.channels.email.notifier import SmtpNotifier
    from gongdan.channels.email.settings import SmtpSettings
    from gongdan.engine.outbox.delivery import Notification
    from tests.channels.email.conftest import mail_bundle_dir

    received, port = inbox
    warning = 'kind: Template\nsubject: {en: "SLA warning", zh-CN: "SLA 预警"}\nbody: {en: "due {{ sla.due }}", zh-CN: "{{ sla.due }}"}\n'
    sla = (Path(__file__).parents[2] / "fixtures/bundles/minimal/sla/sla.yaml").read_text()
    sla = sla.replace("actions: [{notify: team}]", "actions: [{add_tags: [late]}]")
    bundle = load_bundle(
        mail_bundle_dir(tmp_path, {"templates/sla_warning.yaml": warning, "sla/sla.yaml": sla})
    )
    requester, agent = people(db)
    with db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE users SET attributes = :a WHERE email = :e"),
            {"a": json.dumps({"timezone": zone}), "e": AGENT},
        )
    service = TicketService(db, bundle)
    key = new_ticket(service, requester)
    service.assign(agent, key, team="desk", assignee=AGENT)
    due = service.get_ticket(Actor.system(), key).resolution_due
    assert due is not None
    notifier = SmtpNotifier(
        db, lambda: bundle, SmtpSettings("127.0.0.1", port, False, False, None, None, OUR_ADDRESS)
    )
    payload = {"ticket": key, "target": "resolution"}
    notifier.send(
        Notification(99, "sla.warning", {"key": key}, "subscribers", (), None, None, payload)
    )

    (message,) = received.to(AGENT)
    if zone:  # e.g. "due 2026-12-07 04:00 UTC-5" in New York, "17:00 UTC+8" in Shanghai
        expected = f"due {due.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {named}"
    else:  # no zone chosen: the default calendar's, named the same way
        expected = f"due {format_when(due, default_zone(bundle))}"
    assert text(message).strip() == expected


def test_a_replys_files_are_named_with_links_in_its_mail_context(
    db: Database, mail_service: TicketService
) -> None:
    """A notification template reads a reply's files (`comment.files`: name and link,
    the portal's for a requester); the file of an internal note is never among them."""
    from gongdan.channels.email.context import template_context
    from gongdan.channels.email.templates import MailTemplates
    from gongdan.engine import read_mail_batch
    from gongdan.engine.outbox.mail_log import find_people

    requester, agent = people(db)
    key = new_ticket(mail_service, requester)
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 8
    shot = mail_service.upload_reply_file(
        agent, filename="screen.png", content_type="image/png", content=png
    )
    reply = mail_service.add_comment(agent, key, "See this.", files=[shot]).comment
    secret = mail_service.upload_reply_file(
        agent, filename="secret.txt", content_type="text/plain", content=b"x"
    )
    note = mail_service.add_comment(agent, key, "Ours.", public=False, files=[secret]).comment
    assert reply is not None and note is not None
    (person,) = find_people(db, [REQUESTER])
    assert person.actor is not None
    record = mail_service.get_ticket(person.actor, key)

    def context(comment_id: int) -> dict:  # type: ignore[type-arg]
        with read_mail_batch(db, mail_service.bundle, [key]) as reads:
            return template_context(
                bundle=mail_service.bundle, reads=reads, person=person,
                actor=person.actor, record=record, payload={"comment": comment_id},
                base_url="https://desk.example.com",
            )  # fmt: skip

    files = context(reply.id)["comment"]["files"]
    assert files == [
        {"name": "screen.png", "url": f"https://desk.example.com/portal/attachments/{shot}"}
    ]
    assert context(note.id)["comment"] is None  # a requester's mail never holds a note
    rendered = MailTemplates(mail_service.bundle).render("builtin", "en", context(reply.id))
    assert f"Attached: screen.png <https://desk.example.com/portal/attachments/{shot}>" in (
        rendered.body
    )
