"""Link, merge and split from the desk's ticket page.

`/desk/tickets/{key}/relate`: find the other ticket by key or title (the candidates are
the tickets the agent may see, as the search box finds them), choose how they relate,
and link at once; a merge asks for confirmation first, saying what moves where.
`/desk/tickets/{key}/split`: a title and the comments to move; confirmed the same way,
then the agent lands on the new ticket. Each form is a page of its own without
JavaScript and a block htmx swaps into the ticket page's `#relation-form`. The service
decides who may (staff who may see both tickets); a refusal re-renders the form with
the reason.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from gongdan.engine import Account, TicketQuery, TicketRecord, TicketService
from gongdan.errors import Conflict, NotFound, ValidationFailed
from gongdan.ui.deps import ServiceDep, StaffUser
from gongdan.ui.render import redirect, render
from gongdan.ui.routes.desk.tickets import done

__all__ = ["LINK_CHOICES", "router"]

router = APIRouter()

# What the form offers, in this order: each link kind in both readings, then merges.
LINK_CHOICES = (
    "relates",
    "duplicates",
    "duplicated_by",
    "blocks",
    "blocked_by",
    "parent_of",
    "child_of",
    "merge_into",  # this ticket is merged into the other
    "merge_from",  # the other is merged into this one
)
_MERGES = ("merge_into", "merge_from")
_CANDIDATES = 10
_MAX_QUERY = 200


def _candidates(service: TicketService, user: Account, key: str, text: str) -> list[TicketRecord]:
    """Tickets the agent may see matching `text` (a key, or words of a title), not
    this one."""
    text = text.strip()[:_MAX_QUERY]
    if not text or "\x00" in text:
        return []
    page = service.list_tickets(user.actor, TicketQuery(text=text, limit=_CANDIDATES + 1))
    return [t for t in page.items if t.key != key][:_CANDIDATES]


def _relate_context(
    service: TicketService,
    user: Account,
    key: str,
    *,
    text: str = "",
    target: str = "",
    action: str = "relates",
    error: str | None = None,
) -> dict[str, Any]:
    ticket = service.get_ticket(user.actor, key)
    return {
        "ticket": ticket,
        "q": text,
        "candidates": _candidates(service, user, key, text or target),
        "target": target,
        "action": action if action in LINK_CHOICES else "relates",
        "choices": LINK_CHOICES,
        "error": error,
        "confirm": None,
    }


@router.get("/desk/tickets/{key}/relate")
def relate_form(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    text = request.query_params.get("q", "")
    context = _relate_context(service, user, key, text=text)
    return render(request, "desk/relate.html", context, block="relate_form")


@router.get("/desk/tickets/{key}/relate/candidates")
def relate_candidates(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    """The candidates for what is typed so far (htmx, as the agent types)."""
    context = _relate_context(service, user, key, text=request.query_params.get("q", ""))
    return render(request, "desk/relate.html", context, block="candidates")


@router.post("/desk/tickets/{key}/relate")
async def relate(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    text, target, action = (_text(form, name) for name in ("q", "target", "action"))
    target = target.upper()
    service.get_ticket(user.actor, key)  # this ticket first: a 404 if the agent may not see it

    def again(error: str) -> Response:
        context = _relate_context(
            service, user, key, text=text, target=target, action=action, error=error
        )
        return render(request, "desk/relate.html", context, block="relate_form", status_code=422)

    if not target:
        return again("relate.choose_target")
    if action not in LINK_CHOICES:
        return again("relate.choose_action")
    try:
        other = service.get_ticket(user.actor, target)
        if action not in _MERGES:
            service.link(user.actor, key, other.key, action)
            return done(request, service, user, key, "relate.linked")
        source, survivor = (key, other.key) if action == "merge_into" else (other.key, key)
        if form.get("confirm") != "1":
            context = _relate_context(service, user, key, text=text, target=target, action=action)
            context["confirm"] = {
                "source": service.get_ticket(user.actor, source),
                "survivor": service.get_ticket(user.actor, survivor),
            }
            return render(request, "desk/relate.html", context, block="relate_form")
        service.merge(user.actor, source, survivor)
    except NotFound:
        return again("relate.not_found")
    except (ValidationFailed, Conflict) as refused:
        return again(refused.detail)
    if survivor == key:
        return done(request, service, user, key, "relate.merged")
    return redirect(request, f"/desk/tickets/{quote(survivor)}")


@router.post("/desk/tickets/{key}/unlink")
async def unlink(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    """Remove a link made by hand (merges and splits stay: they are history)."""
    form = await request.form()
    target, kind = _text(form, "target").upper(), _text(form, "kind")
    try:
        service.unlink(user.actor, key, target, kind)
    except NotFound:
        return done(request, service, user, key, "relate.not_found")
    except ValidationFailed as refused:
        return done(request, service, user, key, refused.detail)
    return done(request, service, user, key, "relate.unlinked")


# Split ------------------------------------------------------------------------------------


def _split_context(
    service: TicketService,
    user: Account,
    key: str,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    confirm: bool = False,
) -> dict[str, Any]:
    page = service.read_ticket_page(user.actor, key)
    values = values or {"title": "", "description": "", "comments": []}
    chosen = set(values["comments"])
    return {
        "ticket": page.ticket,
        "comments": page.comments,
        "values": values,
        "errors": errors or {},
        "confirm": confirm,
        "moving": [c for c in page.comments if c.id in chosen],
        "staying": [c for c in page.comments if c.id not in chosen],
    }


@router.get("/desk/tickets/{key}/split")
def split_form(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    context = _split_context(service, user, key)
    return render(request, "desk/split.html", context, block="split_form")


@router.post("/desk/tickets/{key}/split")
async def split(request: Request, key: str, user: StaffUser, service: ServiceDep) -> Response:
    form = await request.form()
    ids = [
        int(v)
        for v in form.getlist("comments")
        if isinstance(v, str) and v.isdigit() and len(v) < 19
    ]
    title, description = _text(form, "title"), _text(form, "description", 100_000)
    values: dict[str, Any] = {"title": title, "description": description, "comments": ids}
    if not title:
        context = _split_context(service, user, key, values=values, errors={"title": "is required"})
        return render(request, "desk/split.html", context, block="split_form", status_code=422)
    if form.get("confirm") != "1":
        context = _split_context(service, user, key, values=values, confirm=True)
        return render(request, "desk/split.html", context, block="split_form")
    try:
        new = service.split(
            user.actor, key, title=title, description=description, comments=ids,
        ).ticket  # fmt: skip
    except ValidationFailed as refused:
        errors = dict(refused.fields) or {"": refused.detail}
        context = _split_context(service, user, key, values=values, errors=errors)
        return render(request, "desk/split.html", context, block="split_form", status_code=422)
    return redirect(request, f"/desk/tickets/{quote(new.key)}")


def _text(form: FormData, name: str, limit: int = 300) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""
