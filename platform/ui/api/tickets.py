"""`/api/v1/tickets`: create, list (filters, cursor pages), read and change tickets.

Every route calls `TicketService` with the caller's actor, so the API scopes exactly as
the UI does: requesters see their own tickets and never an internal field.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from gongdan.engine import FILTER_OPS, LIST_SORTS, MAX_PAGE, FieldFilter, TicketQuery, WriteResult
from gongdan.errors import ValidationFailed
from gongdan.ui.api.deps import (
    ApiActor,
    ApiService,
    IfMatch,
    TicketKey,
    expect_version,
    parse_if_match,
)
from gongdan.ui.api.errors import DYNAMIC_QUERY, ApiRoute, error_responses
from gongdan.ui.api.models import (
    TicketCreate,
    TicketOut,
    TicketPage,
    TicketPatch,
    ticket_out,
    ticket_response,
)

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["tickets"])

LIST_HELP = f"""Tickets the caller may see, newest first by default, one page at a time.

Custom fields filter as `fields.<id>=value` (repeat for any of several values) or
`fields.<id>.<op>=value` with op one of {", ".join(FILTER_OPS)}, e.g.
`?fields.category=hardware&fields.amount.gt=1000`. `sort` is one of
{", ".join(LIST_SORTS)}, with `-` for descending (`-created_at`). Pass `next_cursor` back as
`cursor` for the next page (the other parameters unchanged)."""


def _many(value: str | None) -> list[str]:
    """A comma-separated list (`?state=new,in_progress`)."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _field_filters(request: Request) -> list[FieldFilter]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, value in request.query_params.multi_items():
        if not name.startswith("fields."):
            continue
        field, _, op = name.removeprefix("fields.").partition(".")
        if not field:
            raise ValidationFailed(f"'{name}' names no field", {name: "needs a field id"})
        grouped.setdefault((field, op or "eq"), []).append(value)
    filters = []
    for (field, op), values in grouped.items():
        if op == "eq" and len(values) > 1:
            filters.append(FieldFilter(field, "in", tuple(values)))
        else:
            filters.append(FieldFilter(field, op, values[-1]))
    return filters


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
    summary="Create a ticket",
)
def create_ticket(body: TicketCreate, actor: ApiActor, service: ApiService) -> Response:
    values: dict[str, Any] = body.model_dump(exclude={"type"}, exclude_none=True)
    result: WriteResult = service.create_ticket(actor, body.type, **values)
    location = {"Location": f"/api/v1/tickets/{result.ticket.key}"}
    return ticket_response(result.ticket, status_code=201, headers=location)


@router.get(
    "/tickets",
    response_model=TicketPage,
    responses=error_responses(401, 422),
    summary="List tickets",
    description=LIST_HELP,
    openapi_extra={DYNAMIC_QUERY: "fields."},
)
def list_tickets(
    request: Request,
    actor: ApiActor,
    service: ApiService,
    type: Annotated[str | None, Query(description="Ticket type ids, comma-separated.")] = None,
    state: Annotated[str | None, Query(description="State ids, comma-separated.")] = None,
    state_category: Annotated[
        str | None, Query(description="Of new, open, pending, resolved, closed.")
    ] = None,
    priority: Annotated[str | None, Query(description="Of low, normal, high, urgent.")] = None,
    team: Annotated[str | None, Query(description="Team ids, comma-separated.")] = None,
    assignee: Annotated[str | None, Query(description="An email, `me` or `none`.")] = None,
    requester: Annotated[str | None, Query(description="An email or `me`.")] = None,
    tag: Annotated[str | None, Query(description="Tags the ticket must all have.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="A key, or text in the title, description, comments, text fields "
            "or the requester's name or email (any case).",
        ),
    ] = None,
    sort: Annotated[str, Query(pattern=r"^-?[a-z_]+$", max_length=40)] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> TicketPage:
    query = TicketQuery(
        types=_many(type),
        states=_many(state),
        state_categories=_many(state_category),
        priorities=_many(priority),
        teams=_many(team),
        assignee=assignee or None,
        requester=requester or None,
        tags=_many(tag),
        text=q or None,
        fields=tuple(_field_filters(request)),
        sort=sort.removeprefix("-"),
        descending=sort.startswith("-"),
        cursor=cursor or None,
        limit=limit,
    )
    page = service.list_tickets(actor, query)
    return TicketPage(items=[ticket_out(t) for t in page.items], next_cursor=page.next_cursor)


@router.get(
    "/tickets/{key}",
    response_model=TicketOut,
    responses=error_responses(401, 404),
    summary="Read a ticket",
)
def get_ticket(key: TicketKey, actor: ApiActor, service: ApiService) -> Response:
    return ticket_response(service.get_ticket(actor, key))


@router.patch(
    "/tickets/{key}",
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428),
    summary="Change a ticket (If-Match required)",
)
def patch_ticket(
    key: TicketKey,
    body: TicketPatch,
    actor: ApiActor,
    service: ApiService,
    if_match: IfMatch = None,
) -> Response:
    expected = parse_if_match(if_match, required=True)
    given = body.model_fields_set
    changes: dict[str, Any] = {
        name: getattr(body, name)
        for name in ("title", "description", "priority", "tags")
        if name in given
    }
    changes.update(body.fields or {})
    assignment = {name: getattr(body, name) or "" for name in ("team", "assignee") if name in given}
    if not changes and not assignment:
        raise ValidationFailed("nothing to change", {"body": "name at least one thing to change"})
    with expect_version():
        if changes and assignment:  # one transaction: both or neither
            record = service.update_and_assign(
                actor, key, changes, **assignment, expected_version=expected
            ).ticket
        elif assignment:
            record = service.assign(actor, key, **assignment, expected_version=expected).ticket
        else:
            record = service.update_ticket(actor, key, changes, expected_version=expected).ticket
    return ticket_response(record)
