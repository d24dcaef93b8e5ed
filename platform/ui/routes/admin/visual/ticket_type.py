"""The ticket type editor's form → document mapping: what each control writes into the
`kind: TicketType` document, and the buttons (add, move, remove a field or an option,
a condition row or group, a form section).

Which options a field offers comes from its type (`FieldType.allowed_params`), never
from a list of type names; conditions are edited as rows (`editors.conditions`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.bundle.compile_ticket_type import CORE_FIELD_KEYS, build_field, check_field
from gongdan.bundle.compiled import Bundle
from gongdan.bundle.context import Catalog
from gongdan.forms.fields import FIELD_TYPES
from gongdan.forms.params import COMMON_KEYS
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.conditions import (
    condition_of,
    edit_tree,
    posted_tree,
    write_condition,
)
from gongdan.ui.routes.admin.visual.controls import Posted
from gongdan.ui.routes.admin.visual.document import flow, set_posted, set_value

__all__ = [
    "CONDITION_KEYS",
    "LABEL_KEYS",
    "PARAM_KINDS",
    "apply_ticket_type",
    "field_catalog",
    "new_ticket_type",
    "params_of",
]

LABEL_KEYS = ("label", "help", "placeholder")
CONDITION_KEYS = ("visible_if", "required_if")
# How the editor types each parameter a field type may take.
PARAM_KINDS: Mapping[str, str] = {
    "min": "number",
    "max": "number",
    "min_length": "whole",
    "max_length": "whole",
    "scale": "whole",
    "max_size_mb": "number",
    "multiple": "flag",
    "pattern": "text",
    "accept": "items",
    "options": "options",
}
_BUILTINS_ON_FORMS = ("title", "description")


def params_of(type_name: Any) -> list[str]:
    """The parameters a field of this type takes, in the editor's order."""
    field_type = FIELD_TYPES.get(str(type_name))
    allowed = field_type.allowed_params if field_type is not None else frozenset()
    return [name for name in PARAM_KINDS if name in allowed]


def new_ticket_type(type_id: str, workflow: str) -> str:
    """The YAML of a new ticket type: a title and a description on its create form."""
    return (
        "kind: TicketType\n"
        f"id: {type_id}\n"
        "name: {en: New ticket type, zh-CN: 新工单类型}\n"
        "key_prefix: NEW\n"
        f"workflow: {workflow}\n"
        "fields: []\n"
        "forms:\n"
        "  create:\n"
        "    - section: {en: Request, zh-CN: 申请}\n"
        "      fields: [title, description]\n"
    )


def field_catalog(doc: Mapping[str, Any], bundle: Bundle | None) -> dict[str, FieldInfo]:
    """What a condition of this type may name: the built-ins and the type's own fields
    (read from the document even while it has errors)."""
    states: list[str] = []
    teams: list[str] = []
    types: list[str] = []
    if bundle is not None:
        workflow = bundle.workflows.get(str(doc.get("workflow")))
        states = list(workflow.states) if workflow is not None else []
        teams = list(bundle.teams)
        types = list(bundle.ticket_types)
    catalog = Catalog.builtins(type_ids=[*types, str(doc.get("id"))], states=states, teams=teams)
    plain = []
    for raw in doc.get("fields") or ():
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
            continue
        core = {k: v for k, v in raw.items() if k in CORE_FIELD_KEYS}
        try:
            if not any(p.severity == "error" for p in check_field(core)):
                plain.append(build_field(core, required_if=None, visible_if=None))
        except (ValueError, TypeError, KeyError):
            continue
    return dict(catalog.with_fields(plain).fields)


def apply_ticket_type(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    """Write the posted controls into `doc`, then apply the button `op` (if any)."""
    set_posted(doc, posted, ("id", "key_prefix", "workflow", "sla"), ("name", "description"))
    portal = posted.flag("portal")
    if portal is not None:
        set_value(doc, "portal", None if portal else False)
    if posted.flag("requester_may_set") is not None:
        set_value(doc, "requester_may_set", posted.texts("requester_may_set"))
    fields = doc.get("fields")
    renames: dict[str, str] = {}
    if isinstance(fields, list):
        for index, raw in enumerate(fields):
            if isinstance(raw, CommentedMap):
                _apply_field(raw, f"fields[{index}]", posted, infos, renames)
    _apply_sections(doc, posted)  # (as posted, then with the fields' new ids)
    _rename_on_forms(doc, renames)
    if op:
        _button(doc, op, posted, infos)


def _apply_field(
    raw: CommentedMap,
    path: str,
    posted: Posted,
    infos: Mapping[str, FieldInfo],
    renames: dict[str, str],
) -> None:
    new_id = posted.text(f"{path}.id")
    if new_id is None:
        return  # this field was not on the page
    if new_id and new_id != raw.get("id"):
        renames[str(raw.get("id"))] = new_id
    set_value(raw, "id", new_id)
    new_type = posted.text(f"{path}.type") or raw.get("type")
    retyped = new_type != raw.get("type")
    set_value(raw, "type", new_type)
    for key in LABEL_KEYS:
        label = posted.label(f"{path}.{key}", raw.get(key))
        if label is not ...:
            set_value(raw, key, label)
    for key in ("required", "internal"):
        flag = posted.flag(f"{path}.{key}")
        if flag is not None:
            set_value(raw, key, True if flag else None)
    if posted.flag(f"{path}.readonly_in") is not None:
        set_value(raw, "readonly_in", posted.texts(f"{path}.readonly_in"))
    default = posted.text(f"{path}.default")
    if default is not None:
        set_value(raw, "default", _default(default, infos.get(str(raw.get("id")))))
    if retyped:
        _retype(raw, str(new_type))
    else:
        for name in params_of(new_type):
            _apply_param(raw, path, name, posted)
    for key in CONDITION_KEYS:
        tree = posted_tree(posted.form, f"{path}.{key}")
        if tree is not None:
            write_condition(raw, key, tree, infos)


def _default(text: str, info: FieldInfo | None) -> Any:
    holds = info.value_type if info is not None else "string"
    if not text:
        return None
    if holds == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if holds in ("number", "integer"):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return text
    if holds == "list":
        return [item.strip() for item in text.split(",") if item.strip()]
    return text


def _retype(raw: CommentedMap, type_name: str) -> None:
    """A field given another type keeps only what the new type takes; a type with
    options starts with one."""
    allowed = set(COMMON_KEYS) | set(params_of(type_name))
    for key in [k for k in raw if k not in allowed]:
        del raw[key]
    if "default" in raw:
        del raw["default"]
    if "options" in allowed and "options" not in raw:
        raw["options"] = flow(["option_1"])


def _apply_param(raw: CommentedMap, path: str, name: str, posted: Posted) -> None:
    control = PARAM_KINDS[name]
    where = f"{path}.{name}"
    if control == "flag":
        flag = posted.flag(where)
        if flag is not None:
            set_value(raw, name, True if flag else None)
    elif control in ("number", "whole"):
        number = posted.number(where, whole=control == "whole")
        if number is not ...:
            set_value(raw, name, number)
    elif control == "items":
        items = posted.items(where)
        if items is not None:
            set_value(raw, name, items)
    elif control == "options":
        _apply_options(raw, where, posted)
    else:
        text = posted.text(where)
        if text is not None:
            set_value(raw, name, text)


def _apply_options(raw: CommentedMap, path: str, posted: Posted) -> None:
    options = raw.get("options")
    if not isinstance(options, list):
        return
    for index, option in enumerate(options):
        where = f"{path}[{index}]"
        value = posted.text(f"{where}.value")
        if value is None:
            continue
        old_label = option.get("label") if isinstance(option, Mapping) else None
        label = posted.label(f"{where}.label", old_label)
        label = None if label is ... else label
        if isinstance(option, CommentedMap):
            set_value(option, "value", value)
            set_value(option, "label", label)
            if "label" not in option and list(option) == ["value"]:
                options[index] = option["value"]
        elif label:
            options[index] = flow({"value": value, "label": label})
        elif option != value:
            options[index] = value


def _form_lists(doc: Mapping[str, Any]) -> Iterable[list[Any]]:
    forms = doc.get("forms")
    if not isinstance(forms, Mapping):
        return
    for name in ("create", "agent"):
        items = forms.get(name)
        if not isinstance(items, list):
            continue
        yield items
        for item in items:
            if isinstance(item, Mapping) and isinstance(item.get("fields"), list):
                yield item["fields"]


def _rename_on_forms(doc: Mapping[str, Any], renames: Mapping[str, str]) -> None:
    """A field given another id keeps its place on the forms."""
    if not renames:
        return
    for items in _form_lists(doc):
        for index, item in enumerate(items):
            if isinstance(item, str) and item in renames:
                items[index] = renames[item]


def _apply_sections(doc: CommentedMap, posted: Posted) -> None:
    forms = doc.get("forms")
    create = forms.get("create") if isinstance(forms, Mapping) else None
    if not isinstance(create, list):
        return
    for index, section in enumerate(create):
        where = f"forms.create[{index}]"
        if not isinstance(section, CommentedMap):
            continue
        label = posted.label(f"{where}.section", section.get("section"))
        if label is not ...:
            set_value(section, "section", label)
        if posted.flag(f"{where}.fields") is not None:  # ticked, in the order shown
            set_value(section, "fields", posted.texts(f"{where}.fields"))


def _create_sections(doc: CommentedMap) -> CommentedSeq:
    forms = doc.get("forms")
    if not isinstance(forms, CommentedMap):
        forms = doc["forms"] = CommentedMap()
    create = forms.get("create")
    if not isinstance(create, CommentedSeq):
        create = forms["create"] = CommentedSeq()
    return create


def _new_field_id(fields: list[Any]) -> str:
    taken = {f.get("id") for f in fields if isinstance(f, Mapping)}
    number = len(fields) + 1
    while f"field_{number}" in taken:
        number += 1
    return f"field_{number}"


def _button(doc: CommentedMap, op: str, posted: Posted, infos: Mapping[str, FieldInfo]) -> None:
    parts = op.split("|")
    action, args = parts[0], parts[1:]
    fields = doc.get("fields")
    if not isinstance(fields, CommentedSeq):
        fields = doc["fields"] = CommentedSeq()
    numbers = [int(a) for a in args if a.isdigit()]
    if action == "add-field":
        field_id = _new_field_id(fields)
        fields.append(
            CommentedMap(
                [
                    ("id", field_id),
                    ("type", "text"),
                    ("label", flow({"en": "New field", "zh-CN": "新字段"})),
                ]
            )
        )
        create = _create_sections(doc)
        last = create[-1] if create else None
        if isinstance(last, CommentedMap) and isinstance(last.get("fields"), list):
            last["fields"].append(field_id)
        else:
            create.append(CommentedMap([("section", "Details"), ("fields", flow([field_id]))]))
    elif action == "remove-field" and numbers and numbers[0] < len(fields):
        removed = fields.pop(numbers[0])
        _forget_on_forms(doc, str(removed.get("id")) if isinstance(removed, Mapping) else "")
    elif action == "move-field" and len(numbers) == 2:
        _move(fields, numbers[0], numbers[1])
    elif action in ("add-option", "remove-option") and numbers and numbers[0] < len(fields):
        options = fields[numbers[0]].get("options")
        if isinstance(options, list):
            if action == "add-option":
                options.append(f"option_{len(options) + 1}")
            elif len(numbers) == 2 and numbers[1] < len(options):
                options.pop(numbers[1])
    elif action == "add-section":
        _create_sections(doc).append(
            CommentedMap(
                [("section", flow({"en": "Section", "zh-CN": "分组"})), ("fields", flow(["title"]))]
            )
        )
    elif action == "remove-section" and numbers:
        create = _create_sections(doc)
        if numbers[0] < len(create) and len(create) > 1:
            create.pop(numbers[0])
    elif action == "move-section" and len(numbers) == 2:
        _move(_create_sections(doc), numbers[0], numbers[1])
    elif action == "move-section-field" and len(numbers) == 2:
        create = _create_sections(doc)
        section = create[numbers[0]] if numbers[0] < len(create) else None
        items = section.get("fields") if isinstance(section, Mapping) else None
        if isinstance(items, list) and 0 < numbers[1] < len(items):
            _move(items, numbers[1], numbers[1] - 1)
    elif action == "cond" and len(args) == 3:
        edit_condition(doc, args[1], args[0], args[2], posted, infos)


def edit_condition(
    doc: CommentedMap,
    path: str,
    action: str,
    node: str,
    posted: Posted,
    infos: Mapping[str, FieldInfo],
) -> None:
    """A condition button at document `path` (`fields[2].visible_if`, `rules[0].when`):
    the condition as posted, with a row or group added or a node removed."""
    container, key = _parent(doc, path)
    if container is None:
        return
    tree = posted_tree(posted.form, path)
    if tree is None:
        from gongdan.ui.routes.admin.visual.conditions import tree_of

        tree = tree_of(container.get(key))
    edit_tree(tree, action, node)
    set_value(container, key, condition_of(tree, infos))


def _parent(doc: CommentedMap, path: str) -> tuple[CommentedMap | None, str]:
    """The mapping holding the last key of `path`, and that key."""
    import re

    steps = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    node: Any = doc
    for step in steps[:-1]:
        if step.startswith("["):
            index = int(step[1:-1])
            node = node[index] if isinstance(node, list) and index < len(node) else None
        else:
            node = node.get(step) if isinstance(node, Mapping) else None
            if node is None:
                return None, ""
    last = steps[-1] if steps else ""
    return (node, last) if isinstance(node, CommentedMap) else (None, "")


def _move(items: list[Any], source: int, target: int) -> None:
    if 0 <= source < len(items) and 0 <= target < len(items) and source != target:
        items.insert(target, items.pop(source))


def _forget_on_forms(doc: Mapping[str, Any], field_id: str) -> None:
    for items in _form_lists(doc):
        while field_id in items:
            items.remove(field_id)
