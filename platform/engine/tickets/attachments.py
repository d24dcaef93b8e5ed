"""Attachments: content stored once on disk under its SHA-256, metadata in the database.

Limits come from the field the file is uploaded for (`max_size_mb`, `accept`); a file
for a reply (no field) has the reply limits (`REPLY_ACCEPT`, `REPLY_MAX_MB`). An
upload is first unlinked (`ticket_id` NULL) and is attached when a ticket is created
or updated with its id in an attachment field, or when a reply names it
(`attach_to_comment`: the file is then the comment's, `comment_id`).

Who reads a file: until it is attached, its uploader alone (not even staff: an upload
is a draft of its uploader's); once attached, whoever may see its ticket, except that
a requester never reads a file of an internal field or of an internal note. A file is named outside the
server by its random `public_id` only, so it cannot be found by counting.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gongdan.engine.store.models import Attachment, Comment, Ticket
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import NotFound, ValidationFailed
from gongdan.forms.shapes import Holds

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_REPLY_FILES",
    "REPLY_ACCEPT",
    "REPLY_MAX_MB",
    "AttachmentStore",
    "attach_to_comment",
    "check_reply_upload",
    "find_upload",
    "new_public_id",
    "store_upload",
    "visible_attachment",
]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024
MAX_PUBLIC_ID = 40
# What a reply (desk, portal, mail) may carry: pictures, PDFs, text and office files,
# archives; never a page or a script a browser would run (no .html, .svg, .js).
REPLY_ACCEPT: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".pdf", ".txt", ".log", ".csv", ".json",
    ".xml", ".eml", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods",
    ".zip", ".7z", ".gz",
)  # fmt: skip
REPLY_MAX_MB = 25
MAX_REPLY_FILES = 10


def new_public_id() -> str:
    """A file's name outside the server: 144 random bits, URL-safe, starting with a
    letter (as an attachment field's value must)."""
    return "f" + secrets.token_urlsafe(18)


class AttachmentStore:
    """Files by content hash under `root` (`$GONGDAN_DATA_DIR/attachments`)."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        base = root or Path(os.environ.get("GONGDAN_DATA_DIR", "data")) / "attachments"
        self.root = Path(base)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> str:
        """Store `content` (once: equal files share storage); returns its SHA-256."""
        digest = hashlib.sha256(content).hexdigest()
        target = self.path(digest)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees a half-written file.
            with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as handle:
                handle.write(content)
            Path(handle.name).replace(target)
        return digest

    def get(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()


def store_upload(
    ctx: UnitOfWork,
    store: AttachmentStore,
    *,
    type_id: str | None,
    field_id: str | None,
    filename: str,
    content_type: str,
    content: bytes,
) -> Attachment:
    """Check an upload against its field's limits (`field_id` None: a file for a reply,
    against the reply limits), store it, and record its metadata."""
    name = Path(filename.replace("\\", "/")).name.strip()[:255] or "upload"
    if field_id is None:
        check_reply_upload(name, len(content))
        return _record(ctx, store, None, name, content_type, content)
    ticket_type = ctx.bundle.ticket_types.get(type_id or "")
    if ticket_type is None:
        raise NotFound(f"no ticket type '{type_id}'")
    field = ticket_type.field_map.get(field_id)
    if field is None or field.holds is not Holds.FILES:
        raise ValidationFailed(
            f"'{field_id}' is not an attachment field of {type_id}",
            {field_id: "is not an attachment field"},
        )
    if field.internal and not ctx.actor.is_staff:
        raise ValidationFailed(
            "requesters cannot upload to internal fields", {field_id: "is not a field you can set"}
        )
    if len(content) > DEFAULT_MAX_BYTES and field.params.get("max_size_mb") is None:
        raise ValidationFailed(f"'{name}' is too large", {field_id: "is larger than 25 MB"})
    try:
        field.field_type.check_upload(
            field, filename=name, content_type=content_type, size_bytes=len(content)
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), {field_id: str(exc)}) from exc
    return _record(ctx, store, field_id, name, content_type, content)


def check_reply_upload(name: str, size: int) -> None:
    """Raise ValidationFailed (under `files`) when a reply cannot carry this file."""
    if size > REPLY_MAX_MB * 1024 * 1024:
        raise ValidationFailed(
            f"'{name}' is larger than {REPLY_MAX_MB} MB",
            {"files": f"'{name}' is larger than {REPLY_MAX_MB} MB"},
        )
    if not name.lower().endswith(REPLY_ACCEPT):
        message = f"'{name}' must be one of these file types: {', '.join(REPLY_ACCEPT)}"
        raise ValidationFailed(message, {"files": message})


def _record(
    ctx: UnitOfWork,
    store: AttachmentStore,
    field_id: str | None,
    name: str,
    content_type: str,
    content: bytes,
) -> Attachment:
    digest = store.put(content)
    row = Attachment(
        public_id=new_public_id(),
        ticket_id=None,
        comment_id=None,
        field_id=field_id,
        filename=name,
        content_type=content_type.split(";")[0].strip().lower()[:127] or "application/octet-stream",
        size=len(content),
        sha256=digest,
        uploaded_by=ctx.actor.user_id,
        created_at=ctx.now,
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def find_upload(session: Session, public_id: Any) -> Attachment | None:
    """The attachment named `public_id` (None for anything that names no file)."""
    text = str(public_id)
    if not text or len(text) > MAX_PUBLIC_ID:
        return None
    return session.scalars(select(Attachment).where(Attachment.public_id == text)).first()


def visible_attachment(ctx: ReadContext, public_id: str) -> Attachment:
    """An attachment the actor may read: their own upload not yet attached, or a file
    of a ticket they may see (for a requester, not of an internal field)."""
    row = find_upload(ctx.session, public_id)
    missing = NotFound(f"no attachment '{str(public_id)[:MAX_PUBLIC_ID]}'")
    if row is None:
        raise missing
    if row.ticket_id is None:
        if row.uploaded_by is None or row.uploaded_by != ctx.actor.user_id:
            raise missing
        return row
    ticket = ctx.session.get(Ticket, row.ticket_id)
    if ticket is None or not ctx.may_see(ticket):
        raise missing
    if ctx.actor.is_requester and row.comment_id is not None:
        comment = ctx.session.get(Comment, row.comment_id)
        if comment is None or not comment.public:  # a file of an internal note
            raise missing
    ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
    field = ticket_type.field_map.get(row.field_id or "") if ticket_type else None
    if field is not None and field.internal and ctx.actor.is_requester:
        raise missing
    return row


def attach_to_comment(
    ctx: UnitOfWork, ticket: Ticket, comment: Comment, public_ids: list[Any]
) -> list[Attachment]:
    """Make the actor's own reply uploads (unattached, of no field) files of `comment`."""
    ids = list(dict.fromkeys(str(i) for i in public_ids if str(i).strip()))
    if len(ids) > MAX_REPLY_FILES:
        raise ValidationFailed(
            "too many files", {"files": f"at most {MAX_REPLY_FILES} files a reply"}
        )
    rows = []
    for public_id in ids:
        row = find_upload(ctx.session, public_id)
        if (
            row is None
            or row.ticket_id is not None
            or row.field_id is not None
            or row.uploaded_by is None
            or row.uploaded_by != ctx.actor.user_id
        ):
            raise ValidationFailed("unknown attachment", {"files": f"no upload '{public_id[:40]}'"})
        row.ticket_id, row.comment_id = ticket.id, comment.id
        rows.append(row)
    return rows
