"""The desk's search box (on every desk page): a ticket's key opens that ticket; any
other text opens the search results, the queue of every ticket the agent may see
(`/desk/queues/search`), filtered by the text with the queue's filters, sorts, pages
and bulk actions. Scoped exactly as the queues are (the engine's scope)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from gongdan.engine import KEY_SHAPE
from gongdan.errors import NotFound
from gongdan.forms.types.references import USER_ROLES
from gongdan.ui.deps import ServiceDep, StaffUser
from gongdan.ui.render import render_fragment

__all__ = ["router"]

router = APIRouter()
_KEY = KEY_SHAPE
_MAX_QUERY = 200


@router.get("/desk/people")
def people(request: Request, user: StaffUser, service: ServiceDep) -> Response:
    """The options of a user field's picker for what is typed so far (htmx, as one
    types): active users of the field's `role` whose name or email contain it. The value
    typed is the input's own (its name given as `for`); in a list of several, the part
    after the last comma. Saving still checks the user exists, is active and fits."""
    name = request.query_params.get("for", "")
    typed = request.query_params.get(name, "") if name else ""
    role = request.query_params.get("role") or None
    text = typed.rsplit(",", 1)[-1].strip()[:_MAX_QUERY]
    found = service.find_people(user.actor, text, role if role in USER_ROLES else None)
    return render_fragment(request, "fields/people_options.html", {"people": found})


@router.get("/desk/search")
def search(request: Request, user: StaffUser, service: ServiceDep) -> Response:
    text = request.query_params.get("q", "").replace("\x00", "").strip()[:_MAX_QUERY]
    if not text:
        return RedirectResponse("/desk/queues", status_code=303)
    if _KEY.match(text):
        try:
            ticket = service.get_ticket(user.actor, text.upper())
        except NotFound:
            pass  # not a ticket they may see: search for the text instead
        else:
            return RedirectResponse(f"/desk/tickets/{quote(ticket.key)}", status_code=303)
    return RedirectResponse(f"/desk/queues/search?{urlencode({'q': text})}", status_code=303)
