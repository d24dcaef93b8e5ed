"""Macros, followers and CCs in the REST API (issue 21).

- `GET /macros` (staff): the macros, or with `?ticket=KEY` those offered for that
  ticket; `POST /tickets/{key}/macros/{id}` applies one in one write (its field
  changes, reply and transition, all or nothing), the reply filled in for the ticket
  unless the body gives one (`reply`), public as the macro says unless `public` is given.
- `GET /tickets/{key}/followers`: the followers (staff only see them) and the CCs;
  `PUT`/`DELETE /tickets/{key}/followers/me` (staff) follow and unfollow;
  `POST /tickets/{key}/cc` `{email}` copies a colleague in (the requester or staff),
  `DELETE /tickets/{key}/cc/{email}` stops it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from gongdan.channels.macro_texts import Someone
from gongdan.engine import find_people
from gongdan.errors import PermissionDenied
from gongdan.rules.workflow import Actor
from gongdan.ui.api.deps import ApiActor, ApiService, IfMatch, TicketKey, parse_if_match
from gongdan.ui.api.errors import ApiRoute, error_responses
from gongdan.ui.api.models import TicketOut, ticket_response
from gongdan.ui.macro_view import reply_for_ticket

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["macros and followers"])


class MacroOut(BaseModel):
    id: str
    name: Any = Field(description="A text or a map of locale to text")
    description: Any = None
    types: list[str] = Field(description="The ticket types it applies to (empty: every type)")
    teams: list[str] = Field(description="The teams it applies to (empty: every team)")
    sets: dict[str, Any] = Field(description="The fields it changes")
    add_tags: list[str]
    transition: str | None
    public: bool = Field(description="Whether its reply is public (else an internal note)")
    has_reply: bool


class MacroApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reply: str | None = Field(
        default=None,
        max_length=100_000,
        description="The reply to send; left out: the macro's, filled in for the ticket",
    )
    public: bool | None = Field(default=None, description="Left out: as the macro says")


class CcIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    email: str = Field(min_length=3, max_length=254, examples=["wang.fang@example.com"])


class FollowersOut(BaseModel):
    followers: list[str] = Field(description="Agents following (only staff see them)")
    cc: list[str] = Field(description="Colleagues copied in")


def _agent(service: Any, actor: Actor) -> Someone:
    """The acting agent as a reply names them (their name from their account)."""
    found = find_people(service.db, [actor.email or ""])
    person = found[0] if found else None
    email = actor.email or ""
    return Someone(person.name if person else email, email, person.language if person else "en")


@router.get(
    "/macros",
    response_model=list[MacroOut],
    responses=error_responses(401, 403, 404),
    summary="The macros (with ?ticket=KEY: those offered for that ticket)",
)
def list_macros(
    actor: ApiActor,
    service: ApiService,
    ticket: str | None = Query(default=None, max_length=64, description="A ticket's key"),
) -> list[MacroOut]:
    if not actor.is_staff:
        raise PermissionDenied("only agents may use macros")
    return [
        MacroOut(
            id=m.id, name=m.name, description=m.description, types=sorted(m.types),
            teams=sorted(m.teams), sets=dict(m.set), add_tags=list(m.add_tags),
            transition=m.transition, public=m.public, has_reply=bool(m.reply),
        )
        for m in service.list_macros(actor, ticket)
    ]  # fmt: skip


@router.post(
    "/tickets/{key}/macros/{macro_id}",
    response_model=TicketOut,
    responses=error_responses(400, 401, 403, 404, 409, 412, 413, 422),
    summary="Apply a macro to this ticket (If-Match optional); answers the ticket",
)
def apply_macro(
    key: TicketKey,
    macro_id: str,
    body: MacroApplyIn,
    actor: ApiActor,
    service: ApiService,
    if_match: IfMatch = None,
) -> Response:
    expected = parse_if_match(if_match, required=False)
    reply = body.reply
    if reply is None:
        macro = next((m for m in service.list_macros(actor, key) if m.id == macro_id), None)
        if macro is not None:
            ticket = service.get_ticket(actor, key)
            reply = reply_for_ticket(service, service.bundle, macro, ticket, _agent(service, actor))
    result = service.apply_macro(
        actor, key, macro_id, reply=reply, public=body.public, expected_version=expected
    )
    return ticket_response(result.ticket)


def _followers(service: Any, actor: Actor, key: str) -> FollowersOut:
    found = service.list_followers(actor, key)
    return FollowersOut(
        followers=[e for e, _ in found.get("follower", [])], cc=[e for e, _ in found.get("cc", [])]
    )


@router.get(
    "/tickets/{key}/followers",
    response_model=FollowersOut,
    responses=error_responses(401, 404),
    summary="Who follows this ticket and who is copied in",
)
def list_followers(key: TicketKey, actor: ApiActor, service: ApiService) -> FollowersOut:
    return _followers(service, actor, key)


@router.put(
    "/tickets/{key}/followers/me",
    response_model=FollowersOut,
    responses=error_responses(401, 403, 404),
    summary="Follow this ticket (staff)",
)
def follow(key: TicketKey, actor: ApiActor, service: ApiService) -> FollowersOut:
    service.follow(actor, key)
    return _followers(service, actor, key)


@router.delete(
    "/tickets/{key}/followers/me",
    response_model=FollowersOut,
    responses=error_responses(401, 403, 404),
    summary="Stop following this ticket",
)
def unfollow(key: TicketKey, actor: ApiActor, service: ApiService) -> FollowersOut:
    service.follow(actor, key, following=False)
    return _followers(service, actor, key)


@router.post(
    "/tickets/{key}/cc",
    response_model=FollowersOut,
    responses=error_responses(400, 401, 403, 404, 413, 422),
    summary="Copy a colleague in (the ticket's requester or staff)",
)
def add_cc(key: TicketKey, body: CcIn, actor: ApiActor, service: ApiService) -> FollowersOut:
    service.copy_in(actor, key, body.email)
    return _followers(service, actor, key)


@router.delete(
    "/tickets/{key}/cc/{email}",
    response_model=FollowersOut,
    responses=error_responses(401, 403, 404),
    summary="Stop copying someone in",
)
def remove_cc(key: TicketKey, email: str, actor: ApiActor, service: ApiService) -> FollowersOut:
    service.copy_in(actor, key, email, copied=False)
    return _followers(service, actor, key)
