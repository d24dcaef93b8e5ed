"""Custom fields of a ticket type: the compiled `FieldDef` and the field-type registry.

Each field type is one small `FieldType` subclass, registered by name with
`@register_field_type`; the built-in ones live in `gongdan.forms.types`. A type
knows everything that differs between types (which options apply, its JSON Schema
fragment, how form or API input becomes its canonical JSON value, how conditions see
it, its widget template and what its widget posts, its value's shape and how filters
compare it, how its value is shown), so no code outside the type ever branches on a
type name (`tests/forms/test_no_type_branching.py` checks it).

The config loader calls `check_field` on each raw field mapping (all problems at once,
paths relative to the mapping), compiles the field's conditions, then `build_field`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, ClassVar, TypeVar

from gongdan.errors import did_you_mean
from gongdan.rules.conditions import Condition, FieldInfo
from gongdan.vocabulary import CONDITION_BUILTINS

from .params import COMMON_KEYS, KEY_CHECKS, PARAM_NAMES, FieldProblem, option_problems
from .patterns import RE2Validator, describe_schema_error, error_order
from .shapes import FilterKind, Holds, Many, Shown, ValueShape

__all__ = [
    "COMMON_KEYS",
    "FIELD_TYPES",
    "MAX_INPUT_LENGTH",
    "NOT_POSTED",
    "PARAM_NAMES",
    "FieldDef",
    "FieldProblem",
    "FieldType",
    "Label",
    "Option",
    "build_field",
    "check_field",
    "english",
    "normalise_label",
    "register_field_type",
]

Label = Mapping[str, str]

_FIELD_ID = re.compile(r"[a-z][a-z0-9_]{0,62}")
# No field takes more text than this, whatever its max_length: a bound on the work any
# one request can cause before the real limits are checked.
MAX_INPUT_LENGTH = 1_000_000
# What `FieldType.form_value` returns for a field a posted form has no input for.
NOT_POSTED: Any = object()
_TRUE_FILTER = (True, "true", "1", "on", "yes")


@dataclass(frozen=True, slots=True)
class Option:
    """One choice of a select or multiselect field."""

    value: str
    label: Label = field(hash=False)


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One compiled custom field of a ticket type.

    Mappings and conditions are left out of the hash (they are not hashable) but not
    out of equality, so a tuple of FieldDefs can key a cache.
    """

    id: str
    type: str
    label: Label = field(hash=False)
    help: Label | None = field(default=None, hash=False)
    placeholder: Label | None = field(default=None, hash=False)
    default: Any = field(default=None, hash=False)
    required: bool = False
    required_if: Condition | None = field(default=None, hash=False)
    visible_if: Condition | None = field(default=None, hash=False)
    readonly_in: frozenset[str] = frozenset()
    options: tuple[Option, ...] = ()
    internal: bool = False
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    @property
    def field_type(self) -> FieldType:
        """The registered type of this field."""
        return FIELD_TYPES[self.type]

    @property
    def holds(self) -> Holds | None:
        """What this field's values are the ids of (people, teams, files), if anything."""
        return FIELD_TYPES[self.type].shape.holds


def english(label: Label | None) -> str | None:
    """The English text of a label (or its first locale when it has no English)."""
    if not label:
        return None
    return label.get("en") or next(iter(label.values()))


def normalise_label(value: Any) -> Label | None:
    """A label as a read-only locale map: a plain string `s` becomes `{"en": s}`."""
    if value is None:
        return None
    if isinstance(value, str):
        return MappingProxyType({"en": value})
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


def _parse_options(raw: Mapping[str, Any]) -> tuple[Option, ...]:
    parsed = []
    for option in raw.get("options") or ():
        if isinstance(option, Mapping):
            value = str(option["value"])
            label = normalise_label(option.get("label", value))
        else:
            value = str(option)
            label = normalise_label(value)
        parsed.append(Option(value, label or MappingProxyType({"en": value})))
    return tuple(parsed)


def _humanise(field_id: str) -> str:
    return field_id.replace("_", " ").strip().capitalize() or field_id


class FieldType:
    """Base of the field types; subclasses set the class attributes and override
    `json_schema`, `parse` (non-empty input) and `condition_info`, and where their
    values show or post differently, `display` and `form_value`."""

    name: ClassVar[str]
    allowed_params: ClassVar[frozenset[str]] = frozenset()
    template: ClassVar[str]
    # Inputs the widget template posts beside the field's own, named `<id>__<name>`.
    companion_inputs: ClassVar[tuple[str, ...]] = ()
    filter_operators: ClassVar[tuple[str, ...]] = ("eq", "empty")
    # Whether the desk offers the field in its "field = value" filter (long text and
    # files are not filtered by typing a whole value).
    quick_filter: ClassVar[bool] = True
    # Whether the desk's search looks for words in its values (text people typed, not
    # option values, numbers or ids).
    text_search: ClassVar[bool] = False
    # Its stored value: one item or a list, what it names, how filters compare it.
    shape: ClassVar[ValueShape] = ValueShape()

    def check(self, raw: Mapping[str, Any]) -> list[FieldProblem]:
        """Every problem in the raw mapping of a field of this type."""
        problems = list(self._key_problems(raw))
        if "options" in self.allowed_params:
            problems += option_problems(raw, self.name)
        problems += self._range_problems(raw)
        problems += self.check_params(raw)
        if raw.get("required") is True and raw.get("required_if") is not None:
            message = "has no effect: the field is always required (required: true)"
            problems.append(FieldProblem(("required_if",), message, "warning"))
        if raw.get("default") is not None and not any(p.severity == "error" for p in problems):
            try:
                self.validate(self._build(raw), raw["default"])
            except ValueError as error:
                problems.append(FieldProblem(("default",), str(error)))
        return problems

    def check_params(self, raw: Mapping[str, Any]) -> list[FieldProblem]:
        """Problems particular to this type; the base checks every shared key."""
        return []

    def json_schema(self, field: FieldDef) -> dict[str, Any]:
        """The JSON Schema (2020-12) fragment for this field's stored (canonical) value."""
        raise NotImplementedError

    def coerce(self, field: FieldDef, value: Any) -> Any:
        """Turn form text or API JSON into the canonical JSON value; empty becomes None.

        Raises ValueError with a message for the user. Constraints the JSON Schema
        states (lengths, pattern, options, min/max) are left to `validate`.
        """
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str) and len(value) > MAX_INPUT_LENGTH:
            raise ValueError(f"is longer than {MAX_INPUT_LENGTH} characters")
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return self.parse(field, value)

    def parse(self, field: FieldDef, value: Any) -> Any:
        """Canonical value of non-empty input; raise ValueError when it is not one."""
        raise NotImplementedError

    def validate(self, field: FieldDef, value: Any) -> Any:
        """`coerce`, then check the canonical value against this field's JSON Schema."""
        canonical = self.coerce(field, value)
        if canonical is not None:
            validator = _validator(json.dumps(self.json_schema(field), sort_keys=True))
            error = next(iter(sorted(validator.iter_errors(canonical), key=error_order)), None)
            if error is not None:
                raise ValueError(describe_schema_error(error))
        return canonical

    def condition_info(self, field: FieldDef) -> FieldInfo:
        """How conditions see this field (its value type and, for choices, its options)."""
        raise NotImplementedError

    def condition_value(self, field: FieldDef, value: Any) -> Any:
        """The canonical value as conditions read it; most types read it as stored."""
        return value

    def is_list(self, field: FieldDef) -> bool:
        """Whether this field's canonical value is a list of items."""
        many = self.shape.many
        return many is Many.ALWAYS or (
            many is Many.IF_MULTIPLE and bool(field.params.get("multiple"))
        )

    def display(self, field: FieldDef, value: Any) -> tuple[Shown, ...]:
        """The items of a canonical value as readers see them, for the UI to word.

        Most types show each item as stored; choices show their options' labels,
        yes/no answers a word, references what they name (see `Shown`).
        """
        if value is None:
            return ()
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(Shown(str(item), holds=self.shape.holds) for item in items)

    def check_upload(
        self, field: FieldDef, *, filename: str, content_type: str, size_bytes: int
    ) -> None:
        """Raise ValueError when an uploaded file cannot be added to this field (types
        whose values are files override it)."""
        raise ValueError("takes no files")

    def filter_operand(self, field: FieldDef, value: Any) -> Any:
        """A value given to a list filter (typed text or JSON) as the database compares
        this field's values (`shape.compares`); ValueError when it is not one."""
        compares = self.shape.compares
        if compares is FilterKind.BOOLEAN:
            return value in _TRUE_FILTER
        if compares is FilterKind.NUMBER:
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ValueError("needs a number") from None
        return str(value)

    def filter_json(self, field: FieldDef, value: Any) -> Any:
        """A value given to a list filter as the JSON that stores it, for a JSON
        containment test (only used when `shape.stored_as_compared`)."""
        return self.filter_operand(field, value)

    def form_value(
        self, field: FieldDef, posted: Sequence[str] | None, companions: Mapping[str, str]
    ) -> Any:
        """What a posted HTML form gives this field, as `coerce` takes it.

        `posted` holds the texts posted under the field's id, in order (None when the
        form had no such input: the result is then `NOT_POSTED`, unless the widget
        posts nothing for an empty answer); `companions` the texts of the
        `companion_inputs` that were posted.
        """
        if self.is_list(field):
            return [text for text in posted or () if text.strip()]
        if posted is None:
            return NOT_POSTED
        return posted[-1] if posted else ""

    def _key_problems(self, raw: Mapping[str, Any]) -> Iterator[FieldProblem]:
        for key, value in raw.items():
            if key in PARAM_NAMES and key not in self.allowed_params:
                yield FieldProblem((key,), f"'{key}' does not apply to a {self.name} field")
            elif key not in PARAM_NAMES and key not in COMMON_KEYS:
                hint = did_you_mean(str(key), sorted(COMMON_KEYS | self.allowed_params))
                yield FieldProblem((key,), f"unknown option '{key}'{hint}")
            elif key in KEY_CHECKS and (problem := KEY_CHECKS[key](value)):
                yield FieldProblem((key,), problem)

    def _range_problems(self, raw: Mapping[str, Any]) -> Iterator[FieldProblem]:
        for low, high in (("min", "max"), ("min_length", "max_length")):
            if (
                low in self.allowed_params
                and KEY_CHECKS[low](raw.get(low)) is None
                and KEY_CHECKS[high](raw.get(high)) is None
                and raw[low] > raw[high]
            ):
                message = f"{high} ({raw[high]}) is less than {low} ({raw[low]})"
                yield FieldProblem((high,), message)

    def _build(self, raw: Mapping[str, Any]) -> FieldDef:
        params = {key: raw[key] for key in sorted(self.allowed_params - {"options"}) if key in raw}
        if isinstance(params.get("accept"), str):
            params["accept"] = params["accept"].split(",")
        if "accept" in params:
            params["accept"] = tuple(entry.strip().lower() for entry in params["accept"])
        return FieldDef(
            id=raw["id"],
            type=self.name,
            label=normalise_label(raw.get("label")) or normalise_label(_humanise(raw["id"])) or {},
            help=normalise_label(raw.get("help")),
            placeholder=normalise_label(raw.get("placeholder")),
            required=raw.get("required", False),
            readonly_in=frozenset(raw.get("readonly_in", ())),
            options=_parse_options(raw),
            internal=raw.get("internal", False),
            params=MappingProxyType(params),
        )


@functools.lru_cache(maxsize=1024)
def _validator(schema_json: str) -> Any:
    """One validator per distinct field schema (many fields share one)."""
    return RE2Validator(json.loads(schema_json))


_registry: dict[str, FieldType] = {}
FIELD_TYPES: Mapping[str, FieldType] = MappingProxyType(_registry)

_T = TypeVar("_T", bound=type[FieldType])


def register_field_type(cls: _T) -> _T:
    """Class decorator: register one instance of a field type under `cls.name`."""
    if cls.name in _registry:
        raise ValueError(f"field type '{cls.name}' is registered twice")
    _registry[cls.name] = cls()
    return cls


def check_field(raw: Mapping[str, Any]) -> list[FieldProblem]:
    """Every problem in the raw mapping of one custom field, all at once."""
    if not isinstance(raw, Mapping):
        return [FieldProblem((), "a field must be a mapping with at least id and type")]
    problems = []
    field_id = raw.get("id")
    if not isinstance(field_id, str) or not _FIELD_ID.fullmatch(field_id):
        message = "a field needs an id of lower-case letters, digits and _, starting with a letter"
        problems.append(FieldProblem(("id",), message))
    elif field_id in CONDITION_BUILTINS:
        problems.append(FieldProblem(("id",), f"'{field_id}' is a built-in field of every ticket"))
    type_name = raw.get("type")
    field_type = FIELD_TYPES.get(type_name) if isinstance(type_name, str) else None
    if field_type is None:
        if type_name is None:
            message = f"a field needs a type, one of: {', '.join(sorted(FIELD_TYPES))}"
        else:
            message = f"unknown field type '{type_name}'{did_you_mean(type_name, FIELD_TYPES)}"
        return [*problems, FieldProblem(("type",), message)]
    if problems:
        # The default cannot be checked without a usable id; everything else can.
        raw = {key: value for key, value in raw.items() if key != "default"}
        raw = {**raw, "id": "field"}
    return problems + field_type.check(raw)


def build_field(
    raw: Mapping[str, Any], *, required_if: Condition | None, visible_if: Condition | None
) -> FieldDef:
    """Compile one raw field mapping; call it only when `check_field` found no errors."""
    field_type = FIELD_TYPES[raw["type"]]
    built = field_type._build(raw)
    # `check_field` validated the default against the field's schema already.
    default = field_type.coerce(built, raw["default"]) if "default" in raw else None
    if default is None and required_if is None and visible_if is None:
        return built  # most fields: no second copy (a bundle may hold tens of thousands)
    return replace(built, default=default, required_if=required_if, visible_if=visible_if)


# The built-in types register themselves on import; they need the names above, so the
# import comes last.
from . import types as _builtin_types  # noqa: E402

del _builtin_types
