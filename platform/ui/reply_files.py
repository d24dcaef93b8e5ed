"""The files of a reply form (desk and portal): the new ones posted under `files`
stored as the actor's uploads, and those stored by an earlier try of the same form
(a reply held by the collision warning, or refused) carried as `uploaded` ids, so a
second send never asks for them again. Limits: `attachments.REPLY_*`; a file over
the size limit is refused without the rest of it being read.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData, UploadFile

from gongdan.engine import MAX_REPLY_FILES, REPLY_MAX_MB, TicketService
from gongdan.errors import ValidationFailed
from gongdan.rules.workflow import Actor

__all__ = ["ReplyFile", "reply_files"]


@dataclass(frozen=True, slots=True)
class ReplyFile:
    id: str
    name: str


async def reply_files(
    form: FormData, service: TicketService, actor: Actor
) -> tuple[list[ReplyFile], str | None]:
    """Store the form's new files; returns them after those stored before, and why a
    file was refused (None: none was). The files stored before a refused one are kept,
    so the form shown again carries them."""
    kept = [str(v) for v in form.getlist("uploaded") if isinstance(v, str) and v.strip()]
    names = [str(v) for v in form.getlist("uploaded_name") if isinstance(v, str)]
    done = [ReplyFile(i[:40], n[:255]) for i, n in zip(kept, names, strict=False)]
    parts = [p for p in form.getlist("files") if isinstance(p, UploadFile) and p.filename]
    if len(done) + len(parts) > MAX_REPLY_FILES:
        return done, f"at most {MAX_REPLY_FILES} files a reply"
    limit = REPLY_MAX_MB * 1024 * 1024
    for part in parts:
        name = part.filename or "upload"
        content = await part.read(limit + 1)
        if len(content) > limit:
            return done, f"'{name}' is larger than {REPLY_MAX_MB} MB"
        try:
            file_id = service.upload_reply_file(
                actor,
                filename=name,
                content_type=part.content_type or "application/octet-stream",
                content=content,
            )
        except ValidationFailed as refused:
            return done, refused.fields.get("files") or refused.detail
        done.append(ReplyFile(file_id, name))
    return done, None
