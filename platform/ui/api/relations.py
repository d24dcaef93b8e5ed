"""Relations between tickets: merge one into another, link two, split one (DESIGN.md,
"REST API"). Staff only, and only tickets the caller may see at both ends (the
service's `merge`, `link`, `split`, `list_links` check both)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gongdan.ui.api.deps import (
    ApiActor,
    ApiService,
    IfMatch,
    TicketKey,
    expect_version,
    parse_if_match,
)
from gongdan.ui.api.errors import ApiRoute, error_responses
from gongdan.ui.api.models import (
    API_LINK_NAMES,
    LinkIn,
    LinkOut,
    LinkType,
    MergeIn,
    SplitIn,
    TicketOut,
    ticket_response,
)

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["relations"])
_ENGINE_LINK_NAMES = {api: engine for engine, api in API_LINK_NAMES.items()}


@router.post(
    "/tickets/{key}/merge",
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413),
    summary="Merge this ticket into another (If-Match optional); answers the survivor",
)
def merge(
    key: TicketKey, body: MergeIn, actor: ApiActor, service: ApiService, if_match: IfMatch = None
) -> Response:
    expected = parse_if_match(if_match, required=False)
    with expect_version():
        result = service.merge(actor, key, body.into, expected_version=expected)
    return ticket_response(result.ticket)


@router.get(
    "/tickets/{key}/links",
    response_model=list[LinkOut],
    responses=error_responses(401, 403, 404),
    summary="This ticket's links to tickets the caller may see",
)
def list_links(key: TicketKey, actor: ApiActor, service: ApiService) -> list[LinkOut]:
    return [
        LinkOut(type=API_LINK_NAMES.get(link.kind, link.kind), ticket=link.key,
                title=link.title, state=link.state)
        for link in service.list_links(actor, key)
    ]  # fmt: skip


@router.post(
    "/tickets/{key}/links",
    status_code=201,
    response_model=list[LinkOut],
    responses=error_responses(400, 401, 403, 404, 409, 413),
    summary="Link this ticket to another; answers this ticket's links",
)
def add_link(key: TicketKey, body: LinkIn, actor: ApiActor, service: ApiService) -> list[LinkOut]:
    service.link(actor, key, body.ticket, _ENGINE_LINK_NAMES.get(body.type, body.type))
    return list_links(key, actor, service)


@router.delete(
    "/tickets/{key}/links/{other}",
    response_model=list[LinkOut],
    responses=error_responses(400, 401, 403, 404),
    summary="Remove a link made by hand (`type` as listed, relates_to by default)",
)
def remove_link(
    key: TicketKey,
    other: TicketKey,
    actor: ApiActor,
    service: ApiService,
    link_type: Annotated[LinkType, Query(alias="type")] = "relates_to",
) -> list[LinkOut]:
    service.unlink(actor, key, other, _ENGINE_LINK_NAMES.get(link_type, link_type))
    return list_links(key, actor, service)


@router.post(
    "/tickets/{key}/split",
    status_code=201,
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 413),
    summary="Split a new ticket off this one, moving the comments named",
)
def split(key: TicketKey, body: SplitIn, actor: ApiActor, service: ApiService) -> Response:
    result = service.split(
        actor, key, title=body.title, description=body.description,
        fields=body.fields, comments=body.comments,
    )  # fmt: skip
    location = {"Location": f"/api/v1/tickets/{result.ticket.key}"}
    return ticket_response(result.ticket, status_code=201, headers=location)
