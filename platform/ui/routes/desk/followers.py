"""Follow a ticket and copy colleagues in, from the desk's ticket page.

Each post is one write (`TicketService.follow`, `copy_in`) answered as every change on
the page is (`tickets.done`: the re-rendered ticket for htmx, a redirect otherwise); a
refused address shows the page again with the reason under the box.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from gongdan.errors import ValidationFailed
from gongdan.ui.deps import ServiceDep, StaffUser
from gongdan.ui.render import render
from gongdan.ui.routes.desk.tickets import done, page_context

__all__ = ["router"]

router = APIRouter()


@router.post("/desk/tickets/{key}/follow")
async def follow(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    following = form.get("follow", "yes") != "no"
    changed = service.follow(user.actor, key, following=following)
    notice = ("follow.now_following" if following else "follow.stopped") if changed else None
    return done(request, service, user, key, notice or "follow.unchanged")


@router.post("/desk/tickets/{key}/cc")
async def add_cc(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    email = str(form.get("email") or "")
    try:
        changed = service.copy_in(user.actor, key, email)
    except ValidationFailed as failed:
        context = page_context(request, service, user, key)
        context["cc_error"] = failed.fields.get("cc") or failed.detail
        headers = {"HX-Retarget": "#ticket", "HX-Reswap": "outerHTML"}
        return render(
            request, "desk/ticket.html", context, block="ticket", status_code=422, headers=headers
        )
    return done(request, service, user, key, "cc.added" if changed else "cc.already")


@router.post("/desk/tickets/{key}/cc/remove")
async def remove_cc(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    service.copy_in(user.actor, key, str(form.get("email") or ""), copied=False)
    return done(request, service, user, key, "cc.removed")
