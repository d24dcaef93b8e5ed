"""`/api/v1/config`: the ticket types and the JSON Schema of each type's fields.

Readable without a token (a form builder needs them before anyone signs in). Staff
tokens see every field; everyone else gets the schema without `internal: true` fields,
which is exactly what they may send.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter

from gongdan.bundle.compiled import TicketTypeDef
from gongdan.errors import NotFound
from gongdan.ui.api.deps import ApiBundle, OptionalActor, TypeId
from gongdan.ui.api.errors import ApiRoute, error_responses
from gongdan.ui.api.models import TicketTypeOut, label

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
