"""Macros on the ticket page: pick one, see the reply it fills in and what it changes,
edit the reply, send. The preview is a GET (`/desk/tickets/{key}/macro?macro=ID`: the
form htmx swaps under the actions, or a page of its own without JavaScript); the
POST applies it in one write (`TicketService.apply_macro`: all or nothing). A refusal
shows the form again with the typed reply and the reason, by field label.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongdan.engine import Account, TicketService
from gongdan.errors import NotFound, TransitionNotAllowed, ValidationFailed
from gongdan.ui.deps import ServiceDep, StaffUser
from gongdan.ui.i18n import language_for, localise, translate
from gongdan.ui.macro_view import agent_of, macro_changes, reply_for_ticket
from gongdan.ui.render import render
from gongdan.ui.routes.desk.tickets import done

__all__ = ["router"]

router = APIRouter()


def _context(
    request: Request,
    service: TicketService,
    user: Account,
    key: str,
    macro_id: str,
    *,
    body: str | None = None,
    public: bool | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    ticket = service.get_ticket(user.actor, key)
    offered = {m.id: m for m in service.list_macros(user.actor, key)}
    macro = offered.get(macro_id)
    if macro is None:
        raise NotFound(f"no macro '{macro_id}' for {key}")
    language = language_for(request)
    if body is None:
        body = reply_for_ticket(service, service.bundle, macro, ticket, agent_of(user))
    return {
        "ticket": ticket,
        "macro": macro,
        "macro_name": localise(macro.name, language),
        "changes": macro_changes(service.bundle, macro, ticket.type, language),
        "body": body,
        "public": macro.public if public is None else public,
        "errors": errors or {},
        "error_labels": error_labels(service, ticket.type, errors or {}, language),
    }


def error_labels(
    service: TicketService, type_id: str, errors: dict[str, str], language: str
) -> dict[str, str]:
    """The label to show before each error: a field's label, never its id."""
    ticket_type = service.bundle.ticket_types.get(type_id)
    out = {}
    for name in errors:
        field = ticket_type.field_map.get(name) if ticket_type else None
        if field is not None:
            out[name] = localise(field.label, language) or name
        elif name in ("body", "comment"):
            out[name] = translate(language, "macro.reply")
        elif name in ("transition", "macro", "priority", "tags"):
            out[name] = translate(language, f"macro.part.{name}")
    return out


@router.get("/desk/tickets/{key}/macro")
def macro_form(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    macro_id = request.query_params.get("macro", "").strip()
    if not macro_id:
        raise ValidationFailed("choose a macro", {"macro": "choose a macro"})
    context = _context(request, service, user, key, macro_id)
    return render(request, "desk/macro.html", context, block="macro_form")


@router.post("/desk/tickets/{key}/macro")
async def apply_macro(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    macro_id = str(form.get("macro") or "").strip()
    body = str(form.get("body") or "")
    public = form.get("visibility") != "internal"
    try:
        service.apply_macro(user.actor, key, macro_id, reply=body, public=public)
    except (ValidationFailed, TransitionNotAllowed) as failed:
        fields = failed.fields if isinstance(failed, ValidationFailed) else failed.extra
        errors = dict(fields) or {"": failed.detail}
        if "comment" in errors:  # the transition's comment is this form's reply
            errors["body"] = errors.pop("comment")
        context = _context(
            request, service, user, key, macro_id, body=body, public=public, errors=errors
        )
        return render(request, "desk/macro.html", context, block="macro_form", status_code=422)
    return done(request, service, user, key, "macro.applied")
