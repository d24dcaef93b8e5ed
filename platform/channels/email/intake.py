"""Email in: what one received mail becomes, whichever way it came (SMTP or IMAP).

- A mail from a machine (auto-reply, bulk, list, bounce), from our own From address,
  or carrying one of our own Message-IDs is **ignored** (accepted at the SMTP level,
  so an auto-responder gets no bounce to answer, and logged).
- A **reply** (a ticket key like `[INC-42]` in the subject, or In-Reply-To/References
  naming a mail of a ticket) becomes a public comment by the sender, if the sender
  may comment on that ticket (its requester or staff who may see it), with the mail's
  attachments as the comment's files (the reply limits; those not kept, or broken,
  named in the comment); otherwise it is rejected with the reason.
- Any other mail **creates a ticket** of its mailbox's type with the sender as
  requester (a new address becomes a requester account, in the mail's language),
  the subject as title, the text as description and the attachments kept.
- Oversized or unreadable mail is **rejected** with an SMTP 5xx reason.
- A mailbox with `authentication: {authserv_id: …}` takes a mail as its sender only
  when that receiving host's Authentication-Results say so (`authenticity`); any
  other mail is **held** for review (logged, kept whole under
  `$GONGDAN_DATA_DIR/held-mail/`, no ticket or comment written) or, with
  `unverified: new_ticket`, becomes a new ticket tagged `unverified-sender`: never a
  comment in someone else's name.

Every outcome is logged in `mail_messages` with its status and reason. The ticket
writes go through `TicketService`, like the web and the API; the log row and a new
sender's account through the engine's `MailLog`: intake writes no SQL of its own.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from gongdan.bundle.compile_mail import MailboxDef
from gongdan.bundle.compiled import Bundle
from gongdan.channels.email.authenticity import verify_sender
from gongdan.channels.email.parse import (
    Incoming,
    MailAttachment,
    MalformedMail,
    parse_mail,
    strip_quoted,
)
from gongdan.channels.email.settings import mail_from
from gongdan.engine import (
    MAX_REPLY_FILES,
    Database,
    MailLog,
    TicketService,
    already_received,
    find_people,
    is_our_message,
    ticket_for_message_ids,
    utc_now,
)
from gongdan.errors import GongdanError, NotFound, PermissionDenied, ValidationFailed
from gongdan.rules.workflow import Actor

__all__ = ["IntakeResult", "MailIntake", "keep_held"]

log = logging.getLogger(__name__)
KEY = re.compile(r"\[([A-Z][A-Z0-9]{1,9}-[1-9][0-9]{0,11})\]")
MAX_TITLE, MAX_TEXT = 300, 100_000
UNVERIFIED_TAG = "unverified-sender"


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What intake did with one mail, and the SMTP reply that says so."""

    status: str  # accepted | held | ignored | rejected
    reason: str
    code: int = 250
    ticket_key: str | None = None

    @property
    def smtp_reply(self) -> str:
        enhanced = {250: "2.0.0", 550: "5.7.1", 552: "5.3.4", 554: "5.6.0"}.get(self.code, "")
        text = " ".join(self.reason.split())[:400]
        return f"{self.code} {enhanced} {text}".replace("  ", " ")


class MailIntake:
    """Takes received mail into tickets, for the mailboxes of the current bundle."""

    def __init__(
        self,
        db: Database,
        bundle: Callable[[], Bundle],
        *,
        service: Callable[[Bundle], TicketService] | None = None,
        clock: Callable[[], datetime] = utc_now,
        our_address: str | None = None,
    ) -> None:
        self.db, self.bundle, self.clock = db, bundle, clock
        self._service = service or (lambda b: TicketService(db, b))
        self.mail_log = MailLog(db, clock)
        self.our_address = (our_address or mail_from()).lower()

    # Addresses ---------------------------------------------------------------------

    def mailbox_for(self, recipients: Sequence[str]) -> MailboxDef | None:
        """The mailbox of the first recipient that is one of ours."""
        boxes = {b.address: b for b in self.bundle().mailboxes.values()}
        for address in recipients:
            box = boxes.get(address.strip().lower())
            if box is not None:
                return box
        return None

    def max_bytes(self) -> int:
        """The largest mail any mailbox takes (what the SMTP listener announces)."""
        sizes = [b.max_size_mb for b in self.bundle().mailboxes.values()] or [25]
        return max(sizes) * 1024 * 1024

    # Receiving ---------------------------------------------------------------------

    def receive(self, raw: bytes, recipients: Sequence[str] = (), sender: str = "") -> IntakeResult:
        """Take in one mail sent to `recipients` (the SMTP envelope, or for IMAP the
        mailbox's address); never raises for anything the mail contains."""
        try:
            mail = parse_mail(raw)
        except MalformedMail as error:
            return self._log(None, raw, sender, "rejected", f"malformed message: {error}", 554)
        box = self.mailbox_for([*recipients, *mail.to])
        if box is None:
            return self._log(mail, raw, sender, "rejected", "no mailbox for this address", 550)
        if len(raw) > box.max_size_mb * 1024 * 1024:
            reason = f"message too large: this mailbox takes at most {box.max_size_mb} MB"
            return self._log(mail, raw, sender, "rejected", reason, 552)
        ignored = self._why_ignored(mail)
        if ignored is not None:
            return self._log(mail, raw, sender, "ignored", ignored, 250)
        try:
            return self._take(mail, raw, sender, box)
        except GongdanError as error:
            return self._log(mail, raw, sender, "rejected", _explain(error), 550)

    def log_refused(self, sender: str, recipients: Sequence[str], reason: str) -> None:
        """Log mail refused before it was read (the SMTP layer's size limit)."""
        self.mail_log.record(
            message_id="",
            direction="in",
            status="rejected",
            sender=sender,
            recipients=list(recipients),
            reason=reason,
        )

    def _why_ignored(self, mail: Incoming) -> str | None:
        if mail.automatic is not None:
            return f"sent automatically ({mail.automatic})"
        if mail.sender == self.our_address:
            return "sent from our own address (mail loop)"
        if is_our_message(self.db, mail.message_id):
            return "one of our own messages came back (mail loop)"
        previous = already_received(self.db, mail.message_id)
        if previous is not None:
            return f"already received{f' into {previous}' if previous else ''}"
        return None

    def _take(self, mail: Incoming, raw: bytes, sender: str, box: MailboxDef) -> IntakeResult:
        bundle = self.bundle()
        service = self._service(bundle)
        key = self._ticket_named(service, mail)
        if box.authserv_id is not None:
            verdict = verify_sender(BytesHeaderParser().parsebytes(raw), box.authserv_id)
            if not verdict.verified:
                # Never a comment (nor a ticket) in the name of whom the From claims.
                if box.unverified == "new_ticket":
                    return self._create(
                        service, bundle, mail, raw, sender, box, unverified=verdict.reason
                    )
                kept = keep_held(raw)
                reason = f"held for review in {kept}: sender not verified ({verdict.reason})"
                return self._log(mail, raw, sender, "held", reason, 250, key)
        if key is not None:
            return self._reply(service, mail, raw, sender, key)
        return self._create(service, bundle, mail, raw, sender, box)

    def _ticket_named(self, service: TicketService, mail: Incoming) -> str | None:
        """The ticket a reply is about: by its key in the subject (if that ticket
        exists), else by the mails it answers."""
        system = Actor.system()
        for key in KEY.findall(mail.subject):
            try:
                return service.get_ticket(system, key).key
            except NotFound:
                continue
        return ticket_for_message_ids(self.db, [*mail.in_reply_to, *mail.references])

    def _reply(
        self, service: TicketService, mail: Incoming, raw: bytes, sender: str, key: str
    ) -> IntakeResult:
        people = [p for p in find_people(self.db, [mail.sender]) if p.actor is not None]
        if not people:
            reason = f"{mail.sender} may not comment on {key}: no account for this address"
            return self._log(mail, raw, sender, "rejected", reason, 550, key)
        actor = people[0].actor
        assert actor is not None  # noqa: S101 - filtered above
        text = strip_quoted(mail.body) or mail.body
        files, failed = self._reply_files(service, actor, mail)
        notes = _not_kept(failed)
        body = "\n\n".join(part for part in (text, notes) if part)
        if not body.strip() and not files:
            return self._log(mail, raw, sender, "ignored", "an empty reply", 250, key)
        try:
            result = service.add_comment(actor, key, body[:MAX_TEXT], public=True, files=files)
        except (NotFound, PermissionDenied):
            reason = f"{mail.sender} may not comment on {key}"
            return self._log(mail, raw, sender, "rejected", reason, 550, key)
        comment_id = result.comment.id if result.comment is not None else None
        return self._log(
            mail, raw, sender, "accepted", f"comment on {key}", 250, key, comment_id=comment_id
        )

    def _reply_files(
        self, service: TicketService, actor: Actor, mail: Incoming
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """A reply's attachments stored as the replier's uploads, for the comment (the
        reply limits); and (name, why) of those not kept."""

        def store(a: MailAttachment) -> str:
            return service.upload_reply_file(
                actor, filename=a.filename, content_type=a.content_type, content=a.content
            )

        return _store_each(mail, store, MAX_REPLY_FILES)

    def _upload(
        self, service: TicketService, type_id: str, field_id: str, mail: Incoming
    ) -> tuple[list[str], list[tuple[str, str]]]:
        """A new ticket's attachments stored for its field `field_id` (the field's
        limits); and (name, why) of those not kept."""

        def store(a: MailAttachment) -> str:
            return service.upload(
                Actor.system(), type_id, field_id,
                filename=a.filename, content_type=a.content_type, content=a.content,
            )  # fmt: skip

        return _store_each(mail, store)

    def _create(
        self,
        service: TicketService,
        bundle: Bundle,
        mail: Incoming,
        raw: bytes,
        sender: str,
        box: MailboxDef,
        *,
        unverified: str | None = None,
    ) -> IntakeResult:
        """A new ticket from the mail; `unverified` (why the sender is not proved) tags
        it `unverified-sender` and says so first in its description."""
        ticket_type = bundle.ticket_types[box.ticket_type]
        requester = self.mail_log.ensure_requester(
            mail.sender, name=mail.sender_name or None, language=mail.language or box.language
        )
        fields = dict(box.fields)
        notes = ""
        if box.attachment_field and mail.attachments:
            ids, failed = self._upload(service, ticket_type.id, box.attachment_field, mail)
            if ids:
                multiple = ticket_type.field_map[box.attachment_field].params.get("multiple")
                fields[box.attachment_field] = ids if multiple else ids[0]
            notes = _not_kept(failed)
        elif mail.attachments:
            notes = _not_kept(
                [(a.filename, "this mailbox keeps no attachments") for a in mail.attachments]
            )
        warning = f"[Unverified sender: {unverified}]" if unverified else ""
        description = "\n\n".join(p for p in (warning, mail.body, notes) if p)[:MAX_TEXT]
        result = service.create_ticket(
            Actor.system(),
            ticket_type.id,
            title=(mail.subject or "(no subject)")[:MAX_TITLE],
            description=description,
            fields=fields,
            requester=requester.email,
            priority=box.priority,
            tags=[UNVERIFIED_TAG] if unverified else None,
        )
        key = result.ticket.key
        note = " (sender not verified)" if unverified else ""
        if box.add_cc and not unverified:
            note += self._copy_in(service, bundle, key, mail)
        return self._log(mail, raw, sender, "accepted", f"created {key}{note}", 250, key)

    def _copy_in(self, service: TicketService, bundle: Bundle, key: str, mail: Incoming) -> str:
        """Copy the mail's Cc'd people in on the new ticket `key` (never a mailbox of
        ours or the sender); says in the log line who could not be."""
        ours = {b.address for b in bundle.mailboxes.values()} | {mail.sender}
        failed = []
        for address in dict.fromkeys(a for a in mail.cc if a not in ours):
            try:
                service.copy_in(Actor.system(), key, address)
            except GongdanError as error:
                failed.append(f"{address}: {_explain(error)}")
        return f" (not copied in: {'; '.join(failed)})" if failed else ""

    def _log(
        self,
        mail: Incoming | None,
        raw: bytes,
        sender: str,
        status: str,
        reason: str,
        code: int,
        key: str | None = None,
        *,
        comment_id: int | None = None,
    ) -> IntakeResult:
        try:
            self.mail_log.record(
                message_id=mail.message_id if mail else _raw_id(raw),
                direction="in",
                status=status,
                ticket_key=key,
                comment_id=comment_id,
                sender=mail.sender if mail else sender,
                recipients=list(mail.to) if mail else [],
                subject=mail.subject if mail else "",
                reason=reason,
            )
        except Exception:
            log.exception("could not log a received mail (%s: %s)", status, reason)
        log.info("mail from %s %s: %s", mail.sender if mail else sender, status, reason)
        return IntakeResult(status, reason, code, key)


def keep_held(raw: bytes) -> str:
    """Keep a held mail whole for review, as `held-mail/<sha256>.eml` under
    `$GONGDAN_DATA_DIR` (written then renamed); returns that path. A mail held is never
    thrown away: an admin reads it and, if it is genuine, forwards it again."""
    digest = hashlib.sha256(raw).hexdigest()
    folder = Path(os.environ.get("GONGDAN_DATA_DIR", "data")) / "held-mail"
    target = folder / f"{digest}.eml"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False) as handle:
            handle.write(raw)
        Path(handle.name).replace(target)
    return str(target)


def _store_each(
    mail: Incoming, store: Callable[[MailAttachment], str], most: int | None = None
) -> tuple[list[str], list[tuple[str, str]]]:
    """The ids of the mail's attachments `store` kept (at `most` so many), and (name,
    why) of the others: broken parts, refused files."""
    ids: list[str] = []
    failed: list[tuple[str, str]] = []
    for attachment in mail.attachments:
        if attachment.problem:
            failed.append((attachment.filename, attachment.problem))
        elif most is not None and len(ids) >= most:
            failed.append((attachment.filename, f"at most {most} files a reply"))
        else:
            try:
                ids.append(store(attachment))
            except ValidationFailed as error:
                failed.append((attachment.filename, "; ".join(error.fields.values()) or str(error)))
    return ids, failed


def _explain(error: GongdanError) -> str:
    fields = getattr(error, "fields", None) or {}
    details = "; ".join(f"{name}: {message}" for name, message in fields.items())
    return f"{error}{f' ({details})' if details else ''}"


def _not_kept(failed: list[tuple[str, str]]) -> str:
    if not failed:
        return ""
    lines = "\n".join(f"- {name}: {why}" for name, why in failed)
    return f"Attachments not kept / 未保存的附件:\n{lines}"


def _raw_id(raw: bytes) -> str:
    return f"<unreadable.{hashlib.sha256(raw).hexdigest()[:32]}@gongdan.invalid>"
