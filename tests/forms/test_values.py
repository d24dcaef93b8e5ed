"""Every field type, accepting and rejecting values from forms and the API.

Table-driven from tests/fixtures/fields/values.yaml, through `check_ticket_data`, the
entry point the web form, REST API and email intake share.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from gongdan.errors import ValidationFailed
from gongdan.forms.data import check_ticket_data
from gongdan.forms.fields import FIELD_TYPES, FieldDef, build_field, check_field

CASES = yaml.safe_load(
    (Path(__file__).parents[1] / "fixtures" / "fields" / "values.yaml").read_text("utf-8")
)


def _field(raw: dict[str, Any]) -> FieldDef:
    assert check_field(raw) == []
    return build_field(raw, required_if=None, visible_if=None)


ACCEPTS = [
    pytest.param(case["field"], given, stored, id=f"{case['field']['id']}-{given!r}")
    for case in CASES
    for given, stored in case.get("accepts", [])
]
REJECTS = [
    pytest.param(case["field"], given, message, id=f"{case['field']['id']}-{given!r}")
    for case in CASES
    for given, message in case.get("rejects", [])
]


@pytest.mark.parametrize(("raw", "given", "stored"), ACCEPTS)
def test_accepted_values_are_stored_in_canonical_form(raw: Any, given: Any, stored: Any) -> None:
    field = _field(raw)
    expected = {} if stored is None else {field.id: stored}
    assert check_ticket_data([field], {field.id: given}) == expected


@pytest.mark.parametrize(("raw", "given", "message"), REJECTS)
def test_rejected_values_say_why(raw: Any, given: Any, message: str) -> None:
    field = _field(raw)
    with pytest.raises(ValidationFailed) as caught:
        check_ticket_data([field], {field.id: given})
    assert caught.value.fields == {field.id: message}


def test_every_registered_type_has_a_case() -> None:
    covered = {case["field"]["type"] for case in CASES}
    assert covered == set(FIELD_TYPES)


@pytest.mark.parametrize("raw", [case["field"] for case in CASES], ids=lambda raw: raw["id"])
def test_stored_values_pass_again_unchanged(raw: Any) -> None:
    # What was stored once must be accepted as it is on the next edit (idempotence).
    field = _field(raw)
    for given, stored in next(c for c in CASES if c["field"] == raw).get("accepts", []):
        if stored is not None:
            assert check_ticket_data([field], {field.id: stored}) == {field.id: stored}, given


LONG_INPUTS = [
    "1" * 100_000 + "x",
    "http://" + "a" * 100_000 + " ",
    "a" * 100_000 + "@",
    "a@" + "b." * 50_000 + " ",
    "+" + "1 " * 50_000 + "x",
    "2026-03-01T" + "0" * 100_000,
    "x" * 1_000_001,
]


@pytest.mark.parametrize("raw", [case["field"] for case in CASES], ids=lambda raw: raw["id"])
def test_long_hostile_input_is_rejected_quickly(raw: Any) -> None:
    field = _field(raw)
    started = time.perf_counter()
    for text in LONG_INPUTS:
        with pytest.raises(ValidationFailed):
            check_ticket_data([field], {field.id: text})
    assert time.perf_counter() - started < 1
