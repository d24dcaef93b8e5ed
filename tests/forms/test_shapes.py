"""What field types tell the code that handles their values without knowing the type:
list or not, what the values name, how they show, how a filter reads what a person
typed, what a posted form gives, and which type renders each built-in field."""

from __future__ import annotations

from typing import Any

import pytest

from gongdan.forms.builtins import builtin_field
from gongdan.forms.fields import FIELD_TYPES, NOT_POSTED, FieldDef, build_field
from gongdan.forms.shapes import Holds, Shown
from gongdan.vocabulary import BUILTIN_FIELDS, PRIORITIES


def _field(type_name: str, **params: Any) -> FieldDef:
    raw = {"id": "example", "type": type_name, **params}
    return build_field(raw, required_if=None, visible_if=None)


def _select() -> FieldDef:
    options = ["net", {"value": "hw", "label": {"en": "Hardware", "zh-CN": "硬件"}}]
    return _field("select", options=options)


@pytest.mark.parametrize(
    ("field", "is_list", "holds"),
    [
        (_field("text"), False, None),
        (_field("multiselect", options=["a"]), True, None),
        (_field("user"), False, Holds.PEOPLE),
        (_field("user", multiple=True), True, Holds.PEOPLE),
        (_field("team"), False, Holds.TEAMS),
        (_field("attachment"), False, Holds.FILES),
        (_field("attachment", multiple=True), True, Holds.FILES),
    ],
    ids=lambda value: value.type if isinstance(value, FieldDef) else None,
)
def test_a_value_is_a_list_and_names_something_as_its_type_says(
    field: FieldDef, is_list: bool, holds: Holds | None
) -> None:
    assert field.field_type.is_list(field) is is_list
    assert field.holds is holds


def test_only_references_name_people_teams_or_files() -> None:
    naming = {name for name, t in FIELD_TYPES.items() if t.shape.holds is not None}
    assert naming == {"attachment", "team", "user"}


def test_options_show_their_labels_and_other_values_show_as_stored() -> None:
    select = _select()
    assert select.field_type.display(select, "hw") == (
        Shown("hw", label={"en": "Hardware", "zh-CN": "硬件"}),
    )
    assert select.field_type.display(select, "gone") == (Shown("gone"),)
    multi = _field("multiselect", options=["x", "y"])
    assert [item.value for item in multi.field_type.display(multi, ["y", "x"])] == ["y", "x"]
    number = _field("number")
    assert number.field_type.display(number, 2.5) == (Shown("2.5"),)
    assert number.field_type.display(number, None) == ()


def test_answers_teams_and_files_are_marked_for_the_reader_to_word() -> None:
    boolean, team, files = _field("boolean"), _field("team"), _field("attachment", multiple=True)
    assert boolean.field_type.display(boolean, False) == (Shown("False", answer=False),)
    assert team.field_type.display(team, "desk") == (Shown("desk", holds=Holds.TEAMS),)
    assert files.field_type.display(files, ["7", "9"]) == (
        Shown("7", holds=Holds.FILES),
        Shown("9", holds=Holds.FILES),
    )


@pytest.mark.parametrize(
    ("type_name", "typed", "operand", "stored"),
    [
        ("text", 42, "42", "42"),
        ("number", "5", 5.0, 5.0),
        ("integer", "5", 5.0, 5),
        ("integer", "2.5", 2.5, 2.5),
        ("decimal", "12.50", 12.5, 12.5),
        ("boolean", "yes", True, True),
        ("boolean", "no", False, False),
        ("date", "2026-01-31", "2026-01-31", "2026-01-31"),
    ],
)
def test_a_filter_reads_what_was_typed_as_the_values_compare(
    type_name: str, typed: Any, operand: Any, stored: Any
) -> None:
    field = _field(type_name)
    assert field.field_type.filter_operand(field, typed) == operand
    found = field.field_type.filter_json(field, typed)
    assert found == stored and type(found) is type(stored)


@pytest.mark.parametrize("type_name", ["number", "integer", "decimal"])
def test_a_filter_on_numbers_refuses_text(type_name: str) -> None:
    field = _field(type_name)
    with pytest.raises(ValueError, match="needs a number"):
        field.field_type.filter_operand(field, "lots")


@pytest.mark.parametrize(
    ("field", "posted", "companions", "value"),
    [
        (_field("text"), None, {}, NOT_POSTED),
        (_field("text"), [], {}, ""),
        (_field("text"), ["first", "last"], {}, "last"),
        (_field("multiselect", options=["x", "y"]), None, {}, []),
        (_field("multiselect", options=["x", "y"]), ["", "x", " ", "y"], {}, ["x", "y"]),
        (_field("user", multiple=True), ["a@example.com"], {}, ["a@example.com"]),
        (_field("boolean"), None, {}, None),
        (_field("boolean"), ["false", "true"], {}, "true"),
        (_field("datetime"), ["2026-03-01T08:00"], {"offset": "+08:00"}, "2026-03-01T08:00+08:00"),
        (_field("datetime"), ["2026-03-01T08:00Z"], {"offset": "+08:00"}, "2026-03-01T08:00Z"),
        (_field("datetime"), [" 2026-03-01T08:00 "], {}, "2026-03-01T08:00"),
        (_field("datetime"), None, {"offset": "+08:00"}, ""),
    ],
)
def test_each_type_reads_what_its_widget_posts(
    field: FieldDef, posted: list[str] | None, companions: dict[str, str], value: Any
) -> None:
    assert field.field_type.form_value(field, posted, companions) == value


def test_the_datetime_widget_posts_the_browser_offset_beside_it() -> None:
    assert FIELD_TYPES["datetime"].companion_inputs == ("offset",)
    assert all(not t.companion_inputs for name, t in FIELD_TYPES.items() if name != "datetime")


def test_only_file_fields_take_uploads() -> None:
    text = _field("text")
    with pytest.raises(ValueError, match="takes no files"):
        text.field_type.check_upload(text, filename="a.pdf", content_type="x/y", size_bytes=1)


def test_built_in_fields_are_rendered_by_registered_types() -> None:
    for field_id in BUILTIN_FIELDS:
        field = builtin_field(field_id)
        assert field.id == field_id and field.type in FIELD_TYPES
        assert not field.field_type.is_list(field)
    assert builtin_field("description").field_type.template == "fields/markdown.html"
    assert builtin_field("assignee").holds is Holds.PEOPLE
    assert builtin_field("team").holds is Holds.TEAMS
    assert [o.value for o in builtin_field("priority").options] == list(PRIORITIES)
    assert builtin_field("state").field_type is FIELD_TYPES["text"]
