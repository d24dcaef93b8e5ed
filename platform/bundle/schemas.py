"""JSON Schemas (draft 2020-12) of every config kind, built once from this module.

They are the first validation layer of the loader and what `gongdan schema export`
writes for editors (yaml-language-server). Strict: unknown keys are errors. What a
schema cannot say well (cross-file references, condition types, field option
consistency) is checked by the loader's second pass.
"""

from __future__ import annotations

import copy
from typing import Any

from gongdan.bundle.macro_schema import macro_schema
from gongdan.bundle.report_schema import report_schema
from gongdan.forms.fields import FIELD_TYPES
from gongdan.vocabulary import (
    ACCOUNT_ROLES,
    PRIORITIES,
    SLA_TARGETS,
    STAFF_ONLY_BUILTINS,
    STATE_CATEGORIES,
    VIEW_ROLES,
)

__all__ = [
    "ACTION_KEYS",
    "AUTOMATION_EVENTS",
    "CONDITION_OPERATORS",
    "FIELD_TYPE_NAMES",
    "KINDS",
    "STRATEGIES",
    "bundle_schema",
    "kind_schema",
]

SCHEMA_BASE = "https://gongdan.dev/schemas/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

KINDS = (
    "Automation", "Calendar", "Mailbox", "Portal", "RoutingRules", "SLAPolicy", "Team",
    "Template", "Test", "TicketType", "View", "Workflow", "Report", "Macro",
)  # fmt: skip
STRATEGIES = ("least_loaded", "manual", "round_robin", "skills")
AUTOMATION_EVENTS = (
    "schedule",
    "sla.breached",
    "sla.warning",
    "ticket.created",
    "ticket.transitioned",
    "ticket.updated",
)
# The registered field types (`gongdan.forms`): a new type needs no change here.
FIELD_TYPE_NAMES = tuple(sorted(FIELD_TYPES))
CONDITION_OPERATORS = (
    "changed", "changed_to", "contains", "empty", "gt", "gte", "in", "lt", "lte", "ne",
    "newer_than", "not_in", "older_than", "starts_with",
)  # fmt: skip
ACTION_KEYS = (
    "add_tags", "assign", "comment", "notify", "set", "survey", "transition", "webhook",
)  # fmt: skip
TRANSITION_ROLE_PATTERN = r"^(admin|agent|requester|field:[a-z][a-z0-9_]*)$"
DAY = "(mon|tue|wed|thu|fri|sat|sun)"
CLOCK = "([01][0-9]|2[0-3]):[0-5][0-9]"
DATE = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _obj(
    properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def _list(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


_SCALAR = {"type": ["string", "number", "boolean", "null"]}

DEFS: dict[str, Any] = {
    "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64},
    "label": {
        "description": "A text, or a map of locale to text: {en: Category, zh-CN: 类别}",
        "type": ["string", "object"],
        "minLength": 1,
        "minProperties": 1,
        "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
        "additionalProperties": {"type": "string", "minLength": 1},
    },
    "duration": {
        "description": "30m, 4h, 3d, 1d4h (in an SLA target 1d is one working day)",
        "type": "string",
        "pattern": "^(?=[0-9])([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$",
        "maxLength": 32,
    },
    "date": {"type": "string", "pattern": f"^{DATE}$"},
    "condition": {
        "description": "field: value, field: [one, of], field: {operator: value}; any/all/not",
        "type": "object",
        "properties": {
            "any": _list(_ref("condition"), minItems=1),
            "all": _list(_ref("condition"), minItems=1),
            "not": _ref("condition"),
        },
        "additionalProperties": _ref("condition_value"),
    },
    "condition_value": {
        "if": {"type": "object"},
        "then": _obj(
            {op: {} for op in CONDITION_OPERATORS},
            minProperties=1,
        ),
        "else": {"anyOf": [_SCALAR, _list(_SCALAR)]},
    },
    "field_values": {
        "description": "field id: value",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {},
    },
    "action": {
        "type": "object",
        "properties": {
            "notify": {
                "type": "string",
                "pattern": "^(requester|assignee|team|field:[a-z][a-z0-9_]*|[^@\\s]+@[^@\\s]+)$",
            },
            "template": _ref("id"),
            "set": _ref("field_values"),
            "assign": _ref("assignment"),
            "add_tags": _list({"type": "string", "minLength": 1}, minItems=1),
            "transition": _ref("id"),
            "comment": {"type": "string", "minLength": 1},
            "webhook": _obj(
                {
                    "url": {"type": "string", "pattern": "^https?://"},
                    "secret_env": {"type": "string"},
                    "allow_private": {
                        "description": "Allow a loopback, link-local or private address "
                        "(refused by default, at check time and at delivery)",
                        "type": "boolean",
                    },
                },
                ("url",),
            ),
            "survey": {"enum": ["csat"]},
        },
        "additionalProperties": False,
        "oneOf": [{"required": [key]} for key in ACTION_KEYS],
        "dependentRequired": {"template": ["notify"]},
    },
    "actions": _list(_ref("action"), minItems=1),
    "assignment": _obj(
        {
            "team": _ref("id"),
            "strategy": {"enum": list(STRATEGIES)},
            "skills": _list({"type": "string"}, minItems=1),
            "user": {"type": "string"},
        },
        minProperties=1,
    ),
}

_OPTION = {
    "type": ["string", "integer", "object"],
    "if": {"type": "object"},
    "then": _obj({"value": {"type": ["string", "integer"]}, "label": _ref("label")}, ("value",)),
}

_FIELD = _obj(
    {
        "id": _ref("id"),
        "type": {"enum": list(FIELD_TYPE_NAMES)},
        "label": _ref("label"),
        "help": _ref("label"),
        "placeholder": _ref("label"),
        "default": {},
        "required": {"type": "boolean"},
        "required_if": _ref("condition"),
        "visible_if": _ref("condition"),
        "readonly_in": _list(_ref("id")),
        "min": {"type": "number"},
        "max": {"type": "number"},
        "min_length": {"type": "integer", "minimum": 0},
        "max_length": {"type": "integer", "minimum": 1},
        "pattern": {"type": "string", "minLength": 1},
        "options": _list(_OPTION, minItems=1),
        "multiple": {"type": "boolean"},
        "role": {"enum": ["staff", "agent", "admin", "requester"]},
        "max_size_mb": {"type": "number", "exclusiveMinimum": 0},
        "accept": _list({"type": "string", "minLength": 1}, minItems=1),
        "scale": {"type": "integer", "minimum": 0, "maximum": 12},
        "internal": {"type": "boolean"},
    },
    ("id", "type"),
)

_FORM_ITEM = {
    "type": ["string", "object"],
    "if": {"type": "object"},
    "then": _obj(
        {"section": _ref("label"), "fields": _list({"type": "string"}, minItems=1)},
        ("section", "fields"),
    ),
}

_HEADER = {"kind": {}, "id": _ref("id"), "name": _ref("label"), "description": _ref("label")}
_TEMPLATE_TEXT = {
    "description": "Jinja2 text (sandboxed), or a map of locale to text: {en: …, zh-CN: …}",
    "type": ["string", "object"],
    "minLength": 1,
    "minProperties": 1,
    "propertyNames": {"pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
    "additionalProperties": {"type": "string", "minLength": 1},
}

KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "TicketType": _obj(
        {
            **_HEADER,
            "key_prefix": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,9}$"},
            "workflow": _ref("id"),
            "sla": _ref("id"),
            "portal": {"type": "boolean"},
            "requester_may_set": {
                "description": "Staff-only built-ins this type's requesters may set too",
                "type": "array",
                "items": {"enum": list(STAFF_ONLY_BUILTINS)},
                "uniqueItems": True,
            },
            "fields": _list(_FIELD),
            "forms": _obj(
                {"create": _list(_FORM_ITEM, minItems=1), "agent": _list(_FORM_ITEM, minItems=1)}
            ),
            "priority": _obj(
                {
                    "default": {"enum": [str(p) for p in PRIORITIES]},
                    "rules": _list(
                        _obj(
                            {
                                "when": _ref("condition"),
                                "set": {"enum": [str(p) for p in PRIORITIES]},
                            },
                            ("when", "set"),
                        )
                    ),
                }
            ),
        },
        ("kind", "name", "key_prefix", "workflow"),
    ),
    "Workflow": _obj(
        {
            **_HEADER,
            "initial": _ref("id"),
            "states": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": _ref("id"),
                "additionalProperties": _obj(
                    {
                        "category": {"enum": [str(c) for c in STATE_CATEGORIES]},
                        "label": _ref("label"),
                    },
                    ("category",),
                ),
            },
            "transitions": _list(
                _obj(
                    {
                        "id": _ref("id"),
                        "label": _ref("label"),
                        "from": {
                            "type": ["array", "string"],
                            "items": _ref("id"),
                            "minItems": 1,
                        },
                        "to": _ref("id"),
                        "roles": _list(
                            {"type": "string", "pattern": TRANSITION_ROLE_PATTERN}, minItems=1
                        ),
                        "when": _ref("condition"),
                        "fields": _list({"type": "string"}, minItems=1),
                        "comment": {"enum": ["required", "optional"]},
                        "after": _ref("duration"),
                        "actions": _ref("actions"),
                    },
                    ("id", "from", "to"),
                )
            ),
            "on_enter": {
                "type": "object",
                "propertyNames": _ref("id"),
                "additionalProperties": _ref("actions"),
            },
            "migrate": {
                "description": "old_state: new_state. When the bundle is applied, the "
                "tickets still in a state this workflow no longer has move to a state it has",
                "type": "object",
                "minProperties": 1,
                "propertyNames": _ref("id"),
                "additionalProperties": _ref("id"),
            },
        },
        ("kind", "initial", "states", "transitions"),
    ),
    "Calendar": _obj(
        {
            **_HEADER,
            "timezone": {"type": "string", "minLength": 1},
            "hours": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": f"^{DAY}(-{DAY})?$"},
                "additionalProperties": _list(
                    {"type": "string", "pattern": f"^{CLOCK}-({CLOCK}|24:00)$"}
                ),
            },
            "holidays": _list({"type": "string", "pattern": f"^{DATE}(\\.\\.{DATE})?$"}),
            "workdays": _list(_ref("date")),
            "public_holidays": _obj(
                {
                    "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "subdivision": {"type": "string"},
                },
                ("country",),
            ),
        },
        ("kind", "timezone", "hours"),
    ),
    "SLAPolicy": _obj(
        {
            **_HEADER,
            "applies_when": _ref("condition"),
            "calendar": _ref("id"),
            "targets": _obj(
                {
                    target: _obj({p: _ref("duration") for p in PRIORITIES}, minProperties=1)
                    for target in SLA_TARGETS
                },
                minProperties=1,
            ),
            "pause_in": _list({"enum": [str(c) for c in STATE_CATEGORIES]}, uniqueItems=True),
            "escalations": _list(
                _obj(
                    {
                        "at": {"type": "string", "pattern": "^(breach|([1-9][0-9]?|100)%)$"},
                        "target": {"enum": list(SLA_TARGETS)},
                        "actions": _ref("actions"),
                    },
                    ("at", "target", "actions"),
                )
            ),
        },
        ("kind", "calendar", "targets"),
    ),
    "RoutingRules": _obj(
        {
            **_HEADER,
            "rules": _list(
                _obj(
                    {
                        "name": _ref("label"),
                        "when": _ref("condition"),
                        "assign": _ref("assignment"),
                        "set": _ref("field_values"),
                        "add_tags": _list({"type": "string", "minLength": 1}, minItems=1),
                        "continue": {"type": "boolean"},
                    },
                    ("name",),
                    anyOf=[{"required": [a]} for a in ("assign", "set", "add_tags")],
                ),
                minItems=1,
            ),
        },
        ("kind", "rules"),
    ),
    "Automation": _obj(
        {
            **_HEADER,
            "on": {"enum": list(AUTOMATION_EVENTS)},
            "every": _ref("duration"),
            "when": _ref("condition"),
            "actions": _ref("actions"),
            "enabled": {"type": "boolean"},
        },
        ("kind", "on", "actions"),
        **{
            "if": {"properties": {"on": {"const": "schedule"}}},
            "then": {"required": ["every"]},
            "else": {"not": {"required": ["every"]}},
        },
    ),
    "Portal": _obj(
        {
            **_HEADER,
            "self_signup": {
                "description": "Whether people may create their own requester account",
                "type": "boolean",
            },
            "allowed_email_domains": _list(
                {
                    "description": "Self sign-up only for addresses at these domains "
                    "(exact match; leave out or empty for any domain)",
                    "type": "string",
                    "pattern": "^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
                    "(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$",
                    "maxLength": 253,
                },
                uniqueItems=True,
            ),
            "welcome": _ref("label"),
        },
        ("kind",),
    ),
    "Template": _obj(
        {
            **_HEADER,
            "subject": _TEMPLATE_TEXT,
            "body": _TEMPLATE_TEXT,
        },
        ("kind", "subject", "body"),
    ),
    "Mailbox": _obj(
        {
            **_HEADER,
            "address": {
                "description": "The address mail is sent to (what intake listens for)",
                "type": "string",
                "pattern": "^[^@\\s]+@[^@\\s]+$",
                "maxLength": 254,
            },
            "ticket_type": _ref("id"),
            "fields": _ref("field_values"),
            "priority": {"enum": [str(p) for p in PRIORITIES]},
            "attachment_field": _ref("id"),
            "add_cc": {
                "description": "Copy the Cc'd addresses of a verified mail in on the new "
                "ticket (they get its public updates and may view it as its requester does); "
                "default false",
                "type": "boolean",
            },
            "max_size_mb": {
                "description": "Larger mail is refused (SMTP 552); default 25",
                "type": "integer",
                "minimum": 1,
                "maximum": 100,
            },
            "language": {
                "description": "Language of a new requester when the mail does not say",
                "type": "string",
                "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
            },
            "authentication": _obj(
                {
                    "authserv_id": {
                        "description": "The receiving host whose Authentication-Results "
                        "count (RFC 8601 authserv-id); a mail is taken as its sender only "
                        "when that host says DMARC passed, or SPF/DKIM passed for the "
                        "From domain",
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 255,
                    },
                    "unverified": {
                        "description": "What a mail that is not verified becomes: held for "
                        "review (default), or a new ticket tagged unverified-sender",
                        "enum": ["hold", "new_ticket"],
                    },
                },
                ("authserv_id",),
            ),
        },
        ("kind", "address", "ticket_type"),
    ),
    "Team": _obj(
        {
            **_HEADER,
            "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
            "members": _list(
                _obj(
                    {
                        "user": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                        "skills": _list({"type": "string", "minLength": 1}),
                        "capacity": {"type": "integer", "minimum": 1},
                    },
                    ("user",),
                )
            ),
        },
        ("kind", "name"),
    ),
    "View": _obj(
        {
            **_HEADER,
            "when": _ref("condition"),
            "columns": _list({"type": "string", "minLength": 1}, minItems=1, uniqueItems=True),
            "sort": _obj(
                {
                    "field": {"type": "string", "minLength": 1},
                    "direction": {"enum": ["asc", "desc"]},
                },
                ("field",),
            ),
            "roles": _list({"enum": [str(r) for r in VIEW_ROLES]}, minItems=1, uniqueItems=True),
            "teams": _list(_ref("id"), minItems=1, uniqueItems=True),
        },
        ("kind", "name", "columns"),
    ),
}

# `kind: Test` (config/tests/): a bundle's own declarative tests, run by `gongdan test`.
INSTANT_PATTERN = f"^{DATE}T{CLOCK}(:[0-5][0-9](\\.[0-9]{{1,6}})?)?(Z|[+-]{CLOCK})$"
# Who acts in a test: a role (resolved on the ticket), a user field's person, an email.
TEST_ACTOR_PATTERN = r"^(admin|agent|requester|field:[a-z][a-z0-9_]*|[^@\s]+@[^@\s]+)$"
# What one step of a test does (one of them; `comment` also goes with a transition).
TEST_STEP_KEYS = ("transition", "comment", "update", "assign", "after", "macro")
_EMAIL = {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$", "maxLength": 254}


def _test_schema() -> dict[str, Any]:
    instant = {
        "description": "An ISO 8601 instant with its UTC offset: 2026-11-02T10:00+08:00",
        "type": "string",
        "pattern": INSTANT_PATTERN,
    }
    person = {
        "description": "email, role, name, organization, language; any other key is an "
        "attribute conditions read as requester.<key> (tier, department…)",
        "type": "object",
        "properties": {
            "email": _EMAIL,
            "role": {"enum": [str(r) for r in ACCOUNT_ROLES]},
            "name": {"type": "string", "minLength": 1},
            "organization": {"type": "string", "minLength": 1},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
        },
        "required": ["email"],
        "additionalProperties": {
            "type": ["string", "number", "boolean"],
            "description": "an attribute of the person (tier: vip, department: finance)",
        },
    }
    actor = {"type": "string", "pattern": TEST_ACTOR_PATTERN}
    nullable_id = {"type": ["string", "null"], "pattern": DEFS["id"]["pattern"]}
    expect = _obj(
        {
            "state": _ref("id"),
            "priority": {"enum": [str(p) for p in PRIORITIES]},
            "tags": _list({"type": "string", "minLength": 1}, uniqueItems=True),
            "team": nullable_id,
            "assignee": {"type": ["string", "null"], "pattern": "^[^@\\s]+@[^@\\s]+$"},
            "strategy": {"enum": [*STRATEGIES, None]},
            "fields": {"type": "object", "minProperties": 1},
            "sla": _obj(
                {
                    t: {"anyOf": [instant, {"type": "null"}]}
                    for t in ("first_response", "next_response", "resolution")
                },
                minProperties=1,
            ),
            "sla_policy": nullable_id,
            "transitions": {
                "description": "who: the exact list of transitions they may take now",
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": TEST_ACTOR_PATTERN},
                "additionalProperties": _list(_ref("id"), uniqueItems=True),
            },
        },
        minProperties=1,
    )
    refused = {
        "description": "the step must be refused (true, or a text the error must contain)",
        "type": ["boolean", "string"],
    }
    common = {"by": actor, "expect": expect, "refused": refused}
    step = {
        "type": "object",
        "properties": {
            "transition": _ref("id"),
            "macro": {**_ref("id"), "description": "apply this macro (`comment`: its reply)"},
            "fields": {"type": "object"},
            "comment": {"type": "string", "minLength": 1},
            "internal": {"type": "boolean"},
            "update": _ref("field_values"),
            "assign": _obj(
                {"team": nullable_id, "assignee": {"type": ["string", "null"]}}, minProperties=1
            ),
            "after": _ref("duration"),
            **common,
        },
        "additionalProperties": False,
        "oneOf": [
            {"required": ["transition"], "not": {"required": ["macro"]}},
            {"required": ["macro"], "not": {"required": ["transition"]}},
            {
                "required": ["comment"],
                "not": {"anyOf": [{"required": ["transition"]}, {"required": ["macro"]}]},
            },
            {"required": ["update"]},
            {"required": ["assign"]},
            {"required": ["after"]},
        ],
    }
    ticket = _obj(
        {
            "type": _ref("id"),
            "title": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "fields": {"type": "object"},
            "priority": {"enum": [str(p) for p in PRIORITIES]},
            "requester": {"anyOf": [_EMAIL, person]},
            "by": actor,
            "created_at": instant,
            "refused": refused,
        },
        ("type",),
    )
    case = _obj(
        {
            "name": {"type": "string", "minLength": 1},
            "ticket": ticket,
            "expect": expect,
            "steps": _list(step, minItems=1),
        },
        ("name", "ticket"),
    )
    return _obj(
        {**_HEADER, "people": _list(person), "cases": _list(case, minItems=1)},
        ("kind", "cases"),
    )


KIND_SCHEMAS["Test"] = _test_schema()

# `kind: Report` (DESIGN.md, "Reports"): a measure grouped and filtered, drawn as a chart.
KIND_SCHEMAS["Report"] = report_schema(_HEADER, _ref)
# `kind: Macro` (a canned response): a reply, field changes, a transition (issue 21).
KIND_SCHEMAS["Macro"] = macro_schema(_HEADER, _TEMPLATE_TEXT, _ref, _obj, _list)

_SNAKE = {
    "Automation": "automation",
    "Calendar": "calendar",
    "Mailbox": "mailbox",
    "Portal": "portal",
    "RoutingRules": "routing_rules",
    "SLAPolicy": "sla_policy",
    "Team": "team",
    "Template": "template",
    "Test": "test",
    "TicketType": "ticket_type",
    "View": "view",
    "Workflow": "workflow",
    "Report": "report",
    "Macro": "macro",
}


def schema_file_name(kind: str) -> str:
    """The file name a kind's schema is exported under, e.g. `ticket_type.schema.json`."""
    return f"{_SNAKE[kind]}.schema.json"


def kind_schema(kind: str) -> dict[str, Any]:
    """The self-contained JSON Schema of one kind (a fresh copy)."""
    schema = copy.deepcopy(KIND_SCHEMAS[kind])
    schema["properties"]["kind"] = {"const": kind}
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_BASE + schema_file_name(kind),
        "title": f"Gongdan {kind}",
        **schema,
        "$defs": copy.deepcopy(DEFS),
    }


def bundle_schema() -> dict[str, Any]:
    """One schema for any config document: dispatches on `kind` (multi-kind files)."""
    defs = copy.deepcopy(DEFS)
    branches = []
    for kind in KINDS:
        body = copy.deepcopy(KIND_SCHEMAS[kind])
        body["properties"]["kind"] = {"const": kind}
        defs[kind] = body
        branches.append(
            {
                "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
                "then": _ref(kind),
            }
        )
    return {
        "$schema": DRAFT,
        "$id": SCHEMA_BASE + "gongdan.schema.json",
        "title": "Gongdan config document",
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": list(KINDS)}},
        "allOf": branches,
        "$defs": defs,
    }
