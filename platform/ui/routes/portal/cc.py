"""The portal's CC box (issue 21): the requester copies colleagues in on their ticket by
address, or stops. A CC'd colleague signed in sees the ticket exactly as the requester
does (the engine's scoping), and may not copy others in."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from gongdan.errors import ValidationFailed
from gongdan.ui.deps import CurrentUser, ServiceDep
from gongdan.ui.routes.portal.ticket import ticket_page

__all__ = ["router"]

router = APIRouter()


@router.post("/portal/tickets/{key}/cc")
async def add_cc(request: Request, key: str, user: CurrentUser, service: ServiceDep) -> Response:
    form = await request.form()
    try:
        service.copy_in(user.actor, key, str(form.get("email") or ""))
    except ValidationFailed as failed:
        errors = {"cc": dict(failed.fields) or {"cc": failed.detail}}
        return ticket_page(request, service, user, key, errors=errors, status_code=422)
    return RedirectResponse(f"/portal/tickets/{quote(key)}#cc", status_code=303)


@router.post("/portal/tickets/{key}/cc/remove")
async def remove_cc(request: Request, key: str, user: CurrentUser, service: ServiceDep) -> Response:
    form = await request.form()
    service.copy_in(user.actor, key, str(form.get("email") or ""), copied=False)
    return RedirectResponse(f"/portal/tickets/{quote(key)}#cc", status_code=303)
