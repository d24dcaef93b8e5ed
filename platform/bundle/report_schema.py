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
SIMPLE_MEASURES = ("count", "csat", "csat_response_rate")
# Built-in keys a report may group by; `sla_policy` is the policy the ticket's clocks run on.
GROUP_BUILTINS = (
    "age", "assignee", "priority", "sla_policy", "state", "state_category", "team", "type",
)  # fmt: skip
# `age` groups tickets by how long ago they were created, in these buckets (days).
AGE_BUCKETS = ((1, "0-1d"), (3, "1-3d"), (7, "3-7d"), (30, "7-30d"), (None, "30d+"))
TIME_COLUMNS = ("created_at", "resolved_at")
TIME_BUCKETS = ("day", "week", "month")


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
        "description": "count | csat | csat_response_rate | {median: first_response|resolution} | "
        "{p90: …} | {sla_attainment: target} | {avg: number field}",
        "oneOf": [
            {"enum": list(SIMPLE_MEASURES)},
            one_key("median", {"enum": list(DURATIONS)}),
            one_key("p90", {"enum": list(DURATIONS)}),
            one_key("sla_attainment", {"enum": list(SLA_TARGETS)}),
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
    return {
        "type": "object",
        "properties": {
            **header,
            "title": ref("label"),
            "measure": measure,
            "group_by": {"type": "array", "items": group, "maxItems": 2},
            "filter": ref("condition"),
            "chart": {"enum": list(CHARTS)},
        },
        "required": ["kind", "title", "measure"],
        "additionalProperties": False,
    }
