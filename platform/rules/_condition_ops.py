"""The runtime of the condition language: the checked tree and the closures it becomes.

`gongdan.rules.conditions` checks a condition's YAML and builds the small tree defined
here (`KeyTest`, `AllOf`, `AnyOf`, `Negation`); `build_evaluator` turns the tree, once, into
nested closures over precomputed operands. The closures never raise on data: a value of
the wrong type, a missing key or None makes a test false. They only read their
arguments (no I/O, no clock: the caller passes `now`).
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal

from gongdan.rules.durations import Duration

__all__ = [
    "AllOf",
    "AnyOf",
    "Evaluator",
    "Invalid",
    "KeyTest",
    "Negation",
    "Node",
    "Scalar",
    "ValueType",
    "always_false",
    "always_true",
    "build_evaluator",
    "is_number",
    "parse_temporal",
]

ValueType = Literal["string", "number", "integer", "boolean", "date", "datetime", "list", "any"]
Scalar = str | int | float | bool | date | None
Values = Mapping[str, Any]
Evaluator = Callable[[Values, Values | None, datetime | None], bool]
Predicate = Callable[[Any], bool]

_LIST_TYPES = (list, tuple, set, frozenset)
_TEXT_CONTAINERS = (str, *_LIST_TYPES)
_REAL_TYPES = (int, float)
_SIZED_TYPES = (str, list, tuple, set, frozenset, dict, Mapping)
_ISO_DATE_START = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_TEMPORAL_LENGTH = 40
_MISSING: Any = object()
_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


@dataclass(frozen=True, slots=True)
class KeyTest:
    """One operator applied to the value at `key`.

    Operands are normalized by the checker: a tuple of scalars for `in`, `not_in` and
    `changed_to` (equals and `ne` are one-element tuples), a number or a date/datetime
    for `gt`…`lte`, a `Duration` for `older_than`/`newer_than`, a bool for `empty` and
    `changed`, a scalar for `contains`, a string for `starts_with`.
    """

    key: str
    operator: str
    operand: Any
    value_type: ValueType


@dataclass(frozen=True, slots=True)
class AllOf:
    """True when every child is (true when there are none)."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """True when at least one child is."""

    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """True when the child is false."""

    child: Node


@dataclass(frozen=True, slots=True)
class Invalid:
    """A part of the source that did not check; it is reported and never evaluated."""


Node = KeyTest | AllOf | AnyOf | Negation | Invalid


# Values -----------------------------------------------------------------------------


def is_number(value: object) -> bool:
    """True for int, float and Decimal values, but not for bools (true is not 1) or NaN Decimals."""
    if isinstance(value, bool):
        return False
    if isinstance(value, Decimal):
        # Ordering a NaN Decimal raises; a NaN is not a number anyone compares with.
        return not value.is_nan()
    return isinstance(value, _REAL_TYPES)


def _is_empty(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, _SIZED_TYPES):
        return len(value) == 0
    return False


def _same_value(first: object, second: object) -> bool:
    if first is second:
        return True
    if isinstance(first, bool) != isinstance(second, bool):
        return False
    try:
        return bool(first == second)
    except ArithmeticError:  # a signaling NaN Decimal, maybe inside a list, refuses ==
        return False


def parse_temporal(text: str) -> date | None:
    """Parse an ISO 8601 date (`2026-01-31`) or a datetime starting with one, else None.

    Only the extended form counts, so that option values like `20260131` stay text.
    """
    if not 10 <= len(text) <= _MAX_TEMPORAL_LENGTH or not _ISO_DATE_START.match(text):
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _as_temporal(value: object) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return parse_temporal(value)
    return None


def _aware(moment: datetime) -> datetime:
    # Gongdan stores time in UTC, so a naive datetime can only mean UTC.
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment


def _temporal_order(value: object, operand: date) -> int | None:
    """Compare a value with a date/datetime operand: -1, 0, 1, or None if not temporal.

    Two datetimes compare as instants; a date against a datetime compares by day.
    """
    found = _as_temporal(value)
    if found is None:
        return None
    left: date
    right: date
    if isinstance(found, datetime) and isinstance(operand, datetime):
        left, right = _aware(found), _aware(operand)
    elif isinstance(found, datetime):
        left, right = found.date(), operand
    elif isinstance(operand, datetime):
        left, right = found, operand.date()
    else:
        left, right = found, operand
    return (left > right) - (left < right)


def _as_instant(value: object) -> datetime | None:
    found = _as_temporal(value)
    if isinstance(found, datetime):
        return _aware(found)
    if found is not None:
        return datetime.combine(found, time(), tzinfo=UTC)
    return None


# Predicates over one value ----------------------------------------------------------


def _member_predicate(operand: Scalar) -> Predicate:
    """Equality with one scalar operand, where true/false never equals 1/0."""
    if operand is None:
        return lambda element: element is None
    if isinstance(operand, bool):
        return lambda element: element is operand
    if isinstance(operand, date):
        return lambda element: _temporal_order(element, operand) == 0
    if isinstance(operand, str):
        return lambda element: isinstance(element, str) and element == operand
    return lambda element: is_number(element) and bool(element == operand)


def _one_of_predicate(operands: tuple[Scalar, ...]) -> Predicate:
    """Equals one of the operands; a list value matches when any element does."""
    texts = frozenset(item for item in operands if isinstance(item, str))
    others = tuple(_member_predicate(item) for item in operands if not isinstance(item, str))
    if not others:
        # The common case (select options, states, priorities): one set lookup.
        def one_of_texts(value: Any) -> bool:
            if type(value) is str:
                return value in texts
            if isinstance(value, _LIST_TYPES):
                return any(isinstance(element, str) and element in texts for element in value)
            return isinstance(value, str) and value in texts

        return one_of_texts

    def member(element: Any) -> bool:
        if isinstance(element, str) and element in texts:
            return True
        return any(test(element) for test in others)

    def one_of(value: Any) -> bool:
        if isinstance(value, _LIST_TYPES):
            return any(member(element) for element in value)
        return member(value)

    return one_of


def _order_predicate(name: str, operand: float | date) -> Predicate:
    compare = _COMPARISONS[name]
    if isinstance(operand, date):
        temporal = operand

        def order_temporal(value: Any) -> bool:
            sign = _temporal_order(value, temporal)
            return sign is not None and compare(sign, 0)

        return order_temporal

    def order_number(value: Any) -> bool:
        kind = type(value)
        if kind is int or kind is float:
            return compare(value, operand)
        return is_number(value) and compare(value, operand)

    return order_number


def _contains_predicate(operand: Scalar) -> Predicate:
    if isinstance(operand, str):
        text = operand

        # Text equals only text, so plain `in` is exact for lists as well as for substrings.
        def contains_text(value: Any) -> bool:
            return isinstance(value, _TEXT_CONTAINERS) and text in value

        return contains_text
    member = _member_predicate(operand)

    def contains(value: Any) -> bool:
        if isinstance(value, _LIST_TYPES):
            return any(member(element) for element in value)
        return False

    return contains


def _value_predicate(test: KeyTest) -> tuple[Predicate, bool]:
    """The predicate of a test that reads only the current value, and whether to negate it."""
    name, operand = test.operator, test.operand
    if name in ("in", "not_in"):
        return _one_of_predicate(operand), name == "not_in"
    if name in _COMPARISONS:
        return _order_predicate(name, operand), False
    if name == "contains":
        return _contains_predicate(operand), False
    if name == "starts_with":
        prefix: str = operand
        return (lambda value: isinstance(value, str) and value.startswith(prefix)), False
    if name == "empty":
        return _is_empty, not operand
    raise AssertionError(f"unchecked operator {name!r}")  # pragma: no cover


# Evaluators over the whole ticket ----------------------------------------------------


def _getter(key: str) -> Callable[[Values], Any]:
    if "." not in key:
        return lambda values: values.get(key)
    parts = tuple(key.split("."))

    def get_path(values: Values) -> Any:
        found = values.get(key, _MISSING)
        if found is not _MISSING:
            return found
        current: Any = values
        for part in parts:
            if type(current) is not dict and not isinstance(current, Mapping):
                return None
            current = current.get(part)
        return current

    return get_path


def _from_predicate(key: str, predicate: Predicate, negate: bool) -> Evaluator:
    if "." in key:
        get = _getter(key)

        def check_path(values: Values, previous: Values | None, now: datetime | None) -> bool:
            return predicate(get(values)) != negate

        return check_path
    if negate:

        def check_not(values: Values, previous: Values | None, now: datetime | None) -> bool:
            return not predicate(values.get(key))

        return check_not

    def check(values: Values, previous: Values | None, now: datetime | None) -> bool:
        return predicate(values.get(key))

    return check


def _age_evaluator(test: KeyTest) -> Evaluator:
    key, get, older = test.key, _getter(test.key), test.operator == "older_than"
    duration: Duration = test.operand
    delta: timedelta = duration.as_timedelta()

    def age(values: Values, previous: Values | None, now: datetime | None) -> bool:
        if now is None:
            raise ValueError(f"the condition on '{key}' uses {test.operator}: pass `now`")
        value = get(values)
        # Stored timestamps are aware datetimes: compare them without parsing anything.
        if type(value) is datetime and value.utcoffset() is not None:
            stamp: datetime | None = value
        else:
            stamp = _as_instant(value)
        if stamp is None:
            return False
        threshold = _aware(now) - delta
        return stamp < threshold if older else stamp > threshold

    return age


def _changed_evaluator(test: KeyTest) -> Evaluator:
    get, wanted = _getter(test.key), bool(test.operand)

    def changed(values: Values, previous: Values | None, now: datetime | None) -> bool:
        current = get(values)
        if previous is None:
            # Creation: there was nothing before, so any value is a change.
            return (not _is_empty(current)) is wanted
        return (not _same_value(current, get(previous))) is wanted

    return changed


def _changed_to_evaluator(test: KeyTest) -> Evaluator:
    get, matches = _getter(test.key), _one_of_predicate(test.operand)

    def changed_to(values: Values, previous: Values | None, now: datetime | None) -> bool:
        if not matches(get(values)):
            return False
        return previous is None or not matches(get(previous))

    return changed_to


def always_true(
    values: Values, previous: Values | None = None, now: datetime | None = None
) -> bool:
    """The evaluator of an empty condition."""
    return True


def always_false(
    values: Values, previous: Values | None = None, now: datetime | None = None
) -> bool:
    """The evaluator of a condition that did not check: it never matches."""
    return False


def _all_of(children: tuple[Evaluator, ...]) -> Evaluator:
    if not children:
        return always_true
    if len(children) == 1:
        return children[0]
    if len(children) == 2:
        first, second = children

        def both(values: Values, previous: Values | None, now: datetime | None) -> bool:
            return first(values, previous, now) and second(values, previous, now)

        return both

    def every(values: Values, previous: Values | None, now: datetime | None) -> bool:
        for child in children:  # noqa: SIM110 - a loop allocates no generator per call
            if not child(values, previous, now):
                return False
        return True

    return every


def _any_of(children: tuple[Evaluator, ...]) -> Evaluator:
    if len(children) == 1:
        return children[0]

    def some(values: Values, previous: Values | None, now: datetime | None) -> bool:
        for child in children:  # noqa: SIM110 - a loop allocates no generator per call
            if child(values, previous, now):
                return True
        return False

    return some


def build_evaluator(node: Node) -> Evaluator:
    """Turn a checked tree into one callable `(values, previous, now) -> bool`."""
    if isinstance(node, AllOf):
        return _all_of(tuple(build_evaluator(child) for child in node.children))
    if isinstance(node, AnyOf):
        return _any_of(tuple(build_evaluator(child) for child in node.children))
    if isinstance(node, Negation):
        inner = build_evaluator(node.child)

        def negation(values: Values, previous: Values | None, now: datetime | None) -> bool:
            return not inner(values, previous, now)

        return negation
    if isinstance(node, Invalid):
        return always_false
    if node.operator in ("older_than", "newer_than"):
        return _age_evaluator(node)
    if node.operator == "changed":
        return _changed_evaluator(node)
    if node.operator == "changed_to":
        return _changed_to_evaluator(node)
    predicate, negate = _value_predicate(node)
    return _from_predicate(node.key, predicate, negate)
