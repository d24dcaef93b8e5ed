"""The JSON Schema of `kind: Macro` (a canned response), kept beside `schemas.py`.

A macro is what an agent applies to a ticket in one step: a reply text with
placeholders (Jinja2, run in the sandbox like every admin-written template), field
changes, a transition and tags, for the ticket types and teams it names. What the
schema cannot say (that the fields, the transition, the types and the teams exist) is
checked by `compile_macros`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["macro_schema"]


def macro_schema(
    header: Mapping[str, Any],
    template_text: Mapping[str, Any],
    ref: Callable[[str], dict[str, str]],
    obj: Callable[..., dict[str, Any]],
    array: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """The schema of one `Macro` document (the helpers are `schemas.py`'s)."""
    return obj(
        {
            **header,
            "reply": {
                **template_text,
                "description": "The reply the macro fills in (the agent may edit it before "
                "sending): Jinja2 text run in the sandbox, or a map of locale to text. "
                "Placeholders: ticket.key, ticket.title, ticket.state, ticket.priority, "
                "ticket.fields.<id>, requester.name, requester.email, agent.name, agent.email",
            },
            "public": {
                "description": "Whether the reply goes to the requester (true, the default) "
                "or is an internal note (false)",
                "type": "boolean",
            },
            "set": {
                **ref("field_values"),
                "description": "Fields to change: custom fields of the types it applies to, "
                "priority, team (a team id) and assignee (a member's email, `me`: whoever "
                "applies the macro, `none`: unassigned)",
            },
            "add_tags": array({"type": "string", "minLength": 1, "maxLength": 64}, minItems=1),
            "transition": {
                **ref("id"),
                "description": "A transition to take after the reply (it must be allowed "
                "on the ticket then)",
            },
            "applies_to": obj(
                {
                    "types": array(ref("id"), minItems=1, uniqueItems=True),
                    "teams": array(ref("id"), minItems=1, uniqueItems=True),
                },
                minProperties=1,
                description="The ticket types and teams the macro is offered for (left "
                "out: every type, every team)",
            ),
        },
        ("kind", "name"),
        anyOf=[{"required": [k]} for k in ("reply", "set", "add_tags", "transition")],
    )
