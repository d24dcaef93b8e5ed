"""Actions as rows: a transition's, an escalation's or an automation's `actions`, and a
routing rule's `set`, edited as rows rather than typed YAML.

What each action kind takes comes from the bundle's JSON Schema (`$defs.action` of
`gongdan.bundle.schemas`): the kinds are its `oneOf` keys, a kind's inputs are its
property (an object's own properties become one input each, a `field_values` object
becomes field · value pairs, an array a comma list, an enum a choice, a boolean a
checkbox) plus the properties that depend on it (`template` goes with `notify`).
A new action key in the schema needs no change here.

An action list at document path P posts `P::?` (shown), and per row `i` its kind as
`P::<i>:k` and each input as `P::<i>:<input>` (`P::0:webhook.url`); field · value
pairs at base B post `B#?` and `B#<j>:f` / `B#<j>:v` (one empty pair more is always
shown: filling it adds a pair, emptying a field removes its pair). A row posts in the order shown,
so the order of `i` is the list's order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from starlette.datastructures import FormData

from gongdan.bundle.compiled import Bundle
from gongdan.bundle.schemas import ACTION_KEYS, kind_schema
from gongdan.rules.conditions import FieldInfo
from gongdan.ui.routes.admin.visual.conditions import _scalar, _text

__all__ = [
    "Input",
    "action_hints",
    "action_kinds",
    "action_rows",
    "edit_actions",
    "inputs_of",
    "kind_of",
    "pairs_of",
    "posted_actions",
    "posted_pairs",
    "write_actions",
    "write_pairs",
]

_ROW = re.compile(r"^(?P<row>\d{1,3}):(?P<part>k|[a-z_][a-z0-9_.]*)$")
_PAIR = re.compile(r"^(?P<row>\d{1,3}):(?P<part>[fv])$")


@dataclass(frozen=True)
class Input:
    """One input of an action kind: `name` is its key in the action (`webhook.url` for
    a key of a nested mapping); `shape` is text, choice, flag, list or pairs."""

    name: str
    shape: str
    choices: tuple[str, ...] = ()
    required: bool = False

    @property
    def key(self) -> str:
        return self.name.rsplit(".", 1)[-1]


def _defs() -> dict[str, Any]:
    return dict(kind_schema("Automation")["$defs"])


def _resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        schema = defs[str(schema["$ref"]).rsplit("/", 1)[-1]]
    return schema


def _shape(schema: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    if "enum" in schema:
        return "choice", tuple(str(v) for v in schema["enum"])
    json_type = schema.get("type")  # JSON Schema's word, not a field type's
    if json_type == "boolean":
        return "flag", ()
    if json_type == "array":
        return "list", ()
    if json_type == "object" and not schema.get("properties"):
        return "pairs", ()
    return "text", ()


def _inputs(name: str, schema: Mapping[str, Any], defs: Mapping[str, Any]) -> list[Input]:
    schema = _resolve(schema, defs)
    if schema.get("type") == "object" and schema.get("properties"):
        required = set(schema.get("required", ()))
        return [
            Input(f"{name}.{key}", *_shape(_resolve(sub, defs)), required=key in required)
            for key, sub in schema["properties"].items()
        ]
    return [Input(name, *_shape(schema), required=True)]


@cache
def _catalog() -> dict[str, tuple[Input, ...]]:
    defs = _defs()
    action = defs["action"]
    properties = action["properties"]
    kinds = [str(branch["required"][0]) for branch in action.get("oneOf", ())]
    depends: dict[str, list[str]] = {}
    for extra, needs in action.get("dependentRequired", {}).items():
        for need in needs:
            depends.setdefault(need, []).append(extra)
    out: dict[str, tuple[Input, ...]] = {}
    for kind in kinds or ACTION_KEYS:
        inputs = _inputs(kind, properties[kind], defs)
        for extra in depends.get(kind, ()):
            inputs += [
                Input(i.name, i.shape, i.choices, False)
                for i in _inputs(extra, properties[extra], defs)
            ]
        out[kind] = tuple(inputs)
    return out


def action_kinds() -> tuple[str, ...]:
    """The action kinds the editor offers, as the schema lists them."""
    return tuple(_catalog())


def inputs_of(kind: str) -> tuple[Input, ...]:
    return _catalog().get(kind, ())


def kind_of(action: Any) -> str:
    """The kind of an action (`notify` of `{notify: team, template: x}`)."""
    if isinstance(action, Mapping):
        for key in action:
            if key in _catalog():
                return str(key)
        return str(next(iter(action), ""))
    return ""


def _get(action: Mapping[str, Any], name: str) -> Any:
    value: Any = action
    for step in name.split("."):
        value = value.get(step) if isinstance(value, Mapping) else None
    return value


@dataclass(frozen=True)
class Row:
    """An action as the editor shows it: its kind and each input's value as text (a
    pairs input as a list of (field, value))."""

    kind: str
    values: Mapping[str, Any]


def pairs_of(value: Any) -> list[tuple[str, str]]:
    """Field · value pairs as text, from a mapping (or the pairs of a row)."""
    if isinstance(value, list):
        return [(str(k), str(v)) for k, v in value]
    if not isinstance(value, Mapping):
        return []
    return [(str(k), _text(v)) for k, v in value.items()]


def action_hints(name: str, bundle: Bundle | None) -> tuple[str, ...]:
    """Values to suggest at a text input of an action (what the bundle declares)."""
    if name == "notify":
        return ("requester", "assignee", "team")
    if bundle is None:
        return ()
    if name == "template":
        return tuple(bundle.templates)
    if name == "assign.team":
        return tuple(bundle.teams)
    if name == "transition":
        ids = {t.id for w in bundle.workflows.values() for t in w.transitions}
        return tuple(sorted(ids))
    return ()


def action_rows(actions: Any) -> list[Row]:
    """The actions of a YAML list as rows."""
    rows: list[Row] = []
    for action in actions if isinstance(actions, list) else ():
        kind = kind_of(action)
        values: dict[str, Any] = {}
        for item in inputs_of(kind):
            raw = _get(action, item.name) if isinstance(action, Mapping) else None
            if item.shape == "pairs":
                values[item.name] = pairs_of(raw)
            elif item.shape == "flag":
                values[item.name] = raw is True
            else:
                values[item.name] = _text(raw)
        rows.append(Row(kind, values))
    return rows


def posted_pairs(
    form: FormData, base: str, infos: Mapping[str, FieldInfo]
) -> dict[str, Any] | None:
    """The field · value pairs posted at `base` (None when not shown); a pair whose
    field is left empty is dropped."""
    if f"{base}#?" not in form:
        return None
    found: dict[int, dict[str, str]] = {}
    prefix = f"{base}#"
    for name, value in form.multi_items():
        match = _PAIR.match(name[len(prefix) :]) if name.startswith(prefix) else None
        if match and isinstance(value, str):
            found.setdefault(int(match["row"]), {})[match["part"]] = value
    out: dict[str, Any] = {}
    for number in sorted(found):
        field = found[number].get("f", "").strip()
        if field:
            out[field] = _scalar(found[number].get("v", ""), infos.get(field))
    return out


def _value(item: Input, form: FormData, name: str, infos: Mapping[str, FieldInfo]) -> Any:
    if item.shape == "pairs":
        return posted_pairs(form, name, infos) or None
    if item.shape == "flag":
        return True if name in form else None
    raw = form.get(name)
    text = raw.strip() if isinstance(raw, str) else ""
    if item.shape == "list":
        return [p.strip() for p in text.replace("，", ",").split(",") if p.strip()] or None
    return text or None


def posted_actions(
    form: FormData, path: str, infos: Mapping[str, FieldInfo]
) -> list[dict[str, Any]] | None:
    """The actions the rows at `path` posted, in their order (None when not shown). A
    kind's required input left empty is written as null, so the check points at it."""
    if f"{path}::?" not in form:
        return None
    prefix = f"{path}::"
    kinds: dict[int, str] = {}
    for name, value in form.multi_items():
        match = _ROW.match(name[len(prefix) :]) if name.startswith(prefix) else None
        if match and match["part"] == "k" and isinstance(value, str):
            kinds[int(match["row"])] = value
    out: list[dict[str, Any]] = []
    for number in sorted(kinds):
        kind = kinds[number]
        action: dict[str, Any] = {}
        for item in inputs_of(kind) or (Input(kind, "text", required=True),):
            value = _value(item, form, f"{prefix}{number}:{item.name}", infos)
            head, _, key = item.name.rpartition(".")
            if head:
                if value is not None:
                    action.setdefault(head, {})[key] = value
                else:
                    action.setdefault(head, {})
            elif value is not None or item.required:
                action[item.name] = value
        out.append({k: (v if v != {} else None) for k, v in action.items()})
    return out


def _same(old: Any, new: Any) -> bool:
    from gongdan.ui.routes.admin.visual.document import _same as same

    return same(old, new)


def _merge(old: CommentedMap, new: Mapping[str, Any]) -> None:
    """`new` written into the mapping `old` key by key (unchanged keys keep their
    layout and comments)."""
    from gongdan.ui.routes.admin.visual.document import set_value

    for key in [k for k in old if k not in new]:
        del old[key]
    for key, value in new.items():
        if value is None:
            if key not in old or old[key] is not None:
                old[key] = None
            continue
        if isinstance(old.get(key), CommentedMap) and isinstance(value, Mapping):
            _merge(old[key], value)
        else:
            set_value(old, key, value)


def write_actions(mapping: MutableMapping[str, Any], key: str, new: list[dict[str, Any]]) -> None:
    """Write the actions `new` at `key`, touching only what changed: an action whose
    kind is kept is edited in place; one moved keeps its own lines; added ones are
    written in flow style (`{notify: team}`); no action removes the key."""
    from gongdan.ui.routes.admin.visual.document import flow, set_value

    old = mapping.get(key)
    if _same(old, new):
        return
    if not new:
        set_value(mapping, key, None)  # type: ignore[arg-type]
        return
    if not isinstance(old, CommentedSeq):
        set_value(mapping, key, new)  # type: ignore[arg-type]
        return
    if len(old) == len(new):
        for index, action in enumerate(new):
            item = old[index]
            if _same(item, action):
                continue
            if isinstance(item, CommentedMap) and kind_of(item) == kind_of(action):
                _merge(item, action)
            else:
                old[index] = flow(action)
        return
    kept = list(old)
    items: list[Any] = []
    for action in new:
        match = next((i for i in kept if _same(i, action)), None)
        if match is not None:
            kept.remove(match)
            items.append(match)
        else:
            items.append(flow(action))
    seq = CommentedSeq(items)
    if old.fa.flow_style():
        seq.fa.set_flow_style()
    else:
        seq.fa.set_block_style()
    mapping[key] = seq


def write_pairs(mapping: MutableMapping[str, Any], key: str, new: Mapping[str, Any]) -> None:
    """Write field · value pairs at `key` (a routing rule's `set`) in place."""
    from gongdan.ui.routes.admin.visual.document import set_value

    old = mapping.get(key)
    if _same(old, new):
        return
    if isinstance(old, CommentedMap) and new:
        _merge(old, new)
    else:
        set_value(mapping, key, dict(new) or None)  # type: ignore[arg-type]


def edit_actions(
    doc: CommentedMap,
    op: str,
    form: FormData,
    infos: Mapping[str, FieldInfo],
) -> bool:
    """An action-row button: `act|add|P` (the kind chosen at `P::new`),
    `act|remove|P|i`, `act|up|P|i` or `act|down|P|i`. Returns whether `op` was one."""
    from gongdan.ui.routes.admin.visual.ticket_type import _parent

    parts = op.split("|")
    if parts[0] != "act" or len(parts) < 3:
        return False
    action, path = parts[1], parts[2]
    number = int(parts[3]) if len(parts) > 3 and parts[3].isdigit() else -1
    container, key = _parent(doc, path)
    if container is None or key != "actions":  # only an action list is edited here
        return True
    current = posted_actions(form, path, infos)
    if current is None:
        current = [dict(a) for a in container.get(key) or () if isinstance(a, Mapping)]
    if action == "add":
        chosen = form.get(f"{path}::new")
        kind = chosen if isinstance(chosen, str) and chosen in _catalog() else action_kinds()[0]
        current.append({kind: None})
    elif action == "remove" and 0 <= number < len(current):
        current.pop(number)
    elif action in ("up", "down") and 0 <= number < len(current):
        target = number - 1 if action == "up" else number + 1
        if 0 <= target < len(current):
            current.insert(target, current.pop(number))
    write_actions(container, key, current)
    return True
