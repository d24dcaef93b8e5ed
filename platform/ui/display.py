"""Custom field values as readers see them: a field type's display items, worded in
the reader's language.

The field type decides what each item of a value is (`FieldType.display`: an option
with its label, a yes/no answer, the id of a team or a file); this module only finds
the words — labels localised, yes and no from the catalogue, team names from the
bundle, file names from the ticket's attachments — so no page asks a field's type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gongdan.bundle.compiled import Bundle
from gongdan.forms.fields import FieldDef
from gongdan.forms.shapes import Holds, Shown
from gongdan.ui.i18n import localise, translate

__all__ = ["display_value", "labelled_text", "shown_text"]


def shown_text(item: Shown, bundle: Bundle, language: str) -> str:
    """One display item in words: its label, yes or no, a team's name, or its value."""
    if item.label is not None:
        return localise(item.label, language)
    if item.answer is not None:
        return translate(language, "common.yes" if item.answer else "common.no")
    if item.holds is Holds.TEAMS and (team := bundle.teams.get(item.value)) is not None:
        return localise(team.name, language)
    return item.value


def display_value(
    bundle: Bundle, field: FieldDef, value: Any, language: str, files: Mapping[str, str]
) -> str | list[tuple[str, str]]:
    """A field's value as a page of details shows it: its items in words, joined by
    commas; for files, the (attachment id, file name) of each, to link."""
    items = field.field_type.display(field, value)
    if field.holds is Holds.FILES:
        return [(item.value, files.get(item.value, item.value)) for item in items]
    return ", ".join(shown_text(item, bundle, language) for item in items)


def labelled_text(field: FieldDef, value: Any, language: str) -> str:
    """A field's value with option labels in place of option values and every other
    item as stored, joined by commas (what the timeline shows of a change)."""
    return ", ".join(
        localise(item.label, language) if item.label is not None else item.value
        for item in field.field_type.display(field, value)
    )
