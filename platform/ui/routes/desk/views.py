"""An agent's saved views: the current filter of a queue (its filters, sort and
columns) saved under a name, listed in the desk's sidebar next to the queues and views
of the config, renamed and deleted on `/desk/views`. Personal only: another agent's
view is a 404 (`AccountService.save_view`, `rename_view`, `delete_view`).

Opening one (`/desk/views/{id}`) redirects to its queue with its parameters, so a
saved view is exactly the link the agent had on screen.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from gongdan.errors import NotFound, ValidationFailed
from gongdan.ui.deps import QueuesDep, ServiceDep, StaffUser
from gongdan.ui.render import redirect, render

__all__ = ["SAVED_KEYS", "router", "view_url"]

router = APIRouter()
# The queue page's parameters a view keeps (its filters, sort and columns; never a cursor).
SAVED_KEYS = (
    "state", "priority", "team", "type", "assignee", "q", "field", "value", "sort", "dir", "cols",
)  # fmt: skip
_MAX_ID = 2**63 - 1


def view_url(view_id: int, queue: str, filters: dict[str, str]) -> str:
    query = urlencode({**{k: v for k, v in filters.items() if k in SAVED_KEYS}, "view": view_id})
    return f"/desk/queues/{quote(queue)}?{query}"


def _view_id(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= _MAX_ID:
        raise NotFound(f"no saved view {text!r}")
    return int(text)


@router.get("/desk/views")
def list_views(request: Request, user: StaffUser, service: ServiceDep) -> Response:
    views = service.accounts.list_saved_views(user.actor)
    return render(request, "desk/views.html", {"views": views, "view_url": view_url})


@router.post("/desk/views")
async def save_view(
    request: Request, user: StaffUser, service: ServiceDep, queues: QueuesDep
) -> Response:
    form = await request.form()
    queue_id = str(form.get("queue") or "")
    queues.queue(user.actor, queue_id)  # an unknown queue is a 404 before anything is kept
    filters = {k: v for k, v in parse_qsl(str(form.get("query") or "")) if k in SAVED_KEYS}
    columns = [c for c in filters.get("cols", "").split(",") if c]
    view = service.accounts.save_view(
        user.actor, str(form.get("name") or ""), queue_id, filters, columns
    )
    return redirect(request, view_url(view.id, view.queue, dict(view.filters)))


@router.get("/desk/views/{view_id}")
def open_view(view_id: str, user: StaffUser, service: ServiceDep) -> Response:
    wanted = _view_id(view_id)
    for view in service.accounts.list_saved_views(user.actor):
        if view.id == wanted:
            return RedirectResponse(view_url(view.id, view.queue, dict(view.filters)), 303)
    raise NotFound(f"no saved view {view_id}")


@router.post("/desk/views/{view_id}/rename")
async def rename_view(
    request: Request, view_id: str, user: StaffUser, service: ServiceDep
) -> Response:
    form = await request.form()
    try:
        service.accounts.rename_view(user.actor, _view_id(view_id), str(form.get("name") or ""))
    except ValidationFailed as failed:
        views = service.accounts.list_saved_views(user.actor)
        context = {"views": views, "view_url": view_url, "errors": {view_id: failed.fields}}
        return render(request, "desk/views.html", context, status_code=422)
    return redirect(request, "/desk/views")


@router.post("/desk/views/{view_id}/delete")
def delete_view(request: Request, view_id: str, user: StaffUser, service: ServiceDep) -> Response:
    service.accounts.delete_view(user.actor, _view_id(view_id))
    return redirect(request, "/desk/views")
