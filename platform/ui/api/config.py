"""`/api/v1/config`: the ticket types and the JSON Schema of each type's fields, and
the config's status for admins.

The types are readable without a token (a form builder needs them before anyone signs
in). Staff tokens see every field; everyone else gets the schema without
`internal: true` fields, which is exactly what they may send. `/config/status` (admin
tokens only) says which version this process serves, the errors of the config folder
when a change was invalid (as `gongdan check` prints them) or why it was refused, and
the team members who have no account yet.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.engine import AccountService
from gongdan.errors import NotFound, PermissionDenied
from gongdan.ui.api.deps import ApiActor, ApiBundle, OptionalActor, TypeId
from gongdan.ui.api.errors import ApiRoute, error_responses
from gongdan.ui.api.models import TicketTypeOut, label
from gongdan.ui.deps import DatabaseDep, LiveDep
from gongdan.vocabulary import Role

__all__ = ["router"]

router = APIRouter(route_class=ApiRoute, tags=["config"])
# The token is optional here: OpenAPI says so with an empty security requirement.
OPTIONAL_AUTH: dict[str, Any] = {"security": [{}]}


def public_schema(ticket_type: TicketTypeDef) -> dict[str, Any]:
    """The type's data schema without its internal fields (and rules naming them)."""
    schema = dict(ticket_type.data_schema)
    hidden = {f.id for f in ticket_type.fields if f.internal}
    if not hidden:
        return schema
    schema["properties"] = {
        k: v for k, v in schema.get("properties", {}).items() if k not in hidden
    }
    if "required" in schema:
        schema["required"] = [r for r in schema["required"] if r not in hidden]
    if "allOf" in schema:
        # A conditional rule about an internal field would leak its name and options.
        schema["allOf"] = [
            rule
            for rule in schema["allOf"]
            if not any(f'"{h}"' in json.dumps(rule) for h in hidden)
        ]
        if not schema["allOf"]:
            del schema["allOf"]
    return schema


@router.get(
    "/config/ticket-types",
    response_model=list[TicketTypeOut],
    responses=error_responses(401),
    summary="Ticket types",
    openapi_extra=OPTIONAL_AUTH,
)
def ticket_types(bundle: ApiBundle, actor: OptionalActor) -> list[TicketTypeOut]:
    return [
        TicketTypeOut(
            id=t.id,
            name=label(t.name),
            description=label(t.description),
            key_prefix=t.key_prefix,
            workflow=t.workflow,
            portal=t.portal,
            schema_url=f"/api/v1/config/ticket-types/{t.id}/schema",
        )
        for t in bundle.ticket_types.values()
        if t.portal or (actor is not None and actor.is_staff)
    ]


@router.get(
    "/config/ticket-types/{type_id}/schema",
    response_model=dict[str, Any],
    responses=error_responses(401, 404),
    summary="JSON Schema (draft 2020-12) of a ticket type's custom fields",
    openapi_extra=OPTIONAL_AUTH,
)
def ticket_type_schema(type_id: TypeId, bundle: ApiBundle, actor: OptionalActor) -> dict[str, Any]:
    ticket_type = bundle.ticket_types.get(type_id)
    if ticket_type is None:
        raise NotFound(f"no ticket type '{type_id}'")
    if actor is not None and actor.is_staff:
        return dict(ticket_type.data_schema)
    return public_schema(ticket_type)


class MemberOut(BaseModel):
    team: str
    email: str


class ConfigStatusOut(BaseModel):
    version: str
    reload: str
    reloads: int
    last_reload_cpu_seconds: float
    errors: list[str]
    refusal: str | None
    members_without_account: list[MemberOut]


@router.get(
    "/config/status",
    response_model=ConfigStatusOut,
    responses=error_responses(401, 403),
    summary="The config version this process serves, its reload errors, members without account",
)
def config_status(
    actor: ApiActor, bundle: ApiBundle, live: LiveDep, database: DatabaseDep
) -> ConfigStatusOut:
    if actor.role != Role.ADMIN:
        raise PermissionDenied("only admins may read the config's status")
    missing = AccountService(database).members_without_account()
    return ConfigStatusOut(
        version=bundle.version,
        reload="watch" if live is not None and live.watch else "manual",
        reloads=live.reloads if live is not None else 0,
        last_reload_cpu_seconds=live.last_reload_cpu if live is not None else 0.0,
        errors=[str(i) for i in live.errors] if live is not None else [],
        refusal=live.refusal if live is not None else None,
        members_without_account=[MemberOut(team=t, email=e) for t, e in missing],
    )
