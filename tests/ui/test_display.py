"""Custom field values in words: what a field type marks in its display items (option
labels, yes/no answers, team and file ids) worded in the reader's language."""

from __future__ import annotations

from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.forms.fields import FieldDef, build_field
from gongdan.ui.display import display_value, labelled_text


def _field(type_name: str, **params: Any) -> FieldDef:
    raw = {"id": "example", "type": type_name, **params}
    return build_field(raw, required_if=None, visible_if=None)


SELECT = _field(
    "multiselect", options=[{"value": "hw", "label": {"en": "Hardware", "zh-CN": "硬件"}}, "net"]
)


def test_details_show_labels_answers_and_team_names(example_bundle: Bundle) -> None:
    def shown(field: FieldDef, value: Any, language: str = "en") -> Any:
        return display_value(example_bundle, field, value, language, {})

    assert shown(SELECT, ["hw", "net"]) == "Hardware, net"
    assert shown(SELECT, ["hw"], "zh-CN") == "硬件"
    assert shown(_field("boolean"), True) == "Yes"
    assert shown(_field("boolean"), False, "zh-CN") == "否"
    assert shown(_field("team"), "customer_care", "zh-CN") == "客户关怀"
    assert shown(_field("team"), "gone") == "gone"
    assert shown(_field("number"), 2.5) == "2.5"


def test_details_link_files_by_their_names(example_bundle: Bundle) -> None:
    files = _field("attachment", multiple=True)
    value = display_value(example_bundle, files, ["7", "8"], "en", {"7": "photo.jpg"})
    assert value == [("7", "photo.jpg"), ("8", "8")]


def test_the_timeline_shows_option_labels_and_other_values_as_stored() -> None:
    assert labelled_text(SELECT, ["net", "hw"], "zh-CN") == "net, 硬件"
    assert labelled_text(_field("boolean"), True, "en") == "True"
    assert labelled_text(_field("team"), "customer_care", "en") == "customer_care"
