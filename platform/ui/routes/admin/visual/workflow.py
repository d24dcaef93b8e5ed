"""The workflow editor's form → document mapping: states with their categories and
labels (renaming a state renames it in the transitions and `initial`), and the
transitions as a table (from/to, roles, guard, asked fields, comment, `after`, actions).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.context import Catalog
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.actions import posted_actions, write_actions
from gongdan.ui.routes.admin.visual.conditions import posted_tree, write_condition
from gongdan.ui.routes.admin.visual.controls import Posted
from gongdan.ui.routes.admin.visual.document import flow, set_posted, set_value
from gongdan.ui.routes.admin.visual.ticket_type import edit_condition

__all__ = ["apply_workflow", "new_workflow", "workflow_catalog"]


def new_workflow(workflow_id: str) -> str:
    return (
        "kind: Workflow\n"
        f"id: {workflow_id}\n"
        "name: {en: New workflow, zh-CN: 新工作流}\n"
        "initial: new\n"
        "states:\n"
        "  new: {category: new}\n"
        "  done: {category: closed}\n"
        "transitions:\n"
        "  - id: finish\n"
        "    from: [new]\n"
        "    to: done\n"
    )


def workflow_catalog(doc: Mapping[str, Any], bundle: Bundle | None) -> dict[str, FieldInfo]:
    """What a guard may name: built-ins and the fields of the types on this workflow."""
    states = list(doc.get("states") or {}) if isinstance(doc.get("states"), Mapping) else []
    if bundle is None:
        return dict(Catalog.builtins(type_ids=[], states=states, teams=[]).fields)
    catalog = Catalog.builtins(
        type_ids=list(bundle.ticket_types), states=states, teams=list(bundle.teams)
    )
    fields = [
        f for t in bundle.ticket_types.values() if t.workflow == doc.get("id") for f in t.fields
    ]
    return dict(catalog.with_fields(fields).fields)


def apply_workflow(
    doc: CommentedMap, posted: Posted, op: str, infos: Mapping[str, FieldInfo]
) -> None:
    set_posted(doc, posted, ("id", "initial"), ("name", "description"))
    states = doc.get("states")
    renames: dict[str, str] = {}
    if isinstance(states, CommentedMap):
        for index, state_id in enumerate(list(states)):
            entry = states[state_id]
            if isinstance(entry, CommentedMap):
                category = posted.text(f"states.{state_id}.category")
                if category is not None:
                    set_value(entry, "category", category)
                label = posted.label(f"states.{state_id}.label", entry.get("label"))
                if label is not ...:
                    set_value(entry, "label", label)
            new_id = posted.text(f"_state[{index}]")
            if new_id and new_id != state_id:
                renames[state_id] = new_id
        for old, new in renames.items():
            position = list(states).index(old)
            states.insert(position, new, states.pop(old))
        if renames and doc.get("initial") in renames:
            doc["initial"] = renames[doc["initial"]]
    transitions = doc.get("transitions")
    if isinstance(transitions, list):
        for index, raw in enumerate(transitions):
            if isinstance(raw, CommentedMap):
                _apply_transition(raw, f"transitions[{index}]", posted, infos, renames)
    if op:
        _button(doc, op, posted, infos)


def _apply_transition(
    raw: CommentedMap,
    path: str,
    posted: Posted,
    infos: Mapping[str, FieldInfo],
    renames: Mapping[str, str],
) -> None:
    if posted.text(f"{path}.id") is None:
        return
    set_value(raw, "id", posted.text(f"{path}.id"))
    label = posted.label(f"{path}.label", raw.get("label"))
    if label is not ...:
        set_value(raw, "label", label)
    if posted.flag(f"{path}.from") is not None:
        set_value(raw, "from", [renames.get(s, s) for s in posted.texts(f"{path}.from")])
    to = posted.text(f"{path}.to")
    if to is not None:
        set_value(raw, "to", renames.get(to, to))
    for key in ("roles", "fields"):
        items = posted.items(f"{path}.{key}")
        if items is not None:
            set_value(raw, key, items)
    for key in ("comment", "after"):
        text = posted.text(f"{path}.{key}")
        if text is not None:
            set_value(raw, key, text)
    actions = posted_actions(posted.form, f"{path}.actions", infos)
    if actions is not None:
        write_actions(raw, "actions", actions)
    tree = posted_tree(posted.form, f"{path}.when")
    if tree is not None:
        write_condition(raw, "when", tree, infos)


def _button(doc: CommentedMap, op: str, posted: Posted, infos: Mapping[str, FieldInfo]) -> None:
    parts = op.split("|")
    action, args = parts[0], parts[1:]
    numbers = [int(a) for a in args if a.isdigit()]
    states = doc.get("states")
    if not isinstance(states, CommentedMap):
        states = doc["states"] = CommentedMap()
    transitions = doc.get("transitions")
    if not isinstance(transitions, CommentedSeq):
        transitions = doc["transitions"] = CommentedSeq()
    if action == "add-state":
        number = len(states) + 1
        while f"state_{number}" in states:
            number += 1
        states[f"state_{number}"] = flow({"category": "open"})
    elif action == "remove-state" and args and args[0] in states and len(states) > 1:
        del states[args[0]]
    elif action == "add-transition":
        first = next(iter(states), "")
        transitions.append(
            CommentedMap(
                [
                    ("id", f"transition_{len(transitions) + 1}"),
                    ("from", flow([first])),
                    ("to", first),
                ]
            )
        )
    elif action == "remove-transition" and numbers and numbers[0] < len(transitions):
        transitions.pop(numbers[0])
    elif action == "move-transition" and len(numbers) == 2:
        source, target = numbers
        if 0 <= source < len(transitions) and 0 <= target < len(transitions):
            transitions.insert(target, transitions.pop(source))
    elif action == "cond" and len(args) == 3:
        edit_condition(doc, args[1], args[0], args[2], posted, infos)
