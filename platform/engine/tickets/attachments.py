"""Attachments: content stored once on disk under its SHA-256, metadata in the database.

Limits come from the field the file is uploaded for (`max_size_mb`, `accept`). An
upload is first unlinked (`ticket_id` NULL) and is attached when a ticket is created
or updated with its id in an attachment field.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from gongdan.engine.store.models import Attachment, Ticket
from gongdan.engine.unit_of_work import ReadContext, UnitOfWork
from gongdan.errors import NotFound, ValidationFailed
from gongdan.forms.shapes import Holds

__all__ = ["DEFAULT_MAX_BYTES", "AttachmentStore", "store_upload"]

DEFAULT_MAX_BYTES = 25 * 1024 * 1024


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
    type_id: str,
    field_id: str,
    filename: str,
    content_type: str,
    content: bytes,
) -> Attachment:
    """Check an upload against its field's limits, store it, and record its metadata."""
    ticket_type = ctx.bundle.ticket_types.get(type_id)
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
    name = Path(filename.replace("\\", "/")).name.strip()[:255] or "upload"
    if len(content) > DEFAULT_MAX_BYTES and field.params.get("max_size_mb") is None:
        raise ValidationFailed(f"'{name}' is too large", {field_id: "is larger than 25 MB"})
    try:
        field.field_type.check_upload(
            field, filename=name, content_type=content_type, size_bytes=len(content)
        )
    except ValueError as exc:
        raise ValidationFailed(str(exc), {field_id: str(exc)}) from exc
    digest = store.put(content)
    row = Attachment(
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


def visible_attachment(ctx: ReadContext, attachment_id: int) -> Attachment:
    """An attachment the actor may read: their own upload, or one of a visible ticket."""
    row = ctx.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound(f"no attachment {attachment_id}")
    if row.ticket_id is None:
        if row.uploaded_by != ctx.actor.user_id and not ctx.actor.is_staff:
            raise NotFound(f"no attachment {attachment_id}")
        return row
    ticket = ctx.session.get(Ticket, row.ticket_id)
    if ticket is None or not ctx.may_see(ticket):
        raise NotFound(f"no attachment {attachment_id}")
    ticket_type = ctx.bundle.ticket_types.get(ticket.ticket_type)
    field = ticket_type.field_map.get(row.field_id or "") if ticket_type else None
    if field is not None and field.internal and ctx.actor.is_requester:
        raise NotFound(f"no attachment {attachment_id}")
    return row
