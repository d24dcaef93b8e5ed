"""Email out: `SmtpNotifier`, the `Notifier` that sends notifications by SMTP.

It runs where the outbox is delivered (a Celery task or the in-process runner, the
same `deliver` both ways). For each notification it decides who hears of it (see
`audience`), renders the template in each recipient's language with that recipient's
view of the ticket, and sends one mail per recipient with:

- a stable `Message-ID` made from the outbox delivery id and the recipient, so a
  retry sends the same id again (and a mail already sent is not sent twice);
- `In-Reply-To` / `References` naming the ticket's thread root (the first mail about
  the ticket), so mail clients thread everything about a ticket together;
- the ticket key in the subject (`[INC-42] …`), which intake reads back on replies;
- `Auto-Submitted: auto-generated`, so other systems do not answer automatically.

Each sent mail is logged in `mail_messages`: that is what threads replies to tickets
and marks our own messages for loop protection.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import smtplib
import ssl
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import formataddr, formatdate
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.account import ACCOUNT_TOPICS, send_account_mail
from gongdan.channels.email.audience import audience
from gongdan.channels.email.context import reader_for, template_context
from gongdan.channels.email.html_text import text_to_html
from gongdan.channels.email.report_mail import REPORT_TOPIC, send_report_mail
from gongdan.channels.email.settings import SmtpSettings, base_url
from gongdan.channels.email.templates import mail_templates
from gongdan.engine import (
    Database,
    Job,
    LogNotifier,
    MailLog,
    MailReads,
    Notification,
    Notifier,
    Person,
    notification_for,
    read_mail_batch,
    utc_now,
)

__all__ = ["SmtpNotifier", "message_id_for", "notifier_from_env"]

log = logging.getLogger(__name__)
KEY_IN_SUBJECT = re.compile(r"\[[A-Z][A-Z0-9]{1,9}-\d+\]")


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"


def message_id_for(delivery_id: int, recipient: str, sender: str) -> str:
    """The Message-ID of the mail of outbox row `delivery_id` to `recipient`: the same on
    every retry."""
    digest = hashlib.sha256(recipient.lower().encode()).hexdigest()[:12]
    return f"<gongdan.{delivery_id}.{digest}@{_domain(sender)}>"


class SmtpNotifier:
    """Sends notifications as mail through an SMTP server."""

    def __init__(
        self,
        db: Database,
        bundle: Callable[[], Bundle],
        settings: SmtpSettings,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.db, self.bundle, self.settings = db, bundle, settings
        self.base_url = base_url(environ)
        self.mail_log = MailLog(db)
        self._local = threading.local()

    @contextmanager
    def batch(self, jobs: Sequence[Job] = ()) -> Iterator[None]:
        """Send the notifications of one outbox batch (`engine.outbox.relay.deliver_batch`)
        over one SMTP connection, opened at the first mail and closed at the end. The
        mails of `jobs` (the batch's rows) are composed here, before the first is sent,
        from one read of everything they need (`engine.read_mail_batch`); `send` then
        only sends them (and logs each as it goes)."""
        if getattr(self._local, "batch", None) is not None:
            yield
            return
        batch = self._local.batch = _Batch()
        try:
            notifications = [n for job in jobs if (n := notification_for(job)) is not None]
            if notifications:
                try:
                    batch.prepared = self.compose(notifications)
                except Exception:  # the database: each `send` tries again on its own
                    log.exception("composing the mails of a batch failed")
            yield
        finally:
            self._local.batch = None
            batch.close()

    def _batch(self) -> _Batch | None:
        found: _Batch | None = getattr(self._local, "batch", None)
        return found

    def send(self, notification: Notification) -> None:
        if notification.topic in ACCOUNT_TOPICS:  # about an account, not a ticket
            send_account_mail(self, notification, utc_now())
            return
        if notification.topic == REPORT_TOPIC:  # a mailed report, not about a ticket
            send_report_mail(self, notification)
            return
        key = (notification.ticket or {}).get("key")
        if not key:
            return
        batch = self._batch()
        composed = batch.prepared.pop(notification.delivery_id, None) if batch else None
        if composed is None:  # not composed with a batch: read for this one alone
            composed = self.compose([notification]).get(notification.delivery_id, [])
        if isinstance(composed, Exception):
            raise composed
        if composed:
            self.send_all(str(key), composed)

    def compose(
        self, notifications: Sequence[Notification]
    ) -> dict[int, list[tuple[Person, Message]] | Exception]:
        """The mails of each notification about a ticket (by delivery id), not yet
        sent: every recipient's, in their language and time zone, with their view of
        the ticket, but for those an earlier attempt sent already. Everything is read
        in one read transaction (`engine.read_mail_batch`) with a few statements for
        the whole batch. A notification that cannot be composed (a template failing
        at run time) gets its exception instead, for its `send` to raise."""
        about = [(n, str(k)) for n in notifications if (k := (n.ticket or {}).get("key"))]
        if not about:
            return {}
        bundle = self.bundle()
        templates = mail_templates(bundle)
        emails = [e for n, _ in about for e in n.recipients]
        out: dict[int, list[tuple[Person, Message]] | Exception] = {}
        with read_mail_batch(self.db, bundle, [k for _, k in about], emails) as reads:
            planned: list[tuple[Notification, str, Person, list[tuple[str | None, Person]]]] = []
            for notification, key in about:
                try:
                    requesters = reads.people_of_ticket(key, "requester")
                    if not requesters or requesters[0].actor is None:
                        out[notification.delivery_id] = []
                        continue
                    who = audience(notification, bundle, templates, reads)
                except Exception as error:
                    out[notification.delivery_id] = error
                    continue
                planned.append((notification, key, requesters[0], who))
            sent = reads.sent(
                message_id_for(n.delivery_id, p.email, self.sender)
                for n, _, _, who in planned
                for _, p in who
            )
            for notification, key, requester, who in planned:
                messages = []
                try:
                    for template_id, person in who:
                        message_id = message_id_for(
                            notification.delivery_id, person.email, self.sender
                        )
                        if message_id in sent:
                            continue  # sent by an earlier attempt of this delivery
                        message = self._compose(
                            reads, bundle, template_id, person, requester, key, notification
                        )
                        if message is not None:
                            message["Message-ID"] = message_id
                            messages.append((person, message))
                            reads.composed(key, message_id)
                except Exception as error:
                    out[notification.delivery_id] = error
                    continue
                out[notification.delivery_id] = messages
        return out

    @property
    def sender(self) -> str:
        return self.settings.sender

    def _compose(
        self,
        reads: MailReads,
        bundle: Bundle,
        template_id: str | None,
        person: Person,
        requester: Person,
        key: str,
        notification: Notification,
    ) -> Message | None:
        assert requester.actor is not None  # noqa: S101 - checked by the caller
        view = reader_for(reads, person, key, requester.actor)
        if view is None:
            return None
        actor, record = view
        context = template_context(
            bundle=bundle,
            reads=reads,
            person=person,
            actor=actor,
            record=record,
            payload=notification.payload,
            base_url=self.base_url,
        )
        rendered = mail_templates(bundle).render(template_id, person.language, context)
        subject = rendered.subject
        if not KEY_IN_SUBJECT.search(subject):
            subject = f"[{key}] {subject}"
        # Built with the `email` package's compat32 classes: the same mail as an
        # `EmailMessage` would make, at a fraction of its CPU (its header objects and
        # content manager cost ~3 ms a mail; issue 23).
        message = MIMEMultipart("alternative", policy=_FLAT)
        # (No boundary to search the text for: QP text never holds "=_".)
        message.set_boundary(f"=_gongdan_{secrets.token_hex(12)}")
        message["From"] = formataddr(("Gongdan", self.sender))
        # A display name is one line: a name with a line break must not add headers.
        message["To"] = formataddr((" ".join(person.name.split()), person.email), "utf-8")
        # (compat32 takes a `Header` as a value, which typeshed does not say.)
        message["Subject"] = _header(subject)  # type: ignore[assignment]
        message["Date"] = formatdate(localtime=False, usegmt=True)
        root = reads.thread_root(key)
        if root:
            message["In-Reply-To"] = root
            message["References"] = root
        reply_to = _reply_address(bundle, record.type)
        if reply_to:
            message["Reply-To"] = reply_to
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message["X-Gongdan-Ticket"] = key
        message.attach(_text(rendered.body, "plain"))
        message.attach(_text(text_to_html(rendered.body, rendered.locale), "html"))
        message["Content-Language"] = rendered.locale
        return message

    def send_all(self, key: str | None, messages: list[tuple[Person, Message]]) -> None:
        """Send `messages` over one SMTP connection (the batch's, inside `batch`) and
        log each (`key`: the ticket they are about, None for mail about an account)."""
        batch = self._batch()
        if batch is None:
            with self._connect() as client:
                self._send_over(client, key, messages)
            return
        if batch.client is None:
            batch.client = self._connect()
        try:
            self._send_over(batch.client, key, messages)
        except (smtplib.SMTPServerDisconnected, OSError):
            batch.close()  # the next mail of the batch connects again
            raise

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        # (Only for TLS: loading the CA store costs ~20 ms of CPU a connection.)
        context = ssl.create_default_context(cafile=s.ca_file) if s.tls or s.starttls else None
        client: smtplib.SMTP
        if s.tls:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.starttls:
                client.starttls(context=context)
            if s.user:
                client.login(s.user, s.password or "")
        except BaseException:
            client.close()
            raise
        return client

    def _send_over(
        self, client: smtplib.SMTP, key: str | None, messages: list[tuple[Person, Message]]
    ) -> None:
        for person, message in messages:
            if isinstance(message.policy, _Flat):  # a notification's (`_compose`)
                client.sendmail(self.sender, [person.email], message.as_bytes(policy=_FLAT))
            else:
                client.send_message(message, from_addr=self.sender, to_addrs=[person.email])
            self.mail_log.record(
                message_id=str(message["Message-ID"]),
                direction="out",
                status="sent",
                ticket_key=key,
                sender=self.sender,
                recipients=[person.email],
                subject=str(message["Subject"]),
            )
            log.info("mail %s sent to %s about %s", message["Message-ID"], person.email, key or "-")


class _Batch:
    """What one batch of notifications shares: the SMTP connection, and the mails
    composed for it (by delivery id)."""

    def __init__(self) -> None:
        self.client: smtplib.SMTP | None = None
        self.prepared: dict[int, list[tuple[Person, Message]] | Exception] = {}

    def close(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


class _Flat(Compat32):
    """compat32, but a header value that is plain ASCII on one short line is written
    as is (compat32 folds every value through a `Header`: most of a mail's CPU)."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) < 76
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


_FLAT = _Flat(linesep="\r\n")  # as SMTP wants it

# Text parts in UTF-8, quoted-printable: ASCII stays readable in the raw mail.
_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP


def _text(text: str, subtype: str) -> Message:
    part = MIMENonMultipart("text", subtype, policy=_FLAT)
    part.set_payload(text, _UTF8)
    return part


def _header(value: str) -> str | Header:
    """A header value, encoded (RFC 2047) when it is not plain ASCII."""
    return value if value.isascii() else Header(value, "utf-8")


def _reply_address(bundle: Bundle, type_id: str) -> str | None:
    """Where replies should go: the mailbox of the ticket's type, else any mailbox."""
    boxes = list(bundle.mailboxes.values())
    for box in boxes:
        if box.ticket_type == type_id:
            return box.address
    return boxes[0].address if boxes else None


def notifier_from_env(
    db: Database, bundle: Callable[[], Bundle], environ: Mapping[str, str] | None = None
) -> Notifier:
    """An `SmtpNotifier` when `GONGDAN_SMTP_URL` is set, else the `LogNotifier`. Raises
    `SettingsError` for a malformed URL and `ConfigError` for a template that does not
    compile, so a bad setup fails at start-up, not at the first mail."""
    settings = SmtpSettings.from_env(environ)
    if settings is None:
        return LogNotifier()
    mail_templates(bundle())
    return SmtpNotifier(db, bundle, settings, environ=environ)
