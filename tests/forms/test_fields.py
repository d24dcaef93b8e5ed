"""The field-type registry and compiled FieldDefs: what the rest of Gongdan relies on."""

from __future__ import annotations

import pkgutil
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import gongdan.forms.types
from gongdan.forms.data import condition_values
from gongdan.forms.fields import (
    FIELD_TYPES,
    PARAM_NAMES,
    FieldDef,
    Option,
    build_field,
    register_field_type,
)
from gongdan.forms.types.references import AttachmentType
from gongdan.rules.conditions import OPERATORS, FieldInfo

# One representative field per type, with every option it accepts where it has them.
EXAMPLES: dict[str, dict[str, Any]] = {
    "attachment": {"multiple": True, "max_size_mb": 5, "accept": [".pdf", "image/*"]},
    "boolean": {},
    "date": {},
    "datetime": {},
    "decimal": {"scale": 2, "min": 0, "max": 10},
    "email": {"max_length": 100, "pattern": "@example\\.com$"},
    "integer": {"min": 1, "max": 5},
    "markdown": {"min_length": 1},
    "multiselect": {"options": ["a", "b"]},
    "number": {"min": -1.5},
    "phone": {},
    "select": {"options": ["a", {"value": "b", "label": {"en": "Bee", "zh-CN": "蜜蜂"}}]},
    "team": {},
    "text": {"min_length": 1, "max_length": 10, "pattern": "^[a-z]+$"},
    "textarea": {"max_length": 500},
    "url": {},
    "user": {"multiple": True},
}


def _build(type_name: str, **extra: Any) -> FieldDef:
    raw = {"id": "example", "type": type_name, **EXAMPLES[type_name], **extra}
    return build_field(raw, required_if=None, visible_if=None)


def test_every_type_has_an_example() -> None:
    assert set(EXAMPLES) == set(FIELD_TYPES)


@pytest.mark.parametrize("type_name", sorted(FIELD_TYPES))
def test_type_declares_what_the_ui_and_filters_need(type_name: str) -> None:
    field_type = FIELD_TYPES[type_name]
    assert field_type.name == type_name
    assert field_type.template == f"fields/{type_name}.html"
    assert field_type.filter_operators
    assert set(field_type.filter_operators) <= {"eq", *OPERATORS}
    assert field_type.allowed_params <= PARAM_NAMES


@pytest.mark.parametrize("type_name", sorted(FIELD_TYPES))
def test_json_schema_fragment_is_valid(type_name: str) -> None:
    Draft202012Validator.check_schema(FIELD_TYPES[type_name].json_schema(_build(type_name)))


@pytest.mark.parametrize(
    ("type_name", "info"),
    [
        ("text", FieldInfo("string")),
        ("integer", FieldInfo("integer")),
        ("number", FieldInfo("number")),
        ("decimal", FieldInfo("number")),
        ("boolean", FieldInfo("boolean")),
        ("date", FieldInfo("date")),
        ("datetime", FieldInfo("datetime")),
        ("select", FieldInfo("string", frozenset({"a", "b"}))),
        ("multiselect", FieldInfo("list", frozenset({"a", "b"}))),
        ("user", FieldInfo("list")),
        ("attachment", FieldInfo("list")),
        ("team", FieldInfo("string")),
    ],
)
def test_condition_info(type_name: str, info: FieldInfo) -> None:
    field = _build(type_name)
    assert field.field_type.condition_info(field) == info


def test_single_valued_user_is_a_string_to_conditions() -> None:
    field = _build("user", multiple=False)
    assert field.field_type.condition_info(field) == FieldInfo("string")


def test_every_family_module_registers_types() -> None:
    modules = {m.name for m in pkgutil.iter_modules(gongdan.forms.types.__path__)}
    registered = {type(t).__module__.rsplit(".", 1)[-1] for t in FIELD_TYPES.values()}
    assert registered == {name for name in modules if not name.startswith("_")}


def test_a_type_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="registered twice"):
        register_field_type(type(FIELD_TYPES["text"]))


def test_build_field_normalises_labels_options_and_default() -> None:
    field = build_field(
        {
            "id": "device_kind",
            "type": "select",
            "options": ["laptop", {"value": "phone", "label": {"en": "Phone", "zh-CN": "手机"}}],
            "default": " phone ",
            "readonly_in": ["closed"],
            "help": "What broke",
        },
        required_if=None,
        visible_if=None,
    )
    assert field.label == {"en": "Device kind"}
    assert field.help == {"en": "What broke"}
    assert field.options == (
        Option("laptop", {"en": "laptop"}),
        Option("phone", {"en": "Phone", "zh-CN": "手机"}),
    )
    assert field.default == "phone"
    assert field.readonly_in == frozenset({"closed"})
    assert field.required is False and field.internal is False
    assert field.field_type is FIELD_TYPES["select"]


def test_params_are_read_only_and_canonical() -> None:
    field = _build("attachment", accept="IMAGE/*, .PDF")
    assert isinstance(field.params, MappingProxyType)
    assert field.params == {"accept": ("image/*", ".pdf"), "max_size_mb": 5, "multiple": True}
    with pytest.raises(TypeError):
        field.params["multiple"] = False  # type: ignore[index]


def test_decimal_default_is_stored_canonically() -> None:
    assert _build("decimal", default=3.5).default == "3.50"


def test_field_defs_are_values() -> None:
    # Equal definitions are equal and hash alike, so a tuple of them can key a cache.
    first, second = _build("select"), _build("select")
    assert first == second
    assert hash(first) == hash(second)
    assert {first: 1}[second] == 1


def test_conditions_read_decimals_as_numbers() -> None:
    fields = [_build("decimal")]
    values = condition_values(fields, {"example": "7.50", "priority": "high"})
    assert values == {"example": Decimal("7.50"), "priority": "high"}


@pytest.mark.parametrize(
    ("filename", "content_type", "size", "problem"),
    [
        ("shot.png", "image/png", 1024, None),
        ("report.PDF", "application/octet-stream", 1024, None),
        ("shot.png", "image/png", 6 * 1024 * 1024, "'shot.png' is larger than 5 MB"),
        ("run.exe", "application/x-msdownload", 10, "'run.exe' must be one of these file types"),
    ],
)
def test_attachment_upload_limits(
    filename: str, content_type: str, size: int, problem: str | None
) -> None:
    field = _build("attachment")
    attachment = FIELD_TYPES["attachment"]
    assert isinstance(attachment, AttachmentType)
    if problem is None:
        attachment.check_upload(
            field, filename=filename, content_type=content_type, size_bytes=size
        )
    else:
        with pytest.raises(ValueError, match=problem):
            attachment.check_upload(
                field, filename=filename, content_type=content_type, size_bytes=size
            )
