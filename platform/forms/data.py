"""A ticket type's custom data: its JSON Schema and the one check every channel uses.

The web form, the REST API, email intake and imports all pass custom field values
through `check_ticket_data`, which coerces each value to its canonical JSON form,
works out which fields are visible (a hidden field is neither required nor kept),
applies `required` and `required_if`, and reports every bad field at once.
`ticket_data_schema` publishes the same rules as one JSON Schema (draft 2020-12) for
API clients and editors, as far as JSON Schema can say them: conditions that read
built-in fields, time or history only hold in `check_ticket_data`.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gongdan.errors import ValidationFailed, did_you_mean
from gongdan.rules.conditions import Condition, condition_json_schema

from .fields import FieldDef, english
from .patterns import RE2Validator, describe_schema_error, error_order

__all__ = [
    "SCHEMA_DIALECT",
    "FormState",
    "check_ticket_data",
    "condition_values",
    "dependent_fields",
    "form_state",
    "ticket_data_schema",
]

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, slots=True)
class _CompiledType:
    """What checking one ticket type's data needs, built once per tuple of fields."""

    fields: tuple[FieldDef, ...]
    by_id: Mapping[str, FieldDef]
    schema: dict[str, Any]
    # Validates values only: requirement and visibility are decided in Python, where
    # conditions can also read built-in fields, history and time.
    values_validator: Any


def ticket_data_schema(fields: Sequence[FieldDef]) -> dict[str, Any]:
    """One JSON Schema (2020-12) for a ticket type's custom data.

    Each field is a property (its type's schema, titled with its English label); fields
    that are always required are `required`; `required_if` and `visible_if` become
    `if`/`then` entries of `allOf` where the condition reads only this type's fields
    and JSON Schema can express it.
    """
    return copy.deepcopy(_compile(tuple(fields)).schema)


def condition_values(
    fields: Sequence[FieldDef] | Mapping[str, FieldDef], values: Mapping[str, Any]
) -> dict[str, Any]:
    """`values` (custom and built-in) as conditions read them: decimals as numbers.
    `fields`: the ticket type's fields, or already by id (its `field_map`, so a call on
    a write's hot path builds no map of its own)."""
    by_id = fields if isinstance(fields, Mapping) else {field.id: field for field in fields}
    return {
        key: by_id[key].field_type.condition_value(by_id[key], value)
        if key in by_id and value is not None
        else value
        for key, value in values.items()
    }


def check_ticket_data(
    fields: Sequence[FieldDef],
    data: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    partial: bool = False,
) -> dict[str, Any]:
    """Check and clean a ticket's custom data from any channel; return the clean dict.

    `data` maps field ids to form text or API JSON. `context` holds what conditions
    may read besides it: built-in fields (priority, type, state…) and, for a partial
    update, the ticket's current custom data. `previous` and `now` are passed to the
    conditions (`changed`, `older_than`…). A field absent from `data` takes its default
    unless `partial`. With `partial=True` (PATCH) only the keys given are checked, and a
    key given empty comes back as None, meaning "clear it"; otherwise empty values are
    dropped. Hidden fields are dropped, whatever was given for them.

    Raises ValidationFailed naming every bad field, with a message for each.
    """
    if not isinstance(data, Mapping):
        raise ValidationFailed("custom fields must be an object of field ids to values")
    compiled = _compile(tuple(fields))
    values, errors = _coerce(compiled, data, partial)
    context = context or {}
    visible = _visible_fields(compiled.fields, values, context, previous, now)
    scope = _scope(compiled.fields, values, context, visible)
    old = condition_values(compiled.fields, previous) if previous is not None else None
    for field in compiled.fields:
        if field.id not in visible:
            errors.pop(field.id, None)
        elif (
            field.id not in errors
            and (not partial or field.id in data)
            and values.get(field.id) is None
            and _required(field, scope, old, now)
        ):
            errors[field.id] = "is required"
    clean = {key: value for key, value in _present(values, visible).items() if key not in errors}
    for error in sorted(compiled.values_validator.iter_errors(clean), key=error_order):
        errors.setdefault(str(error.path[0]) if error.path else "", describe_schema_error(error))
    if errors:
        ordered = {field.id: errors[field.id] for field in compiled.fields if field.id in errors}
        ordered.update(errors)
        raise ValidationFailed(_detail(compiled, ordered), fields=ordered)
    if partial:
        cleared = {key: None for key in data if key in visible and values.get(key) is None}
        return {**clean, **cleared}
    return clean


@dataclass(frozen=True, slots=True)
class FormState:
    """Which fields a form shows, and which of them are required, for the input so far."""

    visible: frozenset[str]
    required: frozenset[str]


def form_state(
    fields: Sequence[FieldDef],
    data: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> FormState:
    """`visible_if` and `required_if` evaluated on half-typed form input, as
    `check_ticket_data` would: input that does not parse yet counts as empty, and keys
    that are not fields of the type are ignored. A web form calls this while the user
    types, to show and hide fields without deciding any rule itself."""
    compiled = _compile(tuple(fields))
    own = {key: value for key, value in data.items() if key in compiled.by_id}
    values, _ = _coerce(compiled, own, partial=False)
    context = context or {}
    visible = _visible_fields(compiled.fields, values, context, None, now)
    scope = _scope(compiled.fields, values, context, visible)
    required = frozenset(
        field.id
        for field in compiled.fields
        if field.id in visible and _required(field, scope, None, now)
    )
    return FormState(visible, required)


def dependent_fields(fields: Sequence[FieldDef], changed: str) -> tuple[str, ...]:
    """The fields whose visibility or requirement may change when `changed` does, directly
    or through other fields, in the type's order (not `changed` itself)."""
    reads = {
        field.id: frozenset().union(
            *(c.fields for c in (field.visible_if, field.required_if) if c is not None)
        )
        for field in fields
    }
    found: set[str] = set()
    frontier = {changed}
    while frontier:
        frontier = {fid for fid, names in reads.items() if names & frontier} - found - {changed}
        found |= frontier
    return tuple(field.id for field in fields if field.id in found)


@functools.lru_cache(maxsize=256)
def _compile(fields: tuple[FieldDef, ...]) -> _CompiledType:
    by_id = {field.id: field for field in fields}
    properties = {field.id: _property_schema(field) for field in fields}
    value_schema = {"type": "object", "properties": properties, "additionalProperties": False}
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, **value_schema}
    required = [f.id for f in fields if f.required and f.visible_if is None]
    if required:
        schema["required"] = required
    rules = [rule for field in fields if (rule := _requirement_rule(field, by_id)) is not None]
    if rules:
        schema["allOf"] = rules
    validator = RE2Validator(copy.deepcopy(value_schema))
    return _CompiledType(fields, by_id, schema, validator)


def _property_schema(field: FieldDef) -> dict[str, Any]:
    schema = field.field_type.json_schema(field)
    schema["title"] = english(field.label) or field.id
    if description := english(field.help):
        schema["description"] = description
    if field.default is not None:
        schema["default"] = field.default
    return schema


def _requirement_rule(field: FieldDef, by_id: Mapping[str, FieldDef]) -> dict[str, Any] | None:
    """`if`/`then` requiring a field when its conditions hold, if JSON Schema can say so."""
    if field.required:
        conditions = [field.visible_if]
    elif field.required_if is not None:
        conditions = [field.required_if, field.visible_if]
    else:
        return None
    tests = []
    for condition in conditions:
        test = _schema_test(condition, by_id) if condition is not None else {}
        if test is None:
            return None
        if test and test not in tests:
            tests.append(test)
    if not tests:
        return None
    return {
        "if": tests[0] if len(tests) == 1 else {"allOf": tests},
        "then": {"required": [field.id]},
    }


def _schema_test(condition: Condition, by_id: Mapping[str, FieldDef]) -> dict[str, Any] | None:
    # A condition reading a built-in field (or a value not stored as compared) cannot be
    # tested on the custom data alone.
    if not all(
        key in by_id and by_id[key].field_type.shape.stored_as_compared for key in condition.fields
    ):
        return None
    schema: dict[str, Any] | None = condition_json_schema(condition)
    return schema


def _coerce(
    compiled: _CompiledType, data: Mapping[str, Any], partial: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in compiled.fields:
        if field.id in data:
            try:
                values[field.id] = field.field_type.coerce(field, data[field.id])
            except ValueError as error:
                errors[field.id] = str(error)
        elif not partial and field.default is not None:
            values[field.id] = field.default
    for key in data:
        if key not in compiled.by_id:
            hint = did_you_mean(str(key), compiled.by_id)
            errors[str(key)] = f"is not a field of this ticket type{hint}"
    return values, errors


def _present(values: Mapping[str, Any], visible: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key in visible and value is not None}


def _scope(
    fields: tuple[FieldDef, ...],
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    visible: frozenset[str],
) -> dict[str, Any]:
    """What conditions read: the context, then the values of the visible fields.

    The context may hold the ticket's current custom data (partial updates); a field
    hidden now is absent from it as well.
    """
    own = {field.id for field in fields}
    scope = {key: value for key, value in context.items() if key not in own or key in visible}
    return {**scope, **condition_values(fields, _present(values, visible))}


def _visible_fields(
    fields: tuple[FieldDef, ...],
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    now: datetime | None,
) -> frozenset[str]:
    """The fields whose `visible_if` holds, once hidden fields' values are gone.

    Hiding a field removes its value, which may hide the fields that depend on it, so
    this repeats until nothing changes; a field once hidden stays hidden, so it ends.
    """
    visible = frozenset(field.id for field in fields)
    old = condition_values(fields, previous) if previous is not None else None
    for _ in range(len(fields) + 1):
        scope = _scope(fields, values, context, visible)
        still = frozenset(
            field.id
            for field in fields
            if field.id in visible
            and (field.visible_if is None or field.visible_if(scope, old, now))
        )
        if still == visible:
            break
        visible = still
    return visible


def _required(
    field: FieldDef,
    scope: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    now: datetime | None,
) -> bool:
    if field.required:
        return True
    return field.required_if is not None and field.required_if(scope, previous, now)


def _detail(compiled: _CompiledType, errors: Mapping[str, str]) -> str:
    def name(key: str) -> str:
        field = compiled.by_id.get(key)
        return (english(field.label) or key) if field is not None else key

    if len(errors) == 1:
        key, message = next(iter(errors.items()))
        return f"{name(key)}: {message}"
    return f"{len(errors)} fields are invalid: {', '.join(name(key) for key in errors)}"
