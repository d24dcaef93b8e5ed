"""Attachments: upload for a field (multipart), attach to a ticket, download.

Limits (size, accepted types) are the field's, checked by the service; a file over the
size limit is a 413 without its rest ever being read. Downloads are always sent as
`attachment` with `nosniff`, so an uploaded HTML file never renders in our origin.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Response, UploadFile

from gongdan.bundle.compiled import Bundle
from gongdan.engine import DEFAULT_MAX_BYTES, REPLY_ACCEPT, REPLY_MAX_MB, TicketService
from gongdan.errors import ValidationFailed
from gongdan.forms.shapes import Holds
from gongdan.rules.workflow import Actor
from gongdan.ui.api.deps import (
    ApiActor,
    ApiBundle,
    ApiService,
    AttachmentId,
    IfMatch,
    TicketKey,
    expect_version,
    parse_if_match,
)
from gongdan.ui.api.errors import ApiProblem, ApiRoute, error_responses
from gongdan.ui.api.models import AttachmentOut, TicketOut, check_text, ticket_out
from gongdan.ui.file_response import inline_type

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["attachments"])

FieldId = Annotated[str, Form(min_length=1, max_length=64, description="An attachment field.")]
Upload = Annotated[UploadFile, File(description="The file.")]


class AttachedOut(TicketOut):
    """The ticket with the file in its field, and the file itself."""

    attachment: AttachmentOut


def _limit(bundle: Bundle, type_id: str, field_id: str) -> int:
    """The byte limit of a field (the service checks everything else)."""
    ticket_type = bundle.ticket_types.get(type_id)
    field = ticket_type.field_map.get(field_id) if ticket_type is not None else None
    if field is None or field.params.get("max_size_mb") is None:
        return DEFAULT_MAX_BYTES
    return int(float(field.params["max_size_mb"]) * 1024 * 1024)


def _store(
    service: TicketService, actor: Actor, type_id: str, field_id: str, file: UploadFile
) -> AttachmentOut:
    limit = _limit(service.bundle, type_id, field_id)
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise ApiProblem(
            413,
            "payload_too_large",
            f"'{file.filename}' is larger than {limit // (1024 * 1024)} MB",
            fields={field_id: f"is larger than {limit // (1024 * 1024)} MB"},
        )
    name = file.filename or "upload"
    check_text(name, "filename")
    attachment_id = service.upload(
        actor,
        type_id,
        field_id,
        filename=name,
        content_type=file.content_type or "application/octet-stream",
        content=content,
    )
    return _stored(service, actor, attachment_id, field_id)


def _stored(
    service: TicketService, actor: Actor, attachment_id: str, field_id: str | None
) -> AttachmentOut:
    """The upload just stored, as the API shows it."""
    stored_name, content_type, stored = service.read_attachment(actor, attachment_id)
    return AttachmentOut(
        id=attachment_id,
        field=field_id,
        filename=stored_name,
        content_type=content_type,
        size=len(stored),
        url=f"/api/v1/attachments/{attachment_id}",
    )


@router.post(
    "/uploads",
    status_code=201,
    response_model=AttachmentOut,
    responses=error_responses(400, 401, 403, 404, 413, 422),
    summary="Upload a file for a field; put its id in that field on create or change",
)
def upload(
    type: Annotated[str, Form(min_length=1, max_length=64, description="A ticket type.")],
    field: FieldId,
    file: Upload,
    actor: ApiActor,
    service: ApiService,
) -> AttachmentOut:
    return _store(service, actor, type, field, file)


@router.post(
    "/uploads/reply",
    status_code=201,
    response_model=AttachmentOut,
    responses=error_responses(400, 401, 413, 422),
    summary="Upload a file for a reply; name its id in the comment's `files`",
    description=(
        f"Accepted: {', '.join(REPLY_ACCEPT)}; up to {REPLY_MAX_MB} MB. Until a reply "
        "names it, only its uploader reads it."
    ),
)
def upload_for_reply(file: Upload, actor: ApiActor, service: ApiService) -> AttachmentOut:
    limit = REPLY_MAX_MB * 1024 * 1024
    content = file.file.read(limit + 1)
    name = file.filename or "upload"
    if len(content) > limit:
        raise ApiProblem(
            413,
            "payload_too_large",
            f"'{name}' is larger than {REPLY_MAX_MB} MB",
            fields={"files": f"is larger than {REPLY_MAX_MB} MB"},
        )
    check_text(name, "filename")
    attachment_id = service.upload_reply_file(
        actor,
        filename=name,
        content_type=file.content_type or "application/octet-stream",
        content=content,
    )
    return _stored(service, actor, attachment_id, None)


@router.post(
    "/tickets/{key}/attachments",
    status_code=201,
    response_model=AttachedOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422),
    summary="Attach a file to a ticket's attachment field (If-Match optional)",
    description=(
        "Agents to any field of a ticket they may change; a requester to a field of "
        "their own ticket that is not internal. The file is added after those already "
        "in the field (or replaces the one file of a single-file field)."
    ),
)
def attach(
    key: TicketKey,
    field: FieldId,
    file: Upload,
    actor: ApiActor,
    service: ApiService,
    bundle: ApiBundle,
    if_match: IfMatch = None,
) -> AttachedOut:
    expected = parse_if_match(if_match, required=False)
    ticket = service.get_ticket(actor, key)
    ticket_type = bundle.ticket_types.get(ticket.type)
    definition = ticket_type.field_map.get(field) if ticket_type is not None else None
    if definition is None or definition.holds is not Holds.FILES:
        raise ValidationFailed(
            f"'{field}' is not an attachment field of {ticket.type}",
            {field: "is not an attachment field"},
        )
    attachment = _store(service, actor, ticket.type, field, file)
    with expect_version():
        result = service.add_files(actor, key, field, [attachment.id], expected_version=expected)
    out = ticket_out(result.ticket)
    return AttachedOut(**out.model_dump(), attachment=attachment)


def _disposition(filename: str) -> str:
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "/attachments/{attachment_id}",
    response_class=Response,
    responses={
        200: {
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            "description": (
                "The file, always as an attachment: a picture or PDF with its type when "
                "its bytes bear it out, anything else as application/octet-stream."
            ),
        },
        **error_responses(401, 404),
    },
    summary="Download an attachment",
)
def download(attachment_id: AttachmentId, actor: ApiActor, service: ApiService) -> Response:
    filename, content_type, content = service.read_attachment(actor, attachment_id)
    name = PurePosixPath(filename).name or "download"
    return Response(
        content,
        # The stored type only when the bytes bear it out (`ui.file_response`).
        media_type=inline_type(content_type, content) or "application/octet-stream",
        headers={
            "Content-Disposition": _disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
