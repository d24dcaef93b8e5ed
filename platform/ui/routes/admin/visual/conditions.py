"""Conditions as the editor shows them: groups (all, any, not) of rows field · operator ·
value, read from a condition's YAML and written back to it.

A condition control at document path P posts its tree as inputs named
`P::<node>:<part>`: `<node>` is the dotted position of a node (`0`, `0.1`), a group
posts `:g` (all, any or not), a row `:f`, `:o` and `:v`. The root is always a group.
Rows whose field is left empty are dropped; a group left empty disappears.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from starlette.datastructures import FormData

from gongdan.rules.conditions import FieldInfo, operators_for

__all__ = [
    "EQUALS",
    "GROUPS",
    "Group",
    "Row",
    "condition_of",
    "edit_tree",
    "operators_of",
    "posted_tree",
    "tree_of",
    "write_condition",
]

EQUALS = "eq"  # a plain `{field: value}` (not an operator of the YAML)
GROUPS = ("all", "any", "not")
_LIST_OPERATORS = frozenset({"in", "not_in"})
_FLAG_OPERATORS = frozenset({"empty", "changed"})
_NODE = re.compile(r"^(?P<node>\d+(?:\.\d+)*):(?P<part>[gfov])$")
_MAX_NODES = 200


@dataclass
class Row:
    field: str = ""
    op: str = EQUALS
    value: str = ""


@dataclass
class Group:
    kind: str = "all"
    children: list[Group | Row] = field(default_factory=list)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def tree_of(source: Any) -> Group:
    """The condition `source` (a YAML mapping, or None) as a group of rows."""
    root = Group("all")
    if isinstance(source, Mapping):
        root.children.extend(_entries(source))
    return root


def _entries(source: Mapping[str, Any]) -> list[Group | Row]:
    out: list[Group | Row] = []
    for key, value in source.items():
        if key in ("all", "any") and isinstance(value, list):
            group = Group(str(key))
            for item in value:
                if isinstance(item, Mapping):
                    parts = _entries(item)
                    group.children.append(parts[0] if len(parts) == 1 else Group("all", parts))
            out.append(group)
        elif key == "not" and isinstance(value, Mapping):
            out.append(Group("not", _entries(value)))
        elif isinstance(value, Mapping):
            out.extend(Row(str(key), str(op), _text(operand)) for op, operand in value.items())
        elif isinstance(value, list):
            out.append(Row(str(key), "in", _text(value)))
        else:
            out.append(Row(str(key), EQUALS, _text(value)))
    return out


def _scalar(text: str, info: FieldInfo | None) -> Any:
    """A typed value read as the field holds it (numbers and true/false stay typed)."""
    text = text.strip()
    holds = info.value_type if info is not None else "any"
    if holds in ("number", "integer", "any"):
        try:
            return int(text)
        except ValueError:
            try:
                return float(text) if holds != "any" else text
            except ValueError:
                return text
    if holds == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def _operand(row: Row, info: FieldInfo | None) -> Any:
    if row.op in _FLAG_OPERATORS:
        return row.value.strip().lower() != "false"
    if row.op in _LIST_OPERATORS or (row.op == EQUALS and "," in row.value):
        return [_scalar(v, info) for v in row.value.split(",") if v.strip()]
    if row.op == "changed_to" and "," in row.value:
        return [_scalar(v, info) for v in row.value.split(",") if v.strip()]
    if row.value.strip() == "" and row.op in (EQUALS, "ne"):
        return None
    return _scalar(row.value, info)


def _mapping(children: list[Group | Row], infos: Mapping[str, FieldInfo]) -> dict[str, Any]:
    """Children joined by `all` as one mapping when no key repeats, else `{all: [...]}`."""
    parts = [p for p in (_part(c, infos) for c in children) if p]
    merged: dict[str, Any] = {}
    for part in parts:
        for key, value in part.items():
            if key in merged:
                if isinstance(merged[key], dict) and isinstance(value, dict):
                    if set(merged[key]) & set(value):
                        return {"all": parts}
                    merged[key] = {**merged[key], **value}
                    continue
                return {"all": parts}
            merged[key] = value
    return merged


def _part(node: Group | Row, infos: Mapping[str, FieldInfo]) -> dict[str, Any]:
    if isinstance(node, Row):
        # A row whose field is not chosen yet stays, so the check points at it.
        operand = _operand(node, infos.get(node.field))
        if node.op == EQUALS:
            return {node.field: operand}
        return {node.field: {node.op: operand}}
    if node.kind == "not":
        inner = _mapping(node.children, infos)
        return {"not": inner} if inner else {}
    items = [p for p in (_part(c, infos) for c in node.children) if p]
    if not items:
        return {}
    if node.kind == "all":
        return _mapping(node.children, infos)
    return {node.kind: items}


def condition_of(tree: Group, infos: Mapping[str, FieldInfo]) -> dict[str, Any] | None:
    """The YAML of a condition tree (None when it has no row)."""
    result = _mapping(tree.children, infos) if tree.kind == "all" else _part(tree, infos)
    return result or None


def posted_tree(form: FormData, path: str) -> Group | None:
    """The tree the condition control at `path` posted (None when it posted nothing)."""
    prefix = f"{path}::"
    nodes: dict[tuple[int, ...], dict[str, str]] = {}
    for name, value in form.multi_items():
        if not name.startswith(prefix) or not isinstance(value, str):
            continue
        found = _NODE.match(name[len(prefix) :])
        if found is None or len(nodes) > _MAX_NODES:
            continue
        key = tuple(int(p) for p in found["node"].split("."))
        nodes.setdefault(key, {})[found["part"]] = value
    if not nodes:
        return None
    root = Group(nodes.get((0,), {}).get("g", "all"))
    if root.kind not in GROUPS:
        root.kind = "all"
    built: dict[tuple[int, ...], Group | Row] = {(0,): root}
    for key in sorted(nodes):
        if key == (0,) or key[:-1] not in built:
            continue
        parent = built[key[:-1]]
        if not isinstance(parent, Group):
            continue
        parts = nodes[key]
        node: Group | Row
        if "g" in parts:
            node = Group(parts["g"] if parts["g"] in GROUPS else "all")
        else:
            node = Row(parts.get("f", ""), parts.get("o", EQUALS), parts.get("v", ""))
        parent.children.append(node)
        built[key] = node
    return root


def edit_tree(tree: Group, action: str, node: str) -> None:
    """Apply an editor button to the tree: `row` or `group` adds one inside the group at
    `node` (the dotted position, `0` the root), `remove` drops the node."""
    steps = [int(p) for p in node.split(".") if p.isdigit()][1:]
    target: Group | Row = tree
    parent: Group | None = None
    for step in steps:
        if not isinstance(target, Group) or step >= len(target.children):
            return
        parent, target = target, target.children[step]
    if action == "remove" and parent is not None:
        parent.children.remove(target)
    elif action == "row" and isinstance(target, Group):
        target.children.append(Row())
    elif action == "group" and isinstance(target, Group):
        target.children.append(Group("any", [Row()]))


def operators_of(info: FieldInfo | None) -> tuple[str, ...]:
    """The operators the editor offers for a field: equality first, then those that
    fit what it holds."""
    return (EQUALS, *operators_for(info.value_type if info is not None else "any"))


def changed_condition(
    old: Any, tree: Group, infos: Mapping[str, FieldInfo]
) -> tuple[bool, dict[str, Any] | None]:
    """Whether the posted `tree` says something else than the condition `old`, and its
    YAML. An untouched condition is left as written (`{all: [...]}` stays a list even
    where the rows could share one mapping)."""
    new = condition_of(tree, infos)
    return new != condition_of(tree_of(old), infos), new


def write_condition(
    mapping: MutableMapping[str, Any], key: str, tree: Group, infos: Mapping[str, FieldInfo]
) -> None:
    """Write the posted condition at `key` when it changed (see `changed_condition`)."""
    from gongdan.ui.routes.admin.visual.document import set_value

    changed, new = changed_condition(mapping.get(key), tree, infos)
    if changed:
        set_value(mapping, key, new)  # type: ignore[arg-type,unused-ignore]
