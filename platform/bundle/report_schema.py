"""The JSON Schema of `kind: Report` (DESIGN.md, "Reports"), kept beside `schemas.py`.

A report is a measure (`count`, `median`/`p90` of a duration, `sla_attainment` of a
target, `avg` of a number field, `csat`), grouped by built-ins, time buckets or select
fields, narrowed by a condition, drawn as a chart. What the schema cannot say (that a
grouped field is a select of the report's types, that `avg` names a number field) is
checked by `compile_reports`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "AGE_BUCKETS",
    "CHARTS",
    "DURATIONS",
    "GROUP_BUILTINS",
    "LIST_LIMIT",
    "LIST_MEASURES",
    "MAIL_DAYS",
    "MAIL_EVERY",
    "SIMPLE_MEASURES",
    "SLA_TARGETS",
    "TIME_BUCKETS",
    "TIME_COLUMNS",
    "report_schema",
]

CHARTS = ("bar", "line", "stacked_bar", "table")
# Durations a median/p90 measures: the business time an SLA clock ran until it was met.
DURATIONS = ("first_response", "resolution")
SLA_TARGETS = ("first_response", "next_response", "resolution")
SIMPLE_MEASURES = ("count", "csat", "csat_response_rate", "lowest_rated")
# Measures whose rows are tickets (key, title, then the value), not groups: the tickets
# whose clock of a target was breached (`breached: target`, newest tickets first), and
# the answered surveys' lowest ratings (`lowest_rated`, lowest first, then latest).
LIST_MEASURES = ("breached", "lowest_rated")
LIST_LIMIT = 20  # rows of a list measure unless `limit` says otherwise
# Built-in keys a report may group by; `sla_policy` is the policy the ticket's clocks run on.
GROUP_BUILTINS = (
    "age", "assignee", "csat_rating", "priority", "sla_policy", "state", "state_category",
    "team", "type",
)  # fmt: skip
# `csat_rating` groups the answered surveys of the tickets by their rating (1-5).
# `age` groups tickets by how long ago they were created, in these buckets (days).
AGE_BUCKETS = ((1, "0-1d"), (3, "1-3d"), (7, "3-7d"), (30, "7-30d"), (None, "30d+"))
TIME_COLUMNS = ("created_at", "resolved_at")
TIME_BUCKETS = ("day", "week", "month")
MAIL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MAIL_EVERY = "^(daily|weekdays|monthly|" + "|".join(MAIL_DAYS) + ") ([01][0-9]|2[0-3]):[0-5][0-9]$"


def report_schema(header: dict[str, Any], ref: Callable[[str], dict[str, str]]) -> dict[str, Any]:
    """The schema body of `kind: Report` (`schemas.KIND_SCHEMAS` adds `kind` and `$defs`)."""

    def one_key(name: str, value: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: value},
            "required": [name],
            "additionalProperties": False,
        }

    measure = {
        "description": "count | csat | csat_response_rate | lowest_rated | "
        "{median: first_response|resolution} | {p90: …} | {sla_attainment: target} | "
        "{breached: target} | {avg: number field}",
        "oneOf": [
            {"enum": list(SIMPLE_MEASURES)},
            one_key("median", {"enum": list(DURATIONS)}),
            one_key("p90", {"enum": list(DURATIONS)}),
            one_key("sla_attainment", {"enum": list(SLA_TARGETS)}),
            one_key("breached", {"enum": list(SLA_TARGETS)}),
            one_key("avg", ref("id")),
        ],
    }
    group = {
        "description": "a built-in, a select/multiselect field, or {created_at: week}",
        "oneOf": [
            {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 64},
            {
                "type": "object",
                "properties": {c: {"enum": list(TIME_BUCKETS)} for c in TIME_COLUMNS},
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
            },
        ],
    }
    mail = {
        "description": "send the report by mail on a schedule, in the zone of the bundle's "
        "default calendar: {every: 'monday 09:00', to: [{team: leads}, {user: a@b.c}]}",
        "type": "object",
        "properties": {
            "every": {
                "description": "daily HH:MM | weekdays HH:MM | monday..sunday HH:MM | "
                "monthly HH:MM (the first of the month)",
                "type": "string",
                "pattern": MAIL_EVERY,
            },
            "to": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": {
                    "oneOf": [
                        one_key("team", ref("id")),
                        one_key(
                            "user",
                            {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$", "maxLength": 254},
                        ),
                    ]
                },
            },
        },
        "required": ["every", "to"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": {
            **header,
            "title": ref("label"),
            "measure": measure,
            "group_by": {"type": "array", "items": group, "maxItems": 2},
            "filter": ref("condition"),
            "chart": {"enum": list(CHARTS)},
            "limit": {
                "description": "rows of a list measure (breached, lowest_rated); default 20",
                "type": "integer",
                "minimum": 1,
                "maximum": 200,
            },
            "mail": mail,
        },
        "required": ["kind", "title", "measure"],
        "additionalProperties": False,
    }
