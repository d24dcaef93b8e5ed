"""First loader pass: validate one document against its kind's JSON Schema.

All errors of a document are reported (jsonschema's `iter_errors`), each turned into a
message an admin understands and placed at the line and column of the offending key
or value.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from gongdan.bundle import schemas
from gongdan.bundle.yamlio import Document, Path
from gongdan.errors import ConfigIssue, did_you_mean

__all__ = ["check_document_schema", "validator_for"]

_TYPE_NAMES = {
    "string": "a text",
    "number": "a number",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "a mapping (key: value)",
    "array": "a list",
    "null": "empty",
}
_PATTERN_HINTS = {
    schemas.DEFS["id"]["pattern"]: "is not a valid id: use lowercase letters, digits and _, "
    "starting with a letter",
    schemas.DEFS["duration"]["pattern"]: "is not a duration: use a number and a unit, "
    "like 30m, 4h, 3d or 1d4h",
    schemas.DEFS["date"]["pattern"]: "is not a date: use YYYY-MM-DD",
    schemas.TRANSITION_ROLE_PATTERN: "is not a role: use admin, agent, requester or "
    "field:<a user field>",
    schemas.INSTANT_PATTERN: "is not an instant: use ISO 8601 with its offset, like "
    "2026-11-02T10:00+08:00",
    schemas.TEST_ACTOR_PATTERN: "is not someone who acts: use requester, agent, admin, "
    "field:<a user field> or an email address",
}


@cache
def validator_for(kind: str) -> Draft202012Validator:
    """The (cached) validator of one kind: slow, but its errors say where and why."""
    return Draft202012Validator(schemas.kind_schema(kind))


@cache
def _fast_validator_for(kind: str) -> Any:
    """The same schema in jsonschema-rs (compiled Rust, much faster than the Python
    validator): it only answers whether a document is valid; the Python validator
    explains the invalid ones, so every error still says where and why."""
    return jsonschema_rs.validator_for(schemas.kind_schema(kind))


def _describe(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "empty"}[value]
    if isinstance(value, (int, float)):
        return "a number"
    names: dict[type, str] = {str: "string", dict: "object", list: "array"}
    return _TYPE_NAMES.get(names.get(type(value), ""), type(value).__name__)


def _expected_types(schema: dict[str, Any]) -> str:
    kinds = schema.get("type")
    names = [_TYPE_NAMES.get(k, k) for k in ([kinds] if isinstance(kinds, str) else kinds or [])]
    return " or ".join(names) or "something else"


def _issues_for(error: ValidationError, doc: Document) -> list[ConfigIssue]:
    path: Path = tuple(error.absolute_path)
    instance, schema, validator = error.instance, error.schema, error.validator
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        is_operator = set(known) == set(schemas.CONDITION_OPERATORS)
        what = "operator" if is_operator else "key"
        out = []
        for key in instance:
            if key not in known:
                hint = did_you_mean(key, known)
                if not hint and known:
                    hint = f" (expected one of: {', '.join(sorted(known))})"
                out.append(doc.issue((*path, key), f"unknown {what} '{key}'{hint}", key=True))
        return out
    if validator == "required":
        missing = [k for k in error.validator_value if k not in instance]
        return [doc.issue(path, f"missing required key '{k}'") for k in missing]
    if validator == "enum":
        options = [str(v) for v in error.validator_value]
        return [
            doc.issue(
                path,
                f"'{instance}' is not one of: {', '.join(options)}"
                f"{did_you_mean(str(instance), options)}",
            )
        ]
    if validator == "const":
        return [doc.issue(path, f"must be '{error.validator_value}'")]
    if validator == "type":
        return [doc.issue(path, f"must be {_expected_types(schema)}, not {_describe(instance)}")]
    if validator == "pattern":
        message = _PATTERN_HINTS.get(
            error.validator_value, f"does not match the pattern {error.validator_value}"
        )
        return [doc.issue(path, f"'{instance}' {message}")]
    if (
        validator == "oneOf"
        and isinstance(instance, dict)
        and "after" in schema.get("properties", {})
    ):
        # A test's step (`kind: Test`): one thing happens per step.
        found = [k for k in schemas.TEST_STEP_KEYS if k in instance]
        return [
            doc.issue(
                path,
                "a step takes one of: "
                + ", ".join(schemas.TEST_STEP_KEYS)
                + (f"; found {' and '.join(found)}" if found else ""),
            )
        ]
    if (
        validator == "oneOf"
        and "oneOf" in schema
        and schema is not None
        and isinstance(instance, dict)
    ):
        keys = [k for k in schemas.ACTION_KEYS if k in instance]
        if not keys:
            return [doc.issue(path, "an action needs one of: " + ", ".join(schemas.ACTION_KEYS))]
        return [
            doc.issue(
                path,
                "an action takes exactly one of "
                + ", ".join(schemas.ACTION_KEYS)
                + f"; found {' and '.join(keys)}",
            )
        ]
    if validator == "anyOf" and all("required" in b for b in error.validator_value):
        options = [b["required"][0] for b in error.validator_value]
        return [doc.issue(path, f"needs at least one of: {', '.join(options)}")]
    if validator == "anyOf" and (branch := _branch_of_its_type(error)) is not None:
        # One of the branches takes this kind of value (a test's requester as a mapping,
        # an SLA instant as a text): what is wrong is what that branch says.
        return [issue for sub in branch for issue in _issues_for(sub, doc)]
    if validator == "anyOf":
        return [
            doc.issue(
                path,
                "a condition value must be a value, a list of values or a "
                "mapping of operators (ne, in, gt, …)",
            )
        ]
    if validator == "dependentRequired":
        return [
            doc.issue(
                (*path, key),
                f"'{key}' only applies together with " + " and ".join(f"'{n}'" for n in needed),
                key=True,
            )
            for key, needed in error.validator_value.items()
            if key in instance and any(n not in instance for n in needed)
        ]
    if validator == "not" and path == () and "every" in instance:
        return [
            doc.issue(("every",), "'every' only applies to automations with on: schedule", key=True)
        ]
    if validator == "minItems" and error.validator_value == 1:
        return [doc.issue(path, "must not be empty")]
    if validator == "minProperties" and error.validator_value == 1:
        return [doc.issue(path, "must not be empty")]
    return [doc.issue(path, error.message)]


def _branch_of_its_type(error: ValidationError) -> list[ValidationError] | None:
    """The errors of the one `anyOf` branch whose `type` is the instance's, if only one
    branch declares that type (None: no such branch, or the condition-value shapes)."""
    instance = error.instance
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    json_type = "object" if isinstance(instance, dict) else names.get(type(instance))
    if json_type is None:
        return None
    matching = [
        index
        for index, branch in enumerate(error.validator_value)
        if isinstance(branch, dict) and branch.get("type") == json_type
    ]
    if len(matching) != 1:
        return None
    found = [sub for sub in error.context or () if sub.relative_schema_path[0] == matching[0]]
    return found or None


def check_document_schema(doc: Document, kind: str) -> list[ConfigIssue]:
    """Every schema error of one document, located; empty when it is valid."""
    try:
        if _fast_validator_for(kind).is_valid(doc.data):
            return []
    except (ValueError, TypeError, OverflowError):  # e.g. an integer beyond 64 bits
        pass  # the Python validator decides
    issues: list[ConfigIssue] = []
    for error in validator_for(kind).iter_errors(doc.data):
        issues.extend(_issues_for(error, doc))
    return issues
