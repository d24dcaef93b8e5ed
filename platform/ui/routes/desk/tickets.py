"""The desk's ticket page: fields edited in place, timeline, reply box, one button per
transition the agent may take now (with its form when it asks for fields or a comment),
assignment, SLA badges with their explanation, attachments and linked tickets.

The page is one service read (`TicketService.read_ticket_page`). Every change answers
an htmx request with the page's `ticket` block re-rendered (so versions, buttons and
the timeline agree), and anything else with a redirect to the page; a refused change
re-renders only its own form, errors under the right fields.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from starlette.responses import RedirectResponse, Response

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.engine import Account, EventRecord, TicketRecord, TicketService
from gongdan.errors import NotFound, ValidationFailed
from gongdan.forms.data import check_ticket_data
from gongdan.rules.workflow import TransitionDef
from gongdan.ui.deps import PresenceDep, ServiceDep, StaffUser
from gongdan.ui.fields import (
    FormView,
    build_form,
    changed_dependents,
    form_sections,
    read_form,
    transition_fields_form,
)
from gongdan.ui.file_response import file_response
from gongdan.ui.i18n import language_for
from gongdan.ui.presence import POLL_SECONDS
from gongdan.ui.render import is_htmx, redirect, render, render_fragment
from gongdan.ui.reply_files import reply_files
from gongdan.ui.routes.desk.new import upload_file
from gongdan.ui.timeline import TimelineItem, build_timeline, sla_views
from gongdan.vocabulary import EDITABLE_BUILTINS

__all__ = ["done", "page_context", "router"]

router = APIRouter()
# The links an agent may remove, as read from the ticket shown: those made by hand
# (merges, splits and follow-ups are history).
UNLINKABLE_LINKS = frozenset(
    ("relates", "duplicates", "duplicated_by", "blocks", "blocked_by", "parent_of", "child_of")
)
MAX_REPLY = 100_000  # characters of a reply
_NOT_ON_FIELD_FORM = ("team", "assignee", "requester")  # assigned in their own form


def _values(ticket: TicketRecord) -> dict[str, Any]:
    return {
        **ticket.data,
        "title": ticket.title,
        "description": ticket.description,
        "priority": ticket.priority,
        "tags": list(ticket.tags),
        "team": ticket.team,
        "assignee": ticket.assignee,
        "state": ticket.state,
        "type": ticket.type,
    }


def page_context(
    request: Request,
    service: TicketService,
    user: Account,
    key: str,
    *,
    field_values: dict[str, Any] | None = None,
    field_errors: dict[str, str] | None = None,
    reply: dict[str, Any] | None = None,
    notice: str | None = None,
) -> dict[str, Any]:
    """Everything the ticket page shows (raises NotFound for a ticket the user may
    not see: an agent outside its teams learns nothing about it)."""
    bundle, language = service.bundle, language_for(request)
    page = service.read_ticket_page(user.actor, key)
    ticket, now = page.ticket, page.read_at
    ticket_type = bundle.ticket_types.get(ticket.type)
    names = {str(f.id): f.filename for f in page.attachments}
    form = None
    if ticket_type is not None:
        values = {**_values(ticket), **(field_values or {})}
        sections = build_form(
            bundle, ticket_type, form_sections(ticket_type, "agent"), language, values,
            errors=field_errors, context=values, now=now, state=ticket.state, prefix="tk",
            files=names, skip=_NOT_ON_FIELD_FORM,
        )  # fmt: skip
        upload_url = f"/desk/tickets/{quote(key)}/upload/{{field}}"
        check_url = f"/desk/tickets/{quote(key)}/fields/check"
        form = FormView(sections, check_url, upload_url, staff=page.assignable)
    return {
        "ticket": ticket,
        "ticket_type": ticket_type,
        "form": form,
        "field_errors": field_errors or {},
        "transitions": page.transitions,
        "timeline": build_timeline(bundle, ticket_type, page.events, page.comments, language),
        "slas": sla_views(page.sla, now, language),
        "files": page.attachments,
        "links": page.links,
        "unlinkable": UNLINKABLE_LINKS,
        "people": page.assignable,
        "deliveries": page.deliveries,
        "reply": reply or {"public": True, "body": "", "error": None, "files": []},
        # The last event on the page: a reply sent after others changed the ticket
        # shows what changed first (`comment`), and the page polls for it (`activity`).
        "seen": max((e.id for e in page.events), default=0),
        "changed": [],
        "poll_seconds": POLL_SECONDS,
        "notice": notice,
        "now": now,
        # Issue 21: the macros offered for this ticket, its followers and CCs.
        "macros": [m for m in bundle.macros.values() if m.applies_to(ticket.type, ticket.team)],
        "followers": page.followers,
        "cc": page.cc,
        "following": any(email == user.email for email, _ in page.followers),
    }


def _page(request: Request, context: dict[str, Any], *, status_code: int = 200) -> Response:
    return render(request, "desk/ticket.html", context, status_code=status_code)


def done(
    request: Request, service: TicketService, user: Account, key: str, notice: str
) -> Response:
    """After a change: the re-rendered ticket (htmx) or a redirect to the page."""
    try:
        context = page_context(request, service, user, key, notice=notice)
    except NotFound:
        # The change moved the ticket out of this agent's teams (re-routed, say).
        return redirect(request, "/desk")
    if not is_htmx(request):
        return RedirectResponse(f"/desk/tickets/{quote(key)}", status_code=303)
    headers = {"HX-Retarget": "#ticket", "HX-Reswap": "outerHTML"}
    return render(request, "desk/ticket.html", context, block="ticket", headers=headers)


@router.get("/desk/tickets/{key}")
def ticket_page(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    return _page(request, page_context(request, service, user, key))


@router.post("/desk/tickets/{key}/fields")
async def save_fields(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    ticket = service.get_ticket(user.actor, key)
    ticket_type = service.bundle.ticket_types.get(ticket.type)
    if ticket_type is None:
        raise NotFound(f"ticket type '{ticket.type}' no longer exists")
    form = await request.form()
    values = read_form(form, ticket_type, _editable(ticket_type, ticket.state))
    changes = {
        k: v for k, v in values.items() if k in ticket_type.field_map or k in EDITABLE_BUILTINS
    }
    version = str(form.get("version") or "")
    try:
        if changes:
            service.update_ticket(
                user.actor, key, changes,
                expected_version=int(version) if version.isdigit() else None,
            )  # fmt: skip
    except ValidationFailed as failed:
        context = page_context(
            request, service, user, key, field_values=values,
            field_errors=failed.fields or {"": failed.detail},
        )  # fmt: skip
        return render(request, "desk/ticket.html", context, block="fields", status_code=422)
    return done(request, service, user, key, "ticket.saved")


def _editable(ticket_type: TicketTypeDef, state: str) -> list[str]:
    """The agent form's fields that this form edits in `state`."""
    return [
        f
        for section in form_sections(ticket_type, "agent")
        for f in section.fields
        if f not in _NOT_ON_FIELD_FORM
        and not (f in ticket_type.field_map and state in ticket_type.field_map[f].readonly_in)
    ]


@router.post("/desk/tickets/{key}/fields/check")
async def check_fields(
    request: Request, key: str, user: StaffUser, service: ServiceDep
) -> Response:
    """After a field of the agent form changed: its dependents re-rendered (shown,
    hidden, required) and its own error, as out-of-band swaps; focus stays put."""
    ticket = service.get_ticket(user.actor, key)
    ticket_type = service.bundle.ticket_types.get(ticket.type)
    if ticket_type is None:
        raise NotFound(f"ticket type '{ticket.type}' no longer exists")
    changed = (request.headers.get("hx-trigger-name") or "").removesuffix("__offset")
    values = read_form(await request.form(), ticket_type, _editable(ticket_type, ticket.state))
    current = {**_values(ticket), **values}
    errors: dict[str, str] = {}
    if changed in ticket_type.field_map and changed in values:
        try:
            check_ticket_data(
                ticket_type.fields, {changed: values[changed]}, context=current, partial=True
            )
        except ValidationFailed as failed:
            errors = {changed: failed.fields.get(changed, failed.detail)}
    sections = build_form(
        service.bundle, ticket_type, form_sections(ticket_type, "agent"), language_for(request),
        current, errors=errors, context=current, now=service.clock(), state=ticket.state,
        prefix="tk", skip=_NOT_ON_FIELD_FORM,
    )  # fmt: skip
    form = FormView(sections, f"/desk/tickets/{quote(key)}/fields/check")
    fields = form.fields
    context = {
        "form": form,
        "refresh": [fields[d] for d in changed_dependents(ticket_type, changed) if d in fields],
        "changed": fields.get(changed),
    }
    return render_fragment(request, "partials/field_refresh.html", context)


@router.post("/desk/tickets/{key}/assign")
def assign(
    request: Request,
    key: str,
    user: StaffUser,
    service: ServiceDep,
    team: Annotated[str, Form(max_length=100)] = "",
    assignee: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    service.assign(user.actor, key, team=team, assignee=assignee)
    return done(request, service, user, key, "ticket.saved")


def _newer(service: TicketService, user: Account, key: str, seen: int | None) -> list[EventRecord]:
    """What others did to ticket `key` after event `seen` (the last on the agent's page)."""
    if seen is None:
        return []
    return [
        e
        for e in service.list_events(user.actor, key)
        if e.id > seen and e.ticket_key == key and (e.actor or "") != user.email
    ]


def _seen(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _changes(
    request: Request, service: TicketService, user: Account, key: str, events: list[EventRecord]
) -> list[TimelineItem]:
    """What `events` did, as the timeline says it (the replies among them in full)."""
    if not events:
        return []
    page = service.read_ticket_page(user.actor, key)
    since = min(e.at for e in events)
    comments = [
        c for c in page.comments if c.created_at >= since and (c.author or "") != user.email
    ]
    ticket_type = service.bundle.ticket_types.get(page.ticket.type)
    return build_timeline(service.bundle, ticket_type, events, comments, language_for(request))


@router.get("/desk/tickets/{key}/activity")
def activity(
    request: Request, key: str, user: StaffUser, service: ServiceDep, presence: PresenceDep
) -> Response:
    """The collision warning (polled by the open page): who else is viewing the ticket,
    and what others changed since the page was loaded (`seen`: its last event's id)."""
    service.get_ticket(user.actor, key)  # a 404 for a ticket the agent may not see
    seen = _seen(request.query_params.get("seen"))
    context = {
        "ticket_key": key,
        "seen": seen,
        "viewers": presence.seen(key, user.email, user.name),
        "changes": _changes(request, service, user, key, _newer(service, user, key, seen)),
        "poll_seconds": POLL_SECONDS,
    }
    return render_fragment(request, "desk/activity.html", context)


@router.post("/desk/tickets/{key}/comments")
async def comment(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    """A reply or internal note, with files (`ui.reply_files`: stored first, so a reply
    held by the collision warning or refused keeps them for the next send)."""
    service.get_ticket(user.actor, key)  # a 404 before any file is stored
    async with request.form() as form:
        body = _text(form.get("body"), MAX_REPLY + 1)
        public = _text(form.get("visibility"), 16) != "internal"
        seen, confirmed = _text(form.get("seen"), 20), _text(form.get("confirmed"), 1)
        files, refused = await reply_files(form, service, user.actor)
    reply = {"public": public, "body": body, "error": None, "files": files, "files_error": refused}
    if len(body) > MAX_REPLY:
        reply["error"] = f"must be at most {MAX_REPLY} characters"
    if refused or reply["error"]:
        context = page_context(request, service, user, key, reply=reply)
        return render(request, "desk/ticket.html", context, block="reply", status_code=422)
    newer = _newer(service, user, key, _seen(seen))
    if newer and confirmed != "1":
        # The ticket changed since the agent opened it: show what first; sending again
        # (as it is or edited) confirms.
        context = page_context(request, service, user, key, reply=reply)
        context["changed"] = _changes(request, service, user, key, newer)
        return render(request, "desk/ticket.html", context, block="reply", status_code=409)
    try:
        service.add_comment(user.actor, key, body, public=public, files=[f.id for f in files])
    except ValidationFailed as failed:
        reply["error"] = failed.fields.get("comment") or (
            None if "files" in failed.fields else failed.detail
        )
        reply["files_error"] = failed.fields.get("files")
        context = page_context(request, service, user, key, reply=reply)
        return render(request, "desk/ticket.html", context, block="reply", status_code=422)
    return done(request, service, user, key, "ticket.saved")


def _text(value: object, limit: int) -> str:
    """A posted text field (cut at `limit`; a file posted in its place reads as "")."""
    return value[:limit] if isinstance(value, str) else ""


def _transition(
    service: TicketService, user: Account, key: str, transition_id: str
) -> TransitionDef:
    for transition in service.transitions_for(user.actor, key):
        if transition.id == transition_id:
            return transition
    raise NotFound(f"'{transition_id}' cannot be taken on {key} now")


def _transition_context(
    request: Request,
    service: TicketService,
    user: Account,
    key: str,
    transition: TransitionDef,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    ticket = service.get_ticket(user.actor, key)
    ticket_type = service.bundle.ticket_types[ticket.type]
    current = {**_values(ticket), **(values or {})}
    form = transition_fields_form(
        service.bundle, ticket_type, transition, language_for(request), current,
        errors=errors, prefix="tr",
    )  # fmt: skip
    return {
        "ticket": ticket,
        "transition": transition,
        "form": form,
        "comment": (values or {}).get("comment", ""),
        "public": (values or {}).get("public", True),
        "errors": errors or {},
    }


@router.get("/desk/tickets/{key}/transitions/{transition_id}")
def transition_form(
    request: Request, key: str, transition_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    transition = _transition(service, user, key, transition_id)
    context = _transition_context(request, service, user, key, transition)
    return render(request, "desk/transition.html", context, block="transition_form")


@router.post("/desk/tickets/{key}/transitions/{transition_id}")
async def take_transition(
    request: Request, key: str, transition_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    form = await request.form()
    ticket = service.get_ticket(user.actor, key)
    ticket_type = service.bundle.ticket_types.get(ticket.type)
    transition = next(
        (t for t in service.transitions_for(user.actor, key) if t.id == transition_id), None
    )
    fields = read_form(form, ticket_type, transition.fields) if ticket_type and transition else {}
    comment_text = str(form.get("comment") or "")
    public = form.get("visibility") != "internal"
    try:
        service.take_transition(
            user.actor, key, transition_id, fields=fields or None,
            comment=comment_text or None, public=public,
        )  # fmt: skip
    except ValidationFailed as failed:
        if transition is None:
            raise
        values = {**fields, "comment": comment_text, "public": public}
        context = _transition_context(
            request, service, user, key, transition, values, failed.fields or {"": failed.detail}
        )
        return render(
            request, "desk/transition.html", context, block="transition_form", status_code=422
        )
    return done(request, service, user, key, "ticket.saved")


@router.post("/desk/tickets/{key}/upload/{field_id}")
async def upload(
    request: Request, key: str, field_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    ticket = service.get_ticket(user.actor, key)
    return await upload_file(request, ticket.type, field_id, user, service, prefix="tk")


@router.get("/desk/attachments/{attachment_id}")
def download(
    request: Request, attachment_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    """A file: pictures and PDFs shown inline when their bytes say so (`?download=1`:
    always a download), anything else downloaded (`ui.file_response`)."""
    filename, content_type, content = service.read_attachment(user.actor, attachment_id)
    wanted = request.query_params.get("download") == "1"
    return file_response(filename, content_type, content, download=wanted)
