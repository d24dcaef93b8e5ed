"""What a field type tells code that handles its values without knowing the type.

Storing, linking, showing and querying a custom field's value differ by type, and the
code that does them (the engine's writes and reads, the bundle's queue compiler, the
web pages, mail) must not ask which type a field has. Instead each `FieldType` states
the facts here: its value's shape (`ValueShape`: list or not, what it names, how a
filter compares it) and how its items are shown (`Shown`, worded by the UI in the
reader's language). The rule: these are plain descriptions, with no SQL and no
wording; the engine maps them to SQL, the UI to words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["FilterKind", "Holds", "Many", "Shown", "ValueShape"]


class FilterKind(StrEnum):
    """How filters compare a field's stored values in the database.

    The values are the column kinds of a saved queue's `when` (`bundle.compile_views`),
    which adds `list` for values that are always lists and `opaque` for values not
    stored as they compare.
    """

    TEXT = "text"  # equal, one of, contains, starts with
    NUMBER = "number"  # numbers, in order
    BOOLEAN = "boolean"  # true or false
    DATE = "date"  # ISO dates: text that sorts as the dates do
    # Text that does not sort or match as the values compare (a UTC instant, a file
    # id): a list filter matches the stored text, a queue tests only `empty`.
    OPAQUE = "opaque"


class Many(StrEnum):
    """Whether a field's value is a list of items."""

    NEVER = "never"
    ALWAYS = "always"
    IF_MULTIPLE = "if_multiple"  # when the field sets `multiple: true`


class Holds(StrEnum):
    """What a field's values are the ids of, when they name something else."""

    PEOPLE = "people"  # accounts, by email
    TEAMS = "teams"  # teams of the bundle, by id
    FILES = "files"  # uploaded files, by attachment id


@dataclass(frozen=True, slots=True)
class ValueShape:
    """The shape of a type's canonical (stored) value."""

    # How filters compare the value, or each of its items.
    compares: FilterKind = FilterKind.TEXT
    many: Many = Many.NEVER
    holds: Holds | None = None
    # Whether the stored JSON is the value as it compares, so that a JSON test finds
    # it (JSON Schema conditions, JSON containment on the GIN index). False for
    # decimals: stored as text, compared as numbers.
    stored_as_compared: bool = True


@dataclass(frozen=True, slots=True)
class Shown:
    """One item of a field's value as a reader sees it (`FieldType.display`).

    `value` is the item as stored, as text. The UI words the rest in the reader's
    language: `label` (an option's label) replaces the value, `answer` is a yes or no,
    and `holds` says what the value is the id of (a team to name, a file to link).
    """

    value: str
    label: Mapping[str, str] | None = None
    answer: bool | None = None
    holds: Holds | None = None
