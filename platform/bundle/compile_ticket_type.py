"""Compile TicketType documents: custom fields, forms, priority rules, data schema.

Fields are compiled in two steps: first without their conditions (so every field of
the type is known), then `visible_if`/`required_if` are compiled against the type's
full catalog and the fields rebuilt with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

from gongdan.bundle.compiled import FormSection, TicketTypeDef
from gongdan.bundle.context import Catalog, Entry, Reporter
from gongdan.errors import did_you_mean
from gongdan.forms.fields import FieldDef, build_field, check_field
from gongdan.forms.shapes import Holds
from gongdan.rules.priority import PriorityRule
from gongdan.vocabulary import BUILTIN_FIELDS

__all__ = [
    "CORE_FIELD_KEYS",
    "TypeFields",
    "build_field",
    "check_field",
    "check_type_against_workflow",
    "compile_fields",
    "compile_ticket_type",
]


# What is enough to know a field's value type, even when its other options are wrong.
CORE_FIELD_KEYS = frozenset({"id", "type", "options", "multiple", "scale"})


@dataclass
class TypeFields:
    """The custom fields of one ticket type, before and after their conditions compile."""

    raw: dict[str, tuple[int, Mapping[str, Any]]]  # field id -> (index, raw mapping)
    plain: dict[str, FieldDef]  # compiled without conditions, for catalogs
    ok: bool
    names: set[str]  # every declared field id, even of fields in error (for forms)


def compile_fields(entry: Entry, report: Reporter) -> TypeFields:
    """Check every field of a type and compile it without its conditions."""
    doc = entry.doc
    raw_fields: dict[str, tuple[int, Mapping[str, Any]]] = {}
    plain: dict[str, FieldDef] = {}
    names: set[str] = set()
    ok = True
    for index, raw in enumerate(entry.data.get("fields", ())):
        path = ("fields", index)
        field_id = raw["id"]
        names.add(field_id)
        if field_id in BUILTIN_FIELDS:
            report.error(
                doc,
                (*path, "id"),
                f"'{field_id}' is a built-in field and cannot be "
                "declared again; use it in forms directly",
            )
            ok = False
            continue
        if field_id in raw_fields:
            first = raw_fields[field_id][0]
            report.error(
                doc, (*path, "id"), f"duplicate field id '{field_id}' (also fields[{first}])"
            )
            ok = False
            continue
        problems = check_field(raw)
        for problem in problems:
            issue = doc.issue((*path, *problem.path), problem.message, severity=problem.severity)
            report.issues.append(issue)
        if any(p.severity == "error" for p in problems):
            ok = False
            core = {k: v for k, v in raw.items() if k in CORE_FIELD_KEYS}
            if not any(p.severity == "error" for p in check_field(core)):
                # Known by name and type, so conditions naming it do not fail as well.
                plain[field_id] = build_field(core, required_if=None, visible_if=None)
            continue
        raw_fields[field_id] = (index, raw)
        plain[field_id] = build_field(raw, required_if=None, visible_if=None)
    return TypeFields(raw_fields, plain, ok, names)


def _compile_form(
    entry: Entry, form_id: str, items: list[Any], known: list[str], report: Reporter
) -> tuple[FormSection, ...]:
    """One form: loose field ids between sections form untitled sections."""
    doc = entry.doc
    sections: list[FormSection] = []
    loose: list[str] = []
    seen: set[str] = set()

    def use(name: str, path: tuple[str | int, ...]) -> bool:
        if name not in known:
            report.unknown(doc, path, "field", name, known)
            return False
        if name in seen:
            report.error(doc, path, f"field '{name}' appears twice in form '{form_id}'")
            return False
        seen.add(name)
        return True

    for index, item in enumerate(items):
        path: tuple[str | int, ...] = ("forms", form_id, index)
        if isinstance(item, str):
            if use(item, path):
                loose.append(item)
            continue
        if loose:
            sections.append(FormSection(None, tuple(loose)))
            loose = []
        names = [n for i, n in enumerate(item["fields"]) if use(n, (*path, "fields", i))]
        sections.append(FormSection(item["section"], tuple(names)))
    if loose:
        sections.append(FormSection(None, tuple(loose)))
    return tuple(sections)


def _compile_forms(
    entry: Entry, fields: set[str], order: list[str], report: Reporter
) -> dict[str, tuple[FormSection, ...]]:
    known = [*sorted(fields), *BUILTIN_FIELDS]
    forms = {
        form_id: _compile_form(entry, form_id, items, known, report)
        for form_id, items in entry.data.get("forms", {}).items()
    }
    if "create" not in forms:
        # Without a declared create form, ask for title, description and every field.
        forms["create"] = (FormSection(None, ("title", "description", *order)),)
    return forms


def check_type_against_workflow(
    entry: Entry, fields: Mapping[str, FieldDef], workflow: Entry, report: Reporter
) -> None:
    """What a workflow asks of the ticket types that use it: fields and approver roles."""
    known = [*fields, *BUILTIN_FIELDS]
    for index, raw in enumerate(workflow.data["transitions"]):
        for n, name in enumerate(raw.get("fields", ())):
            if name not in known:
                report.error(
                    workflow.doc,
                    ("transitions", index, "fields", n),
                    f"unknown field '{name}' for ticket type '{entry.id}', which uses "
                    f"this workflow{did_you_mean(name, known)}",
                )
        for n, role in enumerate(raw.get("roles", ())):
            if not role.startswith("field:"):
                continue
            name = role.removeprefix("field:")
            if name not in fields or fields[name].holds is not Holds.PEOPLE:
                report.error(
                    workflow.doc,
                    ("transitions", index, "roles", n),
                    f"'{role}' needs a user field '{name}' in ticket type '{entry.id}', "
                    "which uses this workflow",
                )


def compile_ticket_type(
    entry: Entry,
    type_fields: TypeFields,
    catalog: Catalog,
    states: Mapping[str, Any],
    report: Reporter,
) -> TicketTypeDef | None:
    """Compile one ticket type whose fields compiled; None when anything is wrong."""
    doc, data = entry.doc, entry.data
    before = len(report.issues)
    fields: list[FieldDef] = []
    for field_id, (index, raw) in type_fields.raw.items():
        path = ("fields", index)
        visible_if = report.condition(doc, (*path, "visible_if"), raw.get("visible_if"), catalog)
        required_if = report.condition(doc, (*path, "required_if"), raw.get("required_if"), catalog)
        for n, state in enumerate(raw.get("readonly_in", ())):
            if state not in states:
                report.unknown(doc, (*path, "readonly_in", n), "state", state, states)
        if raw.get("visible_if") is not None and field_id in raw["visible_if"]:
            report.error(doc, (*path, "visible_if"), "a field's visibility cannot depend on itself")
        plain = type_fields.plain[field_id]
        if required_if is None and visible_if is None:
            fields.append(plain)
        else:
            fields.append(replace(plain, required_if=required_if, visible_if=visible_if))
    forms = _compile_forms(entry, type_fields.names, list(type_fields.raw), report)
    priority = data.get("priority", {})
    rules = []
    for index, raw in enumerate(priority.get("rules", ())):
        when = report.condition(doc, ("priority", "rules", index, "when"), raw["when"], catalog)
        if when is not None:
            rules.append(PriorityRule(when, raw["set"]))
    if not type_fields.ok or any(i.severity == "error" for i in report.issues[before:]):
        return None
    return TicketTypeDef(
        id=entry.id,
        name=data["name"],
        description=data.get("description"),
        key_prefix=data["key_prefix"],
        workflow=data["workflow"],
        sla=data.get("sla"),
        portal=data.get("portal", True),
        fields=tuple(fields),
        field_map=MappingProxyType({f.id: f for f in fields}),
        forms=MappingProxyType(forms),
        priority_default=priority.get("default", "normal"),
        priority_rules=tuple(rules),
        requester_may_set=frozenset(data.get("requester_may_set", ())),
    )
