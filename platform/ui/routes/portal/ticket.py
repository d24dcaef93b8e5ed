"""The requester's ticket page in the portal, and what a requester does there: reply,
add files, take the transitions open to them (reopen, confirm…), answer the survey,
download files.

The page is `TicketService.read_ticket_page(portal=True)`: the requester's view whoever
looks (a staff member may open the portal too), so only public comments, never an
internal field or its files, and only transitions a requester could take. Another
requester's ticket is a 404, like one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from gongdan.bundle.compiled import Bundle, FormSection, TicketTypeDef
from gongdan.engine import DEFAULT_MAX_BYTES, Account, TicketRecord, TicketService
from gongdan.errors import NotFound, ValidationFailed
from gongdan.forms.shapes import Holds
from gongdan.rules.progress import Step, progress_steps
from gongdan.rules.workflow import TransitionDef
from gongdan.ui.deps import BundleDep, CurrentUser, ServiceDep
from gongdan.ui.display import display_value
from gongdan.ui.fields import FormView, build_form, form_sections, read_form
from gongdan.ui.file_response import file_response
from gongdan.ui.i18n import language_for, localise
from gongdan.ui.render import render
from gongdan.ui.reply_files import reply_files
from gongdan.vocabulary import STAFF_ONLY_BUILTINS

__all__ = ["STAFF_ONLY_FIELDS", "router", "steps_of"]

router = APIRouter()
MAX_REPLY = 100_000  # characters of a reply
# Built-in fields a requester never changes on a ticket, even where a form places them
# (on the create form a ticket type may let them set some: `requester_may_set`).
STAFF_ONLY_FIELDS = frozenset({*STAFF_ONLY_BUILTINS, "requester"})


def steps_of(bundle: Bundle, ticket: TicketRecord) -> tuple[Step, ...]:
    """The progress step line of a ticket (empty for a type or state that is gone)."""
    ticket_type = bundle.ticket_types.get(ticket.type)
    workflow = bundle.workflows.get(ticket_type.workflow) if ticket_type else None
    return progress_steps(workflow, ticket.state) if workflow else ()


def _check_key(key: str) -> None:
    if len(key) > 32:
        raise NotFound(f"no ticket '{key[:32]}…'")


def _ticket(service: TicketService, user: Account, key: str) -> TicketRecord:
    _check_key(key)
    return service.get_ticket(user.actor, key)


def requester_transitions(service: TicketService, user: Account, key: str) -> list[TransitionDef]:
    """Transitions the user may take now that are not for staff only."""
    return service.transitions_for(user.actor, key, portal=True)


def ticket_fields(
    bundle: Bundle, ticket: TicketRecord, language: str, files: dict[str, str]
) -> list[tuple[str, str, Any]]:
    """(id, label, value) of the ticket's non-internal custom fields that have a value,
    in the order of its create form, then any others."""
    ticket_type = bundle.ticket_types.get(ticket.type)
    if ticket_type is None:
        return []
    placed = [f for s in form_sections(ticket_type, "create") for f in s.fields]
    order = list(dict.fromkeys([*placed, *(f.id for f in ticket_type.fields)]))
    out = []
    for field_id in order:
        field = ticket_type.field_map.get(field_id)
        value = ticket.data.get(field_id)
        if field is None or field.internal or value in (None, "", []):
            continue
        shown = display_value(bundle, field, value, language, files)
        out.append((field_id, localise(field.label, language) or field_id, shown))
    return out


def transition_form(
    request: Request,
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    transition: TransitionDef,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> FormView:
    """The fields a transition asks for (never internal or staff-only ones)."""
    hidden = {f.id for f in ticket_type.fields if f.internal} | STAFF_ONLY_FIELDS
    section = FormSection(None, tuple(f for f in transition.fields if f not in hidden))
    views = build_form(
        bundle,
        ticket_type,
        (section,),
        language_for(request),
        values or {},
        errors=errors,
        prefix=f"t-{transition.id}",
    )
    return FormView(views)


def _upload_fields(
    ticket_type: TicketTypeDef, state: str
) -> list[tuple[str, Any, bool, Any, tuple[str, ...]]]:
    """(id, label, multiple, size limit in MB, accepted types) of the attachment fields
    a requester may add files to."""
    return [
        (
            f.id,
            f.label,
            bool(f.params.get("multiple")),
            f.params.get("max_size_mb") or DEFAULT_MAX_BYTES // (1024 * 1024),
            tuple(f.params.get("accept") or ()),
        )
        for f in ticket_type.fields
        if f.holds is Holds.FILES and not f.internal and state not in f.readonly_in
    ]


def ticket_page(
    request: Request,
    service: TicketService,
    user: Account,
    key: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    """The whole ticket page (the requester's view of it, whoever looks); `errors` by
    form ("reply", "files", "survey", a transition)."""
    _check_key(key)
    page = service.read_ticket_page(user.actor, key, portal=True)
    bundle, ticket, language = service.bundle, page.ticket, language_for(request)
    ticket_type = bundle.ticket_types.get(ticket.type)
    files = {str(a.id): a.filename for a in page.attachments}
    errors = errors or {}
    transitions = []
    if ticket_type is not None:
        for transition in page.transitions:
            form_errors = errors.get(f"transition:{transition.id}")
            form = transition_form(request, bundle, ticket_type, transition, values, form_errors)
            transitions.append((transition, form, form_errors or {}))
    survey = page.surveys[0] if page.surveys else None
    context = {
        "ticket": ticket,
        "ticket_type": ticket_type,
        "steps": steps_of(bundle, ticket),
        "fields": ticket_fields(bundle, ticket, language, files),
        "attachments": page.attachments,
        "comments": page.comments,
        "transitions": transitions,
        "survey": survey,
        "may_answer": survey is not None and survey.pending and ticket.requester == user.email,
        "upload_fields": _upload_fields(ticket_type, ticket.state) if ticket_type else [],
        "errors": errors,
        "values": values or {},
        # Issue 21: the colleagues copied in; only the requester copies more in.
        "cc": page.cc,
        "may_copy_in": ticket.requester == user.email,
    }
    return render(request, "portal/ticket.html", context, status_code=status_code)


def _back(key: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/portal/tickets/{quote(key)}{anchor}", status_code=303)


@router.get("/portal/tickets/{key}")
def show_ticket(request: Request, key: str, user: CurrentUser, service: ServiceDep) -> Response:
    return ticket_page(request, service, user, key)


@router.post("/portal/tickets/{key}/reply")
async def reply(request: Request, key: str, user: CurrentUser, service: ServiceDep) -> Response:
    """The requester's reply, with files (`ui.reply_files`: kept for the next send when
    the reply is refused)."""
    replied_to = _ticket(service, user, key)
    async with request.form() as form:
        raw = form.get("body")
        body = raw[: MAX_REPLY + 1] if isinstance(raw, str) else ""
        files, refused = await reply_files(form, service, user.actor)
    values = {"body": body, "files": files}
    problem = {"files": refused} if refused else {}
    if len(body) > MAX_REPLY:
        problem["comment"] = f"must be at most {MAX_REPLY} characters"
    if not problem:
        try:
            landed = service.add_comment(
                user.actor, key, body, public=True, files=[f.id for f in files]
            ).ticket.key
        except ValidationFailed as failed:
            problem = {
                name: failed.fields[name] for name in ("comment", "files") if name in failed.fields
            } or {"comment": failed.detail}
    if problem:
        errors = {"reply": problem}
        return ticket_page(
            request, service, user, key, errors=errors, status_code=422, values=values
        )
    if landed != key and landed == replied_to.merged_into:  # it goes on where it was merged
        return _back(landed, "#conversation")
    if landed != key:  # the ticket was closed: the reply started a follow-up
        target = f"/portal/tickets/{quote(landed)}?{urlencode({'follow_up_of': key})}"
        return RedirectResponse(target, status_code=303)
    return _back(key, "#conversation")


@router.post("/portal/tickets/{key}/transitions/{transition_id}")
async def take_transition(
    request: Request,
    key: str,
    transition_id: str,
    user: CurrentUser,
    service: ServiceDep,
    bundle: BundleDep,
) -> Response:
    ticket = _ticket(service, user, key)
    offered = {t.id: t for t in requester_transitions(service, user, key)}
    transition = offered.get(transition_id)
    ticket_type = bundle.ticket_types.get(ticket.type)
    if transition is None or ticket_type is None:
        raise NotFound(f"{key}: no transition '{transition_id[:64]}' you may take now")
    form = await request.form()
    field_ids = [f for f in transition.fields if f not in STAFF_ONLY_FIELDS]
    values = read_form(form, ticket_type, field_ids)
    custom = {k: v for k, v in values.items() if k in ticket_type.field_map}
    comment = form.get("comment")
    text = comment if isinstance(comment, str) else ""
    try:
        service.take_transition(
            user.actor,
            key,
            transition.id,
            fields=custom or None,
            comment=text or None,
            public=True,
            expected_version=_version(form.get("version")),
        )
    except ValidationFailed as failed:
        errors = {f"transition:{transition.id}": failed.fields or {"comment": failed.detail}}
        return ticket_page(
            request,
            service,
            user,
            key,
            errors=errors,
            status_code=422,
            values={**values, "comment": text},
        )
    return _back(key)


def _version(value: Any) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() and len(value) < 10 else None


@router.post("/portal/tickets/{key}/survey")
def answer_survey(
    request: Request,
    key: str,
    user: CurrentUser,
    service: ServiceDep,
    rating: Annotated[str, Form(max_length=8)] = "",
    comment: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    _ticket(service, user, key)
    try:
        service.answer_survey(user.actor, key, rating, comment)
    except ValidationFailed as failed:
        errors = {"survey": failed.fields or {"rating": failed.detail}}
        return ticket_page(
            request,
            service,
            user,
            key,
            errors=errors,
            status_code=422,
            values={"survey_comment": comment},
        )
    return _back(key, "#survey")


@router.post("/portal/tickets/{key}/files")
async def add_files(request: Request, key: str, user: CurrentUser, service: ServiceDep) -> Response:
    """Add one or more files (a plain multipart form) to an attachment field."""
    ticket = _ticket(service, user, key)
    try:
        return await _add_files(request, key, ticket, user, service)
    finally:
        await request.close()  # the spooled uploads are closed now, not by the collector


async def _add_files(
    request: Request, key: str, ticket: TicketRecord, user: Account, service: TicketService
) -> Response:
    form = await request.form()
    field_id = str(form.get("field") or "")
    parts = [p for p in form.getlist("files") if isinstance(p, UploadFile) and p.filename][:20]
    try:
        if not parts:
            raise ValidationFailed("no file was sent", {"files": "choose a file to upload"})
        ids = []
        for part in parts:
            content = await part.read(DEFAULT_MAX_BYTES + 1)
            if len(content) > DEFAULT_MAX_BYTES:
                raise ValidationFailed("the file is too large", {"files": "the file is too large"})
            attachment_id = service.upload(
                user.actor,
                ticket.type,
                field_id,
                filename=part.filename or "upload",
                content_type=part.content_type or "application/octet-stream",
                content=content,
            )
            ids.append(attachment_id)
        service.add_files(user.actor, key, field_id, ids)
    except ValidationFailed as failed:
        message = next(iter(failed.fields.values()), failed.detail)
        errors = {"files": {"files": message}}
        return ticket_page(request, service, user, key, errors=errors, status_code=422)
    return _back(key, "#files")


@router.get("/portal/attachments/{attachment_id}")
def download(
    request: Request, attachment_id: str, user: CurrentUser, service: ServiceDep
) -> Response:
    """A file the requester may read: pictures and PDFs shown inline when their bytes
    say so (`?download=1`: always a download), anything else downloaded
    (`ui.file_response`: never rendered as a page in our origin)."""
    filename, content_type, content = service.read_attachment(user.actor, attachment_id)
    wanted = request.query_params.get("download") == "1"
    return file_response(filename, content_type, content, download=wanted)
