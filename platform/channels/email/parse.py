"""Reading one received mail: who sent it, what it answers, its text and attachments,
and whether a machine sent it (auto-replies, bulk mail, bounces).

Pure functions over the raw bytes (RFC 5322 with MIME, parsed by the standard
library's `email` package with the modern policy): no database, no network. A mail
that cannot be read (no usable sender, not a message at all) raises `MalformedMail`
with a reason fit for a bounce.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import errors, policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr

from gongdan.channels.email.html_text import html_to_text

__all__ = [
    "Incoming",
    "MailAttachment",
    "MalformedMail",
    "auto_submitted_reason",
    "parse_mail",
    "strip_quoted",
]

MESSAGE_ID = re.compile(r"<[^<>\s]{1,900}>")
ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]+$")
CHINESE_CHARSETS = ("gb2312", "gbk", "gb18030", "big5", "hz-gb-2312", "euc-cn")
CJK = re.compile(r"[\u4e00-\u9fff]")
BULK_PRECEDENCE = ("bulk", "junk", "list", "auto_reply")
ROBOT_SENDERS = ("mailer-daemon@", "postmaster@")
# Lines that start the quoted original in a reply (English, Chinese, Outlook).
QUOTE_HEADERS = re.compile(
    r"^(On .{4,200} wrote:|在 .{4,200}写道[:：]|-{3,} ?(Original Message|原始邮件) ?-{3,}|"
    r"From: .+|发件人[:：].+)\s*$"
)


class MalformedMail(ValueError):
    """A mail that cannot be taken in; the message is the bounce reason."""


@dataclass(frozen=True, slots=True)
class MailAttachment:
    filename: str
    content_type: str
    content: bytes
    problem: str = ""  # why it cannot be kept (a broken part): the mail is kept without it


@dataclass(frozen=True, slots=True)
class Incoming:
    """A received mail, read."""

    message_id: str
    sender: str  # lower-case address
    sender_name: str
    to: tuple[str, ...]
    subject: str
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    body: str
    attachments: tuple[MailAttachment, ...]
    language: str | None  # None: the mail does not say
    automatic: str | None  # why a machine sent it (then it is ignored), else None
    # The addresses of the Cc header alone (also in `to`): the colleagues a new ticket
    # may copy in when its mailbox says `add_cc: true`.
    cc: tuple[str, ...] = ()


def _ids(value: object) -> tuple[str, ...]:
    return tuple(MESSAGE_ID.findall(str(value or "")))[:50]


def auto_submitted_reason(message: Message, sender: str) -> str | None:
    """Why `message` looks machine-sent (RFC 3834 Auto-Submitted, Precedence, the
    headers of common auto-responders, mailing lists, bounces); None for a person."""
    auto = str(message.get("Auto-Submitted", "") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = str(message.get("Precedence", "") or "").strip().lower()
    if precedence in BULK_PRECEDENCE:
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Reply"):
        if message.get(header) is not None:
            return f"{header} header"
    if message.get("List-Id") is not None or message.get("List-Unsubscribe") is not None:
        return "mailing list (List-Id)"
    if sender.startswith(ROBOT_SENDERS) or str(message.get("Return-Path", "")).strip() == "<>":
        return "delivery report (bounce)"
    return None


def _language(message: EmailMessage, body: str) -> str | None:
    declared = str(message.get("Content-Language", "") or "").strip().lower()
    if declared.startswith("zh"):
        return "zh-CN"
    if declared.startswith("en"):
        return "en"
    charsets = {c.lower() for c in message.get_charsets() if c}
    if charsets & set(CHINESE_CHARSETS):
        return "zh-CN"
    if len(CJK.findall(body[:2000])) >= 2:
        return "zh-CN"
    return None


def _text_of(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset name
        return payload.decode("utf-8", errors="replace")


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _text_of(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text.replace("\r\n", "\n").replace("\x00", "").strip()


def _attachments(message: EmailMessage) -> tuple[MailAttachment, ...]:
    """The mail's attachments; a part that cannot be decoded (broken base64, a name
    that cannot be read, no content) is listed with its `problem`, so the mail is
    still taken in and the reply says what was not kept."""
    found = []
    for index, part in enumerate(message.iter_attachments(), 1):
        try:
            name = str(part.get_filename() or f"attachment-{index}")
        except Exception:  # a broken RFC 2231 name: the email package raises many kinds
            name = f"attachment-{index}"
        try:
            content = part.get_payload(decode=True)
            broken = any(isinstance(d, _BROKEN_PAYLOAD) for d in part.defects)
        except Exception:
            content, broken = None, True
        if not isinstance(content, bytes) or broken:
            found.append(MailAttachment(name, "application/octet-stream", b"", _MALFORMED))
            continue
        found.append(MailAttachment(name, part.get_content_type(), content))
    return tuple(found)


_MALFORMED = "the attachment is malformed and could not be read"
_BROKEN_PAYLOAD = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)


def strip_quoted(text: str) -> str:
    """A reply without the original it quotes: lines from the first quote header on,
    and `>` lines (the answer above them is what is new)."""
    kept: list[str] = []
    for line in text.split("\n"):
        if QUOTE_HEADERS.match(line.strip()):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    return "\n".join(kept).strip()


def parse_mail(raw: bytes) -> Incoming:
    """Read a received mail; `MalformedMail` if it cannot be taken in."""
    if not raw.strip():
        raise MalformedMail("the message is empty")
    try:
        message = BytesParser(policy=policy.default).parsebytes(raw)
        assert isinstance(message, EmailMessage)  # noqa: S101 - policy.default makes one
        header_from = str(message.get("From", "") or "")
        name, sender = parseaddr(header_from)
        sender = sender.strip().lower()
        if not sender or not ADDRESS.match(sender) or len(sender) > 254:
            raise MalformedMail("no valid sender address in the From header")
        body = _body(message)
        attachments = _attachments(message)
        subject = " ".join(str(message.get("Subject", "") or "").split())
        message_id = (_ids(message.get("Message-ID")) or ("",))[0]
    except MalformedMail:
        raise
    except Exception as error:  # the email package raises many kinds on broken input
        raise MalformedMail(f"the message cannot be read: {type(error).__name__}") from error
    if not message_id:
        message_id = f"<missing.{hashlib.sha256(raw).hexdigest()[:32]}@gongdan.invalid>"
    return Incoming(
        message_id=message_id,
        sender=sender,
        sender_name=" ".join(name.split())[:200],
        to=tuple(
            a.lower()
            for _, a in getaddresses([str(message.get("To", "")), str(message.get("Cc", ""))])
            if a
        ),
        subject=subject,
        in_reply_to=_ids(message.get("In-Reply-To")),
        references=_ids(message.get("References")),
        body=body,
        attachments=attachments,
        language=_language(message, body),
        automatic=auto_submitted_reason(message, sender),
        cc=tuple(a.lower() for _, a in getaddresses([str(message.get("Cc", ""))]) if a)[:50],
    )
