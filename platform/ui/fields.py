"""Generated forms: a ticket type's form sections as views the field templates render.

Each field becomes a `FieldView` (label and help in the user's language, required
marker, current value, error, options), rendered by the template its field type names
(`FieldType.template`, e.g. `fields/select.html`; a built-in field uses the template
of the type `gongdan.forms.builtins.builtin_field` gives it). Which fields show and
which are required comes from `gongdan.forms.data.form_state` — the same conditions
`check_ticket_data` applies — so the UI decides no rule itself. `read_form` turns a
posted form back into the values the service takes, as each field type reads what
its widget posts (`FieldType.form_value`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from starlette.datastructures import FormData

from gongdan.bundle.compiled import Bundle, FormSection, TicketTypeDef
from gongdan.forms.builtins import builtin_field
from gongdan.forms.data import dependent_fields, form_state
from gongdan.forms.fields import FIELD_TYPES, NOT_POSTED, FieldDef
from gongdan.forms.shapes import Holds
from gongdan.rules.workflow import TransitionDef
from gongdan.ui.i18n import localise, translate
from gongdan.vocabulary import PRIORITIES

__all__ = [
    "FieldView",
    "FormView",
    "SectionView",
    "build_form",
    "changed_dependents",
    "form_sections",
    "read_form",
    "transition_fields_form",
]

_MAX_VALUES = 200


@dataclass(frozen=True, slots=True)
class FieldView:
    """One field as its widget template needs it."""

    id: str
    kind: str  # the name of the field type whose widget edits it
    label: str
    help: str = ""
    placeholder: str = ""
    required: bool = False
    visible: bool = True
    readonly: bool = False
    value: Any = None
    error: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    triggers: bool = False  # other fields' visibility or requirement depend on it
    prefix: str = "f"
    files: tuple[tuple[str, str], ...] = ()  # attachments: (id, file name)
    multiple: bool = False  # the value is a list

    @property
    def template(self) -> str:
        return FIELD_TYPES[self.kind].template

    @property
    def dom_id(self) -> str:
        return f"{self.prefix}-{self.id}"

    @property
    def input_id(self) -> str:
        return f"{self.prefix}-{self.id}-input"

    @property
    def values(self) -> list[str]:
        """The value as a list of texts (for checkboxes, multiple users, files)."""
        if self.value is None or self.value == "":
            return []
        items = self.value if isinstance(self.value, list | tuple) else [self.value]
        return [str(item) for item in items]


@dataclass(frozen=True, slots=True)
class SectionView:
    label: str
    fields: tuple[FieldView, ...]


@dataclass(frozen=True, slots=True)
class FormView:
    """A whole generated form: its sections and the htmx endpoints its fields call."""

    sections: tuple[SectionView, ...]
    check_url: str | None = None  # re-evaluates visibility and validates one field
    upload_url: str | None = None  # `{field}` is replaced by the attachment field's id
    staff: tuple[tuple[str, str], ...] = ()  # (email, name) suggestions for user fields

    @property
    def fields(self) -> dict[str, FieldView]:
        return {f.id: f for section in self.sections for f in section.fields}


def form_sections(ticket_type: TicketTypeDef, form_name: str) -> tuple[FormSection, ...]:
    """The sections of a type's `create` or `agent` form (a default agent form lists
    triage fields and every custom field)."""
    sections = ticket_type.forms.get(form_name)
    if sections:
        return sections
    return (
        FormSection(None, ("priority", "team", "assignee", "tags")),
        FormSection(None, tuple(f.id for f in ticket_type.fields)),
    )


def build_form(
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    sections: Sequence[FormSection],
    language: str,
    values: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
    now: datetime | None = None,
    state: str | None = None,
    prefix: str = "f",
    files: Mapping[str, str] | None = None,
    skip: Iterable[str] = (),
) -> tuple[SectionView, ...]:
    """Views of `sections` for `values` (typed text or stored values) and `errors`.

    `context` holds the built-in values conditions read; `state` makes fields that are
    `readonly_in` it read-only; `files` names attachments by id; `skip` leaves fields out.
    """
    errors = errors or {}
    custom = {k: v for k, v in values.items() if k in ticket_type.field_map}
    shown = form_state(ticket_type.fields, custom, context=context, now=now)
    triggering = {
        name
        for f in ticket_type.fields
        for condition in (f.visible_if, f.required_if)
        if condition is not None
        for name in condition.fields
    }
    skipped = set(skip)
    views = []
    for section in sections:
        items = []
        for field_id in section.fields:
            if field_id in skipped:
                continue
            definition = ticket_type.field_map.get(field_id)
            if definition is None:
                view = _builtin_view(bundle, field_id, language, values.get(field_id))
            else:
                view = _custom_view(
                    definition,
                    language,
                    values.get(field_id),
                    visible=field_id in shown.visible,
                    required=field_id in shown.required,
                    readonly=state is not None and state in definition.readonly_in,
                    files=files or {},
                )
            items.append(_with(view, errors.get(field_id), field_id in triggering, prefix))
        if items:
            views.append(SectionView(localise(section.label, language), tuple(items)))
    return tuple(views)


def _with(view: FieldView, error: str | None, triggers: bool, prefix: str) -> FieldView:
    return replace(view, error=error, triggers=triggers, prefix=prefix)


def _custom_view(
    definition: FieldDef,
    language: str,
    value: Any,
    *,
    visible: bool,
    required: bool,
    readonly: bool,
    files: Mapping[str, str],
) -> FieldView:
    params = dict(definition.params)
    if value is None and definition.default is not None:
        value = definition.default
    shown_files: tuple[tuple[str, str], ...] = ()
    if definition.holds is Holds.FILES:
        ids = value if isinstance(value, list | tuple) else ([value] if value else [])
        shown_files = tuple((str(i), files.get(str(i), str(i))) for i in ids)
    return FieldView(
        id=definition.id,
        kind=definition.type,
        label=localise(definition.label, language),
        help=localise(definition.help, language),
        placeholder=localise(definition.placeholder, language),
        required=required,
        visible=visible,
        readonly=readonly,
        value=value,
        options=tuple((o.value, localise(o.label, language)) for o in definition.options),
        params=params,
        files=shown_files,
        multiple=definition.field_type.is_list(definition),
    )


def _builtin_view(bundle: Bundle, field_id: str, language: str, value: Any) -> FieldView:
    definition = builtin_field(field_id)
    options: tuple[tuple[str, str], ...] = ()
    help_text = ""
    if field_id == "priority":
        options = tuple((p, translate(language, f"priority.{p}")) for p in PRIORITIES)
    elif field_id == "team":
        options = tuple((t.id, localise(t.name, language)) for t in bundle.teams.values())
    elif field_id == "tags":
        help_text = translate(language, "field.tags_help")
        if isinstance(value, list | tuple):
            value = ", ".join(str(v) for v in value)
    elif field_id == "requester":
        help_text = translate(language, "field.requester_help")
    return FieldView(
        id=field_id,
        kind=definition.type,
        label=translate(language, f"field.{field_id}"),
        help=help_text,
        required=field_id == "title",
        value=value,
        options=options,
        multiple=definition.field_type.is_list(definition),
    )


def read_form(
    form: FormData, ticket_type: TicketTypeDef, field_ids: Iterable[str]
) -> dict[str, Any]:
    """The posted values of `field_ids` as the service takes them (lists for fields that
    hold several values, offsets joined to datetimes, checkboxes as true/false: each
    field type reads what its widget posts). Fields the form did not post are left out."""
    values: dict[str, Any] = {}
    for field_id in field_ids:
        definition = ticket_type.field_map.get(field_id) or builtin_field(field_id)
        field_type = definition.field_type
        posted = [v for v in form.getlist(field_id)[:_MAX_VALUES] if isinstance(v, str)]
        companions = {
            name: text
            for name in field_type.companion_inputs
            if isinstance(text := form.get(f"{field_id}__{name}"), str)
        }
        value = field_type.form_value(definition, posted if field_id in form else None, companions)
        if value is not NOT_POSTED:
            values[field_id] = value
    return values


def changed_dependents(ticket_type: TicketTypeDef, changed: str) -> tuple[str, ...]:
    """The fields to re-render when `changed` changes (see `dependent_fields`)."""
    return dependent_fields(ticket_type.fields, changed)


def transition_fields_form(
    bundle: Bundle,
    ticket_type: TicketTypeDef,
    transition: TransitionDef,
    language: str,
    values: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    prefix: str,
) -> FormView:
    """The form of the fields `transition` asks for: each shown and required whatever
    its own conditions, as taking the transition requires them all."""
    sections = build_form(
        bundle, ticket_type, (FormSection(None, transition.fields),), language, values,
        errors=errors, context=values, prefix=prefix,
    )  # fmt: skip
    return FormView(
        tuple(
            replace(s, fields=tuple(replace(f, required=True, visible=True) for f in s.fields))
            for s in sections
        )
    )
