"""The condition language of `when`, `visible_if`, `required_if` and `applies_when`.

A condition is a YAML mapping (DESIGN.md, "Conditions"): `{category: hardware}`,
`{priority: [high, urgent]}`, `{impact: {ne: me}}`, `{any: [...]}`. `compile_condition`
checks it once, at load, against the fields it names (reporting every problem with its
path inside the condition), and compiles it into a `Condition`: an immutable callable
built from nested closures. Nothing is ever `eval`ed, and evaluation is bounded by the
size of the condition. `condition_json_schema` translates a condition over the ticket's
own data into a JSON Schema fragment, for the `if`/`then` of an exported ticket type.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from gongdan.errors import did_you_mean
from gongdan.rules._condition_ops import (
    AllOf,
    AnyOf,
    Invalid,
    KeyTest,
    Negation,
    Node,
    Scalar,
    ValueType,
    always_false,
    build_evaluator,
    is_number,
    parse_temporal,
)
from gongdan.rules.durations import parse_duration

__all__ = [
    "MAX_DEPTH",
    "OPERATORS",
    "AllOf",
    "AnyOf",
    "Condition",
    "ConditionProblem",
    "FieldInfo",
    "Invalid",
    "KeyTest",
    "Negation",
    "Node",
    "ValueType",
    "compile_condition",
    "condition_json_schema",
    "operators_for",
]

MAX_DEPTH = 32
OPERATORS = (
    "changed",
    "changed_to",
    "contains",
    "empty",
    "gt",
    "gte",
    "in",
    "lt",
    "lte",
    "ne",
    "newer_than",
    "not_in",
    "older_than",
    "starts_with",
)

_COMPARISONS = ("gt", "gte", "lt", "lte")
_ORDERED: frozenset[ValueType] = frozenset({"number", "integer", "date", "datetime", "any"})
_OPERATOR_TYPES: dict[str, frozenset[ValueType]] = {
    **dict.fromkeys(_COMPARISONS, _ORDERED),
    "contains": frozenset({"string", "list", "any"}),
    "starts_with": frozenset({"string", "any"}),
    "older_than": frozenset({"date", "datetime", "any"}),
    "newer_than": frozenset({"date", "datetime", "any"}),
}
_TYPE_NOUNS: dict[ValueType, str] = {
    "string": "text",
    "number": "numbers",
    "integer": "whole numbers",
    "boolean": "true or false",
    "date": "dates",
    "datetime": "dates and times",
    "list": "lists",
    "any": "any value",
}
_BOUND_HINTS: dict[ValueType, str] = {
    "number": "a number",
    "integer": "a number",
    "date": "a date like 2026-01-31",
    "datetime": "a date like 2026-01-31 or a datetime like 2026-01-31T09:00:00+08:00",
    "any": "a number or a date like 2026-01-31",
}
_SCALAR_TYPES: frozenset[ValueType] = frozenset(
    {"string", "number", "integer", "boolean", "date", "datetime"}
)
_SCHEMA_BOUNDS = {
    "gt": "exclusiveMinimum",
    "gte": "minimum",
    "lt": "exclusiveMaximum",
    "lte": "maximum",
}
_REGEX_SPECIALS = frozenset("\\^$.|?*+()[]{}/")
_LISTS = (list, tuple)

Evaluator = Callable[[Mapping[str, Any], Mapping[str, Any] | None, datetime | None], bool]


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """What the checker knows about one key: its type, and its options when they are closed."""

    value_type: ValueType
    options: frozenset[str] | None = None


def operators_for(value_type: ValueType) -> tuple[str, ...]:
    """The operators a condition may apply to a key holding `value_type` (what a
    visual editor offers for a row), in `OPERATORS` order."""
    return tuple(
        name
        for name in OPERATORS
        if name not in _OPERATOR_TYPES or value_type in _OPERATOR_TYPES[name]
    )


@dataclass(frozen=True, slots=True)
class ConditionProblem:
    """One problem found in a condition; `path` is inside the condition, the caller prefixes it."""

    path: tuple[str | int, ...]
    message: str
    severity: Literal["error", "warning"] = "error"


_ANY = FieldInfo("any")


class Condition:
    """A compiled condition: call it with the ticket's values to know whether it holds.

    `previous` holds the values before the change being processed (None on creation);
    `now` is needed only by `older_than`/`newer_than`. A condition compiled with errors
    never holds.
    """

    __slots__ = ("_evaluate", "_node", "fields", "source")

    source: object
    fields: frozenset[str]
    _evaluate: Evaluator
    _node: Node

    def __init__(
        self, source: object, fields: frozenset[str], node: Node, evaluate: Evaluator
    ) -> None:
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "_node", node)
        object.__setattr__(self, "_evaluate", evaluate)

    def __call__(
        self,
        values: Mapping[str, Any],
        previous: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> bool:
        return self._evaluate(values, previous, now)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a Condition is immutable: cannot set {name!r}")

    @property
    def tree(self) -> Node:
        """The checked tree the condition was compiled from, for code that translates a
        condition into another language (a queue's `when` into SQL)."""
        return self._node

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a Condition is immutable: cannot delete {name!r}")

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"

    # Immutable, so a copy is the condition itself (a deep copy of a compiled bundle works).
    def __copy__(self) -> Condition:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Condition:
        return self


def compile_condition(
    source: object,
    fields: Mapping[str, FieldInfo] | None = None,
    *,
    open_prefixes: tuple[str, ...] = ("requester.", "assignee."),
) -> tuple[Condition, list[ConditionProblem]]:
    """Check a condition's YAML and compile it into a `Condition`.

    With `fields`, every key must name one of them (keys starting with one of
    `open_prefixes` are accepted as holding any value) and every value must fit its
    field; without, only the structure is checked. Every problem is returned, in
    source order; when there is an error the condition never holds.
    """
    checker = _Checker(fields, open_prefixes)
    node = checker.condition(source, (), 1)
    evaluate: Evaluator
    if checker.error_count:
        node, evaluate = Invalid(), always_false
    else:
        evaluate = build_evaluator(node)
    return Condition(source, frozenset(checker.keys), node, evaluate), checker.problems


def condition_json_schema(condition: Condition) -> dict[str, Any] | None:
    """A JSON Schema (2020-12) fragment over the ticket's data that holds exactly when
    the condition does, or None when the condition needs what a schema cannot see:
    time (`older_than`, `newer_than`), history (`changed`, `changed_to`), dates,
    dotted paths, or a condition with errors.
    """
    return _schema(condition._node)


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:40] + "…"
        return f"the text '{shown}'"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, date):
        return f"the date {value.isoformat()}"
    if isinstance(value, _LISTS):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    return f"a {type(value).__name__}"


def _fits(kind: ValueType, value: object) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "number":
        return bool(is_number(value))
    if kind == "integer":
        whole_float = isinstance(value, float) and value.is_integer()
        return whole_float or (isinstance(value, int) and not isinstance(value, bool))
    if kind == "boolean":
        return isinstance(value, bool)
    return True


def _temporal_operand(value: object, value_type: ValueType) -> date | None:
    found = value if isinstance(value, date) else None
    if isinstance(value, str):
        found = parse_temporal(value)
    if value_type == "date" and isinstance(found, datetime):
        return None
    return found


class _Checker:
    """Walks a condition's source once, collecting problems and building the tree."""

    def __init__(self, fields: Mapping[str, FieldInfo] | None, open_prefixes: tuple[str, ...]):
        self.fields = fields
        self.open_prefixes = open_prefixes
        self.problems: list[ConditionProblem] = []
        self.keys: set[str] = set()
        self.error_count = 0

    def report(self, path: tuple[str | int, ...], message: str, *, warning: bool = False) -> None:
        self.problems.append(ConditionProblem(path, message, "warning" if warning else "error"))
        self.error_count += not warning

    def condition(self, source: object, path: tuple[str | int, ...], depth: int) -> Node:
        if depth > MAX_DEPTH:
            self.report(path, f"condition is nested more than {MAX_DEPTH} levels deep")
            return Invalid()
        if not isinstance(source, Mapping):
            self.report(
                path,
                "a condition must be a mapping like {category: hardware}, "
                f"not {_describe(source)}",
            )
            return Invalid()
        parts = [self.entry(key, value, path, depth) for key, value in source.items()]
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def entry(self, key: object, value: object, path: tuple[str | int, ...], depth: int) -> Node:
        if not isinstance(key, str):
            self.report((*path, str(key)), f"field names must be text, not {_describe(key)}")
            return Invalid()
        where = (*path, key)
        if key in ("any", "all"):
            if not isinstance(value, _LISTS) or not value:
                self.report(where, f"'{key}' needs a non-empty list of conditions")
                return Invalid()
            children = tuple(
                self.condition(item, (*where, index), depth + 1) for index, item in enumerate(value)
            )
            return AnyOf(children) if key == "any" else AllOf(children)
        if key == "not":
            return Negation(self.condition(value, where, depth + 1))
        info = self.field(key, where)
        if isinstance(value, Mapping):
            return self.operators(key, info, value, where)
        errors = self.error_count
        if isinstance(value, _LISTS):
            node = KeyTest(key, "in", self.values(key, info, value, where), info.value_type)
        else:
            node = KeyTest(key, "in", (self.value(key, info, value, where),), info.value_type)
        return Invalid() if self.error_count > errors else node

    def field(self, key: str, where: tuple[str | int, ...]) -> FieldInfo:
        self.keys.add(key)
        if self.fields is None:
            return _ANY
        info = self.fields.get(key)
        if info is not None:
            return info
        if not key.startswith(self.open_prefixes):
            self.report(where, f"unknown field '{key}'{did_you_mean(key, self.fields)}")
        return _ANY

    def holds(self, info: FieldInfo) -> str:
        return "one of its options" if info.options is not None else _TYPE_NOUNS[info.value_type]

    def value(
        self, key: str, info: FieldInfo, value: object, where: tuple[str | int, ...]
    ) -> Scalar:
        """Check one value compared with the field; return it normalized (dates parsed)."""
        if value is None:
            return None
        if not isinstance(value, str | int | float | date):
            self.report(
                where,
                f"a value must be text, a number, true or false, a date or null, "
                f"not {_describe(value)}",
            )
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.report(where, f"a number must be finite, not {value}")
            return None
        kind = info.value_type
        if kind in ("date", "datetime") or (kind == "any" and isinstance(value, str)):
            temporal = _temporal_operand(value, kind)
            if temporal is not None:
                return temporal
            if kind != "any":
                self.report(
                    where,
                    f"'{key}' holds {_TYPE_NOUNS[kind]}, not {_describe(value)}; "
                    f"write {_BOUND_HINTS[kind]}",
                )
                return None
        if not _fits(kind, value):
            self.report(where, f"'{key}' holds {_TYPE_NOUNS[kind]}, not {_describe(value)}")
        elif info.options is not None and value not in info.options:
            shown = f"'{value}'" if isinstance(value, str) else _describe(value)
            hint = did_you_mean(str(value), info.options) or (
                " (options: " + ", ".join(sorted(info.options)) + ")"
            )
            self.report(where, f"{shown} is not an option of '{key}'{hint}")
        return value

    def values(
        self,
        key: str,
        info: FieldInfo,
        items: list[Any] | tuple[Any, ...],
        where: tuple[str | int, ...],
    ) -> tuple[Scalar, ...]:
        if not items:
            self.report(where, "a list of values needs at least one value")
        return tuple(self.value(key, info, item, (*where, i)) for i, item in enumerate(items))

    def operators(
        self, key: str, info: FieldInfo, operators: Mapping[Any, Any], where: tuple[str | int, ...]
    ) -> Node:
        if not operators:
            self.report(where, f"no operators for '{key}': this test is always true", warning=True)
            return AllOf(())
        parts: list[Node] = []
        for name, operand in operators.items():
            here = (*where, str(name))
            if name not in OPERATORS:
                self.report(here, _unknown_operator(key, name))
                parts.append(Invalid())
            elif name in _OPERATOR_TYPES and info.value_type not in _OPERATOR_TYPES[name]:
                self.report(
                    here, f"'{name}' cannot be used on '{key}', which holds {self.holds(info)}"
                )
                parts.append(Invalid())
            else:
                errors = self.error_count
                node = self.operator(key, info, name, operand, here)
                parts.append(Invalid() if self.error_count > errors else node)
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def operator(
        self, key: str, info: FieldInfo, name: str, operand: object, here: tuple[str | int, ...]
    ) -> KeyTest:
        kind = info.value_type
        if name in ("in", "not_in"):
            if not isinstance(operand, _LISTS):
                self.report(here, f"'{name}' needs a list of values, like [high, urgent]")
                return KeyTest(key, name, (), kind)
            return KeyTest(key, name, self.values(key, info, operand, here), kind)
        if name in ("ne", "changed_to"):
            if isinstance(operand, _LISTS) and name == "changed_to":
                return KeyTest(key, name, self.values(key, info, operand, here), kind)
            if isinstance(operand, _LISTS):
                self.report(here, "'ne' needs a single value, not a list; use not_in for several")
                return KeyTest(key, name, (), kind)
            operator = "not_in" if name == "ne" else name
            return KeyTest(key, operator, (self.value(key, info, operand, here),), kind)
        if name in _COMPARISONS:
            return KeyTest(key, name, self.bound(info, name, operand, here), kind)
        if name in ("empty", "changed") and not isinstance(operand, bool):
            self.report(here, f"'{name}' needs true or false, not {_describe(operand)}")
        elif name in ("older_than", "newer_than"):
            try:
                operand = parse_duration(operand if isinstance(operand, str) else str(operand))
            except ValueError as error:
                self.report(here, f"'{name}' needs a duration: {error}")
        elif name == "starts_with" and not isinstance(operand, str):
            self.report(here, f"'starts_with' needs text, not {_describe(operand)}")
        elif name == "contains":
            operand = self.contained(key, info, operand, here)
        return KeyTest(key, name, operand, kind)

    def bound(
        self, info: FieldInfo, name: str, operand: object, here: tuple[str | int, ...]
    ) -> Any:
        kind = info.value_type
        if is_number(operand) and kind in ("number", "integer", "any"):
            if math.isfinite(operand):  # type: ignore[arg-type]
                return operand
            self.report(here, f"a number must be finite, not {operand}")
            return None
        temporal = _temporal_operand(operand, kind) if kind in ("date", "datetime", "any") else None
        if temporal is None:
            self.report(here, f"'{name}' needs {_BOUND_HINTS[kind]}, not {_describe(operand)}")
        return temporal

    def contained(
        self, key: str, info: FieldInfo, operand: object, here: tuple[str | int, ...]
    ) -> Any:
        if operand is None or isinstance(operand, (*_LISTS, Mapping)):
            self.report(here, f"'contains' needs one value, not {_describe(operand)}")
        elif info.value_type == "string" and not isinstance(operand, str):
            self.report(
                here, f"'{key}' holds text, so 'contains' needs text, not {_describe(operand)}"
            )
        elif info.value_type == "list":
            return self.value(key, info, operand, here)
        return operand


def _unknown_operator(key: str, name: object) -> str:
    hint = did_you_mean(str(name), OPERATORS)
    if hint:
        return f"unknown operator '{name}'{hint}"
    return (
        f"unknown operator '{name}' (operators: {', '.join(OPERATORS)}; "
        f"for a nested value write '{key}.{name}')"
    )


# JSON Schema ------------------------------------------------------------------------


def _schema(node: Node) -> dict[str, Any] | None:
    if isinstance(node, KeyTest):
        return _test_schema(node)
    if isinstance(node, Negation):
        inner = _schema(node.child)
        return None if inner is None else {"not": inner}
    if isinstance(node, Invalid):
        return None
    keyword = "anyOf" if isinstance(node, AnyOf) else "allOf"
    parts: list[dict[str, Any]] = []
    for child in node.children:
        part = _schema(child)
        if part is None:
            return None
        # Splice a nested group of the same kind: {allOf: [{allOf: [a, b]}, c]} is a, b, c.
        parts.extend(part[keyword] if list(part) == [keyword] else [part])
    if len(parts) == 1:
        return parts[0]
    return {keyword: parts} if parts else {}


def _property(key: str, schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    # A missing key reads as None: require the key exactly when the test is false for None.
    found: dict[str, Any] = {"properties": {key: schema}}
    if required:
        found["required"] = [key]
    return found


def _pattern_escape(text: str) -> str:
    # Escape only the syntax characters, so the pattern is valid in Python and in
    # ECMA-262 with the `u` flag (which editors use and which rejects `\ ` or `\-`).
    return "".join("\\" + char if char in _REGEX_SPECIALS else char for char in text)


def _test_schema(test: KeyTest) -> dict[str, Any] | None:
    key, name, operand = test.key, test.operator, test.operand
    if "." in key or isinstance(operand, date):
        return None
    if name in ("in", "not_in"):
        if any(isinstance(item, date) for item in operand):
            return None
        scalar = {"const": operand[0]} if len(operand) == 1 else {"enum": list(operand)}
        present = scalar
        if test.value_type not in _SCALAR_TYPES:
            present = {"anyOf": [scalar, {"type": "array", "contains": scalar}]}
        schema = _property(key, present, required=None not in operand)
        return {"not": schema} if name == "not_in" else schema
    if name in _SCHEMA_BOUNDS:
        return _property(key, {"type": "number", _SCHEMA_BOUNDS[name]: operand}, required=True)
    if name == "starts_with":
        pattern = "^" + _pattern_escape(operand)
        return _property(key, {"type": "string", "pattern": pattern}, required=True)
    if name == "contains":
        member = {"type": "array", "contains": {"const": operand}}
        if not isinstance(operand, str) or test.value_type == "list":
            return _property(key, member, required=True)
        text = {"type": "string", "pattern": _pattern_escape(operand)}
        present = text if test.value_type == "string" else {"anyOf": [text, member]}
        return _property(key, present, required=True)
    if name == "empty":
        schema = _property(key, {"enum": [None, "", [], {}]}, required=False)
        return schema if operand else {"not": schema}
    return None  # older_than, newer_than, changed, changed_to need time or history.
