"""Tests of the condition language: evaluation, compile-time problems and JSON Schema export.

Most cases are tables in tests/fixtures/conditions/*.yaml; what does not read well as a
table (limits, immutability, the purity of the core, property tests) is here.
"""

from __future__ import annotations

import ast
import copy
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from gongdan.rules import _condition_ops, conditions, durations
from gongdan.rules.conditions import (
    MAX_DEPTH,
    Condition,
    ConditionProblem,
    FieldInfo,
    compile_condition,
    condition_json_schema,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "conditions"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


class FixtureLoader(yaml.SafeLoader):
    """YAML as the config loader reads it (dates stay text), plus `!date`, `!datetime`
    and `!decimal` for the Python values ticket data may also hold."""


FixtureLoader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if not tag.endswith(":timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _parse in (("!date", date.fromisoformat), ("!datetime", datetime.fromisoformat)):
    FixtureLoader.add_constructor(
        _tag, lambda loader, node, parse=_parse: parse(loader.construct_scalar(node))
    )
FixtureLoader.add_constructor(
    "!decimal", lambda loader, node: Decimal(loader.construct_scalar(node))
)


def load(name: str) -> Any:
    with (FIXTURES / name).open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=FixtureLoader)  # noqa: S506 - a SafeLoader subclass


EVALUATE = load("evaluate.yaml")
PROBLEMS = load("problems.yaml")
SCHEMA = load("schema.yaml")
CATALOG = {
    key: FieldInfo(spec["type"], frozenset(spec["options"]) if "options" in spec else None)
    for key, spec in PROBLEMS["fields"].items()
}


def compiled(case: Mapping[str, Any], *, typed: bool) -> Condition:
    condition, problems = compile_condition(case["when"], CATALOG if typed else None)
    assert problems == [], f"{case['name']}: {problems}"
    return condition


def is_json(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json(v) for k, v in value.items())
    return False


def evaluation_rows() -> Iterator[Any]:
    for case in EVALUATE["cases"]:
        rows = [(values, None, True) for values in case.get("holds", ())]
        rows += [(values, None, False) for values in case.get("fails", ())]
        rows += [tuple(change) for change in case.get("changes", ())]
        for index, (values, previous, expected) in enumerate(rows):
            yield pytest.param(case, values, previous, expected, id=f"{case['name']}-{index}")


# Evaluation ------------------------------------------------------------------------


@pytest.mark.parametrize(("case", "values", "previous", "expected"), list(evaluation_rows()))
def test_evaluation(case: Any, values: Any, previous: Any, expected: bool) -> None:
    condition = compiled(case, typed=case.get("typed", False))
    assert condition(values, previous, EVALUATE["now"]) is expected


@pytest.mark.parametrize(
    "case", [c for c in EVALUATE["cases"] if not c.get("typed")], ids=lambda c: c["name"]
)
def test_json_schema_agrees_with_the_callable(case: Any) -> None:
    condition = compiled(case, typed=False)
    schema = condition_json_schema(condition)
    if schema is None:
        return
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for values in case.get("holds", ()):
        if is_json(values):
            assert validator.is_valid(values), values
    for values in case.get("fails", ()):
        if is_json(values):
            assert not validator.is_valid(values), values


def test_older_than_without_now_is_a_programming_error() -> None:
    condition, _ = compile_condition({"updated_at": {"older_than": "3d"}})
    with pytest.raises(ValueError, match="pass `now`"):
        condition({"updated_at": "2026-01-01T00:00:00Z"})
    with pytest.raises(ValueError, match="pass `now`"):
        condition({})  # even when there is nothing to compare


def test_naive_now_means_utc() -> None:
    condition, _ = compile_condition({"updated_at": {"newer_than": "1h"}})
    assert condition({"updated_at": "2026-03-10T11:30:00Z"}, now=NOW.replace(tzinfo=None))


def test_previous_and_now_are_optional() -> None:
    condition, _ = compile_condition({"state": {"changed_to": "resolved"}})
    assert condition({"state": "resolved"})
    assert not condition({"state": "resolved"}, {"state": "resolved"})


def test_values_may_be_any_mapping() -> None:
    class Values(Mapping[str, Any]):
        def __init__(self, data: dict[str, Any]) -> None:
            self.data = data

        def __getitem__(self, key: str) -> Any:
            return self.data[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self.data)

        def __len__(self) -> int:
            return len(self.data)

    condition, _ = compile_condition({"requester.tier": "vip", "category": "hardware"})
    assert condition(Values({"requester": Values({"tier": "vip"}), "category": "hardware"}))
    assert not condition(Values({"requester": Values({}), "category": "hardware"}))


@pytest.mark.parametrize(
    "value",
    [
        None,
        "abc",
        "",
        "2026-02-30",
        "2026-01-01Tnonsense",
        "9" * 200,
        0,
        -1.5,
        math.nan,
        math.inf,
        True,
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("1e999999"),
        [],
        [None, {"a": 1}, [1]],
        {"a": [1, 2]},
        {1, 2},
        (1, "a"),
        date(2026, 1, 1),
        datetime(2026, 1, 1, 10, 0),  # noqa: DTZ001 - naive data must not raise either
        datetime(2026, 1, 1, 10, 0, tzinfo=UTC),
        object(),
        b"bytes",
    ],
    ids=repr,
)
def test_no_data_makes_any_operator_raise(value: object) -> None:
    operators = [
        {"ne": "x"},
        {"in": ["x", 1, True, None, "2026-01-01"]},
        {"not_in": ["x"]},
        {"gt": 1},
        {"gte": "2026-01-01"},
        {"lt": "2026-01-01T10:00:00+08:00"},
        {"lte": -2.5},
        {"contains": "x"},
        {"contains": 1},
        {"starts_with": "x"},
        {"empty": True},
        {"older_than": "1d"},
        {"newer_than": "1h"},
        {"changed": True},
        {"changed_to": ["x", 1]},
    ]
    for spec in operators:
        for key in ("field", "a.b"):
            condition, problems = compile_condition({key: spec})
            assert problems == []
            for values in ({key: value}, {"a": value}):
                for previous in (None, {key: value}, {key: "x"}, {key: 1}, {key: [1]}):
                    assert isinstance(condition(values, previous, NOW), bool)


# Compile-time problems ---------------------------------------------------------------


@pytest.mark.parametrize("case", PROBLEMS["cases"], ids=lambda c: c["name"])
def test_problems(case: Any) -> None:
    condition, problems = compile_condition(
        case["when"], CATALOG if case.get("typed", True) else None
    )
    expected = [
        ConditionProblem(tuple(p["path"]), p["message"], p.get("severity", "error"))
        for p in case["problems"]
    ]
    assert problems == expected
    if any(p.severity == "error" for p in problems):
        # A condition with errors never holds and exports no schema.
        assert not condition({})
        assert condition_json_schema(condition) is None


def test_problem_paths_are_inside_the_condition() -> None:
    _, problems = compile_condition({"any": [{"impact": "me"}, {"impact": {"ne": "mee"}}]}, CATALOG)
    assert [p.path for p in problems] == [("any", 1, "impact", "ne")]


def test_nesting_is_limited() -> None:
    deepest: dict[str, Any] = {"category": "network"}
    for _ in range(MAX_DEPTH - 1):
        deepest = {"not": deepest}
    assert compile_condition(deepest)[1] == []
    condition, problems = compile_condition({"not": deepest})
    assert problems == [
        ConditionProblem(("not",) * MAX_DEPTH, "condition is nested more than 32 levels deep")
    ]
    assert not condition({})


def test_a_recursive_structure_is_an_error_not_a_crash() -> None:
    loop: dict[str, Any] = {}
    loop["any"] = [loop]
    _, problems = compile_condition(loop)
    assert [p.message for p in problems] == ["condition is nested more than 32 levels deep"]
    assert problems[0].path == ("any", 0) * MAX_DEPTH


def test_fields_lists_every_key_read() -> None:
    source = {
        "type": "it_incident",
        "any": [{"requester.tier": "vip"}, {"all": [{"impact": {"ne": "me"}}]}],
        "not": {"state_category": "closed"},
    }
    condition, _ = compile_condition(source)
    assert condition.fields == {"type", "requester.tier", "impact", "state_category"}
    assert condition.source is source


def test_conditions_are_immutable() -> None:
    condition, _ = compile_condition({"category": "hardware"})
    with pytest.raises(AttributeError):
        condition.fields = frozenset()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del condition.source
    with pytest.raises(AttributeError):
        condition.extra = 1  # type: ignore[attr-defined]
    assert repr(condition) == "Condition({'category': 'hardware'})"
    assert copy.copy(condition) is condition
    assert copy.deepcopy({"when": condition})["when"] is condition


# JSON Schema ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", SCHEMA["cases"], ids=lambda c: c["name"])
def test_json_schema(case: Any) -> None:
    condition, _ = compile_condition(case["when"], CATALOG if case.get("typed", True) else None)
    schema = condition_json_schema(condition)
    assert schema == case["schema"]
    if schema is None:
        return
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    for values in case.get("holds", ()):
        assert condition(values) and validator.is_valid(values), values
    for values in case.get("fails", ()):
        assert not condition(values) and not validator.is_valid(values), values


EXPRESSIBLE = [
    {"category": "hardware"},
    {"priority": ["high", "urgent", None]},
    {"level": [1, True, "1"]},
    {"impact": {"ne": "me"}},
    {"amount": {"gt": 1, "lte": 2.5}},
    {"title": {"contains": "a.b"}},
    {"title": {"starts_with": "[x"}},
    {"tags": {"contains": 1}},
    {"tags": {"empty": False}},
    {"any": [{"category": "x"}, {"not": {"amount": {"gte": 0}}}]},
]
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-3, 3, allow_nan=False),
    st.sampled_from(["hardware", "high", "me", "x", "1", "", "a.b", "[x]", "za.b"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("ab"), inner),
    max_leaves=6,
)
TICKETS = st.dictionaries(
    st.sampled_from(["category", "priority", "level", "impact", "amount", "title", "tags"]),
    JSON_VALUES,
)


@settings(max_examples=300, database=None, derandomize=True)
@given(ticket=TICKETS)
def test_json_schema_agrees_with_the_callable_on_any_data(ticket: dict[str, Any]) -> None:
    for source in EXPRESSIBLE:
        condition, problems = compile_condition(source)
        schema = condition_json_schema(condition)
        assert problems == [] and schema is not None
        assert Draft202012Validator(schema).is_valid(ticket) == condition(ticket), source


@settings(max_examples=300, database=None, derandomize=True)
@given(prefix=st.text(max_size=6), rest=st.text(max_size=4), before=st.text(max_size=2))
def test_starts_with_and_contains_escape_any_text(prefix: str, rest: str, before: str) -> None:
    for operator in ("starts_with", "contains"):
        condition, problems = compile_condition({"title": {operator: prefix}})
        schema = condition_json_schema(condition)
        assert problems == [] and schema is not None
        validator = Draft202012Validator(schema)
        for title in (prefix + rest, before + prefix + rest, before + rest):
            assert validator.is_valid({"title": title}) == condition({"title": title})


# The core stays pure -------------------------------------------------------------------

ALLOWED_IMPORTS = {
    "__future__",
    "collections.abc",
    "dataclasses",
    "datetime",
    "decimal",
    "gongdan.errors",
    "gongdan.rules._condition_ops",
    "gongdan.rules.durations",
    "math",
    "operator",
    "re",
    "typing",
}


@pytest.mark.parametrize(
    "module", [conditions, _condition_ops, durations], ids=lambda m: m.__name__
)
def test_modules_import_no_io_and_no_upper_layer(module: Any) -> None:
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    imported = {
        name
        for node in ast.walk(tree)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom)
            else []
        )
    }
    assert imported <= ALLOWED_IMPORTS
    assert ast.get_docstring(tree)
